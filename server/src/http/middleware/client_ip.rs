//! Who a request comes from. By default that is the connection's peer
//! address, and forwarded headers are ignored: anyone can write them. Behind
//! a reverse proxy every request would then come from the proxy, so the
//! operator may name the proxies (`--trust-forwarded-for`): for a request
//! whose peer is one of them, the client is the right-most address of
//! `X-Forwarded-For` that is not a trusted proxy itself (each proxy appends
//! the address it saw; what a client wrote stands to the left and is never
//! believed). The address is resolved once, here, into [`ResolvedClient`],
//! which the rate limits and the handlers read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

/// The client address of a request, as resolved by [`resolve_client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedClient(pub IpAddr);

/// The proxies whose `X-Forwarded-For` is believed (none by default).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<[IpAddr]>);

/// The client of a request from `peer` with `headers`, trusting the
/// forwarded header only from `trusted` peers.
pub fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|value| value.to_str().unwrap_or(""))
        .collect();
    // From the right: past the trusted proxies, the first hop is the
    // client. A hop that is no address there stops the walk (a trusted
    // proxy wrote something unexpected: the peer is all that is known);
    // what stands to its left was the client's to write, and never counts.
    for hop in values.iter().rev().flat_map(|value| value.rsplit(',')) {
        match hop.trim().parse::<IpAddr>() {
            Ok(hop) if trusted.contains(&hop) => {}
            Ok(hop) => return hop,
            Err(_) => return peer,
        }
    }
    peer
}

/// Puts the request's [`ResolvedClient`] among its extensions (a request
/// without a peer address, i.e. a router called directly, gets none).
pub async fn resolve_client(
    State(trusted): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    if let Some(peer) = peer {
        let client = client_of(peer, request.headers(), &trusted.0);
        request.extensions_mut().insert(ResolvedClient(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                "x-forwarded-for",
                HeaderValue::from_str(value).expect("value"),
            );
        }
        headers
    }

    #[test]
    fn only_trusted_peers_are_believed() {
        let proxy = ip("10.0.0.2");
        let headers = forwarded(&["203.0.113.7"]);
        assert_eq!(
            client_of(ip("198.51.100.1"), &headers, &[proxy]),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_of(proxy, &headers, &[]),
            proxy,
            "nothing trusted by default"
        );
        assert_eq!(client_of(proxy, &headers, &[proxy]), ip("203.0.113.7"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let (edge, inner) = (ip("10.0.0.2"), ip("10.0.0.3"));
        // The client wrote a fake first hop; the edge proxy appended the real
        // address; the inner proxy appended the edge's.
        let headers = forwarded(&["1.1.1.1, 203.0.113.7", "10.0.0.2"]);
        assert_eq!(
            client_of(inner, &headers, &[edge, inner]),
            ip("203.0.113.7")
        );
        // Every hop trusted: the peer itself.
        let headers = forwarded(&["10.0.0.2"]);
        assert_eq!(client_of(inner, &headers, &[edge, inner]), inner);
    }

    #[test]
    fn a_malformed_header_is_not_believed() {
        let proxy = ip("10.0.0.2");
        for bad in ["not-an-ip", "1.1.1.1, 203.0.113.7:80", "203.0.113.7, "] {
            assert_eq!(
                client_of(proxy, &forwarded(&[bad]), &[proxy]),
                proxy,
                "{bad}"
            );
        }
        assert_eq!(client_of(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    /// Regression: junk a client wrote to the left of the hop its proxy
    /// appended threw the whole header away, so the request counted against
    /// the proxy's address: a second set of rate limits for every client.
    #[test]
    fn junk_left_of_the_client_hop_is_ignored() {
        let proxy = ip("10.0.0.2");
        for sent in [
            "not-an-ip, 203.0.113.7",
            "203.0.113.9, , 203.0.113.7",
            "1.1.1.1:80, 203.0.113.7",
        ] {
            assert_eq!(
                client_of(proxy, &forwarded(&[sent]), &[proxy]),
                ip("203.0.113.7"),
                "{sent}"
            );
        }
        let split = forwarded(&["not-an-ip", "203.0.113.7"]);
        assert_eq!(client_of(proxy, &split, &[proxy]), ip("203.0.113.7"));
    }
}

//! The client's address as the client-address middleware resolved it: the
//! connection's peer, or behind trusted proxies the forwarded address (see
//! [`crate::http::middleware::client_ip`]).

use std::convert::Infallible;
use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::http::middleware::ResolvedClient;

/// The address a request came from; `None` when the router was called
/// without a connection (e.g. directly in a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ResolvedClient>()
                .map(|ResolvedClient(client)| *client),
        ))
    }
}

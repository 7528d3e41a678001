//! Socket tickets, as the live sockets (a drop-in room, a booking's relay)
//! take them in a URL instead of a sign-in token: asking for one
//! (`POST /v1/live/tickets`), spoiling one, and the checks both sockets
//! share (a sign-in token in the URL refused with what to send instead,
//! tickets that must not open the socket refused before the upgrade, and
//! signing out ending the session's tickets).

use std::net::SocketAddr;

use serde_json::json;

use crate::app::{TestApp, error_code};
use crate::live_client::connect;

/// A socket ticket of the caller signed in with `token`, for the socket of
/// `purpose` (`dropin` or `signal`) and `id`: `POST /v1/live/tickets`.
pub(crate) fn socket_ticket(app: &TestApp, token: &str, purpose: &str, id: u64) -> String {
    let body = json!({"purpose": purpose, "id": id}).to_string();
    let response = app.authed("POST", "/v1/live/tickets", token, Some(&body));
    assert_eq!(response.status, 200, "{}", response.raw);
    assert!(response.body["expires_at"].is_string(), "{}", response.raw);
    response.body["ticket"].as_str().expect("ticket").to_owned()
}

/// `ticket` with the last character of its signature changed.
pub(crate) fn tampered(ticket: &str) -> String {
    let (head, last) = ticket.split_at(ticket.len() - 1);
    format!("{head}{}", if last == "0" { "1" } else { "0" })
}

/// A plain GET of the socket at `path` with the sign-in token `token` in
/// its URL is refused, 401 `unauthorized`, and the refusal says what to
/// send instead (the bearer header, or a ticket).
pub(crate) fn assert_url_token_refused(app: &TestApp, path: &str, token: &str) {
    let told = app.get(&format!("{path}?token={token}"));
    assert_eq!(
        (told.status, error_code(&told).as_str()),
        (401, "unauthorized")
    );
    let message = told.body["message"].as_str().expect("message");
    assert!(
        message.contains("Authorization: Bearer") && message.contains("/v1/live/tickets"),
        "{message}"
    );
}

/// Each of `urls` (a socket's path and query, and why it must not open the
/// socket) is refused before the upgrade, 401 `unauthorized`.
pub(crate) async fn assert_unauthorized(addr: SocketAddr, urls: &[(String, &str)]) {
    for (url, why) in urls {
        let refused = connect(addr, url, None).await.err().expect("refused");
        assert_eq!(refused, (401, "unauthorized".to_owned()), "{why}");
    }
}

/// Signing out the session of `token` (`POST /v1/auth/logout`) ends its
/// tickets: `url`, which carries one, is refused, 401 `unauthorized`.
pub(crate) fn assert_signing_out_ends_the_ticket(
    app: &TestApp,
    rt: &tokio::runtime::Runtime,
    token: &str,
    url: &str,
) {
    let signed_out = app.authed("POST", "/v1/auth/logout", token, None);
    assert_eq!(signed_out.status, 204, "{}", signed_out.raw);
    rt.block_on(async {
        assert_eq!(
            connect(app.addr, url, None).await.err(),
            Some((401, "unauthorized".to_owned())),
            "signing out ends the session's tickets"
        );
    });
}

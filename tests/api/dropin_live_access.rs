//! Who may open the live drop-in room over WebSocket: refusals come before
//! the upgrade; a URL carries a participant token or a socket ticket for
//! one room, never a sign-in token; a socket ticket needs a sign-in and
//! names one socket.

use serde_json::json;

use crate::app::{TestApp, error_code};
use crate::dropin_live::{live_app, live_path};
use crate::dropins::{expert, join, open};
use crate::live_client::{LiveClient, connect, runtime};
use crate::socket_tickets::{
    assert_signing_out_ends_the_ticket, assert_unauthorized, assert_url_token_refused,
    socket_ticket, tampered,
};

/// Two anonymous drop-ins the expert hana opens in `app`, and a guest who
/// joins the first: (hana's sign-in token, the first's id, the second's
/// id, the guest's participant token).
fn two_rooms(app: &TestApp) -> (String, u64, u64, String) {
    let (_, host) = expert(app, "hana");
    let first = open(app, &host, json!({"topic": "One", "is_anonymous": true}));
    let second = open(app, &host, json!({"topic": "Two", "is_anonymous": true}));
    let guest = join(
        app,
        first["session_code"].as_str().expect("code"),
        None,
        None,
    )
    .body["token"]
        .as_str()
        .expect("token")
        .to_owned();
    (
        host,
        first["id"].as_u64().expect("id"),
        second["id"].as_u64().expect("id"),
        guest,
    )
}

#[test]
fn the_live_room_refuses_before_the_upgrade() {
    let app = live_app(|_| {});
    let (host, one, two, guest) = two_rooms(&app);
    let (_, stranger) = app.register("sam");
    let plain = app.authed("GET", &live_path(one), &guest, None);
    assert_eq!(
        (plain.status, crate::app::error_code(&plain).as_str()),
        (426, "upgrade_required")
    );
    let addr = app.addr;
    let ended = {
        let response = app.authed("POST", &format!("/v1/dropins/{two}/end"), &host, None);
        assert_eq!(response.status, 200);
        two
    };
    runtime().block_on(async move {
        let refused = |r: Result<LiveClient, (u16, String)>| r.err().expect("refused");
        assert_eq!(
            refused(connect(addr, &live_path(one), None).await),
            (401, "unauthorized".to_owned())
        );
        assert_eq!(
            refused(connect(addr, &live_path(one), Some("f00d")).await),
            (401, "unauthorized".to_owned())
        );
        assert_eq!(
            refused(connect(addr, &live_path(one), Some(&stranger)).await),
            (401, "unauthorized".to_owned())
        );
        assert_eq!(
            refused(connect(addr, &live_path(ended), Some(&host)).await),
            (409, "invalid_state".to_owned())
        );
        assert_eq!(
            refused(connect(addr, &live_path(987_654), Some(&guest)).await),
            (404, "not_found".to_owned())
        );
        assert_eq!(
            refused(connect(addr, &live_path(ended), Some(&guest)).await).0,
            409
        );
    });
}

/// Regression: the room took the host's 30-day sign-in token as `?token=`,
/// so it ended up in proxy and CDN logs and browser history. A URL now
/// carries only a participant token (it opens one room) or a socket ticket
/// for this one room, good for a minute and for the session it came from;
/// the host's sign-in token goes in the `Authorization` header.
#[test]
fn a_sign_in_token_in_the_url_is_refused_and_a_ticket_opens_the_room_instead() {
    let app = live_app(|_| {});
    let (host, one, two, guest) = two_rooms(&app);
    let (_, carl) = app.register("carl");

    // The refusal says what to send instead (a plain GET shows the body).
    assert_url_token_refused(&app, &live_path(one), &host);

    let ticket = socket_ticket(&app, &host, "dropin", one);
    assert!(!ticket.contains(&host), "no sign-in token in a ticket");
    let other_room = socket_ticket(&app, &host, "dropin", two);
    let other_socket = socket_ticket(&app, &host, "signal", one);
    let not_the_hosts = socket_ticket(&app, &carl, "dropin", one);
    let with_ticket = |ticket: &str| format!("{}?ticket={ticket}", live_path(one));
    let addr = app.addr;
    let rt = runtime();
    rt.block_on(async {
        let in_the_url = format!("{}?token={host}", live_path(one));
        assert_unauthorized(addr, &[(in_the_url, "a sign-in token in the URL")]).await;
        let mut by_header = connect(addr, &live_path(one), Some(&host))
            .await
            .expect("the host's header");
        assert_eq!(by_header.next_kind("welcome").await["you"]["role"], "host");
        by_header.close().await;
        let mut by_ticket = connect(addr, &with_ticket(&ticket), None)
            .await
            .expect("the host's ticket");
        assert_eq!(by_ticket.next_kind("welcome").await["you"]["role"], "host");
        by_ticket.close().await;
        let mut again = connect(addr, &with_ticket(&ticket), None)
            .await
            .expect("a ticket works again within its minute");
        again.next_kind("welcome").await;
        again.close().await;
        let mut by_pass = connect(addr, &format!("{}?token={guest}", live_path(one)), None)
            .await
            .expect("a participant token in the URL");
        by_pass.next_kind("welcome").await;
        by_pass.close().await;
        let refused = [
            (with_ticket(&other_room), "a ticket for another drop-in"),
            (with_ticket(&other_socket), "a ticket for a booking's relay"),
            (with_ticket(&tampered(&ticket)), "a tampered ticket"),
            (
                with_ticket(&not_the_hosts),
                "the ticket of someone who does not host it",
            ),
        ];
        assert_unauthorized(addr, &refused).await;
    });
    assert_signing_out_ends_the_ticket(&app, &rt, &host, &with_ticket(&ticket));
}

/// `POST /v1/live/tickets` signs in with the bearer header only and names
/// one socket.
#[test]
fn a_socket_ticket_needs_a_sign_in_and_names_one_socket() {
    let app = live_app(|_| {});
    let (_, carl) = app.register("carl");
    let anonymous = app.request(
        "POST",
        "/v1/live/tickets",
        Some(r#"{"purpose":"dropin","id":1}"#),
    );
    assert_eq!(
        (anonymous.status, error_code(&anonymous).as_str()),
        (401, "unauthorized")
    );
    for body in [
        r#"{"purpose":"chat","id":1}"#,
        r#"{"purpose":"dropin"}"#,
        r#"{"purpose":"signal","id":1,"token":"x"}"#,
    ] {
        let refused = app.authed("POST", "/v1/live/tickets", &carl, Some(body));
        assert_eq!(
            (refused.status, error_code(&refused).as_str()),
            (400, "invalid_input"),
            "{body}"
        );
    }
    let issued = app.authed(
        "POST",
        "/v1/live/tickets",
        &carl,
        Some(r#"{"purpose":"signal","id":5}"#),
    );
    assert_eq!(issued.status, 200, "{}", issued.raw);
    assert_eq!(issued.header("cache-control"), Some("no-store"));
    let expires = droply_models::Timestamp::parse_rfc3339(
        issued.body["expires_at"].as_str().expect("expires_at"),
    )
    .expect("a timestamp");
    let left = expires.signed_duration_since(droply_models::Timestamp::now());
    assert!(
        left.num_seconds() > 0 && left.num_seconds() <= 60,
        "good for a minute: {left:?}"
    );
    app.assert_no_leaks();
}

//! The WebRTC fallback's signal relay: a confirmed booking's two parties
//! trade offer, answer and ICE candidates through it, each told when the
//! other is there; a stranger, an unconfirmed booking and a meeting outside
//! its window are refused before the upgrade; a malformed signal gets an
//! error frame. The call page of the fallback opens for the same people in
//! the same window, and its socket takes their session cookie from this
//! site's own pages only. A browser elsewhere opens it with a socket ticket;
//! a sign-in token in the URL is refused.

use droply_models::{
    Booking, BookingStatus, Currency, Email, Money, NewBooking, PaymentStatus, Timestamp, UserId,
};
use serde_json::json;

use crate::app::{TestApp, spawn_app};
use crate::live_client::{connect, runtime};
use crate::page_cookies::handshake;
use crate::socket_tickets::{
    assert_signing_out_ends_the_ticket, assert_unauthorized, assert_url_token_refused,
    socket_ticket, tampered,
};

/// A booking between `client` and `provider` starting `minutes` from now, in `status`.
pub(crate) fn booking(
    app: &TestApp,
    client: u64,
    provider: u64,
    minutes: i64,
    status: BookingStatus,
) -> u64 {
    let start = Timestamp::now().plus_minutes(minutes);
    let mut booking = Booking::new(NewBooking {
        user_id: UserId::new(client),
        provider_id: UserId::new(provider),
        start_time: start,
        duration: 60,
        payment_amount: Money::new(9_000, Currency::USD),
        client_name: "A Client".to_owned(),
        client_email: Email::parse("client@example.org").expect("email"),
        client_message: None,
        created_at: Timestamp::now(),
    });
    booking.status = status;
    booking.payment_status = PaymentStatus::Succeeded;
    app.store
        .bookings()
        .create(booking)
        .expect("booking")
        .id
        .get()
}

pub(crate) fn signal_path(id: u64) -> String {
    format!("/v1/bookings/{id}/signal")
}

#[test]
fn the_two_parties_trade_offer_answer_and_ice() {
    let app = spawn_app();
    let (client_id, client) = app.register("carl");
    let (provider_id, provider) = app.register("hana");
    let id = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    let ticket = socket_ticket(&app, &provider, "signal", id);
    let addr = app.addr;
    runtime().block_on(async move {
        let mut carl = connect(addr, &signal_path(id), Some(&client)).await.expect("client");
        assert_eq!(carl.next().await.expect("presence"), json!({"type": "peer", "present": false}));
        carl.send(&json!({"type": "offer", "sdp": "v=0 early"})).await;
        assert_eq!(carl.next_kind("error").await["code"], "invalid_state", "nobody to send to yet");

        // As a browser on another site does: a ticket in the URL.
        let mut hana = connect(addr, &format!("{}?ticket={ticket}", signal_path(id)), None)
            .await
            .expect("provider");
        assert_eq!(hana.next().await.expect("presence"), json!({"type": "peer", "present": true}));
        assert_eq!(carl.next().await.expect("presence"), json!({"type": "peer", "present": true}));

        carl.send(&json!({"type": "offer", "sdp": "v=0 offer"})).await;
        assert_eq!(hana.next().await.expect("offer"), json!({"type": "offer", "sdp": "v=0 offer", "from": "client"}));
        hana.send(&json!({"type": "answer", "sdp": "v=0 answer"})).await;
        assert_eq!(carl.next().await.expect("answer"), json!({"type": "answer", "sdp": "v=0 answer", "from": "provider"}));
        let candidate = json!({"candidate": "candidate:1 1 udp 2122260223 10.0.0.2 54400 typ host", "sdpMid": "0"});
        hana.send(&json!({"type": "ice", "candidate": candidate})).await;
        assert_eq!(carl.next().await.expect("ice")["candidate"], candidate);
        carl.send(&json!({"type": "ice", "candidate": candidate})).await;
        assert_eq!(hana.next().await.expect("ice")["from"], "client");

        carl.send(&json!({"type": "shout", "sdp": "x"})).await;
        assert_eq!(carl.next_kind("error").await["code"], "invalid_input");
        carl.send(&json!({"type": "offer"})).await;
        assert_eq!(carl.next_kind("error").await["code"], "invalid_input");

        hana.close().await;
        assert_eq!(carl.next().await.expect("presence"), json!({"type": "peer", "present": false}));
    });
}

#[test]
fn strangers_unconfirmed_bookings_and_closed_windows_are_refused() {
    let app = spawn_app();
    let (client_id, client) = app.register("carl");
    let (provider_id, _) = app.register("hana");
    let (_, stranger) = app.register("sam");
    let open = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    let pending = booking(
        &app,
        client_id,
        provider_id,
        5,
        BookingStatus::PendingPayment,
    );
    let later = booking(&app, client_id, provider_id, 120, BookingStatus::Confirmed);
    let over = booking(&app, client_id, provider_id, -90, BookingStatus::Confirmed);
    let plain = app.authed("GET", &signal_path(open), &client, None);
    assert_eq!(
        (plain.status, crate::app::error_code(&plain).as_str()),
        (426, "upgrade_required")
    );
    let addr = app.addr;
    runtime().block_on(async move {
        let refused =
            |r: Result<crate::live_client::LiveClient, (u16, String)>| r.err().expect("refused");
        assert_eq!(
            refused(connect(addr, &signal_path(open), Some(&stranger)).await),
            (404, "not_found".to_owned())
        );
        assert_eq!(
            refused(connect(addr, &signal_path(open), None).await),
            (401, "unauthorized".to_owned())
        );
        assert_eq!(
            refused(connect(addr, &signal_path(pending), Some(&client)).await),
            (409, "booking_not_confirmed".to_owned())
        );
        for closed in [later, over] {
            assert_eq!(
                refused(connect(addr, &signal_path(closed), Some(&client)).await),
                (409, "meeting_not_open".to_owned())
            );
        }
        assert_eq!(
            refused(connect(addr, &signal_path(9_999_999), Some(&client)).await).0,
            404
        );
    });
}

/// Regression: the relay took a sign-in token as `?token=`, so a party's
/// 30-day token ended up in proxy and CDN logs and browser history. The URL
/// now carries a socket ticket for this one booking, good for a minute and
/// for the session it came from; the ticket says who the caller is and the
/// relay still checks that they are a party.
#[test]
fn a_sign_in_token_in_the_url_is_refused_and_a_ticket_opens_the_relay_instead() {
    let app = spawn_app();
    let (client_id, client) = app.register("carl");
    let (provider_id, provider) = app.register("hana");
    let (_, stranger) = app.register("sam");
    let id = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    // Later the same day: PostgreSQL refuses two sessions of one provider at once.
    let other = booking(&app, client_id, provider_id, 125, BookingStatus::Confirmed);
    let with_ticket = |ticket: &str| format!("{}?ticket={ticket}", signal_path(id));

    // The refusal says what to send instead (a plain GET shows the body).
    assert_url_token_refused(&app, &signal_path(id), &client);

    let ticket = socket_ticket(&app, &client, "signal", id);
    assert!(!ticket.contains(&client), "no sign-in token in a ticket");
    let other_booking = socket_ticket(&app, &client, "signal", other);
    let other_socket = socket_ticket(&app, &client, "dropin", id);
    let strangers = socket_ticket(&app, &stranger, "signal", id);
    let addr = app.addr;
    let rt = runtime();
    rt.block_on(async {
        let in_the_url = format!("{}?token={client}", signal_path(id));
        assert_unauthorized(addr, &[(in_the_url, "a sign-in token in the URL")]).await;
        let mut by_header = connect(addr, &signal_path(id), Some(&client))
            .await
            .expect("the header");
        assert_eq!(by_header.next().await.expect("presence")["type"], "peer");
        by_header.close().await;
        let mut by_ticket = connect(addr, &with_ticket(&ticket), None)
            .await
            .expect("the ticket");
        assert_eq!(by_ticket.next().await.expect("presence")["type"], "peer");
        by_ticket.close().await;
        let refused = [
            (with_ticket(&other_booking), "a ticket for another booking"),
            (with_ticket(&other_socket), "a ticket for a drop-in room"),
            (with_ticket(&tampered(&ticket)), "a tampered ticket"),
        ];
        assert_unauthorized(addr, &refused).await;
        assert_eq!(
            connect(addr, &with_ticket(&strangers), None)
                .await
                .err()
                .expect("refused"),
            (404, "not_found".to_owned()),
            "a ticket proves who, not that they may"
        );
    });
    assert_signing_out_ends_the_ticket(&app, &rt, &client, &with_ticket(&ticket));
    // The other party's own sign-in is untouched.
    let hanas = socket_ticket(&app, &provider, "signal", id);
    rt.block_on(async {
        connect(addr, &with_ticket(&hanas), None)
            .await
            .expect("the provider's ticket")
            .close()
            .await;
    });
}

/// A browser's GET of a page, signed in with the session cookie `token`.
fn page(app: &TestApp, path: &str, token: Option<&str>) -> crate::app::Response {
    let cookie = token.map(|token| format!("droply_session={token}"));
    let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("Cookie", c.as_str())).collect();
    app.send("GET", path, None, None, &headers)
}

#[test]
fn the_call_page_opens_for_the_parties_in_the_window_and_its_socket_takes_their_cookie() {
    let app = spawn_app();
    let (client_id, client) = app.register("carl");
    let (provider_id, provider) = app.register("hana");
    let (_, stranger) = app.register("eve");
    let id = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    let call = format!("/bookings/{id}/call");

    // The booking page links to joining, which leads here; the call page
    // knows who is calling.
    let booking_page = page(&app, &format!("/bookings/{id}"), Some(&client));
    assert!(
        booking_page
            .raw
            .contains(&format!("href=\"/bookings/{id}/join\"")),
        "{}",
        booking_page.raw
    );
    let joined = page(&app, &format!("/bookings/{id}/join"), Some(&client));
    assert_eq!(joined.status, 303, "{}", joined.raw);
    assert_eq!(joined.header("location"), Some(call.as_str()));
    for (token, role) in [(&client, "client"), (&provider, "provider")] {
        let shown = page(&app, &call, Some(token));
        assert_eq!(shown.status, 200, "{}", shown.raw);
        assert!(
            shown.raw.contains(&format!("data-role=\"{role}\"")),
            "{}",
            shown.raw
        );
        assert!(
            shown
                .raw
                .contains(&format!("data-signal=\"{}\"", signal_path(id)))
        );
        assert!(shown.raw.contains("data-ice-servers=\"[]\""));
        assert!(!shown.raw.contains(token.as_str()), "no token in the page");
    }
    assert_eq!(page(&app, &call, Some(&stranger)).status, 404);
    assert_eq!(
        page(&app, &format!("/bookings/{}/call", id + 999), Some(&client)).status,
        404
    );
    let anonymous = page(&app, &call, None);
    assert_eq!(anonymous.status, 303);
    assert_eq!(
        anonymous.header("location"),
        Some(format!("/signin?next=/bookings/{id}/call").as_str())
    );
    // Too early, or not confirmed: a 409 page that says why.
    let later = booking(&app, client_id, provider_id, 180, BookingStatus::Confirmed);
    let early = page(&app, &format!("/bookings/{later}/call"), Some(&client));
    assert_eq!(early.status, 409, "{}", early.raw);
    let pending = booking(
        &app,
        client_id,
        provider_id,
        300,
        BookingStatus::PendingPayment,
    );
    assert_eq!(
        page(&app, &format!("/bookings/{pending}/call"), Some(&client)).status,
        409
    );

    // The page's socket: the session cookie from this site's own origin only.
    let relay = signal_path(id);
    let with_cookie = ("Cookie", format!("droply_session={client}"));
    let foreign = handshake(
        &app,
        &relay,
        &[
            with_cookie.clone(),
            ("Origin", "https://evil.example".to_owned()),
        ],
    );
    assert_eq!(foreign.0, 403, "cross-site WebSocket hijacking");
    let (status, first) = handshake(
        &app,
        &relay,
        &[with_cookie, ("Origin", format!("http://{}", app.addr))],
    );
    assert_eq!(status, 101);
    assert_eq!(first, Some(json!({"type": "peer", "present": false})));
    let strangers = handshake(
        &app,
        &relay,
        &[
            ("Cookie", format!("droply_session={stranger}")),
            ("Origin", format!("http://{}", app.addr)),
        ],
    );
    assert_eq!(strangers.0, 404);
}

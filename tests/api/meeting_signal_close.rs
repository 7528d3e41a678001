//! The signal relay closes a party out once they may no longer hold it,
//! within a few seconds (each connection checks again every 5 s by the
//! rule that let it in): a cancelled booking closes both sides (1000, as
//! the session's end does) and opens no more; a party who signs out is
//! closed (4002) while the other side stays, told its peer left. Two nodes
//! on one PostgreSQL store each close their own side, as the check reads
//! the store they share.

use std::time::Duration;

use droply_models::BookingStatus;
use droply_test_support::postgres::fresh_database;
use serde_json::json;

use crate::app::{TestApp, spawn_app};
use crate::live_client::{Ended, LiveClient, connect, runtime};
use crate::meeting_signal::{booking, signal_path};
use crate::multi_node::node_without_search;
use crate::socket_tickets::socket_ticket;

/// Past the relay's check period (5 s) with room to spare.
const CLOSED_WITHIN: Duration = Duration::from_secs(15);

/// The code `client`'s relay is closed with, skipping the presence frames
/// that come first; fails when it stays open.
async fn closed_code(client: &mut LiveClient) -> Option<u16> {
    loop {
        match client.next_within(CLOSED_WITHIN).await {
            Ok(frame) => assert_eq!(frame["type"], "peer", "{frame}"),
            Err(Ended::Closed(code)) => return code,
            Err(other) => panic!("the relay was not closed: {other:?}"),
        }
    }
}

/// Opens the relay of booking `id` as the client (its bearer token, on
/// `client_on`) and as the provider (a socket ticket, on `provider_on`),
/// each told the other is there.
async fn both_sides(
    client_on: &TestApp,
    client: &str,
    provider_on: &TestApp,
    provider_ticket: &str,
    id: u64,
) -> (LiveClient, LiveClient) {
    let mut carl = connect(client_on.addr, &signal_path(id), Some(client))
        .await
        .expect("the client");
    let with_ticket = format!("{}?ticket={provider_ticket}", signal_path(id));
    let mut hana = connect(provider_on.addr, &with_ticket, None)
        .await
        .expect("the provider");
    for side in [&mut carl, &mut hana] {
        loop {
            let frame = side.next().await.expect("presence");
            assert_eq!(frame["type"], "peer", "{frame}");
            if frame["present"] == true {
                break;
            }
        }
    }
    (carl, hana)
}

/// `token`'s party cancels booking `id` through `app`.
fn cancel(app: &TestApp, token: &str, id: u64) {
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/cancel"),
        token,
        Some(r#"{"reason":"something came up"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.raw);
}

/// Regression: the relay stayed open until the booking's end whatever
/// happened meanwhile, so both parties of a cancelled booking kept
/// signalling each other for the rest of the hour. A check every few
/// seconds now closes both sides, and the relay opens no more.
#[test]
fn cancelling_a_booking_closes_both_sides_of_its_open_relay() {
    let app = spawn_app();
    let (client_id, client) = app.register("carl");
    let (provider_id, provider) = app.register("hana");
    let id = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    let ticket = socket_ticket(&app, &provider, "signal", id);
    let rt = runtime();
    let (mut carl, mut hana) = rt.block_on(both_sides(&app, &client, &app, &ticket, id));
    cancel(&app, &client, id);
    rt.block_on(async {
        assert_eq!(
            closed_code(&mut carl).await,
            Some(1000),
            "the client's side"
        );
        assert_eq!(
            closed_code(&mut hana).await,
            Some(1000),
            "the provider's side"
        );
        assert_eq!(
            connect(app.addr, &signal_path(id), Some(&client))
                .await
                .err(),
            Some((409, "booking_not_confirmed".to_owned()))
        );
    });
}

/// Regression: signing out ended the session's tokens and tickets for new
/// connections only; a relay opened with them stayed open until the
/// booking's end. A party who signs out is now closed (4002), by either
/// credential, and the other side stays, told its peer left; a relay
/// whose party is still signed in stays open past the checks.
#[test]
fn signing_out_closes_the_partys_relay_and_leaves_the_other_side_open() {
    let app = spawn_app();
    let (client_id, client) = app.register("carl");
    let (provider_id, provider) = app.register("hana");
    let id = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    let ticket = socket_ticket(&app, &provider, "signal", id);
    let rt = runtime();
    let (mut carl, mut hana) = rt.block_on(both_sides(&app, &client, &app, &ticket, id));
    rt.block_on(async {
        // Past a check: both still hold their side.
        assert_eq!(
            carl.next_within(Duration::from_secs(7)).await,
            Err(Ended::TimedOut)
        );
        assert_eq!(
            hana.next_within(Duration::from_millis(200)).await,
            Err(Ended::TimedOut)
        );
    });

    // The provider, in by a ticket, signs out of the session it came from.
    let signed_out = app.authed("POST", "/v1/auth/logout", &provider, None);
    assert_eq!(signed_out.status, 204, "{}", signed_out.raw);
    rt.block_on(async {
        assert_eq!(
            closed_code(&mut hana).await,
            Some(4002),
            "the provider's side"
        );
        assert_eq!(
            carl.next_within(CLOSED_WITHIN).await.expect("presence"),
            json!({"type": "peer", "present": false})
        );
        assert_eq!(
            carl.next_within(Duration::from_secs(7)).await,
            Err(Ended::TimedOut),
            "the client is still signed in and keeps their side"
        );
    });

    // The client, in by their bearer token, signs out everywhere.
    let everywhere = app.authed("POST", "/v1/auth/logout_all", &client, None);
    assert_eq!(everywhere.status, 204, "{}", everywhere.raw);
    rt.block_on(async {
        assert_eq!(
            closed_code(&mut carl).await,
            Some(4002),
            "the client's side"
        );
    });
}

/// The client's side on node A, the provider's on node B, one PostgreSQL
/// store: the provider cancels through B, and each node closes its own
/// side, as each checks the store they share.
#[test]
fn a_booking_cancelled_through_one_node_closes_its_relay_on_both_nodes() {
    let url = fresh_database();
    let (a, b) = (node_without_search(&url), node_without_search(&url));
    let (client_id, client) = a.register("carl");
    let (provider_id, provider) = b.register("hana");
    let id = booking(&a, client_id, provider_id, 5, BookingStatus::Confirmed);
    let ticket = socket_ticket(&b, &provider, "signal", id);
    let rt = runtime();
    let (mut carl, mut hana) = rt.block_on(both_sides(&a, &client, &b, &ticket, id));
    cancel(&b, &provider, id);
    rt.block_on(async {
        assert_eq!(
            closed_code(&mut carl).await,
            Some(1000),
            "the client on node A"
        );
        assert_eq!(
            closed_code(&mut hana).await,
            Some(1000),
            "the provider on node B"
        );
    });
}

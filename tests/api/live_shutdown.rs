//! Shutdown closes the live sockets properly: a drop-in room's connection
//! and a signal relay's, served by `startup::serve_until` as `droply
//! serve` serves them, get a close frame with 1001 ("server shutting
//! down") when its shutdown future completes, and the server then returns.
//! The rooms and bookings are made through a test app over the same engine;
//! the sockets connect to a second server over it, which is stopped.

use std::time::Duration;

use droply_models::BookingStatus;
use droply_server::pages::PageSettings;
use droply_server::startup;
use serde_json::json;

use crate::app::{spawn_app, test_limits};
use crate::dropins::{expert, join, open};
use crate::live_client::{Ended, LiveClient, connect, runtime};
use crate::meeting_signal::{booking, signal_path};

/// Far less than the grace period: the close comes as shutdown begins.
const CLOSED_WITHIN: Duration = Duration::from_secs(10);

/// The code `client` is closed with, skipping the JSON frames before it;
/// fails when it is not closed in time.
async fn closed_code(client: &mut LiveClient) -> Option<u16> {
    loop {
        match client.next_within(CLOSED_WITHIN).await {
            Ok(_) => {}
            Err(Ended::Closed(code)) => return code,
            Err(other) => panic!("the socket was not closed at shutdown: {other:?}"),
        }
    }
}

/// Regression: at shutdown the live sockets ran in tasks neither the
/// accept loop's tracker nor its stop flag reached: `droply serve` dropped
/// them with the runtime, so clients saw the connection drop (1006) with
/// no close frame, and neither a room's `left` notice nor a relay's
/// goodbye to the other side was sent.
#[test]
fn shutdown_closes_drop_in_rooms_and_signal_relays_with_going_away() {
    let app = spawn_app();
    let (_, host) = expert(&app, "hana");
    let session = open(
        &app,
        &host,
        json!({"topic": "Closing time", "is_anonymous": true}),
    );
    let room = session["id"].as_u64().expect("id");
    let code = session["session_code"].as_str().expect("code");
    let guest_token = join(&app, code, None, Some("Guest")).body["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (client_id, client) = app.register("carl");
    let (provider_id, _) = app.register("pia");
    let call = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    let engine = app.engine.clone();
    runtime().block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = test_limits();
        let served = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            startup::serve_until(listener, engine, &limits, PageSettings::default(), shutdown).await
        });

        let mut guest = connect(
            addr,
            &format!("/v1/dropins/{room}/live"),
            Some(&guest_token),
        )
        .await
        .expect("the guest");
        guest.next_kind("welcome").await;
        let mut carl = connect(addr, &signal_path(call), Some(&client))
            .await
            .expect("the client");
        assert_eq!(
            carl.next().await.expect("presence"),
            json!({"type": "peer", "present": false})
        );

        stop.send(()).expect("the server is running");
        assert_eq!(
            closed_code(&mut guest).await,
            Some(1001),
            "the drop-in room"
        );
        assert_eq!(closed_code(&mut carl).await, Some(1001), "the signal relay");
        let returned = tokio::time::timeout(CLOSED_WITHIN, served)
            .await
            .expect("the server returned once its sockets closed");
        returned.expect("the server task").expect("served");
    });
}

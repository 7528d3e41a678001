//! Every data frame a live socket receives counts against the sender's
//! message rate before it is read, on a drop-in room and on the booking
//! call's signal relay alike: a flood of malformed text frames or of binary
//! frames is answered `rate_limited` past the burst and then closed with
//! 1008 after a run of refused frames, while a burst of valid messages
//! within the rate all go through, each counted once. The relay's burst is
//! at least [`SIGNAL_RELAY_BURST`], so a client's ICE candidates trickled
//! at once all reach the other party.

use std::time::Duration;

use droply_models::BookingStatus;
use droply_server::limits::{LiveLimits, MAX_REFUSED_FRAMES_IN_A_ROW, Rate, SIGNAL_RELAY_BURST};
use serde_json::json;

use crate::app::TestApp;
use crate::dropin_live::{anonymous_room, live_app, live_path, read_messages};
use crate::live_client::{Ended, LiveClient, connect, runtime};
use crate::meeting_signal::{booking, signal_path};

/// Frames a flooding client sends at once.
const FLOOD: usize = 200;
/// The burst of the apps here; the rate refills one message a minute, so
/// nothing refills while a test runs. A signal relay's is
/// [`SIGNAL_RELAY_BURST`], larger.
const BURST: u32 = 5;

/// An app whose live message rate is [`BURST`] at once, then one a minute
/// ([`SIGNAL_RELAY_BURST`] at once on a signal relay).
fn tight_app() -> TestApp {
    live_app(|live| {
        live.message_rate = Rate {
            per_minute: 1,
            burst: BURST,
        }
    })
}

/// What a flood sends: malformed text, or binary frames.
#[derive(Clone, Copy)]
enum Junk {
    Text,
    Binary,
    /// Text and binary in turn.
    Both,
}

/// Sends [`FLOOD`] junk frames at once (stopping if the server is gone),
/// then reads until the connection ends: the codes of the error frames it
/// got, and how it ended.
async fn flood(client: &mut LiveClient, junk: Junk) -> (Vec<String>, Ended) {
    for n in 0..FLOOD {
        let binary = match junk {
            Junk::Text => false,
            Junk::Binary => true,
            Junk::Both => n % 2 == 1,
        };
        let sent = if binary {
            client.send_binary(vec![0x78; 8]).await
        } else {
            client.send_text("\"x\"".to_owned()).await
        };
        if !sent {
            break;
        }
    }
    let mut codes = Vec::new();
    loop {
        match client.next().await {
            Ok(frame) => {
                if frame["kind"] == "error" {
                    codes.push(frame["code"].as_str().unwrap_or_default().to_owned());
                }
            }
            Err(end) => return (codes, end),
        }
    }
}

/// A flood answered `invalid_input` within the rate (`within` frames),
/// `rate_limited` past it, and closed with 1008 after a run of
/// [`MAX_REFUSED_FRAMES_IN_A_ROW`] refused frames, long before its end.
fn assert_flood_refused(codes: &[String], end: Ended, within: usize) {
    assert_eq!(end, Ended::Closed(Some(1008)), "errors: {codes:?}");
    assert_eq!(
        codes.len(),
        MAX_REFUSED_FRAMES_IN_A_ROW as usize,
        "one error frame a refused frame, then the close: {codes:?}"
    );
    let invalid = codes
        .iter()
        .take_while(|code| *code == "invalid_input")
        .count();
    assert_eq!(
        invalid, within,
        "the burst is spent by bad frames too: {codes:?}"
    );
    assert!(
        codes[within..].iter().all(|code| code == "rate_limited"),
        "past the burst every frame is refused unread: {codes:?}"
    );
}

/// Regression: a malformed text frame failed to parse before the message
/// rate was checked, so a member could send `"x"` thousands of times a
/// second, each answered with an error frame and keeping the idle timeout
/// away, and was never limited nor closed.
#[test]
fn a_flood_of_malformed_frames_on_a_dropin_socket_is_rate_limited_then_closed_with_1008() {
    let app = tight_app();
    let (_, id, tokens) = anonymous_room(&app, "Flood", &["Flooder"]);
    let addr = app.addr;
    runtime().block_on(async move {
        let mut client = connect(addr, &live_path(id), Some(&tokens[0]))
            .await
            .expect("flooder");
        client.next_kind("welcome").await;
        let (codes, end) = flood(&mut client, Junk::Text).await;
        // The `joined` notice took one message of the burst.
        assert_flood_refused(&codes, end, BURST as usize - 1);
    });
}

/// Regression: binary frames on a drop-in socket were answered with an
/// error frame but never counted against the message rate.
#[test]
fn binary_frames_on_a_dropin_socket_count_against_the_rate_and_a_flood_closes_with_1008() {
    let app = tight_app();
    let (_, id, tokens) = anonymous_room(&app, "Binary", &["Flooder"]);
    let addr = app.addr;
    runtime().block_on(async move {
        let mut client = connect(addr, &live_path(id), Some(&tokens[0]))
            .await
            .expect("flooder");
        client.next_kind("welcome").await;
        let (codes, end) = flood(&mut client, Junk::Binary).await;
        assert_flood_refused(&codes, end, BURST as usize - 1);
    });
}

/// Every frame is counted once: a burst of valid messages within the rate
/// all reach the room, and only the next one is refused.
#[test]
fn a_burst_of_valid_messages_within_the_rate_all_go_through_on_a_dropin_socket() {
    let app = tight_app();
    let (_, id, tokens) = anonymous_room(&app, "Polite", &["Polite"]);
    let addr = app.addr;
    runtime().block_on(async move {
        let mut client = connect(addr, &live_path(id), Some(&tokens[0]))
            .await
            .expect("polite");
        client.next_kind("welcome").await;
        // The `joined` notice took one message of the burst.
        let allowed = BURST as usize - 1;
        for i in 0..allowed {
            client
                .send(&json!({"type": "comment", "content": format!("hello {i}")}))
                .await;
        }
        let mut seen = Vec::new();
        let ids = read_messages(&mut client, "comment", allowed, &mut seen).await;
        assert_eq!(ids.len(), allowed);
        assert!(
            seen.iter().all(|frame| frame["kind"] != "error"),
            "{seen:?}"
        );
        client
            .send(&json!({"type": "comment", "content": "one too many"}))
            .await;
        assert_eq!(client.next_kind("error").await["code"], "rate_limited");
    });
}

/// Regression: the signal relay parsed a frame and checked its type and
/// sdp before the message rate, and never counted binary frames, so a
/// party could flood it with malformed frames unlimited.
#[test]
fn a_flood_of_malformed_frames_on_the_signal_relay_is_rate_limited_then_closed_with_1008() {
    let app = tight_app();
    let (client_id, client) = app.register("carl");
    let (provider_id, _) = app.register("hana");
    let id = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    let addr = app.addr;
    runtime().block_on(async move {
        let mut carl = connect(addr, &signal_path(id), Some(&client))
            .await
            .expect("client");
        assert_eq!(
            carl.next().await.expect("presence"),
            json!({"type": "peer", "present": false})
        );
        // The relay's burst is larger than a run of refused frames: spend
        // all but [`BURST`] of it with valid signals first (refused, as the
        // other party is not there yet, which starts no run), so the flood
        // meets the rate as on a drop-in socket.
        for _ in BURST..SIGNAL_RELAY_BURST {
            carl.send(&json!({"type": "bye"})).await;
            assert_eq!(carl.next_kind("error").await["code"], "invalid_state");
        }
        let (codes, end) = flood(&mut carl, Junk::Both).await;
        assert_flood_refused(&codes, end, BURST as usize);
    });
}

/// Every frame is counted once on the relay too: a burst of valid signals
/// within the relay's burst all reach the other party, and only the next
/// one is refused.
#[test]
fn a_burst_of_valid_signals_within_the_rate_all_reach_the_other_party() {
    let app = tight_app();
    let (client_id, client) = app.register("carl");
    let (provider_id, provider) = app.register("hana");
    let id = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    let addr = app.addr;
    runtime().block_on(async move {
        let mut carl = connect(addr, &signal_path(id), Some(&client))
            .await
            .expect("client");
        assert_eq!(carl.next().await.expect("presence")["present"], false);
        let mut hana = connect(addr, &signal_path(id), Some(&provider))
            .await
            .expect("provider");
        assert_eq!(hana.next().await.expect("presence")["present"], true);
        assert_eq!(carl.next().await.expect("presence")["present"], true);
        for n in 0..SIGNAL_RELAY_BURST {
            let port = 50_000 + n;
            let candidate =
                json!({"candidate": format!("candidate:{n} 1 udp 1 10.0.0.2 {port} typ host")});
            carl.send(&json!({"type": "ice", "candidate": candidate}))
                .await;
        }
        for n in 0..SIGNAL_RELAY_BURST {
            let frame = hana.next().await.expect("ice");
            assert_eq!(frame["type"], "ice", "{frame}");
            assert_eq!(frame["from"], "client");
            assert!(
                frame["candidate"]["candidate"]
                    .as_str()
                    .is_some_and(|c| c.starts_with(&format!("candidate:{n} "))),
                "{frame}"
            );
        }
        carl.send(&json!({"type": "ice", "candidate": {"candidate": "one too many"}}))
            .await;
        assert_eq!(carl.next_kind("error").await["code"], "rate_limited");
    });
}

/// ICE candidates a browser on a multi-homed machine gathers within a
/// second.
const CANDIDATES: u32 = 40;

/// Sends `description` (`offer` or `answer`) from `sender` and, at once,
/// [`CANDIDATES`] ICE candidates, one a frame, as a trickling WebRTC client
/// does; checks that `receiver` gets every one, in order, and `sender` no
/// error.
async fn trickle(sender: &mut LiveClient, receiver: &mut LiveClient, description: &str) {
    sender
        .send(&json!({"type": description, "sdp": format!("v=0 {description}")}))
        .await;
    for n in 0..CANDIDATES {
        let port = 50_000 + n;
        let candidate = json!({
            "candidate": format!("candidate:{n} 1 udp 1 10.0.0.2 {port} typ host"),
            "sdpMid": "0"
        });
        sender
            .send(&json!({"type": "ice", "candidate": candidate}))
            .await;
    }
    let frame = receiver.next().await.expect(description);
    assert_eq!(frame["type"], description, "{frame}");
    for n in 0..CANDIDATES {
        let frame = receiver
            .next()
            .await
            .unwrap_or_else(|end| panic!("candidate {n} never came: {end:?}"));
        assert_eq!(frame["type"], "ice", "candidate {n}: {frame}");
        assert!(
            frame["candidate"]["candidate"]
                .as_str()
                .is_some_and(|c| c.starts_with(&format!("candidate:{n} "))),
            "candidate {n}: {frame}"
        );
    }
    assert_eq!(
        sender.next_within(Duration::from_millis(300)).await,
        Err(Ended::TimedOut),
        "the sender was answered: refused or closed"
    );
}

/// Regression: the signal relay had the drop-in rooms' burst (20 at the
/// default rate), so a WebRTC client trickling its ICE candidates one a
/// frame (a browser on a multi-homed machine gathers 10 to 40 within a
/// second) was refused `rate_limited` past its 20th frame and, 20 refused
/// frames on, closed with 1008: a third-party client's call never set up.
#[test]
fn a_burst_of_ice_candidates_through_the_signal_relay_is_relayed_not_closed() {
    let app = live_app(|live| live.message_rate = LiveLimits::default().message_rate);
    let (client_id, client) = app.register("carl");
    let (provider_id, provider) = app.register("hana");
    let id = booking(&app, client_id, provider_id, 5, BookingStatus::Confirmed);
    let addr = app.addr;
    runtime().block_on(async move {
        let mut carl = connect(addr, &signal_path(id), Some(&client))
            .await
            .expect("client");
        assert_eq!(carl.next().await.expect("presence")["present"], false);
        let mut hana = connect(addr, &signal_path(id), Some(&provider))
            .await
            .expect("provider");
        assert_eq!(hana.next().await.expect("presence")["present"], true);
        assert_eq!(carl.next().await.expect("presence")["present"], true);
        trickle(&mut hana, &mut carl, "offer").await;
        trickle(&mut carl, &mut hana, "answer").await;
        // Both sides are still connected.
        carl.send(&json!({"type": "bye"})).await;
        assert_eq!(hana.next().await.expect("bye")["type"], "bye");
    });
}

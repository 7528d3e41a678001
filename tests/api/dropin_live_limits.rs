//! The live drop-in room's limits over WebSocket: the message rate, the
//! frame size and the idle timeout hold, and a slow client is dropped
//! without stalling the room.

use std::time::Duration;

use droply_server::limits::Rate;
use serde_json::json;

use crate::dropin_live::{anonymous_room, live_app, live_path, read_messages};
use crate::live_client::{Ended, connect, connect_small_buffer, runtime};

#[test]
fn the_limits_hold_rate_frame_size_idle_and_slow_clients() {
    let app = live_app(|live| {
        live.message_rate = Rate {
            per_minute: 60,
            burst: 5,
        };
        live.max_frame_bytes = 8 * 1024;
        live.ping_every = Duration::from_millis(100);
        live.idle_timeout = Duration::from_millis(400);
    });
    let (_, id, tokens) = anonymous_room(&app, "Limits", &["Chatty", "Big", "Quiet"]);
    let (chatty, big, quiet) = (tokens[0].clone(), tokens[1].clone(), tokens[2].clone());
    let addr = app.addr;
    runtime().block_on(async move {
        let mut client = connect(addr, &live_path(id), Some(&chatty))
            .await
            .expect("chatty");
        for i in 0..8 {
            client
                .send(&json!({"type": "comment", "content": format!("spam {i}")}))
                .await;
        }
        let limited = client.next_kind("error").await;
        assert_eq!(limited["code"], "rate_limited");

        let mut oversized = connect(addr, &live_path(id), Some(&big))
            .await
            .expect("big");
        oversized.next_kind("welcome").await;
        oversized.send_text("x".repeat(16 * 1024)).await;
        loop {
            match oversized.next().await {
                Ok(_) => continue,
                Err(end) => {
                    assert_ne!(
                        end,
                        Ended::TimedOut,
                        "an oversized frame ends the connection"
                    );
                    break;
                }
            }
        }

        // A client that never reads (so never answers pings) is closed as idle.
        let mut silent = connect(addr, &live_path(id), Some(&quiet))
            .await
            .expect("quiet");
        tokio::time::sleep(Duration::from_millis(1200)).await;
        loop {
            match silent.next_within(Duration::from_secs(5)).await {
                Ok(_) => continue,
                Err(end) => {
                    // A close (1001), or a reset when the client's queued
                    // pongs meet the closed socket first.
                    assert!(
                        matches!(end, Ended::Closed(Some(1001)) | Ended::Dropped),
                        "{end:?}"
                    );
                    break;
                }
            }
        }
    });
}

#[test]
fn a_slow_client_is_dropped_and_never_stalls_the_room() {
    let app = live_app(|live| {
        live.send_buffer = 64;
        live.send_timeout = Duration::from_millis(300);
    });
    let (host, id, tokens) = anonymous_room(&app, "Slow", &["Sender", "Slow"]);
    let (sender, slow) = (tokens[0].clone(), tokens[1].clone());
    let addr = app.addr;
    const SENT: usize = 400;
    runtime().block_on(async move {
        let mut host_client = connect(addr, &live_path(id), Some(&host))
            .await
            .expect("host");
        host_client.next_kind("welcome").await;
        let mut slow_client = connect_small_buffer(addr, &live_path(id), &slow).await;
        let mut sending = connect(addr, &live_path(id), Some(&sender))
            .await
            .expect("sender");
        // 16 kB a message: more than the kernel buffers between the server
        // and a client that stopped reading.
        let text = "\u{1F600}".repeat(4000);
        let host_reader = tokio::spawn(async move {
            let mut seen = Vec::new();
            read_messages(&mut host_client, "comment", SENT, &mut seen)
                .await
                .len()
        });
        for _ in 0..SENT {
            sending
                .send(&json!({"type": "comment", "content": text}))
                .await;
            // The sender reads what comes back, as a client does.
            while sending.next_within(Duration::from_millis(1)).await.is_ok() {}
        }
        assert_eq!(
            host_reader.await.expect("host"),
            SENT,
            "the room kept going"
        );
        let mut got = 0;
        let end = loop {
            match slow_client.next_within(Duration::from_secs(5)).await {
                Ok(frame) => got += usize::from(frame["type"] == "comment"),
                Err(end) => break end,
            }
        };
        assert!(
            got < SENT,
            "the slow client was dropped before it got everything ({got})"
        );
        assert_ne!(end, Ended::TimedOut);
    });
}

//! A drop-in host's live socket lasts only as long as the sign-in that
//! opened it: once the host signs out everywhere, the connection is closed
//! at its next renewal with 4002 ("signed out") and nothing more is done in
//! the host's name.

use std::time::Duration;

use droply_models::DropinMessageId;
use serde_json::json;

use crate::dropin_live::{anonymous_room, live_app, live_path};
use crate::live_client::{Ended, connect, runtime};

/// Regression: the host's socket kept its powers after the host signed out
/// everywhere (renewing it answered true for the host without a check,
/// and removing never looked at the sign-in again), so a stolen host token
/// that had opened the room kept removing messages and posting as the
/// host until the drop-in ended.
#[test]
fn a_hosts_socket_is_closed_with_4002_once_the_host_signs_out_everywhere() {
    let app = live_app(|live| live.seat_renew_every = Duration::from_millis(200));
    let (host, id, tokens) = anonymous_room(&app, "Signed out", &["Owl"]);
    let addr = app.addr;
    let rt = runtime();
    let (mut host_client, mut owl, question) = rt.block_on(async {
        let mut host_client = connect(addr, &live_path(id), Some(&host))
            .await
            .expect("the host's bearer token");
        assert_eq!(
            host_client.next_kind("welcome").await["you"]["role"],
            "host"
        );
        let mut owl = connect(addr, &live_path(id), Some(&tokens[0]))
            .await
            .expect("a guest");
        owl.next_kind("welcome").await;
        owl.send(&json!({"type": "question", "content": "Still there?"}))
            .await;
        let question = loop {
            let frame = host_client.next_kind("message").await;
            if frame["type"] == "question" {
                break frame["id"].as_u64().expect("id");
            }
        };
        (host_client, owl, question)
    });

    let out = app.authed("POST", "/v1/auth/logout_all", &host, None);
    assert_eq!(out.status, 204, "{}", out.raw);

    let (ended, _) = rt.block_on(async {
        // A few renewals go by.
        tokio::time::sleep(Duration::from_millis(600)).await;
        // The close the server sent is read first: writing to a socket the
        // server closed could reset it before the close frame is read.
        let ended = loop {
            match host_client.next_within(Duration::from_secs(5)).await {
                Ok(_) => continue,
                Err(end) => break end,
            }
        };
        let remove = json!({"type": "remove", "message_id": question});
        let sent = host_client.send_text(remove.to_string()).await;
        // A later message, which must be stored: once it comes back through
        // the room's feed, a removal sent before it (had the host's connection
        // taken it) would have been handled by then.
        owl.send(&json!({"type": "question", "content": "Anyone left?"}))
            .await;
        loop {
            let frame = owl.next_kind("message").await;
            if frame["type"] == "question" && frame["content"] == "Anyone left?" {
                break;
            }
        }
        (ended, sent)
    });
    assert_eq!(
        ended,
        Ended::Closed(Some(4002)),
        "the host's socket is closed as signed out"
    );
    let stored = app
        .store
        .dropin_messages()
        .find(DropinMessageId::new(question))
        .expect("read")
        .expect("the question");
    assert!(
        stored.removed_at.is_none(),
        "a signed-out host's socket removes nothing"
    );
    rt.block_on(owl.close());
}

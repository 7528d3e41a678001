//! Live connections across API nodes on one PostgreSQL database: a drop-in
//! room's members on two nodes get every message, whichever node stored
//! it, in one order, and a call's two parties on two nodes trade their
//! signals through the relay.

use droply_models::BookingStatus;
use droply_test_support::postgres::fresh_database;
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::dropin_live::live_path;
use crate::dropins::{expert, join, open};
use crate::live_client::{Ended, LiveClient, connect, runtime};
use crate::meeting_signal::{booking, signal_path};
use crate::multi_node::node_without_search;

/// The message frames `client` gets up to and including the next one of
/// type `kind` (`question`, `comment`, `system`, ...).
async fn messages_through(client: &mut LiveClient, kind: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = client.next_kind("message").await;
        let last = frame["type"] == kind;
        seen.push(frame);
        if last {
            return seen;
        }
    }
}

/// The ids of `frames`.
fn ids(frames: &[Value]) -> Vec<u64> {
    frames.iter().filter_map(|f| f["id"].as_u64()).collect()
}

/// Regression: a drop-in room lived on one node. A question stored through
/// node B reached only B's connections; the host's comment on node A, a
/// later id, reached A's, and catching up after it skipped the question for
/// good. Now every node's room gets every message from the store's feed, in
/// id order.
#[test]
fn a_question_asked_on_one_node_reaches_the_room_on_the_other() {
    let url = fresh_database();
    let (a, b) = (node_without_search(&url), node_without_search(&url));
    let (_, host) = expert(&a, "hana");
    let session = open(
        &a,
        &host,
        json!({"topic": "Across nodes", "is_anonymous": true}),
    );
    let id = session["id"].as_u64().expect("id");
    let code = session["session_code"].as_str().expect("code").to_owned();
    let token = |app: &TestApp, name: &str| {
        let joined = join(app, &code, None, Some(name));
        assert_eq!(joined.status, 200, "{}", joined.raw);
        joined.body["token"].as_str().expect("token").to_owned()
    };
    let (pia, paul) = (token(&a, "Pia"), token(&b, "Paul"));
    let (on_a, on_b) = (a.addr, b.addr);
    let rt = runtime();
    let (mut host_on_a, mut pia_on_a, mut paul_on_b) = rt.block_on(async {
        let mut host_on_a = connect(on_a, &live_path(id), Some(&host))
            .await
            .expect("the host on node A");
        host_on_a.next_kind("welcome").await;
        let mut pia_on_a = connect(on_a, &live_path(id), Some(&pia))
            .await
            .expect("P1 on node A");
        pia_on_a.next_kind("welcome").await;
        let mut paul_on_b = connect(on_b, &live_path(id), Some(&paul))
            .await
            .expect("P2 on node B");
        paul_on_b.next_kind("welcome").await;

        // P2's question is stored through node B (P2 sees it come back),
        // then the host comments through node A: a later id.
        paul_on_b
            .send(&json!({"type": "question", "content": "Does this reach node A?"}))
            .await;
        let asked = messages_through(&mut paul_on_b, "question").await;
        let question = asked.last().expect("the question").clone();
        let qid = question["id"].as_u64().expect("id");
        host_on_a
            .send(&json!({"type": "comment", "content": "Hello from node A"}))
            .await;
        for (who, client) in [("the host", &mut host_on_a), ("P1", &mut pia_on_a)] {
            let seen = messages_through(client, "comment").await;
            let order = ids(&seen);
            assert!(
                seen.iter()
                    .any(|f| f["id"] == qid && f["content"] == "Does this reach node A?"),
                "{who} on node A never got the question asked on node B: {seen:?}"
            );
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{who}: {order:?}");
            assert!(
                *order.last().expect("the comment") > qid,
                "{who}: {order:?}"
            );
        }
        let commented = messages_through(&mut paul_on_b, "comment").await;
        let comment = commented.last().expect("the comment");
        assert_eq!(comment["content"], "Hello from node A");
        assert!(comment["id"].as_u64().expect("id") > qid);
        (host_on_a, pia_on_a, paul_on_b)
    });

    // Ended through node B: the rooms on both nodes get the notice and close.
    let ended = b.authed("POST", &format!("/v1/dropins/{id}/end"), &host, None);
    assert_eq!(ended.status, 200, "{}", ended.raw);
    rt.block_on(async {
        for client in [&mut host_on_a, &mut pia_on_a, &mut paul_on_b] {
            let seen = messages_through(client, "system").await;
            let mut notice = seen.last().expect("a notice").clone();
            // Presence notices are system messages too: read on to the end.
            while notice["content"] != "ended" {
                notice = messages_through(client, "system")
                    .await
                    .last()
                    .expect("a notice")
                    .clone();
            }
            assert_eq!(client.next().await, Err(Ended::Closed(Some(1000))));
        }
    });
}

/// Waits until `client` hears its peer is there (a side on another node may
/// first hear it is not).
async fn peer_arrives(client: &mut LiveClient) {
    loop {
        let frame = client.next().await.expect("presence");
        assert_eq!(frame["type"], "peer", "{frame}");
        if frame["present"] == true {
            return;
        }
    }
}

/// Regression: a booking's relay lived on one node, so a call whose client
/// reached node A and provider node B never connected. The nodes now pass
/// presence and frames to each other, an offer longer than one NOTIFY
/// payload included.
#[test]
fn a_call_s_parties_on_two_nodes_trade_offer_answer_and_ice() {
    let url = fresh_database();
    let (a, b) = (node_without_search(&url), node_without_search(&url));
    let (client_id, client) = a.register("carl");
    let (provider_id, provider) = b.register("hana");
    let id = booking(&a, client_id, provider_id, 5, BookingStatus::Confirmed);
    let (on_a, on_b) = (a.addr, b.addr);
    runtime().block_on(async move {
        let mut carl = connect(on_a, &signal_path(id), Some(&client))
            .await
            .expect("the client on node A");
        assert_eq!(
            carl.next().await.expect("presence"),
            json!({"type": "peer", "present": false})
        );
        let mut hana = connect(on_b, &signal_path(id), Some(&provider))
            .await
            .expect("the provider on node B");
        peer_arrives(&mut hana).await;
        peer_arrives(&mut carl).await;

        // 12 KB: past NOTIFY's 8,000-byte payload, within the frame limit.
        let sdp = format!("v=0 {}", "é".repeat(6_000));
        carl.send(&json!({"type": "offer", "sdp": sdp})).await;
        assert_eq!(
            hana.next().await.expect("offer"),
            json!({"type": "offer", "sdp": sdp, "from": "client"})
        );
        hana.send(&json!({"type": "answer", "sdp": "v=0 answer"}))
            .await;
        assert_eq!(
            carl.next().await.expect("answer"),
            json!({"type": "answer", "sdp": "v=0 answer", "from": "provider"})
        );
        let candidate = json!({"candidate": "candidate:1 1 udp 2122260223 10.0.0.2 54400 typ host", "sdpMid": "0"});
        hana.send(&json!({"type": "ice", "candidate": candidate}))
            .await;
        assert_eq!(carl.next().await.expect("ice")["candidate"], candidate);
        carl.send(&json!({"type": "ice", "candidate": candidate}))
            .await;
        let ice = hana.next().await.expect("ice");
        assert_eq!(ice["from"], "client");
        assert_eq!(ice["candidate"], candidate);

        hana.close().await;
        assert_eq!(
            carl.next().await.expect("presence"),
            json!({"type": "peer", "present": false})
        );
    });
}

//! The live drop-in room over WebSocket: fifty participants exchanging
//! twenty messages each all receive every message exactly once in one
//! order, including one that reconnects mid-way; anonymous people reach the
//! host without identity; the host answers and removes; ending the session
//! closes the room. Who may connect is in `dropin_live_access.rs`, the
//! limits in `dropin_live_limits.rs`, presence and seats in
//! `dropin_presence`.

use std::collections::HashSet;
use std::time::Duration;

use droply_server::limits::{Limits, LiveLimits, Rate};
use serde_json::{Value, json};

use crate::app::{TestApp, spawn_app_limited, test_limits};
use crate::dropins::{expert, join, open};
use crate::live_client::{Ended, LiveClient, connect, runtime};

/// An app whose live limits `change` adjusted from defaults with a message
/// rate too high to matter.
pub(crate) fn live_app(change: impl FnOnce(&mut LiveLimits)) -> TestApp {
    let mut live = LiveLimits {
        message_rate: Rate {
            per_minute: 1_000_000,
            burst: 100_000,
        },
        ..LiveLimits::default()
    };
    change(&mut live);
    spawn_app_limited(
        Limits {
            live,
            ..test_limits()
        },
        |config| config,
    )
}

pub(crate) fn live_path(id: u64) -> String {
    format!("/v1/dropins/{id}/live")
}

/// Reads frames until `want` messages of type `kind` came; answers them
/// all and their ids, and everything read (for leak checks).
pub(crate) async fn read_messages(
    client: &mut LiveClient,
    kind: &str,
    want: usize,
    seen: &mut Vec<Value>,
) -> Vec<u64> {
    let mut ids = Vec::new();
    while ids.len() < want {
        let frame = client
            .next()
            .await
            .unwrap_or_else(|end| panic!("ended early: {end:?} after {}", ids.len()));
        if frame["kind"] == "message" && frame["type"] == kind {
            ids.push(frame["id"].as_u64().expect("id"));
        }
        seen.push(frame);
    }
    ids
}

/// An anonymous drop-in on `topic` opened by a new expert, and the tokens
/// of guests who joined it as `names`: (host token, session id, tokens).
pub(crate) fn anonymous_room(
    app: &TestApp,
    topic: &str,
    names: &[&str],
) -> (String, u64, Vec<String>) {
    let (_, host) = expert(app, "hana");
    let session = open(app, &host, json!({"topic": topic, "is_anonymous": true}));
    let id = session["id"].as_u64().expect("id");
    let code = session["session_code"].as_str().expect("code");
    let tokens = names
        .iter()
        .map(|name| {
            join(app, code, None, Some(name)).body["token"]
                .as_str()
                .expect("token")
                .to_owned()
        })
        .collect();
    (host, id, tokens)
}

#[test]
fn fifty_participants_get_every_message_once_in_one_order() {
    const PEOPLE: usize = 50;
    const EACH: usize = 20;
    let app = live_app(|live| live.send_buffer = 4096);
    let (_, host) = expert(&app, "hana");
    let session = open(
        &app,
        &host,
        json!({"topic": "Big room", "max_participants": PEOPLE, "is_anonymous": true}),
    );
    let id = session["id"].as_u64().expect("id");
    let code = session["session_code"].as_str().expect("code").to_owned();
    let (carl_id, carl) = app.register("carl");
    let mut tokens = vec![
        join(&app, &code, Some(&carl), None).body["token"]
            .as_str()
            .expect("token")
            .to_owned(),
    ];
    for i in 1..PEOPLE {
        let joined = join(&app, &code, None, Some(&format!("Guest number {i}")));
        assert_eq!(joined.status, 200, "{}", joined.raw);
        tokens.push(joined.body["token"].as_str().expect("token").to_owned());
    }
    let over = join(&app, &code, None, Some("One too many"));
    assert_eq!(
        (over.status, crate::app::error_code(&over).as_str()),
        (409, "dropin_full")
    );

    let addr = app.addr;
    let total = PEOPLE * EACH;
    let (host_ids, host_frames, orders) = runtime().block_on(async move {
        let mut host_client = connect(addr, &live_path(id), Some(&host))
            .await
            .expect("host");
        host_client.next_kind("welcome").await;
        let mut clients = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            // Half send the token as a header, half as browsers do.
            let client = if i % 2 == 0 {
                connect(addr, &live_path(id), Some(token)).await
            } else {
                connect(addr, &format!("{}?token={token}", live_path(id)), None).await
            }
            .expect("participant");
            clients.push(client);
        }
        for client in &mut clients {
            client.next_kind("welcome").await;
        }
        let mut tasks = Vec::new();
        for (i, mut client) in clients.into_iter().enumerate() {
            let token = tokens[i].clone();
            tasks.push(tokio::spawn(async move {
                for j in 0..EACH {
                    client
                        .send(&json!({"type": "comment", "content": format!("from {i}: {j}")}))
                        .await;
                }
                let mut seen = Vec::new();
                if i != 0 {
                    return read_messages(&mut client, "comment", total, &mut seen).await;
                }
                // Participant 0 drops mid-way and comes back with the last id it saw.
                let mut ids = read_messages(&mut client, "comment", total / 3, &mut seen).await;
                let last = seen
                    .iter()
                    .filter_map(|f| f["id"].as_u64())
                    .max()
                    .expect("an id");
                client.close().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                let mut back = connect(
                    addr,
                    &format!("{}?token={token}&after={last}", live_path(id)),
                    None,
                )
                .await
                .expect("reconnect");
                ids.extend(read_messages(&mut back, "comment", total - ids.len(), &mut seen).await);
                ids
            }));
        }
        let mut host_frames = Vec::new();
        let host_ids = read_messages(&mut host_client, "comment", total, &mut host_frames).await;
        let mut orders = Vec::new();
        for task in tasks {
            orders.push(task.await.expect("participant task"));
        }
        (host_ids, host_frames, orders)
    });

    assert_eq!(host_ids.len(), total);
    assert_eq!(
        host_ids.iter().collect::<HashSet<_>>().len(),
        total,
        "no duplicates"
    );
    assert!(host_ids.windows(2).all(|w| w[0] < w[1]), "id order");
    for (i, order) in orders.iter().enumerate() {
        assert_eq!(order, &host_ids, "participant {i} saw another order");
    }
    // Nothing the host saw identifies anyone: no user id, username or email.
    for frame in &host_frames {
        let text = frame.to_string();
        assert!(frame["author"].get("user_id").is_none(), "{text}");
        assert!(
            !text.contains("carl") && !text.contains("example.com"),
            "{text}"
        );
        assert!(!text.contains(&format!("\"user_id\":{carl_id}")), "{text}");
    }
    // Every message delivered was stored first.
    let mut stored = Vec::new();
    loop {
        let after = stored
            .last()
            .map_or(0, |p: &droply_engine::dropins::Posted| p.message.id.get());
        let page = app
            .engine
            .dropin_messages_after(
                droply_models::DropinSessionId::new(id),
                droply_models::DropinMessageId::new(after),
                1000,
            )
            .expect("messages");
        if page.is_empty() {
            break;
        }
        stored.extend(page);
    }
    let comments: Vec<u64> = stored
        .iter()
        .filter(|p| p.message.message_type == droply_models::DropinMessageType::Comment)
        .map(|p| p.message.id.get())
        .collect();
    assert_eq!(comments, host_ids);
}

#[test]
fn the_host_answers_and_removes_and_a_named_room_shows_who_wrote() {
    let app = live_app(|_| {});
    let (_, host) = expert(&app, "hana");
    let session = open(&app, &host, json!({"topic": "Named room"}));
    let id = session["id"].as_u64().expect("id");
    let code = session["session_code"].as_str().expect("code").to_owned();
    let (carl_id, carl) = app.register("carl");
    let token = join(&app, &code, Some(&carl), None).body["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let addr = app.addr;
    runtime().block_on(async move {
        let mut host_client = connect(addr, &live_path(id), Some(&host))
            .await
            .expect("host");
        let welcome = host_client.next_kind("welcome").await;
        assert_eq!(welcome["you"]["role"], "host");
        let mut carl_client = connect(addr, &live_path(id), Some(&token))
            .await
            .expect("carl");
        carl_client.next_kind("welcome").await;

        carl_client
            .send(&json!({"type": "question", "content": "How do I file late?"}))
            .await;
        let question = loop {
            let frame = host_client.next_kind("message").await;
            if frame["type"] == "question" {
                break frame;
            }
        };
        assert_eq!(
            question["author"]["user_id"], carl_id,
            "a named room shows signed-in people"
        );
        assert_eq!(question["author"]["display_name"], "carl Person");
        let qid = question["id"].as_u64().expect("id");

        carl_client
            .send(&json!({"type": "answer", "content": "I answer myself", "reply_to": qid}))
            .await;
        let refused = carl_client.next_kind("error").await;
        assert_eq!(refused["code"], "forbidden");
        carl_client
            .send(&json!({"type": "system", "content": "fake"}))
            .await;
        assert_eq!(
            carl_client.next_kind("error").await["code"],
            "invalid_input"
        );
        carl_client
            .send(&json!({"type": "comment", "content": ""}))
            .await;
        assert_eq!(
            carl_client.next_kind("error").await["code"],
            "invalid_input"
        );
        carl_client
            .send(&json!({"type": "comment", "content": "x".repeat(4001)}))
            .await;
        assert_eq!(
            carl_client.next_kind("error").await["code"],
            "invalid_input"
        );
        carl_client.send_text("not json".to_owned()).await;
        assert_eq!(
            carl_client.next_kind("error").await["code"],
            "invalid_input"
        );

        host_client
            .send(&json!({"type": "answer", "content": "Within 30 days.", "reply_to": qid}))
            .await;
        host_client
            .send(&json!({"type": "remove", "message_id": qid}))
            .await;
        let mut answer = None;
        let mut removal = None;
        while answer.is_none() || removal.is_none() {
            let frame = carl_client.next_kind("message").await;
            match frame["type"].as_str() {
                Some("answer") => answer = Some(frame),
                Some("system") if frame["content"] == "removed" => removal = Some(frame),
                _ => {}
            }
        }
        let answer = answer.expect("answer");
        assert_eq!(
            (
                answer["reply_to"].as_u64(),
                answer["author"]["role"].as_str()
            ),
            (Some(qid), Some("host"))
        );
        assert_eq!(removal.expect("removal")["reply_to"].as_u64(), Some(qid));

        // A late reader sees the question removed, its text gone.
        let mut late = connect(addr, &live_path(id), Some(&token))
            .await
            .expect("late");
        loop {
            let frame = late.next_kind("message").await;
            if frame["id"].as_u64() == Some(qid) {
                assert_eq!(
                    (frame["removed"].as_bool(), frame["content"].as_str()),
                    (Some(true), Some(""))
                );
                break;
            }
        }
    });
}

#[test]
fn ending_the_dropin_closes_the_room_after_the_notice() {
    let app = live_app(|_| {});
    let (host, id, tokens) = anonymous_room(&app, "Ending", &["Guest"]);
    let token = tokens[0].clone();
    let addr = app.addr;
    let rt = runtime();
    let mut guest = rt.block_on(async {
        connect(addr, &live_path(id), Some(&token))
            .await
            .expect("guest")
    });
    rt.block_on(async { guest.next_kind("welcome").await });
    let ended = app.authed("POST", &format!("/v1/dropins/{id}/end"), &host, None);
    assert_eq!(ended.status, 200);
    rt.block_on(async move {
        let notice = loop {
            let frame = guest.next_kind("message").await;
            if frame["type"] == "system" && frame["content"] == "ended" {
                break frame;
            }
        };
        assert_eq!(notice["author"]["role"], "host");
        assert_eq!(guest.next().await, Err(Ended::Closed(Some(1000))));
    });
}

//! The live drop-in room over WebSocket: fifty participants exchanging
//! twenty messages each all receive every message exactly once in one
//! order, including one that reconnects mid-way; anonymous people reach the
//! host without identity; the host answers and removes; the limits hold
//! (message rate, frame size, idle timeout, slow clients dropped without
//! stalling the room); refusals come before the upgrade; ending the session
//! closes the room. A URL carries a participant token or a socket ticket,
//! never a sign-in token. Presence and seats are in `dropin_presence`.

use std::collections::HashSet;
use std::time::Duration;

use droply_server::limits::{Limits, LiveLimits, Rate};
use serde_json::{Value, json};

use crate::app::{TestApp, error_code, spawn_app_limited, test_limits};
use crate::dropins::{expert, join, open};
use crate::live_client::{Ended, LiveClient, connect, connect_small_buffer, runtime};
use crate::socket_tickets::{
    assert_signing_out_ends_the_ticket, assert_unauthorized, assert_url_token_refused,
    socket_ticket, tampered,
};

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

/// Reads frames until `want` messages of type `kind` came; answers them
/// all and their ids, and everything read (for leak checks).
async fn read_messages(
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

//! Who is in a live drop-in room: each connection's `joined` and `left`
//! notices, bounded by the member's message rate and never written after the
//! end; the seats, held while their participants are connected and taken
//! back from those who never came; a member's few connections (a newer one
//! replacing the oldest); and a session that ends by itself closing them.

use std::time::Duration;

use droply_engine::dropins::Presence;
use droply_server::limits::Rate;
use serde_json::json;

use crate::app::error_code;
use crate::dropin_live::{anonymous_room, live_app, live_path};
use crate::dropins::{expert, join, open};
use crate::live_client::{Ended, connect, runtime};

/// Regression: every connection stored a "joined" and a "left" notice, outside the
/// message rate, so a client reconnecting in a loop grew the room's history without
/// bound. A notice now counts against its participant's message rate; past it the
/// connection is served without one.
#[test]
fn reconnecting_in_a_loop_stores_presence_only_within_the_message_rate() {
    let app = live_app(|live| {
        live.message_rate = Rate {
            per_minute: 1,
            burst: 3,
        };
    });
    let (_, id, tokens) = anonymous_room(&app, "Flapping", &["Flapper"]);
    let addr = app.addr;
    let token = tokens[0].clone();
    runtime().block_on(async move {
        for _ in 0..10 {
            let mut client = connect(addr, &live_path(id), Some(&token))
                .await
                .expect("connect");
            client.next_kind("welcome").await;
            client.close().await;
        }
    });
    let session = droply_models::DropinSessionId::new(id);
    let stored = || -> Vec<String> {
        app.store
            .dropin_messages()
            .after(session, droply_models::DropinMessageId::new(0), 1_000)
            .expect("messages")
            .items
            .into_iter()
            .filter(|m| m.message_type == droply_models::DropinMessageType::System)
            .map(|m| m.content)
            .collect()
    };
    // Notices are stored as their connections open and close, not before the client
    // moves on: wait until the burst's three hellos each have a goodbye (or ten
    // seconds), then a little more for any stray notice.
    let started = std::time::Instant::now();
    loop {
        let notices = stored();
        let hellos = notices.iter().filter(|n| *n == "joined").count();
        let settled = hellos >= 3 && notices.len() >= 2 * hellos;
        if settled || started.elapsed() > Duration::from_secs(10) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut notices = stored();
    // A goodbye may be stored after the next connection's hello.
    notices.sort();
    assert_eq!(
        notices,
        ["joined", "joined", "joined", "left", "left", "left"],
        "three connections announced, as the burst allows, each also when it left"
    );
}

/// Regression: seats were counted by lifetime joins and never given back before the
/// end, so guests who joined and never came (or one client joining again and again)
/// kept a room full. A seat is held while its participant is connected, and for a
/// short grace after joining or leaving; a full room takes back the lapsed ones.
#[test]
fn seats_go_to_those_present_and_lapse_for_those_who_never_came() {
    use droply_engine::dropins::DropinSeat;
    use droply_models::{DropinParticipantId, DropinSessionId, Timestamp};

    let app = live_app(|_| {});
    let (_, host) = expert(&app, "hana");
    let session = open(
        &app,
        &host,
        json!({"topic": "Two seats", "is_anonymous": true, "max_participants": 2}),
    );
    let id = session["id"].as_u64().expect("id");
    let code = session["session_code"].as_str().expect("code").to_owned();
    let guest = |name: &str| {
        let joined = join(&app, &code, None, Some(name));
        assert_eq!(joined.status, 200, "{}", joined.raw);
        let participant = joined.body["participant"]["participant_id"]
            .as_u64()
            .expect("participant");
        let token = joined.body["token"].as_str().expect("token").to_owned();
        (DropinParticipantId::new(participant), token)
    };
    let refused = |name: &str| {
        let full = join(&app, &code, None, Some(name));
        assert_eq!(
            (full.status, error_code(&full).as_str()),
            (409, "dropin_full"),
            "{}",
            full.raw
        );
    };
    let held_until = |participant: DropinParticipantId| {
        app.store
            .require::<DropinSeat>(participant)
            .expect("a seat")
            .held_until
    };
    let (ghost, ghost_token) = guest("Ghost");
    let (present, present_token) = guest("Present");
    refused("Early");
    // Both joined long enough ago that their grace to connect is over.
    let lapsed = Timestamp::now().plus_minutes(-1);
    app.store
        .write(|txn| {
            for participant in [ghost, present] {
                let mut seat: DropinSeat = txn.require(participant)?;
                seat.held_until = lapsed;
                txn.put(seat)?;
            }
            Ok(())
        })
        .expect("backdated");

    // "Present" connects, which renews their seat; the ghost never does.
    let rt = runtime();
    let addr = app.addr;
    let client = rt.block_on(async move {
        let mut client = connect(addr, &live_path(id), Some(&present_token))
            .await
            .expect("connect");
        client.next_kind("welcome").await;
        client
    });
    let started = std::time::Instant::now();
    while held_until(present) <= Timestamp::now() {
        assert!(started.elapsed() < Duration::from_secs(10), "never renewed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, _) = guest("Newcomer");
    let row = app
        .store
        .dropin_sessions()
        .get(DropinSessionId::new(id))
        .expect("session");
    assert_eq!(
        row.current_participants, 2,
        "the ghost's seat went to the newcomer"
    );
    let gone = app
        .engine
        .dropin_member(DropinSessionId::new(id), &ghost_token);
    assert!(
        matches!(gone, Err(droply_engine::Error::Unauthorized)),
        "the ghost's pass opens nothing: {gone:?}"
    );
    refused("Late");
    rt.block_on(client.close());
    // The integrity check reads the store a table at a time: let the connection's
    // goodbye be stored first.
    let started = std::time::Instant::now();
    while !app
        .store
        .dropin_messages()
        .after(
            DropinSessionId::new(id),
            droply_models::DropinMessageId::new(0),
            100,
        )
        .expect("messages")
        .items
        .iter()
        .any(|m| m.content == "left")
    {
        assert!(started.elapsed() < Duration::from_secs(10), "no goodbye");
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = app.store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

#[test]
fn nothing_is_noted_of_a_member_after_the_end() {
    let app = live_app(|_| {});
    let (host, id, tokens) = anonymous_room(&app, "Late", &["Guest"]);
    let session = droply_models::DropinSessionId::new(id);
    let member = app
        .engine
        .dropin_member(session, &tokens[0])
        .expect("a member");
    let ended = app.authed("POST", &format!("/v1/dropins/{id}/end"), &host, None);
    assert_eq!(ended.status, 200, "{}", ended.raw);
    // A socket that was let in just before the end notes nothing after it.
    for presence in [Presence::Joined, Presence::Left] {
        let err = app
            .engine
            .dropin_presence(&member, presence)
            .expect_err("the drop-in has ended");
        assert!(
            matches!(err, droply_engine::Error::InvalidState(_)),
            "{err}"
        );
    }
}

/// Regression: a drop-in the overdue sweep ended stored its end notice but
/// told no room: its connected guests stayed in a dead room for as long as
/// they stayed connected.
#[test]
fn a_dropin_that_ends_by_itself_closes_its_room() {
    use droply_engine::dropins::{OVERTIME_MINUTES, end_overdue_dropins};
    use droply_models::{DropinSessionId, Timestamp};

    let app = live_app(|live| live.seat_renew_every = Duration::from_millis(200));
    let (_, id, tokens) = anonymous_room(&app, "Forgotten", &["Guest"]);
    let token = tokens[0].clone();
    let addr = app.addr;
    let rt = runtime();
    let mut guest = rt.block_on(async {
        connect(addr, &live_path(id), Some(&token))
            .await
            .expect("guest")
    });
    rt.block_on(async { guest.next_kind("welcome").await });
    app.store
        .dropin_sessions()
        .modify(DropinSessionId::new(id), |row| {
            let long_ago = Timestamp::now()
                .plus_minutes(-(i64::from(row.duration_minutes) + OVERTIME_MINUTES + 5));
            row.created_at = long_ago;
            row.started_at = Some(long_ago);
            Ok(())
        })
        .expect("back in time");
    assert_eq!(
        end_overdue_dropins(&app.store, Timestamp::now()).expect("sweep"),
        1
    );
    rt.block_on(async move {
        let notice = loop {
            let frame = guest
                .next_within(Duration::from_secs(10))
                .await
                .expect("the end notice");
            if frame["type"] == "system" && frame["content"] == "ended" {
                break frame;
            }
        };
        assert_eq!(notice["type"], "system");
        assert_eq!(guest.next().await, Err(Ended::Closed(Some(1000))));
    });
}

/// Regression: one member's pass opened any number of connections, so a
/// guest who joined once could take every live connection the server
/// shares and leave every other room answering 503. A member now holds a
/// few; a newer one replaces their oldest (so a reconnect is never locked
/// out by a connection the server has not yet seen gone).
#[test]
fn a_members_newest_connection_replaces_their_oldest_past_a_few() {
    let app = live_app(|live| live.max_connections = 10);
    let (_, id, tokens) = anonymous_room(&app, "Flood", &["Mallory", "Alice"]);
    let (mallory, alice) = (tokens[0].clone(), tokens[1].clone());
    let addr = app.addr;
    runtime().block_on(async move {
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut client = connect(addr, &live_path(id), Some(&mallory))
                .await
                .expect("one of a few tabs");
            client.next_kind("welcome").await;
            held.push(client);
        }
        for _ in 0..5 {
            let mut newer = connect(addr, &live_path(id), Some(&mallory))
                .await
                .expect("a newer tab");
            newer.next_kind("welcome").await;
            let mut oldest = held.remove(0);
            let ended = loop {
                match oldest.next_within(Duration::from_secs(10)).await {
                    Ok(_) => continue,
                    Err(ended) => break ended,
                }
            };
            assert_eq!(ended, Ended::Closed(Some(4000)));
            held.push(newer);
        }
        let mut other = connect(addr, &live_path(id), Some(&alice))
            .await
            .expect("another member still gets in");
        other.next_kind("welcome").await;
    });
}

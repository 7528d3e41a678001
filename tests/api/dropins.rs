//! Drop-ins over HTTP: an expert opens one and gets a code, anyone reads
//! it and the expert's live and upcoming ones, people join with the code
//! (signed in, or anonymously where allowed), a full session refuses the
//! next one with `dropin_full`, a wrong code is 404, joins are rate limited
//! per address, and ending records when it ended and how long it ran.

use std::net::{IpAddr, Ipv4Addr};

use droply_server::limits::Rate;
use serde_json::{Value, json};

use crate::app::{TestApp, error_code, spawn_app, spawn_app_limited, test_limits};

/// Signs up `name` as an expert; returns (id, token).
pub fn expert(app: &TestApp, name: &str) -> (u64, String) {
    let (id, token) = app.register(name);
    app.make_expert(id, "Europe/Berlin");
    (id, token)
}

/// Opens a drop-in for `token` with `body`; returns it.
pub fn open(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.authed("POST", "/v1/dropins", token, Some(&body.to_string()));
    assert_eq!(response.status, 201, "{}", response.raw);
    response.body
}

/// Joins with `code` (signed in with `token` when given) as `name`.
pub fn join(
    app: &TestApp,
    code: &str,
    token: Option<&str>,
    name: Option<&str>,
) -> crate::app::Response {
    let body = match name {
        Some(name) => json!({"code": code, "display_name": name}),
        None => json!({"code": code}),
    };
    app.send(
        "POST",
        "/v1/dropins/join",
        Some(&body.to_string()),
        token,
        &[],
    )
}

#[test]
fn an_expert_opens_a_dropin_with_a_code_and_anyone_reads_it() {
    let app = spawn_app();
    let (host, token) = expert(&app, "hana");
    let session = open(
        &app,
        &token,
        json!({"topic": "Ask me about VAT", "max_participants": 5}),
    );
    let code = session["session_code"].as_str().expect("code");
    assert_eq!(code.len(), 8);
    assert!(
        code.bytes()
            .all(|b| droply_engine::codes::CODE_ALPHABET.contains(&b)),
        "{code}"
    );
    assert_eq!(session["state"], "live");
    assert_eq!(session["host_id"], host);
    assert_eq!(session["max_participants"], 5);

    let id = session["id"].as_u64().expect("id");
    let read = app.get(&format!("/v1/dropins/{id}"));
    assert_eq!(read.status, 200);
    assert_eq!(read.body["topic"], "Ask me about VAT");

    let later = (droply_models::Timestamp::now().plus_days(2)).to_string();
    let upcoming = open(
        &app,
        &token,
        json!({"topic": "Office hours", "starts_at": later, "duration_minutes": 45}),
    );
    assert_eq!(upcoming["state"], "upcoming");
    let listed = app.get(&format!("/v1/experts/{host}/dropins"));
    assert_eq!(listed.status, 200);
    let topics: Vec<&str> = listed.body["dropins"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["topic"].as_str().expect("topic"))
        .collect();
    assert_eq!(
        topics,
        ["Ask me about VAT", "Office hours"],
        "soonest first"
    );
}

#[test]
fn only_experts_host_and_bad_input_is_refused() {
    let app = spawn_app();
    let (_, client) = app.register("carl");
    let response = app.authed("POST", "/v1/dropins", &client, Some(r#"{"topic":"Hi"}"#));
    assert_eq!(
        (response.status, error_code(&response).as_str()),
        (403, "forbidden")
    );
    assert_eq!(
        app.request("POST", "/v1/dropins", Some(r#"{"topic":"Hi"}"#))
            .status,
        401
    );

    let (_, token) = expert(&app, "hana");
    let past = droply_models::Timestamp::now().plus_days(-1).to_string();
    for body in [
        json!({"topic": ""}),
        json!({"topic": "x", "max_participants": 0}),
        json!({"topic": "x", "max_participants": 501}),
        json!({"topic": "x", "duration_minutes": 2}),
        json!({"topic": "x", "starts_at": past}),
        json!({"topic": "x", "surprise": true}),
    ] {
        let response = app.authed("POST", "/v1/dropins", &token, Some(&body.to_string()));
        assert_eq!(response.status, 400, "{body}: {}", response.raw);
    }
    assert_eq!(app.get("/v1/dropins/abc").status, 400);
    assert_eq!(app.get("/v1/dropins/999999").status, 404);
}

#[test]
fn joining_needs_the_right_code_a_seat_and_sign_in_where_asked() {
    let app = spawn_app();
    let (_, host) = expert(&app, "hana");
    let named = open(
        &app,
        &host,
        json!({"topic": "Named", "max_participants": 2}),
    );
    let code = named["session_code"].as_str().expect("code").to_owned();

    let wrong = join(&app, "ZZZZZZZZ", None, None);
    assert_eq!(
        (wrong.status, error_code(&wrong).as_str()),
        (404, "not_found")
    );
    let anonymous = join(&app, &code, None, Some("Fox"));
    assert_eq!(
        (anonymous.status, error_code(&anonymous).as_str()),
        (401, "unauthorized")
    );
    let own = join(&app, &code, Some(&host), None);
    assert_eq!(
        (own.status, error_code(&own).as_str()),
        (409, "invalid_state")
    );

    let (carl_id, carl) = app.register("carl");
    let joined = join(&app, &code.to_lowercase(), Some(&carl), None);
    assert_eq!(joined.status, 200, "{}", joined.raw);
    assert_eq!(joined.body["participant"]["user_id"], carl_id);
    assert_eq!(joined.body["participant"]["display_name"], "carl Person");
    assert_eq!(joined.body["token"].as_str().expect("token").len(), 64);
    // Joining again keeps the seat.
    let again = join(&app, &code, Some(&carl), None);
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["participant"]["participant_id"],
        joined.body["participant"]["participant_id"]
    );
    assert_eq!(again.body["dropin"]["current_participants"], 1);

    let (_, dora) = app.register("dora");
    assert_eq!(join(&app, &code, Some(&dora), None).status, 200);
    let (_, erin) = app.register("erin");
    let full = join(&app, &code, Some(&erin), None);
    assert_eq!(
        (full.status, error_code(&full).as_str()),
        (409, "dropin_full")
    );
    app.assert_no_leaks();
}

#[test]
fn an_anonymous_dropin_takes_guests_and_shows_nobody_s_identity() {
    let app = spawn_app();
    let (_, host) = expert(&app, "hana");
    let session = open(
        &app,
        &host,
        json!({"topic": "Anonymous", "is_anonymous": true}),
    );
    let code = session["session_code"].as_str().expect("code");
    let guest = join(&app, code, None, Some("Curious Fox"));
    assert_eq!(guest.status, 200, "{}", guest.raw);
    assert_eq!(guest.body["participant"]["display_name"], "Curious Fox");
    assert!(guest.body["participant"].get("user_id").is_none());
    let unnamed = join(&app, code, None, None);
    assert!(
        unnamed.body["participant"]["display_name"]
            .as_str()
            .expect("name")
            .starts_with("Guest ")
    );
    let (_, carl) = app.register("carl");
    let signed_in = join(&app, code, Some(&carl), None);
    assert_eq!(signed_in.status, 200);
    assert!(
        signed_in.body["participant"].get("user_id").is_none(),
        "{}",
        signed_in.raw
    );
    assert!(!signed_in.raw.contains("carl"), "{}", signed_in.raw);
    let long = join(&app, code, None, Some(&"x".repeat(51)));
    assert_eq!(long.status, 400);
}

#[test]
fn ending_a_dropin_records_its_end_and_closes_joining() {
    let app = spawn_app();
    let (host_id, host) = expert(&app, "hana");
    let session = open(&app, &host, json!({"topic": "Short one"}));
    let id = session["id"].as_u64().expect("id");
    let code = session["session_code"].as_str().expect("code");
    let (_, carl) = app.register("carl");
    assert_eq!(join(&app, code, Some(&carl), None).status, 200);

    let stranger = app.authed("POST", &format!("/v1/dropins/{id}/end"), &carl, None);
    assert_eq!(stranger.status, 403);
    let ended = app.authed("POST", &format!("/v1/dropins/{id}/end"), &host, None);
    assert_eq!(ended.status, 200, "{}", ended.raw);
    assert_eq!(ended.body["state"], "ended");
    assert_eq!(ended.body["current_participants"], 0);
    assert_eq!(ended.body["duration_minutes"], 1, "ran under a minute");
    assert!(ended.body["ended_at"].is_string());
    let twice = app.authed("POST", &format!("/v1/dropins/{id}/end"), &host, None);
    assert_eq!(
        (twice.status, error_code(&twice).as_str()),
        (409, "invalid_state")
    );
    let late = join(&app, code, Some(&carl), None);
    assert_eq!(
        (late.status, error_code(&late).as_str()),
        (409, "invalid_state")
    );
    let participants = app
        .store
        .dropin_participants()
        .by_session(droply_models::DropinSessionId::new(id), &Default::default())
        .expect("participants")
        .items;
    assert_eq!(participants.len(), 2, "the host and carl");
    assert!(
        participants
            .iter()
            .all(|p| !p.is_active && p.left_at.is_some())
    );
    let listed = app.get(&format!("/v1/experts/{host_id}/dropins"));
    assert_eq!(listed.body["dropins"], json!([]));
}

/// Regression: a drop-in its host forgot to end stayed live for good, taking joins
/// and messages, holding one of the host's open places and the search's list.
#[test]
fn a_forgotten_dropin_ends_by_itself_an_hour_past_its_length() {
    use droply_engine::dropins::{OVERTIME_MINUTES, end_overdue_dropins};
    use droply_models::{DropinSession, DropinSessionId, Timestamp};

    let app = spawn_app();
    let (host_id, host) = expert(&app, "hana");
    let session = open(
        &app,
        &host,
        json!({"topic": "Forgotten", "duration_minutes": 30}),
    );
    let id = DropinSessionId::new(session["id"].as_u64().expect("id"));
    let code = session["session_code"].as_str().expect("code").to_owned();
    let (_, carl) = app.register("carl");
    assert_eq!(join(&app, &code, Some(&carl), None).status, 200);
    // Still within its length and the overtime: nothing ends.
    assert_eq!(
        end_overdue_dropins(&app.store, Timestamp::now()).expect("sweep"),
        0
    );
    // Opened long enough ago that its length and the overtime are over.
    app.store
        .dropin_sessions()
        .modify(id, |row| {
            let long_ago = Timestamp::now().plus_minutes(-(30 + OVERTIME_MINUTES + 5));
            row.created_at = long_ago;
            row.started_at = Some(long_ago);
            Ok(())
        })
        .expect("back in time");
    let shown = app.get(&format!("/v1/dropins/{}", id.get()));
    assert_eq!(shown.body["state"], "ended", "{}", shown.raw);
    let late = join(&app, &code, Some(&carl), None);
    assert_eq!(
        (late.status, error_code(&late).as_str()),
        (409, "invalid_state")
    );
    assert_eq!(
        end_overdue_dropins(&app.store, Timestamp::now()).expect("sweep"),
        1
    );
    assert_eq!(
        end_overdue_dropins(&app.store, Timestamp::now()).expect("again"),
        0
    );
    let row: DropinSession = app.store.require(id).expect("row");
    assert!(!row.is_active && row.ended_at.is_some(), "{row:?}");
    assert_eq!(row.duration_minutes, 30 + OVERTIME_MINUTES as u32);
    let listed = app.get(&format!("/v1/experts/{host_id}/dropins"));
    assert_eq!(listed.body["dropins"], json!([]));
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

/// Regression: the host's open drop-ins were looked for among their 1,000 oldest
/// sessions only, so a host with a long history had a live one missing from their
/// profile and the API.
#[test]
fn a_hosts_open_dropin_is_listed_however_many_they_ran_before() {
    use droply_models::{DropinSession, DropinSessionId, SessionCode, Timestamp, UserId};

    let app = spawn_app();
    let (host_id, host) = expert(&app, "hana");
    let long_ago = Timestamp::now().plus_days(-30);
    app.store
        .write(|txn| {
            for n in 0..1_050_u32 {
                let at = long_ago.plus_minutes(i64::from(n));
                txn.create(DropinSession {
                    id: DropinSessionId::new(0),
                    host_id: UserId::new(host_id),
                    topic: format!("Past session {n}"),
                    description: String::new(),
                    max_participants: 10,
                    current_participants: 0,
                    is_active: false,
                    is_anonymous: false,
                    session_code: SessionCode::parse(&format!("PAST{n:04}")).expect("code"),
                    created_at: at,
                    started_at: Some(at),
                    ended_at: Some(at.plus_minutes(1)),
                    duration_minutes: 1,
                })?;
            }
            Ok(())
        })
        .expect("a long history");
    let live = open(&app, &host, json!({"topic": "Today's one"}));
    let listed = app.get(&format!("/v1/experts/{host_id}/dropins"));
    assert_eq!(listed.status, 200, "{}", listed.raw);
    let ids: Vec<&Value> = listed.body["dropins"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(ids, [&live["id"]], "{}", listed.raw);
}

#[test]
fn joins_are_rate_limited_per_client_address() {
    let limits = droply_server::limits::Limits {
        join_rate: Rate::new(3, 3),
        ..test_limits()
    };
    let app = spawn_app_limited(limits, |config| config);
    let (_, host) = expert(&app, "hana");
    let session = open(
        &app,
        &host,
        json!({"topic": "Guessable?", "is_anonymous": true}),
    );
    let code = session["session_code"].as_str().expect("code");
    let guess = |from: u8, code: &str| {
        let body = json!({"code": code}).to_string();
        app.send_from(
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, from))),
            "POST",
            "/v1/dropins/join",
            Some(&body),
            None,
            &[],
        )
    };
    let statuses: Vec<u16> = (0..5).map(|_| guess(7, "WRONGCODE").status).collect();
    assert_eq!(statuses, [404, 404, 404, 429, 429]);
    // Another address still joins.
    assert_eq!(guess(8, code).status, 200);
}

/// Regression: an expert who cleared their profession kept hosting: their
/// drop-ins stayed listed and joinable, and a scheduled one would have gone
/// live. Clearing it ends every open one in the same write, as the host's own
/// end does: participants out, the room's `ended` notice stored, the scheduled
/// one cancelled.
#[test]
fn clearing_the_profession_ends_the_hosts_live_and_scheduled_dropins() {
    use droply_engine::dropins::{DropinState, end_overdue_dropins, state_of};
    use droply_models::{
        DropinMessageId, DropinMessageType, DropinSession, DropinSessionId, Timestamp,
    };

    let app = spawn_app();
    let (host_id, host) = expert(&app, "hana");
    let live = open(&app, &host, json!({"topic": "Ask me about VAT"}));
    let later = Timestamp::now().plus_days(2);
    let scheduled = open(
        &app,
        &host,
        json!({"topic": "Office hours", "starts_at": later.to_string(), "duration_minutes": 45}),
    );
    assert_eq!(scheduled["state"], "upcoming");
    let live_code = live["session_code"].as_str().expect("code").to_owned();
    let (_, carl) = app.register("carl");
    assert_eq!(join(&app, &live_code, Some(&carl), None).status, 200);

    // Another change leaves an expert's drop-ins alone.
    let renamed = app.authed(
        "PATCH",
        "/v1/users/me",
        &host,
        Some(r#"{"bio": "Still here"}"#),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.raw);
    let listed = app.get(&format!("/v1/experts/{host_id}/dropins"));
    assert_eq!(listed.body["dropins"].as_array().map(Vec::len), Some(2));

    let cleared = app.authed(
        "PATCH",
        "/v1/users/me",
        &host,
        Some(r#"{"profession": ""}"#),
    );
    assert_eq!(cleared.status, 200, "{}", cleared.raw);

    // The public list answers as the expert does: no such expert.
    let listed = app.get(&format!("/v1/experts/{host_id}/dropins"));
    assert_eq!(
        (listed.status, error_code(&listed).as_str()),
        (404, "not_found"),
        "{}",
        listed.raw
    );
    assert_eq!(app.get(&format!("/v1/experts/{host_id}")).status, 404);
    // Neither code lets anyone in.
    let (_, dora) = app.register("dora");
    for session in [&live, &scheduled] {
        let code = session["session_code"].as_str().expect("code");
        let refused = join(&app, code, Some(&dora), None);
        assert_eq!(
            (refused.status, error_code(&refused).as_str()),
            (409, "invalid_state"),
            "{}",
            refused.raw
        );
    }
    // Both ended as the host's end ends them.
    for session in [&live, &scheduled] {
        let id = session["id"].as_u64().expect("id");
        let shown = app.get(&format!("/v1/dropins/{id}"));
        assert_eq!(shown.body["state"], "ended", "{}", shown.raw);
        assert_eq!(shown.body["current_participants"], 0, "{}", shown.raw);
        let participants = app
            .store
            .dropin_participants()
            .by_session(DropinSessionId::new(id), &Default::default())
            .expect("participants")
            .items;
        assert!(
            participants
                .iter()
                .all(|p| !p.is_active && p.left_at.is_some()),
            "{participants:?}"
        );
        let messages = app
            .engine
            .dropin_messages_after(DropinSessionId::new(id), DropinMessageId::new(0), 100)
            .expect("messages");
        let last = &messages.last().expect("the end notice").message;
        assert_eq!(
            (last.message_type, last.content.as_str()),
            (DropinMessageType::System, "ended")
        );
    }
    let live_row: DropinSession = app
        .store
        .require(DropinSessionId::new(live["id"].as_u64().expect("id")))
        .expect("row");
    assert!(
        live_row.started_at.is_some() && live_row.duration_minutes >= 1,
        "the live one keeps its start and the minutes it ran: {live_row:?}"
    );
    // The scheduled one is cancelled: it never goes live, whatever the sweep
    // does when its time comes.
    let scheduled_id = DropinSessionId::new(scheduled["id"].as_u64().expect("id"));
    let row: DropinSession = app.store.require(scheduled_id).expect("row");
    assert!(
        !row.is_active && row.ended_at.is_some() && row.started_at.is_none(),
        "{row:?}"
    );
    let its_time = later.plus_minutes(1);
    assert_eq!(state_of(&row, its_time), DropinState::Ended);
    assert_eq!(end_overdue_dropins(&app.store, its_time).expect("sweep"), 0);
    let row: DropinSession = app.store.require(scheduled_id).expect("row");
    assert_eq!(state_of(&row, its_time), DropinState::Ended);
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

/// A drop-in whose host is no longer an expert but that was left open (the
/// profile changed by other means than the account's own update) is not
/// listed or joined either.
#[test]
fn a_dropin_left_open_by_a_former_expert_is_not_listed_or_joined() {
    let app = spawn_app();
    let (host_id, host) = expert(&app, "hana");
    let session = open(&app, &host, json!({"topic": "Left open"}));
    let code = session["session_code"].as_str().expect("code").to_owned();
    app.store
        .users()
        .modify(droply_models::UserId::new(host_id), |user| {
            user.profession = "  ".to_owned();
            Ok(())
        })
        .expect("no longer an expert");
    let listed = app.get(&format!("/v1/experts/{host_id}/dropins"));
    assert_eq!(
        (listed.status, error_code(&listed).as_str()),
        (404, "not_found"),
        "{}",
        listed.raw
    );
    let (carl_id, carl) = app.register("carl");
    let refused = join(&app, &code, Some(&carl), None);
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (409, "invalid_state"),
        "{}",
        refused.raw
    );
    // Nor are the drop-ins of someone who never was an expert, or of nobody.
    for user in [carl_id, 999_999] {
        let listed = app.get(&format!("/v1/experts/{user}/dropins"));
        assert_eq!(listed.status, 404, "{}", listed.raw);
    }
}

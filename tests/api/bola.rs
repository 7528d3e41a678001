//! The object-level authorization matrix, derived from the OpenAPI document:
//! every signed-in operation whose path names a row (`{id}`) is called by the
//! row's owner, by the other party (a booking's provider), by a stranger and
//! anonymously. The API's convention: anonymous callers get 401, strangers
//! 404 (a row they may not see does not exist for them), and the owner and
//! the other party never 401 or 404 (public drop-ins differ: see
//! `stranger_status`). A new id-bearing operation fails this
//! test until the matrix knows whose rows it names. Every answer of the run
//! then goes through the exposure scan.

use std::collections::BTreeSet;

use droply_engine::video::{DailyConfig, Recording, RecordingRowId};
use droply_models::{AiMatch, AiMatchId, BookingId, Timestamp, UserId};
use droply_test_support::daily_fake::{DAILY_API_KEY, DailyFake};

use crate::app::{TestApp, spawn_app_paying_with};
use crate::availability::expert_working;
use crate::dates;

/// The rows of one route's world and who is who.
struct World {
    owner: String,
    other_party: Option<String>,
    stranger: String,
    id: u64,
}

/// Whose rows a path template names: a fresh world for each call sequence.
fn world_for(app: &TestApp, template: &str, n: usize) -> Option<World> {
    let name = |role: &str| format!("{role}{n}");
    let (_, stranger) = app.register(&name("stranger"));
    if template.starts_with("/v1/bookings/") {
        let (expert, provider) =
            expert_working(app, &name("provider"), "Europe/Berlin", "09:00", "17:00");
        let (_, client) = app.register(&name("client"));
        // A Monday 10:00 in Berlin, on the slot grid.
        let slot = dates::at(0, "09:00");
        let body = format!(r#"{{"provider_id":{expert},"start_time":"{slot}","duration":60}}"#);
        let booked = app.post_booking(&client, &body);
        assert_eq!(booked.status, 201, "{}", booked.raw);
        let id = booked.body["id"].as_u64().expect("booking id");
        // A recording of its call, for the recording routes.
        app.store
            .write(|txn| {
                txn.create(Recording {
                    id: RecordingRowId::new(0),
                    booking_id: BookingId::new(id),
                    recording_id: recording_of(n),
                    started_at: None,
                    duration_secs: None,
                    received_at: Timestamp::now(),
                })
            })
            .expect("a recording");
        return Some(World {
            owner: client,
            other_party: Some(provider),
            stranger,
            id,
        });
    }
    if let Some(kind) = template
        .strip_prefix("/v1/availability/")
        .and_then(|rest| rest.split('/').next())
    {
        let (_, expert) = expert_working(app, &name("expert"), "Europe/Berlin", "09:00", "17:00");
        let body = match kind {
            "rules" => r#"{"weekday":6,"start":"18:00","end":"19:00"}"#.to_owned(),
            _ => format!(
                r#"{{"start":"{}","end":"{}","is_blocked":true}}"#,
                dates::at(28, "10:00"),
                dates::at(28, "12:00")
            ),
        };
        let created = app.authed(
            "POST",
            &format!("/v1/availability/{kind}"),
            &expert,
            Some(&body),
        );
        assert_eq!(created.status, 201, "{}", created.raw);
        return Some(World {
            owner: expert,
            other_party: None,
            stranger,
            id: created.body["id"].as_u64().expect("row id"),
        });
    }
    if template.starts_with("/v1/reviews/") {
        // The expert of a reviewed session owns the right to answer it.
        let (_, provider, client, booking) = crate::reviews::completed_session(app, n, 0);
        let review = app.authed(
            "POST",
            &format!("/v1/bookings/{booking}/review"),
            &client,
            Some(r#"{"rating":4}"#),
        );
        assert_eq!(review.status, 201, "{}", review.raw);
        return Some(World {
            owner: provider,
            other_party: Some(client),
            stranger,
            id: review.body["id"].as_u64().expect("review id"),
        });
    }
    if template.starts_with("/v1/content/") || template.starts_with("/v1/purchases/") {
        // A draft with its file: only its creator may see it. A purchase
        // (of other content) is refunded by the content's creator only.
        let (_, creator) = app.register(&name("creator"));
        let id = crate::content::create(
            app,
            &creator,
            serde_json::json!({"title": "Draft", "content_type": "document",
                               "price": {"amount_minor": 0, "currency": "EUR"}}),
        );
        let file = crate::content::pdf(2_000);
        let path = format!("/v1/content/{id}/file");
        let uploaded = app.upload(&path, &creator, &file, crate::file_client::Framing::Length);
        assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
        if template.starts_with("/v1/content/") {
            return Some(World {
                owner: creator,
                other_party: None,
                stranger,
                id,
            });
        }
        let sold = crate::content::published_guide(app, &creator, "Sold guide", 0);
        let (_, buyer) = app.register(&name("buyer"));
        let bought = app.authed(
            "POST",
            &format!("/v1/content/{sold}/purchase"),
            &buyer,
            None,
        );
        assert_eq!(bought.status, 201, "{}", bought.raw);
        return Some(World {
            owner: creator,
            other_party: None,
            stranger,
            id: bought.body["id"].as_u64().expect("purchase id"),
        });
    }
    if template.starts_with("/v1/dropins/") {
        let (host_id, host) = app.register(&name("host"));
        app.make_expert(host_id, "Europe/Berlin");
        let opened = app.authed(
            "POST",
            "/v1/dropins",
            &host,
            Some(r#"{"topic":"Open hour"}"#),
        );
        assert_eq!(opened.status, 201, "{}", opened.raw);
        return Some(World {
            owner: host,
            other_party: None,
            stranger,
            id: opened.body["id"].as_u64().expect("drop-in id"),
        });
    }
    if template.starts_with("/v1/matches/") {
        let (client_id, client) = app.register(&name("seeker"));
        let (expert_id, _) = app.register(&name("matched"));
        app.make_expert(expert_id, "Europe/Berlin");
        let row = app
            .store
            .ai_matches()
            .create(AiMatch {
                id: AiMatchId::new(0),
                user_id: UserId::new(client_id),
                matched_user_id: UserId::new(expert_id),
                query: "tax help".to_owned(),
                match_score: 0.8,
                match_reasons: Vec::new(),
                created_at: Timestamp::now(),
                is_viewed: false,
                is_acted_upon: false,
            })
            .expect("match");
        return Some(World {
            owner: client,
            other_party: None,
            stranger,
            id: row.id.get(),
        });
    }
    None
}

/// What a stranger gets: 404 for a row they may not see; a drop-in is
/// public, so its host-only end answers 403, and its live room 401 (a
/// sign-in token opens only the rooms one hosts).
fn stranger_status(template: &str) -> u16 {
    match template {
        "/v1/dropins/{id}/end" => 403,
        "/v1/dropins/{id}/live" => 401,
        _ => 404,
    }
}

/// The recording id of world `n`'s booking.
fn recording_of(n: usize) -> String {
    format!("rec-{n}")
}

/// A body the operation accepts in shape, so a refusal is about who asks.
fn body_for(method: &str, template: &str) -> Option<String> {
    let body = match (method, template.rsplit('/').next()) {
        ("POST", Some("cancel")) => Some(r#"{"reason":"plans changed"}"#),
        ("POST", Some("reschedule")) => {
            return Some(format!(r#"{{"start_time":"{}"}}"#, dates::at(0, "13:00")));
        }
        ("POST", Some("review")) => Some(r#"{"rating":4}"#),
        ("POST", Some("answer")) => Some(r#"{"answer":"thanks"}"#),
        ("PATCH", _) if template.contains("/rules/") => Some(r#"{"end":"19:30"}"#),
        ("PATCH", _) if template.starts_with("/v1/content/") => Some(r#"{"title":"Renamed"}"#),
        ("PATCH", _) => Some(r#"{"reason":"moved"}"#),
        ("POST", _) => Some("{}"),
        _ => None,
    };
    body.map(str::to_owned)
}

/// (METHOD, template) of every signed-in operation whose path names a row.
fn id_operations(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.contains('{') {
            continue;
        }
        for (method, operation) in item.as_object().expect("item") {
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            if secured {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_row_route_answers_owner_other_party_stranger_and_anonymous_by_the_convention() {
    // Daily on loopback, so the recording routes reach their answer.
    let daily = DailyFake::start();
    let app = spawn_app_paying_with(|config| {
        config.video.daily = Some(DailyConfig {
            api_base: daily.base_url(),
            ..DailyConfig::new(DAILY_API_KEY.into())
        });
    });
    let doc = app.get("/openapi.json").body;
    let operations = id_operations(&doc);
    assert!(operations.len() >= 12, "{operations:?}");
    // Rows named by the caller's own id space: nobody else's row is reachable.
    let self_scoped: BTreeSet<&str> = ["/v1/favorites/{expert_id}"].into();
    for (n, (method, template)) in operations.iter().enumerate() {
        if self_scoped.contains(template.as_str()) {
            continue;
        }
        let world = world_for(&app, template, n)
            .unwrap_or_else(|| panic!("the matrix does not know whose rows {template} names"));
        let path = template
            .replace("{id}", &world.id.to_string())
            .replace("{expert_id}", &world.id.to_string())
            .replace("{recording_id}", &recording_of(n));
        let body = body_for(method, template);
        let body = body.as_deref();
        let anonymous = app.request(method, &path, body);
        assert_eq!(
            anonymous.status, 401,
            "anonymous {method} {path}: {}",
            anonymous.raw
        );
        let stranger = app.authed(method, &path, &world.stranger, body);
        assert_eq!(
            stranger.status,
            stranger_status(template),
            "stranger {method} {path}: {}",
            stranger.raw
        );
        for (who, token) in world
            .other_party
            .iter()
            .map(|t| ("other party", t))
            .chain([("owner", &world.owner)])
        {
            let answer = app.authed(method, &path, token, body);
            assert!(
                !matches!(answer.status, 401 | 404) && answer.status < 500,
                "{who} {method} {path}: {} {}",
                answer.status,
                answer.raw
            );
        }
    }
    app.assert_no_leaks();
}

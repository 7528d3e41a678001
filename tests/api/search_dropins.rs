//! Live drop-ins in `POST /v1/search` (`kinds: ["dropins"]`), over the real
//! sentence model: only live sessions appear (not upcoming, not ended),
//! matched by words and meaning, tagged `dropin` with their join code and
//! host; they rank with experts in one list; a search without `kinds`
//! never shows them; a filter cannot restrict them.

use serde_json::{Value, json};

use crate::app::{error_code, spawn_app_with_search};
use crate::dropins::{expert, open};
use crate::search_market::{Profile, add_expert, search};

fn hits(body: &Value) -> &Vec<Value> {
    body["hits"].as_array().expect("hits")
}

#[test]
fn live_dropins_are_found_by_words_and_meaning_and_rank_with_experts() {
    let app = spawn_app_with_search();
    add_expert(&app, "tina", &Profile::tax_advisor());
    let (_, host) = expert(&app, "kira");
    let live = open(
        &app,
        &host,
        json!({"topic": "Kubernetes autoscaling office hours", "description": "Bring your cluster questions."}),
    );
    let vat = open(
        &app,
        &host,
        json!({"topic": "VAT for freelancers", "description": "Invoices, rates and deadlines."}),
    );
    let later = droply_models::Timestamp::now().plus_days(1).to_string();
    open(
        &app,
        &host,
        json!({"topic": "Kubernetes upgrades", "starts_at": later}),
    );
    let ended = open(&app, &host, json!({"topic": "Kubernetes security"}));
    let ended_id = ended["id"].as_u64().expect("id");
    assert_eq!(
        app.authed("POST", &format!("/v1/dropins/{ended_id}/end"), &host, None)
            .status,
        200
    );
    app.wait_for_index();

    let found = search(
        &app,
        &json!({"q": "kubernetes", "kinds": ["dropins"], "semanticRatio": 0.0}),
    );
    assert_eq!(found.status, 200, "{}", found.raw);
    let ids: Vec<u64> = hits(&found.body)
        .iter()
        .map(|h| h["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [live["id"].as_u64().expect("id")],
        "only the live match: {}",
        found.raw
    );
    let hit = &hits(&found.body)[0];
    assert_eq!(hit["kind"], "dropin");
    assert_eq!(hit["session_code"], live["session_code"]);
    assert_eq!(hit["state"], "live");
    assert_eq!(hit["host"]["name"], "kira P.");

    // By meaning: no shared word, the right session first.
    let meaning = search(
        &app,
        &json!({"q": "value added tax on my invoices", "kinds": ["dropins"], "semanticRatio": 1.0}),
    );
    assert_eq!(meaning.status, 200, "{}", meaning.raw);
    assert_eq!(hits(&meaning.body)[0]["id"], vat["id"], "{}", meaning.raw);
    assert_eq!(meaning.body["facetDistribution"], json!({"dropins": {}}));

    let mixed = search(&app, &json!({"q": "tax", "kinds": ["experts", "dropins"]}));
    assert_eq!(mixed.status, 200, "{}", mixed.raw);
    let kinds: std::collections::BTreeSet<&str> = hits(&mixed.body)
        .iter()
        .map(|h| h["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["dropin", "expert"].into(), "{}", mixed.raw);

    let plain = search(&app, &json!({"q": "kubernetes office hours"}));
    assert!(
        hits(&plain.body)
            .iter()
            .all(|h| h.get("session_code").is_none()),
        "{}",
        plain.raw
    );

    let filtered = search(
        &app,
        &json!({"q": "tax", "kinds": ["dropins"], "filter": "industry = Finance"}),
    );
    assert_eq!(
        (filtered.status, error_code(&filtered).as_str()),
        (400, "invalid_search_filter")
    );
    app.assert_no_leaks();
}

/// Regression: search looked through the 1,000 oldest open sessions,
/// upcoming ones included, and kept the live among them: a thousand
/// sessions scheduled ahead hid every drop-in opened after them.
#[test]
fn a_live_dropin_is_found_past_a_thousand_scheduled_ahead() {
    use droply_models::{DropinSession, DropinSessionId, SessionCode, Timestamp, UserId};

    let app = spawn_app_with_search();
    let (early_id, _) = expert(&app, "early");
    let ahead = Timestamp::now().plus_days(30);
    app.store
        .write(|txn| {
            for n in 0..1_000_u32 {
                txn.create(DropinSession {
                    id: DropinSessionId::new(0),
                    host_id: UserId::new(early_id),
                    topic: format!("Kubernetes clinic {n}"),
                    description: String::new(),
                    max_participants: 10,
                    current_participants: 0,
                    is_active: true,
                    is_anonymous: false,
                    session_code: SessionCode::parse(&format!("AHEAD{n:03}")).expect("code"),
                    created_at: Timestamp::now(),
                    started_at: Some(ahead),
                    ended_at: None,
                    duration_minutes: 30,
                })?;
            }
            Ok(())
        })
        .expect("sessions scheduled ahead");
    let (_, host) = expert(&app, "kira");
    let live = open(
        &app,
        &host,
        json!({"topic": "Kubernetes autoscaling office hours"}),
    );
    app.wait_for_index();
    let found = search(
        &app,
        &json!({"q": "kubernetes", "kinds": ["dropins"], "semanticRatio": 0.0}),
    );
    assert_eq!(found.status, 200, "{}", found.raw);
    let ids: Vec<&Value> = hits(&found.body).iter().map(|h| &h["id"]).collect();
    assert_eq!(ids, [&live["id"]], "{}", found.raw);
}

/// Regression: with no words, drop-in search found nothing (BM25 scored
/// every session zero), so the search page's "live drop-ins" view showed
/// none while drop-ins were live.
#[test]
fn without_words_every_live_dropin_is_listed() {
    let app = spawn_app_with_search();
    let (_, host) = expert(&app, "kira");
    let first = open(
        &app,
        &host,
        json!({"topic": "Kubernetes autoscaling office hours"}),
    );
    let second = open(&app, &host, json!({"topic": "VAT for freelancers"}));
    app.wait_for_index();
    let found = search(&app, &json!({"kinds": ["dropins"]}));
    assert_eq!(found.status, 200, "{}", found.raw);
    let mut ids: Vec<u64> = hits(&found.body)
        .iter()
        .map(|h| h["id"].as_u64().expect("id"))
        .collect();
    ids.sort_unstable();
    let mut expected = [
        first["id"].as_u64().expect("id"),
        second["id"].as_u64().expect("id"),
    ];
    expected.sort_unstable();
    assert_eq!(ids, expected, "{}", found.raw);
    let page = app.get("/?show=dropins");
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(page.raw.contains("VAT for freelancers"), "{}", page.raw);
}

/// Regression: an expert who cleared their profession kept their drop-ins
/// in search. Clearing it ends them, so search finds neither the live one nor
/// (when its time comes) the scheduled one; and a live drop-in left open by a
/// host who is no longer an expert (changed by other means) is skipped too.
#[test]
fn a_former_experts_dropins_are_not_found() {
    use droply_models::{DropinSession, DropinSessionId, Timestamp, UserId};

    let app = spawn_app_with_search();
    let (_, host) = expert(&app, "kira");
    let live = open(
        &app,
        &host,
        json!({"topic": "Kubernetes autoscaling office hours"}),
    );
    let later = Timestamp::now().plus_days(1);
    let scheduled = open(
        &app,
        &host,
        json!({"topic": "Kubernetes upgrades", "starts_at": later.to_string()}),
    );
    let (left_id, left_host) = expert(&app, "lena");
    let left_open = open(
        &app,
        &left_host,
        json!({"topic": "Kubernetes networking clinic"}),
    );
    app.wait_for_index();
    let by_words = json!({"q": "kubernetes", "kinds": ["dropins"], "semanticRatio": 0.0});
    let ids = |body: &Value| -> Vec<u64> {
        let mut ids: Vec<u64> = hits(body)
            .iter()
            .map(|h| h["id"].as_u64().expect("id"))
            .collect();
        ids.sort_unstable();
        ids
    };
    let before = search(&app, &by_words);
    assert_eq!(before.status, 200, "{}", before.raw);
    let mut expected = vec![
        live["id"].as_u64().expect("id"),
        left_open["id"].as_u64().expect("id"),
    ];
    expected.sort_unstable();
    assert_eq!(ids(&before.body), expected, "{}", before.raw);

    let cleared = app.authed(
        "PATCH",
        "/v1/users/me",
        &host,
        Some(r#"{"profession": ""}"#),
    );
    assert_eq!(cleared.status, 200, "{}", cleared.raw);
    app.store
        .users()
        .modify(UserId::new(left_id), |user| {
            user.profession = String::new();
            Ok(())
        })
        .expect("no longer an expert");
    app.wait_for_index();
    for query in [
        by_words.clone(),
        json!({"kinds": ["dropins"]}),
        json!({"q": "kubernetes clusters", "kinds": ["dropins"], "semanticRatio": 1.0}),
    ] {
        let found = search(&app, &query);
        assert_eq!(found.status, 200, "{query}: {}", found.raw);
        assert!(hits(&found.body).is_empty(), "{query}: {}", found.raw);
    }
    // The scheduled one was cancelled with the live one: at its time it is
    // not live, so not a result then either.
    let row: DropinSession = app
        .store
        .require(DropinSessionId::new(scheduled["id"].as_u64().expect("id")))
        .expect("row");
    assert!(!row.is_active && row.started_at.is_none(), "{row:?}");
    assert_eq!(
        droply_engine::dropins::state_of(&row, later.plus_minutes(1)),
        droply_engine::dropins::DropinState::Ended
    );
}

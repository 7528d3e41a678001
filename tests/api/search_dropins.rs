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

//! Pages and limits of `POST /v1/search` over the real sentence model: pages
//! are disjoint, paging by fifty shows every expert once, and an out-of-range
//! limit, offset or ratio, an unknown field, malformed JSON, the wrong content
//! type or a bad token each get the one error format.

use std::time::Duration;

use droply_models::Rating;
use droply_test_support::fixtures::full_user;
use serde_json::json;

use crate::app::{error_code, spawn_app_with_search};
use crate::search_market::{Profile, add_expert, hit_ids, search, set};

#[test]
fn pages_are_disjoint_and_limits_are_checked() {
    let app = spawn_app_with_search();
    let mut ids = Vec::new();
    for name in ["eng1", "eng2", "eng3", "eng4", "eng5"] {
        ids.push(add_expert(&app, name, &Profile::default()).0);
    }
    app.wait_for_index();
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = search(
            &app,
            &json!({"q": "backend engineer", "offset": offset, "limit": 2}),
        );
        let page_ids = hit_ids(&page);
        assert_eq!(page_ids.len(), if offset == 4 { 1 } else { 2 });
        assert_eq!(page.body["offset"].as_u64(), Some(offset));
        assert_eq!(page.body["estimatedTotalHits"].as_u64(), Some(5));
        seen.extend(page_ids);
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(set(&seen), set(&ids));
    let beyond = search(&app, &json!({"q": "backend engineer", "offset": 10}));
    assert_eq!(hit_ids(&beyond), Vec::<u64>::new());

    for (body, code) in [
        (json!({"limit": 101}), "invalid_input"),
        (json!({"limit": 0}), "invalid_input"),
        (json!({"offset": 1001}), "invalid_input"),
        (json!({"semanticRatio": 1.5}), "invalid_input"),
        (json!({"semanticRatio": -0.1}), "invalid_input"),
        (json!({"q": "x".repeat(501)}), "invalid_input"),
        (json!({"q": 5}), "invalid_input"),
        (json!({"limit": "ten"}), "invalid_input"),
        (json!({"showRankingScore": "yes"}), "invalid_input"),
        (json!({"query": "tax"}), "invalid_input"),
        (json!({"fusion": "average"}), "invalid_input"),
    ] {
        let response = search(&app, &body);
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, code),
            "{body}: {}",
            response.raw
        );
    }
    let unknown = search(&app, &json!({"query": "tax"}));
    assert!(unknown.raw.contains("query"), "{}", unknown.raw);
    let malformed = app.request("POST", "/v1/search", Some(r#"{"q": "tax"#));
    assert_eq!(
        (malformed.status, error_code(&malformed).as_str()),
        (400, "invalid_json")
    );
    let not_json = app.send(
        "POST",
        "/v1/search",
        Some("{}"),
        None,
        &[("Content-Type", "text/plain")],
    );
    assert_eq!(
        (not_json.status, error_code(&not_json).as_str()),
        (415, "unsupported_media_type")
    );
    let bad_token = app.send("POST", "/v1/search", Some("{}"), Some("not-a-token"), &[]);
    assert_eq!(
        (bad_token.status, error_code(&bad_token).as_str()),
        (401, "unauthorized")
    );
    app.assert_no_leaks();
}

/// Regression: a page was cut from a ranking as deep as the block of 60 holding its
/// end, so the first page of 50 came from a ranking of 60 candidates and the second
/// (offset 50) from one of 120 others could climb in: paging by 50 showed experts
/// twice and others never. Blocks are now ranked one after the other, each less
/// the ones before it.
#[test]
fn pages_of_fifty_show_every_expert_once() {
    let app = spawn_app_with_search();
    let mut ids = Vec::new();
    // Two blocks' worth. The same words (the same relevance) for all, ratings (a
    // signal) to reorder them; no more than the first block's word pool holds (120),
    // so which of the equally relevant experts it holds never rests on the text
    // index's order among ties, which changes when its segments merge.
    for n in 0..120_u32 {
        let mut expert = full_user(&format!("pager{n}"));
        expert.is_available = true;
        expert.rating = Rating::from_parts(u64::from(10 + (n * 17) % 41), 10).expect("rating");
        ids.push(app.store.users().create(expert).expect("expert").id.get());
    }
    // 120 profiles to embed: more time than the usual wait.
    let index = app.index.as_ref().expect("an app with search");
    assert!(
        index.wait_until_applied(app.store.last_seq(), Duration::from_secs(60)),
        "the search index did not catch up: {:?}",
        index.status()
    );
    let mut seen = Vec::new();
    for (offset, expected) in [(0, 50), (50, 50), (100, 20)] {
        let page = search(
            &app,
            &json!({"q": "backend engineer", "offset": offset, "limit": 50}),
        );
        let page_ids = hit_ids(&page);
        assert_eq!(page_ids.len(), expected, "offset {offset}: {}", page.raw);
        seen.extend(page_ids);
    }
    assert_eq!(
        set(&seen).len(),
        seen.len(),
        "an expert shown twice: {seen:?}"
    );
    assert_eq!(set(&seen), set(&ids), "an expert never shown");
    // A page across the first two blocks is cut from the same list.
    let across = hit_ids(&search(
        &app,
        &json!({"q": "backend engineer", "offset": 40, "limit": 40}),
    ));
    assert_eq!(across, seen[40..80].to_vec());
    app.assert_no_leaks();
}

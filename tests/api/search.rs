//! `POST /v1/search` over the real sentence model: found by words and by
//! meaning, ranking details only when asked, facets, a signed-in search, a
//! profile change searchable within a second, and `/ready` and `/metrics` with
//! search. Every filter form is in `search_filter_forms`, pages and the limits
//! and error format of bad requests in `search_paging` (both over
//! [`four_trades`] or the marketplace of `search_market`); readiness while the
//! index is built, and servers without search, are in `search_readiness`; what
//! anonymous reasons may say, in `search_reasons`.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::app::{TestApp, error_code, spawn_app_with_search};
use crate::search_market::{Profile, add_expert, hit_ids, search};

/// Four experts of different trades; returns the app and their ids
/// (tax advisor, engineer, yoga teacher, lawyer).
pub(crate) fn four_trades() -> (TestApp, [u64; 4]) {
    let app = spawn_app_with_search();
    let (tax, _) = add_expert(
        &app,
        "tina",
        &Profile {
            profession: "Tax Advisor",
            industry: "Finance",
            skills: ["Tax Planning", "Bookkeeping", "VAT Returns"],
            tags: &["freelancers", "small business"],
            location: "Paris",
            bio: "Files income tax returns and keeps the books of freelancers.",
            rate: Some(9_000),
            rating: Some((49, 10)),
            featured: true,
            categories: &[3],
            ..Profile::default()
        },
    );
    let (engineer, _) = add_expert(
        &app,
        "eddie",
        &Profile {
            rating: Some((40, 10)),
            ..Profile::default()
        },
    );
    let (yoga, _) = add_expert(
        &app,
        "yara",
        &Profile {
            profession: "Yoga Teacher",
            industry: "Health",
            skills: ["Yoga", "Meditation", "Breathing"],
            tags: &["stress"],
            location: "New York",
            bio: "Calm morning classes for busy people.",
            rate: Some(6_000),
            available: false,
            ..Profile::default()
        },
    );
    let (lawyer, _) = add_expert(
        &app,
        "lars",
        &Profile {
            profession: "Family Lawyer",
            industry: "Legal",
            skills: ["Divorce", "Custody", "Mediation"],
            tags: &["families"],
            location: "Berlin",
            bio: "Guides families through divorce and custody.",
            rate: Some(25_000),
            ..Profile::default()
        },
    );
    app.wait_for_index();
    (app, [tax, engineer, yoga, lawyer])
}

#[test]
fn search_finds_experts_by_words_and_by_meaning() {
    let (app, [tax, engineer, ..]) = four_trades();

    let words = search(&app, &json!({"q": "Kubernetes", "semanticRatio": 0.0}));
    assert_eq!(hit_ids(&words), vec![engineer], "{}", words.raw);

    let meaning = search(&app, &json!({"q": "someone to help with my taxes"}));
    assert_eq!(hit_ids(&meaning).first(), Some(&tax), "{}", meaning.raw);
    let only_meaning = search(
        &app,
        &json!({"q": "someone to help with my taxes", "semanticRatio": 1.0, "fusion": "rrf"}),
    );
    assert_eq!(hit_ids(&only_meaning).first(), Some(&tax));

    let body = &meaning.body;
    assert_eq!(body["query"], "someone to help with my taxes");
    assert_eq!(
        (body["offset"].as_u64(), body["limit"].as_u64()),
        (Some(0), Some(20))
    );
    assert_eq!(body["semanticRatio"].as_f64(), Some(0.5));
    assert!(body["estimatedTotalHits"].as_u64().is_some_and(|n| n >= 1));
    assert!(body["processingTimeMs"].is_u64());
    assert_eq!(body["facetDistribution"], json!({}));
    let first = &body["hits"][0];
    assert_eq!(first["profession"], "Tax Advisor");
    assert_eq!(first["username"], "tina");
    for absent in [
        "email",
        "phone",
        "password_hash",
        "_rankingScore",
        "_rankingScoreDetails",
        "_reasons",
    ] {
        assert!(first.get(absent).is_none(), "{absent} in {first}");
    }

    // Reasons in words, on request: the matched skill is named.
    let reasoned = search(&app, &json!({"q": "tax returns", "showReasons": true}));
    let reasons = reasoned.body["hits"][0]["_reasons"]
        .as_array()
        .expect("reasons");
    assert!(!reasons.is_empty(), "{}", reasoned.raw);
    assert!(
        reasons
            .iter()
            .all(|r| r["signal"].is_string() && r["text"].is_string())
    );
    assert!(
        reasons
            .iter()
            .any(|r| r["text"].as_str() == Some("skills: Tax Planning, VAT Returns")),
        "{}",
        reasoned.raw
    );

    let explained = search(
        &app,
        &json!({"q": "tax returns", "showRankingScore": true, "showRankingScoreDetails": true}),
    );
    let hit = &explained.body["hits"][0];
    assert_eq!(hit["id"].as_u64(), Some(tax), "{}", explained.raw);
    let score = hit["_rankingScore"].as_f64().expect("score");
    assert!((0.0..=1.0).contains(&score), "{score}");
    let details = hit["_rankingScoreDetails"].as_object().expect("details");
    for signal in ["keyword", "semantic"] {
        assert!(details[signal]["weight"].is_number(), "{signal}: {hit}");
        assert!(details[signal]["value"].is_string(), "{signal}: {hit}");
    }
    let score_only = search(&app, &json!({"q": "tax", "showRankingScore": true}));
    assert!(score_only.body["hits"][0]["_rankingScore"].is_number());
    assert!(
        score_only.body["hits"][0]
            .get("_rankingScoreDetails")
            .is_none()
    );
    app.assert_no_leaks();
}

#[test]
fn facets_count_the_values_of_matching_experts() {
    let (app, _) = four_trades();
    let response = search(
        &app,
        &json!({"facets": ["industry", "location", "location"], "limit": 1}),
    );
    assert_eq!(response.status, 200, "{}", response.raw);
    let facets = response.body["facetDistribution"]
        .as_object()
        .expect("facets");
    assert_eq!(facets.len(), 2, "{}", response.raw);
    let count = |field: &str, value: &str| {
        facets[field]
            .as_object()
            .expect("field")
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(value))
            .and_then(|(_, n)| n.as_u64())
    };
    assert_eq!(count("location", "Berlin"), Some(2), "{}", response.raw);
    assert_eq!(count("location", "Paris"), Some(1));
    assert_eq!(count("industry", "Finance"), Some(1));
    assert_eq!(response.body["hits"].as_array().map(Vec::len), Some(1));

    let filtered = search(
        &app,
        &json!({"facets": ["industry"], "filter": "location = Berlin"}),
    );
    let industries = filtered.body["facetDistribution"]["industry"]
        .as_object()
        .expect("industry");
    assert_eq!(
        industries.values().filter_map(|n| n.as_u64()).sum::<u64>(),
        2
    );

    let every = search(&app, &json!({"facets": ["*"]}));
    assert_eq!(
        every.body["facetDistribution"].as_object().map(|f| f.len()),
        Some(6),
        "{}",
        every.raw
    );
    let unknown = search(&app, &json!({"facets": ["email"]}));
    assert_eq!(
        (unknown.status, error_code(&unknown).as_str()),
        (400, "invalid_search_facets")
    );
    app.assert_no_leaks();
}

#[test]
fn a_signed_in_search_is_served_too() {
    let (app, [tax, ..]) = four_trades();
    let (_, token) = app.register("carl");
    let response = app.authed(
        "POST",
        "/v1/search",
        &token,
        Some(r#"{"q": "help with my taxes"}"#),
    );
    assert_eq!(hit_ids(&response).first(), Some(&tax), "{}", response.raw);
    app.assert_no_leaks();
}

#[test]
fn a_profile_change_is_searchable_within_a_second() {
    let app = spawn_app_with_search();
    let (_, _) = add_expert(&app, "eddie", &Profile::default());
    let (gardener, token) = add_expert(
        &app,
        "gert",
        &Profile {
            profession: "Gardener",
            industry: "Home",
            skills: ["Roses", "Hedges", "Lawns"],
            tags: &["gardens"],
            bio: "Keeps gardens green.",
            ..Profile::default()
        },
    );
    app.wait_for_index();
    let query = json!({"q": "volcano", "semanticRatio": 0.0});
    assert_eq!(hit_ids(&search(&app, &query)), Vec::<u64>::new());

    let patch = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r#"{"profession": "Underwater Photographer", "skills_1": "Volcano Photography", "skills": "Volcano Photography, Diving"}"#),
    );
    assert_eq!(patch.status, 200, "{}", patch.raw);
    let written = Instant::now();
    let found = loop {
        let hits = hit_ids(&search(&app, &query));
        if hits == vec![gardener] {
            break written.elapsed();
        }
        assert!(
            written.elapsed() < Duration::from_secs(5),
            "not found after 5 s: {hits:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    println!("a profile change was found by POST /v1/search {found:?} after the PATCH returned");
    assert!(found < Duration::from_secs(1), "took {found:?}");
    let by_filter = search(
        &app,
        &json!({"filter": r#"profession = "Underwater Photographer""#}),
    );
    assert_eq!(hit_ids(&by_filter), vec![gardener]);
    app.assert_no_leaks();
}

#[test]
fn ready_and_metrics_report_the_search_index() {
    let (app, _) = four_trades();
    let ready = app.get("/ready");
    assert_eq!(ready.status, 200, "{}", ready.raw);
    assert_eq!(ready.body["search"]["indexed_experts"].as_u64(), Some(4));
    assert!(
        ready.body["search"]["applied_seq"]
            .as_u64()
            .is_some_and(|s| s > 0)
    );
    let metrics = app.get("/metrics");
    assert!(
        metrics.raw.contains("\ndroply_search_indexed_experts 4\n"),
        "{}",
        metrics.raw
    );
    assert!(metrics.raw.contains("\ndroply_search_applied_seq "));
}

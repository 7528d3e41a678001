//! `POST /v1/search` over the real sentence model: found by words and by
//! meaning, every filter form, facets, pages, the limits and the error format of
//! bad requests, ranking details only when asked, a profile change searchable
//! within a second, and `/ready` and `/metrics` with search (readiness while the index
//! is built, and servers without search, are in `search_readiness`; what anonymous
//! reasons may say, in `search_reasons`).

use std::time::{Duration, Instant};

use droply_models::Rating;
use droply_test_support::fixtures::full_user;
use serde_json::json;

use crate::app::{TestApp, error_code, spawn_app_with_search};
use crate::search_market::{Profile, add_expert, hit_ids, search, set};

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
fn every_filter_form_restricts_the_hits() {
    let (app, [tax, engineer, yoga, lawyer]) = four_trades();
    let all = set(&[tax, engineer, yoga, lawyer]);
    let browse = search(&app, &json!({"limit": 100}));
    assert_eq!(set(&hit_ids(&browse)), all);

    let cases = [
        (json!("industry = Finance"), vec![tax]),
        (json!(r#"profession = "Backend Engineer""#), vec![engineer]),
        (
            json!(r#"location IN [Berlin, "New York"]"#),
            vec![engineer, yoga, lawyer],
        ),
        (
            json!("(location = Paris OR location = 'New York')"),
            vec![tax, yoga],
        ),
        (json!("skills = Yoga"), vec![yoga]),
        (json!("specialty_tags = payments"), vec![engineer]),
        (json!("category = 3"), vec![tax]),
        (json!("rating >= 4.5"), vec![tax]),
        (json!("rating > 3.9"), vec![tax, engineer]),
        (json!("is_featured = true"), vec![tax]),
        (json!("is_available = true"), vec![tax, engineer, lawyer]),
        (json!("hourly_rate <= 10000"), vec![tax, yoga]),
        (
            json!("hourly_rate >= 10000 AND hourly_rate <= 20000"),
            vec![engineer],
        ),
        (
            json!("location = Berlin and industry = Legal"),
            vec![lawyer],
        ),
        (json!("location = Paris AND industry = Legal"), vec![]),
        (
            json!([["skills = Rust", "skills = Yoga"], "is_available = true"]),
            vec![engineer],
        ),
        (
            json!(["location = Berlin", ["industry = Legal"]]),
            vec![lawyer],
        ),
    ];
    for (filter, expected) in cases {
        let response = search(
            &app,
            &json!({"filter": filter, "currency": "USD", "limit": 100}),
        );
        assert_eq!(
            set(&hit_ids(&response)),
            set(&expected),
            "filter {filter}: {}",
            response.raw
        );
        assert_eq!(
            response.body["estimatedTotalHits"].as_u64(),
            Some(expected.len() as u64),
            "filter {filter}"
        );
    }

    for (filter, needle) in [
        (json!("salary >= 5"), "unknown field `salary`"),
        (json!("price >= 5"), "`price` applies to content only"),
        (
            json!("industry = Finance OR location = Berlin"),
            "different fields",
        ),
        (json!("rating >= high"), "rating"),
        (json!(r#"profession = "Tax Advisor"#), "unterminated string"),
        (json!("is_available = false"), "is_available"),
        (json!(7), "a string or an array"),
    ] {
        let response = search(&app, &json!({"filter": filter, "currency": "USD"}));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, "invalid_search_filter"),
            "{filter}: {}",
            response.raw
        );
        let message = response.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{filter}: {message}");
    }
    let no_currency = search(&app, &json!({"filter": "hourly_rate <= 100"}));
    assert_eq!(error_code(&no_currency), "invalid_search_filter");
    assert!(no_currency.raw.contains("currency"), "{}", no_currency.raw);
    let bad_currency = search(
        &app,
        &json!({"filter": "hourly_rate <= 100", "currency": "ZZZ"}),
    );
    assert_eq!(
        (bad_currency.status, error_code(&bad_currency).as_str()),
        (400, "invalid_input")
    );
    app.assert_no_leaks();
}

#[test]
fn bookable_within_days_needs_an_open_slot() {
    let app = spawn_app_with_search();
    let (open, token) = add_expert(&app, "olga", &Profile::default());
    let (closed, _) = add_expert(&app, "carla", &Profile::default());
    for weekday in 0..7 {
        let body = format!(r#"{{"weekday":{weekday},"start":"08:00","end":"18:00"}}"#);
        let rule = app.authed("POST", "/v1/availability/rules", &token, Some(&body));
        assert_eq!(rule.status, 201, "{}", rule.raw);
    }
    app.wait_for_index();
    let everyone = search(&app, &json!({"q": "Rust"}));
    assert_eq!(set(&hit_ids(&everyone)), set(&[open, closed]));
    let bookable = search(
        &app,
        &json!({"q": "Rust", "filter": "bookable_within_days <= 7"}),
    );
    assert_eq!(hit_ids(&bookable), vec![open], "{}", bookable.raw);
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

/// Regression: the rate table had 26 of the 54 supported currencies, so a price filter
/// in USD never matched an expert charging in KWD, VND or HUF (among others), however
/// cheap: their currency got no price range at all.
#[test]
fn a_usd_price_filter_finds_experts_charging_in_every_currency() {
    use droply_models::{Currency, Money, UserId};

    let app = spawn_app_with_search();
    // About 81.50, 78.00 and 70.00 USD an hour.
    let mut priced = Vec::new();
    for (name, code, rate) in [
        ("kamal", "KWD", 25_000),
        ("vyanh", "VND", 2_000_000),
        ("hanna", "HUF", 2_500_000),
    ] {
        let (id, _) = add_expert(&app, name, &Profile::default());
        let currency = Currency::parse(code).expect(code);
        app.store
            .users()
            .modify(UserId::new(id), |user| {
                user.currency = currency;
                user.hourly_rate = Some(Money::new(rate, currency));
                for total in [
                    &mut user.total_earnings,
                    &mut user.total_payouts,
                    &mut user.pending_balance,
                    &mut user.total_referral_earnings,
                ] {
                    *total = Money::zero(currency);
                }
                Ok(())
            })
            .expect("priced in their currency");
        priced.push(id);
    }
    let (dearer, _) = add_expert(
        &app,
        "dora",
        &Profile {
            rate: Some(25_000),
            ..Profile::default()
        },
    );
    app.wait_for_index();

    for (filter, expected) in [
        ("hourly_rate <= 10000", priced.clone()),
        (
            "hourly_rate >= 6000 AND hourly_rate <= 9000",
            priced.clone(),
        ),
        ("hourly_rate <= 5000", vec![]),
        ("hourly_rate >= 20000", vec![dearer]),
    ] {
        let response = search(
            &app,
            &json!({"filter": filter, "currency": "USD", "limit": 100}),
        );
        assert_eq!(
            set(&hit_ids(&response)),
            set(&expected),
            "filter {filter}: {}",
            response.raw
        );
    }
    app.assert_no_leaks();
}

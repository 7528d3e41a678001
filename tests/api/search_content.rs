//! `POST /v1/search` with `kinds`, over the real sentence model: a request without
//! `kinds` is answered as before (no `kind`, flat facets); content hits are the public
//! view (never file, preview or thumbnail paths, hashes or earnings) with the creator's
//! public name; experts and content in one ranking, each hit tagged, facets grouped by
//! kind; and the errors of an unknown kind, a filter or facet of another kind. Content
//! is seeded straight into the store (the content API is not on this branch).

use std::collections::BTreeSet;

use droply_models::{Content, ContentStatus, ContentType, UserId};
use droply_test_support::fixtures;
use serde_json::{Value, json};

use crate::app::{TestApp, error_code, spawn_app_with_search};
use crate::search_market::{Profile, add_expert, search};

/// A tax advisor selling a tax course, a yoga teacher selling a yoga video, and a
/// draft; returns the app and (tax advisor, tax course, yoga video).
fn shop() -> (TestApp, u64, u64, u64) {
    let app = spawn_app_with_search();
    let (tax, _) = add_expert(&app, "tina", &Profile::tax_advisor());
    let (yoga, _) = add_expert(
        &app,
        "yara",
        &Profile {
            profession: "Yoga Teacher",
            industry: "Health",
            skills: ["Yoga", "Meditation", "Breathing"],
            tags: &["stress"],
            bio: "Calm morning classes for busy people.",
            ..Profile::default()
        },
    );
    let add = |creator: u64, title: &str, description: &str, kind, status| {
        let mut row: Content = fixtures::content(UserId::new(creator), "2026-10-01T10:00:00Z");
        row.title = title.to_owned();
        row.description = description.to_owned();
        row.content_type = kind;
        row.status = status;
        app.store.contents().create(row).expect("content").id.get()
    };
    let course = add(
        tax,
        "Income tax returns for freelancers",
        "A video course on filing your own tax return, deductions included.",
        ContentType::Course,
        ContentStatus::Published,
    );
    let video = add(
        yoga,
        "Morning yoga flow",
        "Twenty minutes of gentle stretching to start the day.",
        ContentType::Video,
        ContentStatus::Published,
    );
    add(
        tax,
        "Unreleased tax secrets",
        "A draft nobody may see.",
        ContentType::Document,
        ContentStatus::Draft,
    );
    app.wait_for_index();
    (app, tax, course, video)
}

fn hits(body: &Value) -> &Vec<Value> {
    body["hits"].as_array().expect("hits")
}

#[test]
fn without_kinds_the_answer_is_the_experts_one_as_before() {
    let (app, tax, _, _) = shop();
    let plain = search(&app, &json!({"q": "tax returns", "facets": ["industry"]}));
    assert_eq!(plain.status, 200, "{}", plain.raw);
    assert!(!hits(&plain.body).is_empty());
    for hit in hits(&plain.body) {
        assert!(hit.get("kind").is_none(), "no kind without kinds: {hit}");
        assert!(hit.get("username").is_some(), "an expert profile: {hit}");
    }
    assert_eq!(hits(&plain.body)[0]["id"].as_u64(), Some(tax));
    assert!(
        plain.body["facetDistribution"]["industry"].is_object(),
        "flat facets: {}",
        plain.raw
    );

    let named = search(
        &app,
        &json!({"kinds": ["experts"], "q": "tax returns", "facets": ["industry"]}),
    );
    assert_eq!(named.status, 200, "{}", named.raw);
    let ids = |body: &Value| -> Vec<Value> { hits(body).iter().map(|h| h["id"].clone()).collect() };
    assert_eq!(ids(&named.body), ids(&plain.body), "the same experts");
    assert!(hits(&named.body).iter().all(|h| h["kind"] == "expert"));
    assert_eq!(
        named.body["facetDistribution"]["experts"], plain.body["facetDistribution"],
        "the same counts, under the kind"
    );
    app.assert_no_leaks();
}

#[test]
fn content_hits_are_the_public_view_only() {
    let (app, tax, course, video) = shop();
    let found = search(
        &app,
        &json!({"kinds": ["content"], "q": "help filing my taxes", "showRankingScore": true}),
    );
    assert_eq!(found.status, 200, "{}", found.raw);
    let first = &hits(&found.body)[0];
    assert_eq!(
        first["id"].as_u64(),
        Some(course),
        "by meaning: {}",
        found.raw
    );
    assert_eq!(first["kind"], "content");
    assert_eq!(first["content_type"], "course");
    assert_eq!(
        first["price"],
        json!({"amount_minor": 4900, "currency": "EUR"})
    );
    assert_eq!(first["preview_available"], true);
    assert_eq!(first["purchases"], 33);
    let creator = app.store.users().get(UserId::new(tax)).expect("creator");
    assert_eq!(
        first["creator"],
        json!({"id": tax, "name": creator.public_name()})
    );
    assert!(first["_rankingScore"].as_f64().is_some());
    let shown: BTreeSet<&str> = first
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let view: BTreeSet<&str> = [
        "kind",
        "id",
        "title",
        "description",
        "content_type",
        "price",
        "category_id",
        "preview_available",
        "purchases",
        "creator",
        "created_at",
        "_rankingScore",
    ]
    .into();
    assert_eq!(shown, view);
    // Regression: the search page named a content's creator in full.
    app.store
        .users()
        .modify(UserId::new(tax), |user| {
            user.full_name = "Tina Maria Steuerwald".to_owned();
            Ok(())
        })
        .expect("name");
    let page = app.get("/?q=help+filing+my+taxes&show=content");
    assert_eq!(page.status, 200);
    assert!(page.raw.contains("by Tina S."), "{}", page.raw);
    assert!(!page.raw.contains("Steuerwald"), "{}", page.raw);
    let doc = app.get("/openapi.json");
    let documented: BTreeSet<&str> =
        doc.body["components"]["schemas"]["ContentHitView"]["properties"]
            .as_object()
            .expect("ContentHitView documented")
            .keys()
            .map(String::as_str)
            .collect();
    let without_tags: BTreeSet<&str> = view
        .iter()
        .copied()
        .filter(|k| !["kind", "_rankingScore"].contains(k))
        .collect();
    assert_eq!(documented, without_tags);
    let schemas = &doc.body["components"]["schemas"];
    let union: Vec<&str> = schemas["SearchHit"]["oneOf"]
        .as_array()
        .expect("hits are a documented union")
        .iter()
        .filter_map(|variant| variant["$ref"].as_str())
        .collect();
    assert_eq!(
        union,
        [
            "#/components/schemas/ExpertHit",
            "#/components/schemas/ContentHit",
            "#/components/schemas/DropinHit"
        ]
    );
    for variant in ["ExpertHit", "ContentHit"] {
        let tagged = schemas[variant]["allOf"]
            .as_array()
            .expect("allOf")
            .iter()
            .any(|part| part["properties"]["kind"].is_object());
        assert!(tagged, "{variant} documents kind: {}", schemas[variant]);
    }

    let by_words = search(
        &app,
        &json!({"kinds": ["content"], "q": "yoga", "semanticRatio": 0.0}),
    );
    let ids: Vec<u64> = hits(&by_words.body)
        .iter()
        .filter_map(|h| h["id"].as_u64())
        .collect();
    assert_eq!(ids, [video], "{}", by_words.raw);
    let everything = search(&app, &json!({"kinds": ["content"], "limit": 50}));
    assert_eq!(hits(&everything.body).len(), 2, "the draft is not listed");
    for response in [&found, &by_words, &everything] {
        for secret in [
            "content/1/",
            "file_path",
            "preview_path",
            "thumbnail_path",
            "file_meta",
            "sha256",
            "0f0f0f",
            "earnings",
            "views",
            "Unreleased",
        ] {
            assert!(
                !response.raw.contains(secret),
                "{secret} in {}",
                response.raw
            );
        }
    }
    app.assert_no_leaks();
}

#[test]
fn experts_and_content_share_one_ranking_with_facets_by_kind() {
    let (app, tax, course, _) = shop();
    let both = search(
        &app,
        &json!({
            "kinds": ["experts", "content"],
            "q": "tax returns",
            "facets": ["*"],
            "showRankingScore": true,
        }),
    );
    assert_eq!(both.status, 200, "{}", both.raw);
    let tagged: Vec<(String, u64)> = hits(&both.body)
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().expect("kind").to_owned(),
                h["id"].as_u64().expect("id"),
            )
        })
        .collect();
    let top_two = &tagged[..2];
    assert!(top_two.contains(&("expert".to_owned(), tax)), "{tagged:?}");
    assert!(
        top_two.contains(&("content".to_owned(), course)),
        "{tagged:?}"
    );
    let scores: Vec<f64> = hits(&both.body)
        .iter()
        .map(|h| h["_rankingScore"].as_f64().expect("score"))
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let facets = &both.body["facetDistribution"];
    assert_eq!(
        keys(facets),
        ["content", "experts"].map(str::to_owned).into()
    );
    assert!(facets["experts"]["industry"]["Finance"].as_u64().is_some());
    assert_eq!(facets["content"]["content_type"]["course"], 1, "{facets}");
    let page = search(
        &app,
        &json!({"kinds": ["experts", "content"], "q": "tax returns", "offset": 1, "limit": 1}),
    );
    assert_eq!(hits(&page.body)[0]["id"].as_u64(), Some(tagged[1].1));
    assert_eq!(
        hits(&page.body)[0]["kind"].as_str(),
        Some(tagged[1].0.as_str())
    );
    app.assert_no_leaks();
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().expect("object").keys().cloned().collect()
}

#[test]
fn unknown_kinds_and_filters_or_facets_of_another_kind_are_refused() {
    let (app, ..) = shop();
    for (body, status, code, needle) in [
        (
            json!({"kinds": ["webinars"]}),
            400,
            "invalid_input",
            "kinds",
        ),
        (json!({"kinds": []}), 400, "invalid_input", "kinds"),
        (
            json!({"filter": "content_type = video"}),
            400,
            "invalid_search_filter",
            "content_type",
        ),
        (
            json!({"kinds": ["content"], "filter": "industry = Finance"}),
            400,
            "invalid_search_filter",
            "industry",
        ),
        (
            json!({"facets": ["content_type"]}),
            400,
            "invalid_search_facets",
            "content_type",
        ),
        (
            json!({"kinds": ["content"], "filter": "price <= 100"}),
            400,
            "invalid_search_filter",
            "currency",
        ),
    ] {
        let response = search(&app, &body);
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (status, code),
            "{body}: {}",
            response.raw
        );
        let message = response.body["message"].as_str().expect("message");
        assert!(message.contains(needle), "{body}: {message}");
    }
}

//! Stored matches: rows per returned expert with structured reasons; views and actions
//! recorded once, by the owner only, and fed back as interactions.

use std::sync::Arc;
use std::time::Duration;

use droply_engine::Error;
use droply_engine::matching::{
    MatchFeedback, MatchQuery, Matcher, MatcherConfig, record_feedback, record_matches,
};
use droply_engine::store::PageRequest;
use droply_models::{AiMatch, InteractionType};

use crate::market::{Market, Profile};

#[test]
fn a_match_request_stores_one_row_per_hit_with_reasons() {
    let mut m = Market::new();
    let expert = m.expert(&Profile::default());
    m.expert(&Profile {
        profession: "Data Engineer",
        ..Profile::default()
    });
    let viewer = m.client();
    let results = m.search(&MatchQuery {
        text: "rust engineer".to_owned(),
        viewer: Some(viewer),
        ..MatchQuery::default()
    });
    let rows = record_matches(&m.store, viewer, "rust engineer", &results.hits).expect("record");
    assert_eq!(rows.len(), 2);
    let stored = m
        .store
        .ai_matches()
        .by_user(viewer, &PageRequest::first(10))
        .expect("list");
    assert_eq!(stored.items, rows);
    let first = stored
        .items
        .iter()
        .find(|r| r.matched_user_id == expert)
        .expect("row");
    assert_eq!(first.query, "rust engineer");
    assert!((0.0..=1.0).contains(&first.match_score));
    assert!(
        first
            .match_reasons
            .iter()
            .any(|r| r.signal == "keyword" && r.text.starts_with("skills: Rust"))
    );
    assert!(rows.iter().all(|r| r.validate().is_ok()));
}

#[test]
fn feedback_is_recorded_once_and_only_by_the_owner() {
    let mut m = Market::new();
    let expert = m.expert(&Profile::default());
    let viewer = m.client();
    let stranger = m.client();
    let results = m.search(&MatchQuery::text("rust"));
    let row = record_matches(&m.store, viewer, "rust", &results.hits)
        .expect("record")
        .remove(0);
    match record_feedback(&m.store, stranger, row.id, MatchFeedback::Viewed) {
        Err(Error::NotFound { .. }) => {}
        other => panic!("a stranger's feedback: {other:?}"),
    }
    let viewed = record_feedback(&m.store, viewer, row.id, MatchFeedback::Viewed).expect("viewed");
    assert!(viewed.is_viewed && !viewed.is_acted_upon);
    let acted = record_feedback(&m.store, viewer, row.id, MatchFeedback::Acted).expect("acted");
    assert!(acted.is_viewed && acted.is_acted_upon);
    record_feedback(&m.store, viewer, row.id, MatchFeedback::Acted).expect("again");
    let kinds: Vec<InteractionType> = m
        .store
        .interactions()
        .by_target(expert, &PageRequest::first(10))
        .expect("interactions")
        .items
        .iter()
        .map(|i| i.interaction_type)
        .collect();
    assert_eq!(
        kinds,
        [
            InteractionType::SearchImpression,
            InteractionType::View,
            InteractionType::Click
        ],
        "shown, then viewed, then acted upon, each once"
    );
    let stored: AiMatch = m.store.ai_matches().get(row.id).expect("row");
    assert!(stored.is_acted_upon);
}

#[test]
fn acted_upon_matches_feed_popularity() {
    let mut m = Market::new();
    // The feedback below is written at the real time, after the market's fixed `NOW`
    // (rows dated after a matcher's present do not count): this matcher reads the clock.
    m.matcher = Matcher::new(
        m.store.clone(),
        Arc::clone(&m.index),
        MatcherConfig {
            stats_ttl: Duration::ZERO,
            ..MatcherConfig::default()
        },
    );
    let quiet = m.expert(&Profile::default());
    let clicked = m.expert(&Profile::default());
    let before = m.ids(&MatchQuery::text("rust engineer"));
    let viewer = m.client();
    let results = m.search(&MatchQuery::text("rust engineer"));
    let rows = record_matches(&m.store, viewer, "rust engineer", &results.hits).expect("record");
    let row = rows
        .iter()
        .find(|r| r.matched_user_id == clicked)
        .expect("row");
    record_feedback(&m.store, viewer, row.id, MatchFeedback::Acted).expect("acted");
    let after = m.ids(&MatchQuery::text("rust engineer"));
    assert_eq!(
        before,
        [quiet, clicked],
        "ties break by id before any feedback"
    );
    assert_eq!(after, [clicked, quiet]);
}

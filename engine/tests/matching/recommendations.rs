//! Recommendations without a query: similar experts, trending, and for you.

use droply_engine::Error;
use droply_models::InteractionType;

use crate::fixtures::{favorite, interaction};
use crate::market::{Market, Profile};

fn tax() -> Profile {
    Profile {
        profession: "Tax Advisor",
        industry: "Finance",
        skills: ["Tax", "VAT", "Accounting"],
        tags: vec!["audit"],
        bio: "Tax returns for freelancers.",
        ..Profile::default()
    }
}

#[test]
fn similar_experts_are_close_profiles_without_the_expert_itself() {
    let mut m = Market::new();
    let source = m.expert(&tax());
    let twin = m.expert(&tax());
    let other = m.expert(&Profile::default());
    m.settle();
    let similar = m.matcher.similar(source, 10, None).expect("similar");
    let ids: Vec<_> = similar.iter().map(|h| h.expert.id).collect();
    assert!(!ids.contains(&source));
    assert_eq!(ids.first(), Some(&twin), "{ids:?}");
    assert_eq!(similar[0].reasons[0].text, "a similar profile");
    assert!(
        similar
            .iter()
            .flat_map(|h| &h.reasons)
            .all(|r| r.signal != "keyword" && r.signal != "semantic"),
        "no query, so no words or meaning to credit"
    );
    assert!(ids.iter().position(|id| *id == other).is_none_or(|p| p > 0));
    let client = m.client();
    match m.matcher.similar(client, 10, None) {
        Err(Error::NotFound { .. }) => {}
        other => panic!("similar to a client: {other:?}"),
    }
    assert!(matches!(
        m.matcher.similar(source, 0, None),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn trending_follows_last_weeks_engagement() {
    let mut m = Market::new();
    let hot = m.expert(&Profile::default());
    let stale = m.expert(&Profile::default());
    let quiet = m.expert(&Profile::default());
    let client = m.client();
    for day in 20..24 {
        let at = format!("2026-11-{day}T10:00:00Z");
        m.store
            .interactions()
            .create(interaction(client, hot, InteractionType::Click, &at))
            .expect("click");
    }
    for day in 1..9 {
        let at = format!("2026-10-0{day}T10:00:00Z");
        m.store
            .interactions()
            .create(interaction(client, stale, InteractionType::Book, &at))
            .expect("book");
    }
    m.settle();
    let trending = m.matcher.trending(10, None).expect("trending");
    let ids: Vec<_> = trending.iter().map(|h| h.expert.id).collect();
    // A quiet week (one expert) widens the window, but recent engagement still leads.
    assert_eq!(ids, [hot, stale]);
    assert_eq!(trending[0].reasons[0].text, "in demand lately");
    let _ = quiet;
}

#[test]
fn for_you_leans_on_saved_experts_and_leaves_them_out() {
    let mut m = Market::new();
    let saved = m.expert(&tax());
    let near = m.expert(&tax());
    let far = m.expert(&Profile::default());
    let viewer = m.client();
    m.store
        .favorites()
        .create(favorite(viewer, saved, "2026-11-20T10:00:00Z"))
        .expect("favorite");
    m.settle();
    let for_you = m.matcher.for_you(viewer, 10).expect("for you");
    let ids: Vec<_> = for_you.iter().map(|h| h.expert.id).collect();
    assert!(!ids.contains(&saved), "already saved");
    assert_eq!(ids.first(), Some(&near), "{ids:?}");
    assert!(
        for_you[0]
            .reasons
            .iter()
            .any(|r| r.text == "similar to an expert you saved")
    );
    let _ = far;
    // No history yet: trending (nothing this week here, so empty).
    let newcomer = m.client();
    assert!(m.matcher.for_you(newcomer, 10).expect("for you").is_empty());
}

//! The expert text index: field boosts, typo tolerance, filters, updates, and that only
//! ids come back.

use droply_index::{ExpertDoc, ExpertFilters, ExpertTextIndex, PriceRange};
use droply_models::{CategoryId, Currency, UserId};

fn doc(id: u64, profession: &str, skill: &str, bio: &str) -> ExpertDoc {
    ExpertDoc {
        id: UserId::new(id),
        version: id * 10,
        name: format!("Expert {id}"),
        profession: profession.to_owned(),
        bio: bio.to_owned(),
        ranked_skills: [skill.to_owned(), String::new(), String::new()],
        skills_text: String::new(),
        specialty_tags: vec![],
        industry: "Technology".to_owned(),
        location: "Berlin, Germany".to_owned(),
        service_description: String::new(),
        content_description: String::new(),
        category_names: vec![],
        category_ids: vec![CategoryId::new(id % 2 + 1)],
        currency: Some(Currency::EUR),
        hourly_rate_minor: Some(id as i64 * 1000),
        rating: Some(4.0),
        rating_count: id as u32,
        is_available: id.is_multiple_of(2),
        is_featured: false,
        is_bookable: id.is_multiple_of(2),
        session_minutes: 60,
    }
}

fn index() -> (tempfile::TempDir, ExpertTextIndex) {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = ExpertTextIndex::create(&dir.path().join("text")).expect("create");
    index
        .upsert(&[
            doc(1, "Kubernetes Consultant", "Kubernetes", "I run clusters."),
            doc(
                2,
                "Tax Advisor",
                "Accounting",
                "Kubernetes is mentioned only in my bio.",
            ),
            doc(3, "Yoga Teacher", "Meditation", "Calm."),
            doc(4, "Photographer", "Portraits", "Weddings and portraits."),
        ])
        .expect("upsert");
    index.commit(7).expect("commit");
    (dir, index)
}

fn ids(hits: Vec<(UserId, f32)>) -> Vec<u64> {
    hits.into_iter().map(|h| h.0.get()).collect()
}

#[test]
fn profession_and_skills_outrank_the_bio() {
    let (_dir, index) = index();
    assert_eq!(
        ids(index
            .search("kubernetes", &ExpertFilters::default(), 10)
            .expect("search")),
        vec![1, 2]
    );
}

#[test]
fn longer_words_forgive_a_typo() {
    let (_dir, index) = index();
    assert_eq!(
        ids(index
            .search("photographr", &ExpertFilters::default(), 10)
            .expect("search"))
        .first(),
        Some(&4)
    );
    assert!(
        index
            .search("yogo", &ExpertFilters::default(), 10)
            .expect("search")
            .is_empty(),
        "short words stay exact"
    );
}

#[test]
fn filters_restrict_without_changing_the_order() {
    let (_dir, index) = index();
    let available = ExpertFilters {
        available_only: true,
        ..ExpertFilters::default()
    };
    assert_eq!(
        ids(index.search("kubernetes", &available, 10).expect("search")),
        vec![2]
    );
    let price = ExpertFilters {
        prices: vec![PriceRange {
            currency: Currency::EUR,
            min_minor: Some(2000),
            max_minor: Some(3000),
        }],
        ..ExpertFilters::default()
    };
    let mut in_range = ids(index.search("", &price, 10).expect("search"));
    in_range.sort();
    assert_eq!(in_range, vec![2, 3]);
    let other_currency = ExpertFilters {
        prices: vec![PriceRange {
            currency: Currency::USD,
            min_minor: None,
            max_minor: None,
        }],
        ..ExpertFilters::default()
    };
    assert!(
        index
            .search("", &other_currency, 10)
            .expect("search")
            .is_empty()
    );
    let skill = ExpertFilters {
        skills: vec!["MEDITATION".to_owned()],
        ..ExpertFilters::default()
    };
    assert_eq!(ids(index.search("", &skill, 10).expect("search")), vec![3]);
    let category = ExpertFilters {
        categories: vec![CategoryId::new(1)],
        min_rating_count: Some(3),
        ..ExpertFilters::default()
    };
    let mut matching: Vec<u64> = index
        .matching_ids(&category)
        .expect("ids")
        .into_iter()
        .map(|id| id.get())
        .collect();
    matching.sort();
    assert_eq!(matching, vec![4]);
}

#[test]
fn updates_replace_and_removals_delete_and_the_sequence_survives_reopening() {
    let (dir, index) = index();
    index
        .upsert(&[doc(3, "Rust Developer", "Rust", "")])
        .expect("update");
    index.remove(&[UserId::new(4)]).expect("remove");
    index.commit(9).expect("commit");
    assert_eq!(
        ids(index
            .search("rust", &ExpertFilters::default(), 10)
            .expect("search")),
        vec![3]
    );
    assert!(
        index
            .search("yoga", &ExpertFilters::default(), 10)
            .expect("search")
            .is_empty()
    );
    drop(index);
    let reopened = ExpertTextIndex::open(&dir.path().join("text")).expect("reopen");
    assert_eq!(reopened.committed_seq(), 9);
    let mut entries = reopened.entries().expect("entries");
    entries.sort();
    assert_eq!(
        entries,
        vec![
            (UserId::new(1), 10),
            (UserId::new(2), 20),
            (UserId::new(3), 30)
        ]
    );
}

//! The expert text index: field boosts, typo tolerance, filters, updates, and that only
//! ids come back.

use droply_index::{ExpertDoc, ExpertFilters, ExpertTextIndex, FacetField, PriceRange};
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

/// The ids `filters` allow, sorted.
fn allowed(index: &ExpertTextIndex, filters: &ExpertFilters) -> Vec<u64> {
    let mut ids: Vec<u64> = index
        .matching_ids(filters)
        .expect("ids")
        .into_iter()
        .map(|id| id.get())
        .collect();
    ids.sort();
    ids
}

/// Regression: `location = Berlin` compared the whole value, so it missed an expert in
/// "Berlin, Germany".
#[test]
fn a_location_filter_matches_the_whole_location_or_one_of_its_comma_parts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = ExpertTextIndex::create(&dir.path().join("text")).expect("create");
    let located = |id: u64, location: &str| ExpertDoc {
        location: location.to_owned(),
        ..doc(id, "Consultant", "Advice", "")
    };
    index
        .upsert(&[
            located(1, "Berlin, Germany"),
            located(2, "New York, USA"),
            located(3, "New York"),
            located(4, "Paris"),
        ])
        .expect("upsert");
    index.commit(1).expect("commit");
    let at = |locations: &[&str]| ExpertFilters {
        locations: locations.iter().map(|l| (*l).to_owned()).collect(),
        ..ExpertFilters::default()
    };
    let cases: [(&[&str], Vec<u64>); 10] = [
        (&["Berlin"], vec![1]),
        (&["germany"], vec![1]),
        (&["Berlin, Germany"], vec![1]),
        (&[" BERLIN ,germany "], vec![1]),
        (&["Berl"], vec![]),
        (&["New York"], vec![2, 3]),
        (&["USA"], vec![2]),
        (&["York"], vec![]),
        (&["Paris", "Germany"], vec![1, 4]),
        (&["Germany, Berlin"], vec![]),
    ];
    for (locations, expected) in cases {
        assert_eq!(allowed(&index, &at(locations)), expected, "{locations:?}");
    }
    // The facet still counts whole locations, as written.
    let new_york = at(&["New York"][..]);
    let counts = index
        .facet_counts("", &new_york, &[], &[FacetField::Location], 10)
        .expect("facets");
    assert_eq!(counts.total, 2);
    assert_eq!(
        counts.fields,
        vec![(
            FacetField::Location,
            vec![("New York".to_owned(), 1), ("New York, USA".to_owned(), 1)]
        )]
    );
}

/// Regression: an expert without a rate (free sessions) had no rate indexed, so every
/// hourly-rate filter hid them, even `hourly_rate <= 5000`.
#[test]
fn a_price_range_without_a_positive_minimum_keeps_free_experts() {
    let (_dir, index) = index();
    index
        .upsert(&[ExpertDoc {
            hourly_rate_minor: None,
            ..doc(5, "Mentor", "Careers", "Free advice.")
        }])
        .expect("upsert");
    index.commit(8).expect("commit");
    let priced = |min_minor: Option<i64>, max_minor: Option<i64>| ExpertFilters {
        prices: vec![PriceRange {
            currency: Currency::EUR,
            min_minor,
            max_minor,
        }],
        ..ExpertFilters::default()
    };
    // Experts 1-4 charge 10.00 to 40.00 EUR; expert 5 is free.
    assert_eq!(allowed(&index, &priced(None, Some(2000))), vec![1, 2, 5]);
    assert_eq!(allowed(&index, &priced(Some(0), Some(2000))), vec![1, 2, 5]);
    assert_eq!(allowed(&index, &priced(None, None)), vec![1, 2, 3, 4, 5]);
    assert_eq!(allowed(&index, &priced(Some(1), Some(2000))), vec![1, 2]);
    assert_eq!(allowed(&index, &priced(Some(3000), None)), vec![3, 4]);
}

//! Every filter, the facet counts, pagination and the query limits; busy
//! times from an outside calendar follow `bookable_within_days` at once.

use std::sync::Arc;
use std::time::Duration;

use droply_engine::Error;
use droply_engine::calendar::{BusySpan, BusyTimes};
use droply_engine::matching::{
    Budget, ExpertFilters, MatchFilters, MatchQuery, MatchResults, Matcher, MatcherConfig,
};
use droply_index::FacetField;
use droply_models::{CategoryId, Currency, UserId};

use crate::fixtures::{at, exception};
use crate::market::{Market, NOW, Profile, days_from_now};

fn filtered(filters: MatchFilters) -> MatchQuery {
    MatchQuery {
        text: "engineer".to_owned(),
        filters,
        limit: 50,
        ..MatchQuery::default()
    }
}

#[test]
fn list_filters_keep_only_matching_experts() {
    let mut m = Market::new();
    let base = m.expert(&Profile::default());
    let finance = m.expert(&Profile {
        industry: "Finance",
        profession: "Data Engineer",
        skills: ["Python", "Spark", "SQL"],
        tags: vec!["risk"],
        location: "London",
        ..Profile::default()
    });
    let cases: Vec<(MatchFilters, Vec<_>)> = vec![
        (
            MatchFilters::experts(ExpertFilters {
                industries: vec!["finance".to_owned()],
                ..Default::default()
            }),
            vec![finance],
        ),
        (
            MatchFilters::experts(ExpertFilters {
                professions: vec!["Backend Engineer".to_owned()],
                ..Default::default()
            }),
            vec![base],
        ),
        (
            MatchFilters::experts(ExpertFilters {
                locations: vec!["LONDON".to_owned()],
                ..Default::default()
            }),
            vec![finance],
        ),
        (
            MatchFilters::experts(ExpertFilters {
                skills: vec!["Spark".to_owned()],
                ..Default::default()
            }),
            vec![finance],
        ),
        (
            MatchFilters::experts(ExpertFilters {
                specialty_tags: vec!["payments".to_owned()],
                ..Default::default()
            }),
            vec![base],
        ),
        (
            MatchFilters::experts(ExpertFilters {
                skills: vec!["Rust".to_owned(), "SQL".to_owned()],
                ..Default::default()
            }),
            vec![base, finance],
        ),
        (
            MatchFilters::experts(ExpertFilters {
                industries: vec!["Finance".to_owned()],
                skills: vec!["Rust".to_owned()],
                ..Default::default()
            }),
            vec![],
        ),
    ];
    for (filters, expected) in cases {
        let mut ids = m.ids(&filtered(filters.clone()));
        ids.sort();
        assert_eq!(ids, expected, "{filters:?}");
    }
}

#[test]
fn categories_ratings_availability_and_featured_filter() {
    let mut m = Market::new();
    let rated = m.expert(&Profile {
        rating: Some((46, 10)),
        featured: true,
        ..Profile::default()
    });
    let unrated = m.expert(&Profile {
        available: false,
        ..Profile::default()
    });
    let mut user = m.store.users().get(rated).expect("user");
    user.content_categories = vec![CategoryId::new(7)];
    m.store.users().update(user).expect("update");
    let only = |filters: MatchFilters| m.ids(&filtered(filters));
    assert_eq!(
        only(MatchFilters::experts(ExpertFilters {
            min_rating: Some(4.5),
            ..Default::default()
        })),
        [rated]
    );
    assert_eq!(
        only(MatchFilters::experts(ExpertFilters {
            available_only: true,
            ..Default::default()
        })),
        [rated]
    );
    assert_eq!(
        only(MatchFilters::experts(ExpertFilters {
            featured_only: true,
            ..Default::default()
        })),
        [rated]
    );
    assert_eq!(
        only(MatchFilters::experts(ExpertFilters {
            categories: vec![CategoryId::new(7)],
            ..Default::default()
        })),
        [rated]
    );
    assert_eq!(m.ids(&filtered(MatchFilters::default())).len(), 2);
    let _ = unrated;
}

#[test]
fn a_budget_in_one_currency_reads_rates_in_others() {
    let mut m = Market::new();
    // Default table: 1 EUR = 1.08 USD, 1 GBP = 1.27 USD.
    let cheap_eur = m.expert(&Profile {
        rate: Some((5_000, Currency::EUR)),
        ..Profile::default()
    });
    let usd_100 = m.expert(&Profile {
        rate: Some((10_000, Currency::USD)),
        ..Profile::default()
    });
    let dear_gbp = m.expert(&Profile {
        rate: Some((20_000, Currency::GBP)),
        ..Profile::default()
    });
    let free = m.expert(&Profile {
        rate: None,
        ..Profile::default()
    });
    let budget = |min, max| MatchFilters {
        budget: Some(Budget {
            currency: Currency::EUR,
            min_minor: min,
            max_minor: max,
        }),
        ..Default::default()
    };
    let mut ids = m.ids(&filtered(budget(None, Some(10_000))));
    ids.sort();
    // 100 USD = 92.59 EUR is within 100 EUR; 200 GBP = 235 EUR is not; free is.
    assert_eq!(ids, [cheap_eur, usd_100, free]);
    let mut ids = m.ids(&filtered(budget(Some(1), Some(10_000))));
    ids.sort();
    assert_eq!(
        ids,
        [cheap_eur, usd_100],
        "a positive minimum leaves free out"
    );
    assert_eq!(m.ids(&filtered(budget(Some(20_000), None))), [dear_gbp]);
    let results = m.search(&filtered(budget(None, Some(10_000))));
    for hit in &results.hits {
        assert!(
            hit.reasons.iter().any(|r| r.text == "within your budget"),
            "{:?}",
            hit.reasons
        );
    }
}

#[test]
fn bookable_within_days_needs_an_open_slot_in_time() {
    let mut m = Market::new();
    let open = m.expert(&Profile::default());
    m.open_weekdays(open);
    let blocked = m.expert(&Profile::default());
    m.open_weekdays(blocked);
    let mut block = exception(blocked, "2026-11-01T00:00:00Z", "2026-12-08T00:00:00Z");
    block.is_blocked = true;
    m.store
        .availability_exceptions()
        .create(block)
        .expect("exception");
    let _no_rules = m.expert(&Profile::default());
    let within = |days| {
        m.ids(&filtered(MatchFilters {
            bookable_within_days: Some(days),
            ..Default::default()
        }))
    };
    assert_eq!(within(7), [open], "blocked until 8 Dec, no rules at all");
    let mut both = within(30);
    both.sort();
    assert_eq!(both, [open, blocked]);
    // The blocked expert's first open slot is Tuesday 8 Dec 08:00 in Berlin (07:00 UTC):
    // past a 13-day deadline (7 Dec 09:00 UTC), within a 14-day one (8 Dec 09:00 UTC).
    let first_slot = at("2026-12-08T07:00:00Z");
    assert!(days_from_now(13) < first_slot && first_slot <= days_from_now(14));
    assert_eq!(
        within(13),
        [open],
        "the first slot after the block is past 13 days"
    );
    let mut fourteen = within(14);
    fourteen.sort();
    assert_eq!(
        fourteen,
        [open, blocked],
        "the first slot after the block is within 14 days"
    );
}

#[test]
fn busy_times_from_google_follow_bookable_within_days_at_once() {
    let mut m = Market::new();
    let busy = m.expert(&Profile::default());
    m.open_weekdays(busy);
    m.settle();
    // Stats kept for an hour: only the change feed can refresh them.
    let matcher = Matcher::new(
        m.store.clone(),
        Arc::clone(&m.index),
        MatcherConfig {
            now: Some(at(NOW)),
            stats_ttl: Duration::from_secs(3600),
            ..MatcherConfig::default()
        },
    );
    let within_a_week = || -> Vec<UserId> {
        let query = filtered(MatchFilters {
            bookable_within_days: Some(7),
            ..Default::default()
        });
        let results = matcher.search(&query).expect("search");
        results.hits.iter().map(|h| h.expert.id).collect()
    };
    assert_eq!(within_a_week(), [busy]);
    // A sync stores Google's busy times: the whole next two weeks.
    let spans = vec![BusySpan {
        start: at("2026-11-01T00:00:00Z"),
        end: at("2026-12-08T00:00:00Z"),
    }];
    m.store
        .write(|txn| {
            txn.put(BusyTimes {
                user_id: busy,
                spans,
                synced_at: at(NOW),
            })
        })
        .expect("busy times");
    assert!(within_a_week().is_empty(), "busy until 8 Dec");
    // Disconnecting forgets them: bookable again at once.
    m.store
        .write(|txn| txn.delete::<BusyTimes>(busy))
        .expect("forget");
    assert_eq!(within_a_week(), [busy]);
}

/// Three engineers (two in Berlin, one in Paris) and a gardener in Paris.
fn engineers_and_a_gardener() -> Market {
    let mut m = Market::new();
    for location in ["Berlin", "Berlin", "Paris"] {
        m.expert(&Profile {
            location,
            ..Profile::default()
        });
    }
    m.expert(&Profile {
        profession: "Gardener",
        industry: "Home",
        skills: ["Roses", "Hedges", "Lawns"],
        tags: vec!["outdoor"],
        location: "Paris",
        ..Profile::default()
    });
    m
}

#[test]
fn facets_count_values_among_matched_experts() {
    let m = engineers_and_a_gardener();
    let results = m.search(&MatchQuery {
        text: "engineer".to_owned(),
        semantic_ratio: 0.0,
        facets: vec![
            FacetField::Location,
            FacetField::Skills,
            FacetField::Currency,
        ],
        ..MatchQuery::default()
    });
    assert_eq!(results.total, 3);
    let facet = |field| {
        results
            .facets
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, values)| values.clone())
            .expect("facet")
    };
    assert_eq!(
        facet(FacetField::Location),
        [("Berlin".to_owned(), 2), ("Paris".to_owned(), 1)]
    );
    assert_eq!(
        facet(FacetField::Skills),
        [
            ("Kubernetes".to_owned(), 3),
            ("PostgreSQL".to_owned(), 3),
            ("Rust".to_owned(), 3)
        ]
    );
    assert_eq!(facet(FacetField::Currency), [("EUR".to_owned(), 3)]);
    // Filters narrow the counts too.
    let paris = m.search(&MatchQuery {
        filters: MatchFilters::experts(ExpertFilters {
            locations: vec!["Paris".to_owned()],
            ..Default::default()
        }),
        facets: vec![FacetField::Industry],
        ..MatchQuery::default()
    });
    assert_eq!(paris.total, 2);
    assert_eq!(
        paris.facets[0].1,
        [("Home".to_owned(), 1), ("Technology".to_owned(), 1)]
    );
}

#[test]
fn hybrid_facets_count_the_words_matches_and_the_vector_hits_without_moving_the_ranking() {
    let m = engineers_and_a_gardener();
    let hybrid = |facets: Vec<FacetField>| {
        m.search(&MatchQuery {
            text: "engineer".to_owned(),
            semantic_ratio: 0.5,
            facets,
            ..MatchQuery::default()
        })
    };
    let counted = hybrid(vec![FacetField::Location, FacetField::Industry]);
    // The words match the three engineers; the gardener comes by meaning alone.
    assert_eq!(counted.total, 4);
    assert_eq!(
        counted.facets,
        vec![
            (
                FacetField::Location,
                vec![("Berlin".to_owned(), 2), ("Paris".to_owned(), 2)]
            ),
            (
                FacetField::Industry,
                vec![("Technology".to_owned(), 3), ("Home".to_owned(), 1)]
            ),
        ]
    );
    // Counting in the words' pass leaves the ranking as it is without counts.
    let plain = hybrid(Vec::new());
    let order = |results: &MatchResults| -> Vec<(UserId, f32)> {
        results
            .hits
            .iter()
            .map(|hit| (hit.expert.id, hit.score))
            .collect()
    };
    assert_eq!(order(&counted), order(&plain));
}

#[test]
fn pages_split_one_ranking_without_overlap() {
    let mut m = Market::new();
    // More candidates than one re-ranking covers, with ratings (a signal) that reorder
    // them, and words that give the same relevance to all.
    for i in 0..70 {
        let rating = Some((10 + (i * 7) % 41, 10));
        m.expert(&Profile {
            rating,
            ..Profile::default()
        });
    }
    let page = |offset, limit| {
        m.ids(&MatchQuery {
            text: "rust engineer".to_owned(),
            offset,
            limit,
            ..MatchQuery::default()
        })
    };
    let first_thirty = page(0, 30);
    assert_eq!(first_thirty.len(), 30);
    let mut joined = page(0, 10);
    joined.extend(page(10, 10));
    joined.extend(page(20, 10));
    assert_eq!(joined, first_thirty, "paging through is one ranking");
    let unique: std::collections::HashSet<_> = joined.iter().collect();
    assert_eq!(unique.len(), 30, "no expert twice");
    // Regression: pages of the default size were re-ranked in windows of 50, 60 and
    // 80 candidates, so page 2 came from another ranking than page 1.
    let first_sixty = page(0, 60);
    let mut joined = page(0, 20);
    joined.extend(page(20, 20));
    joined.extend(page(40, 20));
    assert_eq!(joined, first_sixty, "default pages are one ranking");
    assert_eq!(page(60, 10).len(), 10);
    assert!(page(70, 10).is_empty());
}

#[test]
fn out_of_range_requests_are_invalid() {
    let m = Market::new();
    let bad = [
        MatchQuery {
            limit: 0,
            ..MatchQuery::default()
        },
        MatchQuery {
            limit: 101,
            ..MatchQuery::default()
        },
        MatchQuery {
            offset: 1001,
            ..MatchQuery::default()
        },
        MatchQuery {
            semantic_ratio: 1.5,
            ..MatchQuery::default()
        },
        MatchQuery {
            text: "x".repeat(501),
            ..MatchQuery::default()
        },
        MatchQuery {
            filters: MatchFilters::experts(ExpertFilters {
                min_rating: Some(6.0),
                ..Default::default()
            }),
            ..MatchQuery::default()
        },
        MatchQuery {
            filters: MatchFilters {
                budget: Some(Budget {
                    currency: Currency::EUR,
                    min_minor: Some(10),
                    max_minor: Some(5),
                }),
                ..Default::default()
            },
            ..MatchQuery::default()
        },
        MatchQuery {
            filters: MatchFilters {
                bookable_within_days: Some(0),
                ..Default::default()
            },
            ..MatchQuery::default()
        },
    ];
    for query in bad {
        match m.matcher.search(&query) {
            Err(Error::Invalid(message)) => assert!(!message.is_empty()),
            other => panic!("{query:?} gave {other:?}"),
        }
    }
}

/// Regression: an anonymous search at offset 1000 re-ranked ~1,100 experts
/// from cold; pages now end at offset 200.
#[test]
fn a_search_deeper_than_offset_200_is_refused() {
    let at = |offset| {
        MatchQuery {
            offset,
            ..MatchQuery::default()
        }
        .validate()
    };
    assert!(at(200).is_ok());
    assert!(matches!(at(201), Err(droply_engine::Error::Invalid(m)) if m.contains("offset")));
}

//! Cold stats: one request reads at most `cold_stats_per_request` experts' track
//! records from the store (the rest rank on relevance and their row's signals, a
//! calendar filter stops at them, and later requests read them in turn), and the
//! stats saved at shutdown warm the next start, but for experts changed since.

use std::sync::Arc;
use std::time::Duration;

use droply_engine::matching::{
    MatchFilters, MatchQuery, MatchResults, Matcher, MatcherConfig, Signal,
};
use droply_models::UserId;

use crate::fixtures::{at, full_booking};
use crate::market::{Market, NOW, Profile};

/// A matcher over `m` that reads at most `cold` experts' stats per request.
fn matcher(m: &Market, cold: usize) -> Matcher {
    Matcher::new(
        m.store.clone(),
        Arc::clone(&m.index),
        MatcherConfig {
            now: Some(at(NOW)),
            stats_ttl: Duration::from_secs(3600),
            cold_stats_per_request: cold,
            ..MatcherConfig::default()
        },
    )
}

/// A matcher over `m` that reads at most two experts' stats per request.
fn frugal(m: &Market) -> Matcher {
    matcher(m, 2)
}

fn query(filters: MatchFilters) -> MatchQuery {
    MatchQuery {
        text: "rust engineer".to_owned(),
        filters,
        limit: 50,
        ..MatchQuery::default()
    }
}

/// The hits ranked with their track record (availability is one of its signals).
fn with_record(results: &MatchResults) -> usize {
    results
        .hits
        .iter()
        .filter(|hit| {
            hit.contributions
                .iter()
                .any(|c| c.signal == Signal::Availability)
        })
        .count()
}

fn six_experts(m: &mut Market) -> Vec<UserId> {
    let rated = Profile {
        rating: Some((45, 10)),
        ..Profile::default()
    };
    let experts: Vec<UserId> = (0..6).map(|_| m.expert(&rated)).collect();
    for expert in &experts {
        m.open_weekdays(*expert);
    }
    m.settle();
    experts
}

#[test]
fn a_request_reads_at_most_its_budget_of_track_records() {
    let mut m = Market::new();
    six_experts(&mut m);
    let matcher = frugal(&m);
    let search = || {
        matcher
            .search(&query(MatchFilters::default()))
            .expect("search")
    };
    let first = search();
    assert_eq!(first.hits.len(), 6, "every candidate is still ranked");
    assert_eq!(with_record(&first), 2);
    let rated_without_record = first
        .hits
        .iter()
        .find(|hit| {
            !hit.contributions
                .iter()
                .any(|c| c.signal == Signal::Availability)
        })
        .expect("a hit past the budget");
    assert!(
        rated_without_record
            .contributions
            .iter()
            .any(|c| c.signal == Signal::Rating),
        "the row's signals still count: {:?}",
        rated_without_record.contributions
    );
    assert_eq!(with_record(&search()), 4, "the next request reads two more");
    assert_eq!(with_record(&search()), 6);
}

#[test]
fn a_calendar_filter_stops_where_the_budget_ends() {
    let mut m = Market::new();
    let experts = six_experts(&mut m);
    let matcher = frugal(&m);
    let bookable = query(MatchFilters {
        bookable_within_days: Some(7),
        ..MatchFilters::default()
    });
    let count = || matcher.search(&bookable).expect("search").hits.len();
    assert_eq!(count(), 2, "only experts whose calendar was read are shown");
    assert_eq!(count(), 4);
    assert_eq!(count(), experts.len());
}

#[test]
fn saved_stats_warm_the_next_start_but_for_experts_changed_since() {
    let mut m = Market::new();
    let experts = six_experts(&mut m);
    let client = m.client();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stats.bin");
    let first = matcher(&m, 100);
    assert_eq!(
        with_record(
            &first
                .search(&query(MatchFilters::default()))
                .expect("search")
        ),
        6
    );
    assert_eq!(first.save_stats(&path).expect("save"), 6);
    drop(first);

    let booked = experts[2];
    m.store
        .bookings()
        .create(full_booking(client, booked, "2026-11-10T10:00:00Z"))
        .expect("booking");
    m.settle();
    // The next start reads no stats of its own: what it knows was loaded.
    let second = matcher(&m, 0);
    assert_eq!(second.load_stats(&path).expect("load"), 5);
    let results = second
        .search(&query(MatchFilters::default()))
        .expect("search");
    assert_eq!(with_record(&results), 5);
    let cold: Vec<UserId> = results
        .hits
        .iter()
        .filter(|hit| {
            !hit.contributions
                .iter()
                .any(|c| c.signal == Signal::Availability)
        })
        .map(|hit| hit.expert.id)
        .collect();
    assert_eq!(cold, [booked], "the booked expert's saved stats are stale");
}

#[test]
fn saved_stats_are_dropped_when_the_feed_no_longer_reaches_back() {
    let mut m = Market::new();
    six_experts(&mut m);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stats.bin");
    let first = matcher(&m, 100);
    first
        .search(&query(MatchFilters::default()))
        .expect("search");
    assert_eq!(first.save_stats(&path).expect("save"), 6);
    m.client();
    m.store
        .truncate_changes(m.store.last_seq())
        .expect("truncate");
    let second = matcher(&m, 0);
    assert_eq!(
        second.load_stats(&path).expect("load"),
        0,
        "what changed since is unknown"
    );
    std::fs::write(&path, b"DRPLYST1 damaged").expect("damage");
    assert_eq!(matcher(&m, 0).load_stats(&path).expect("load"), 0);
}

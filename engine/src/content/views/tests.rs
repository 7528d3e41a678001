//! Counting views over each store backend: once per viewer per UTC day,
//! once across every counter over one store (another node, or this one
//! after a restart), the bound, the sweep of past days, and rows that hold
//! no viewer in clear.

use std::net::Ipv4Addr;
use std::sync::Barrier;

use droply_models::{ContentType, Currency, Money};

use super::*;
use crate::content::{NewContent, create};
use crate::records::on_both_backends;
use crate::store::Record;

const ANON_OCTETS: [u8; 4] = [198, 51, 100, 7];
const ANON: Viewer = Viewer::Address(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)));

/// Noon UTC, far from a day's edges.
fn noon() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-30T12:00:00Z").expect("noon")
}

fn user(id: u64) -> Viewer {
    Viewer::User(UserId::new(id))
}

/// Two drafts of one creator (counting does not look at the status; the
/// engine counts published content only).
fn two_guides(store: &Store) -> (ContentId, ContentId) {
    store
        .write(|txn| {
            let ann = txn.create(crate::test_rows::user("ann", ""))?;
            let guide = || NewContent {
                title: "A guide".to_owned(),
                description: String::new(),
                content_type: ContentType::Document,
                price: Money::zero(Currency::EUR),
                category_id: None,
            };
            let one = create(txn, ann.id, guide())?;
            let two = create(txn, ann.id, guide())?;
            Ok((one.id, two.id))
        })
        .expect("content")
}

fn views(store: &Store, content: ContentId) -> u64 {
    store.require::<Content>(content).expect("content").views
}

fn a_viewer_counts_once_a_day(store: &Store, _: Option<&str>) {
    let (one, two) = two_guides(store);
    let counter = ViewCounter::new(store.clone(), 100);
    let first = counter.count(one, user(7), noon()).expect("count");
    assert_eq!(first.map(|row| row.views), Some(1));
    assert_eq!(
        counter
            .count(one, user(7), noon().plus_minutes(60))
            .expect("count"),
        None
    );
    assert!(counter.count(one, ANON, noon()).expect("count").is_some());
    assert!(
        counter
            .count(two, user(7), noon())
            .expect("count")
            .is_some()
    );
    assert_eq!((views(store, one), views(store, two)), (2, 1));
    assert!(
        counter
            .count(one, user(7), noon().plus_days(1))
            .expect("count")
            .is_some(),
        "a new day"
    );
    assert_eq!(views(store, one), 3);
    assert!(store.verify_integrity().expect("verify").is_consistent());
}

/// Regression: who was counted was each process's own memory, so a viewer
/// counted once per node a day, and again after a restart.
fn another_node_and_a_restart_count_a_viewer_once(store: &Store, url: Option<&str>) {
    let (one, _) = two_guides(store);
    // A second node over the same database, or (sled, one process) this
    // node's counter made anew, as after a restart.
    let other = match url {
        Some(url) => Store::open_postgres(url).expect("a second node"),
        None => store.clone(),
    };
    let first = ViewCounter::new(store.clone(), 100);
    let second = ViewCounter::new(other, 100);
    assert!(first.count(one, ANON, noon()).expect("count").is_some());
    assert_eq!(second.count(one, ANON, noon()).expect("count"), None);
    assert!(second.count(one, user(7), noon()).expect("count").is_some());
    assert_eq!(first.count(one, user(7), noon()).expect("count"), None);
    assert_eq!(views(store, one), 2);
}

fn anonymous(address: &str) -> Viewer {
    Viewer::Address(address.parse().expect("an address"))
}

/// Regression: an anonymous viewer was its full IPv6 address, so one host
/// holding a /64 counted once per address (the rate limits group it by /64)
/// and could use up the day's capacity.
fn ipv6_viewers_in_one_slash_64_count_once(store: &Store, _: Option<&str>) {
    let (one, _) = two_guides(store);
    let counter = ViewCounter::new(store.clone(), 100);
    assert!(
        counter
            .count(one, anonymous("2001:db8::1"), noon())
            .expect("count")
            .is_some()
    );
    assert_eq!(
        counter
            .count(one, anonymous("2001:db8::2"), noon())
            .expect("count"),
        None,
        "the same /64"
    );
    assert!(
        counter
            .count(one, anonymous("2001:db8:0:1::1"), noon())
            .expect("count")
            .is_some(),
        "another /64"
    );
    // An IPv4-mapped address is its IPv4 address.
    assert!(counter.count(one, ANON, noon()).expect("count").is_some());
    let mapped = Viewer::Address(IpAddr::V6(Ipv4Addr::new(198, 51, 100, 7).to_ipv6_mapped()));
    assert_eq!(counter.count(one, mapped, noon()).expect("count"), None);
    assert_eq!(views(store, one), 3);
}

fn past_the_bound_views_are_not_counted(store: &Store, _: Option<&str>) {
    let (one, _) = two_guides(store);
    let counter = ViewCounter::new(store.clone(), 2);
    let yesterday = noon().plus_days(-1);
    for id in 1..=2 {
        assert!(
            counter
                .count(one, user(id), yesterday)
                .expect("count")
                .is_some()
        );
    }
    // Yesterday's rows lapsed: they make room for today's.
    for id in 1..=2 {
        assert!(
            counter
                .count(one, user(id), noon())
                .expect("count")
                .is_some()
        );
    }
    assert_eq!(
        counter.count(one, user(3), noon()).expect("count"),
        None,
        "over the bound: not counted"
    );
    assert_eq!(views(store, one), 4);
    assert_eq!(store.count::<CountedView>(), 2);
}

/// Regression: the bound was checked before the write, so first views
/// arriving at once with one place left all passed the check and all
/// counted, keeping more than `capacity` rows.
fn first_views_at_once_with_one_place_left_count_once(store: &Store, _: Option<&str>) {
    let (one, _) = two_guides(store);
    let counter = ViewCounter::new(store.clone(), 1);
    for round in 0..20_i64 {
        // Each round a day later, the day before swept: one place left.
        let day = noon().plus_days(round);
        sweep_counted_views(store, day).expect("sweep");
        assert_eq!(store.count::<CountedView>(), 0, "round {round}");
        let barrier = Barrier::new(2);
        let counted: Vec<bool> = std::thread::scope(|scope| {
            let racers: Vec<_> = [user(1), user(2)]
                .into_iter()
                .map(|viewer| {
                    let (counter, barrier) = (&counter, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        counter.count(one, viewer, day).expect("count").is_some()
                    })
                })
                .collect();
            racers
                .into_iter()
                .map(|racer| racer.join().expect("a racer"))
                .collect()
        });
        assert_eq!(
            counted.iter().filter(|won| **won).count(),
            1,
            "round {round}: exactly one first view counts"
        );
        assert_eq!(store.count::<CountedView>(), 1, "round {round}");
    }
    assert_eq!(views(store, one), 20);
}

fn days_gone_by_are_swept(store: &Store, _: Option<&str>) {
    let (one, _) = two_guides(store);
    let counter = ViewCounter::new(store.clone(), 100);
    for id in 1..=3 {
        assert!(
            counter
                .count(one, user(id), noon().plus_days(-1))
                .expect("count")
                .is_some()
        );
    }
    assert!(
        counter
            .count(one, user(1), noon())
            .expect("count")
            .is_some()
    );
    assert_eq!(sweep_counted_views(store, noon()).expect("sweep"), 3);
    assert_eq!(store.count::<CountedView>(), 1);
    assert_eq!(
        counter.count(one, user(1), noon()).expect("count"),
        None,
        "today's view stays counted"
    );
    assert_eq!(sweep_counted_views(store, noon()).expect("again"), 0);
    assert!(store.verify_integrity().expect("verify").is_consistent());
}

fn no_viewer_is_kept_in_clear(store: &Store, url: Option<&str>) {
    let (one, _) = two_guides(store);
    let counter = ViewCounter::new(store.clone(), 100);
    assert!(counter.count(one, ANON, noon()).expect("count").is_some());
    // What each backend keeps: the row (sled's codec, PostgreSQL's JSON),
    // its unique key and its index key.
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for row in store.iter::<CountedView>() {
        let row = row.expect("row");
        kept.push(row.encode().expect("sled's form"));
        kept.push(serde_json::to_vec(&row).expect("PostgreSQL's form"));
        kept.extend(row.unique_entries().into_iter().map(|entry| entry.key));
        kept.extend(row.index_entries().into_iter().map(|entry| entry.prefix));
    }
    assert_eq!(kept.len(), 4, "one view, one row");
    if let Some(url) = url {
        // The tables as the database holds them.
        let mut sql = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        for query in [
            "SELECT convert_to(to_jsonb(t)::text, 'UTF8') FROM counted_view AS t",
            "SELECT key FROM uniq_counted_view",
            "SELECT key FROM idx_counted_views_by_expiry",
        ] {
            let rows = sql.query(query, &[]).expect("read");
            assert_eq!(rows.len(), 1, "{query}");
            kept.extend(rows.iter().map(|row| row.get::<_, Vec<u8>>(0)));
        }
    }
    for bytes in &kept {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("198.51.100.7"), "{text}");
        assert!(
            !bytes.windows(4).any(|four| four == ANON_OCTETS),
            "{bytes:?}"
        );
    }
}

on_both_backends!(
    a_viewer_counts_once_a_day,
    another_node_and_a_restart_count_a_viewer_once,
    ipv6_viewers_in_one_slash_64_count_once,
    past_the_bound_views_are_not_counted,
    first_views_at_once_with_one_place_left_count_once,
    days_gone_by_are_swept,
    no_viewer_is_kept_in_clear,
);

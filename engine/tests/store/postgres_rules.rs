//! What PostgreSQL enforces by itself, beneath the engine's own checks: no
//! two confirmed bookings of one provider overlap (an exclusion
//! constraint), emails are unique case-insensitively (a unique index),
//! index entries point at rows (foreign keys); and the schema has a table
//! for every tree the store keeps. Of the nodes sharing a database, one at a
//! time leads the store-wide jobs.

use droply_engine::Error;
use droply_engine::store::{StoreLocation, TreeId};
use droply_models::BookingStatus;

use crate::fixtures::*;

fn postgres_place() -> (StorePlace, postgres::Client) {
    let place = StorePlace::new(Backend::Postgres);
    let StoreLocation::Postgres(url) = &place.location else {
        unreachable!("a PostgreSQL place")
    };
    let client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    (place, client)
}

#[test]
fn overlapping_confirmed_bookings_are_refused_by_the_database() {
    let (place, _) = postgres_place();
    let store = place.open();
    let (client, expert) = two_users(&store);
    let mut first = full_booking(client.id, expert.id, "2026-10-05T09:00:00Z");
    first.status = BookingStatus::Confirmed;
    store.bookings().create(first.clone()).expect("first");
    // Half an hour later, overlapping: the store's own layer does not check
    // slots (the booking rules above it do), so only the database stops it.
    let mut overlapping = full_booking(client.id, expert.id, "2026-10-05T09:30:00Z");
    overlapping.status = BookingStatus::Confirmed;
    let err = store
        .bookings()
        .create(overlapping.clone())
        .expect_err("overlap");
    assert!(matches!(err, Error::SlotUnavailable), "{err}");
    assert_eq!(
        store.bookings().count(),
        1,
        "nothing of the refused write stays"
    );
    // Cancelled bookings hold no slot; back-to-back ones do not overlap.
    overlapping.status = BookingStatus::Cancelled;
    store
        .bookings()
        .create(overlapping)
        .expect("a cancelled one");
    let mut next = full_booking(client.id, expert.id, "2026-10-05T10:00:00Z");
    next.status = BookingStatus::Confirmed;
    store.bookings().create(next).expect("back to back");
    assert!(store.verify_integrity().expect("check").is_consistent());
}

#[test]
fn emails_are_unique_in_the_database_whatever_their_case() {
    let (place, mut sql) = postgres_place();
    let store = place.open();
    let ann = store.users().create(full_user("ann")).expect("ann");
    let body: String = sql
        .query_one(
            "SELECT body::text FROM \"user\" WHERE id = $1",
            &[&(ann.id.get() as i64)],
        )
        .expect("row")
        .get(0);
    let mut twin: serde_json::Value = serde_json::from_str(&body).expect("json");
    twin["id"] = 999.into();
    twin["username"] = "ann_twin".into();
    twin["referral_code"] = "TWIN0001".into();
    twin["email"] = ann.email.as_str().to_uppercase().into();
    let err = sql
        .execute(
            "INSERT INTO \"user\" (id, body) VALUES (999, $1::text::jsonb)",
            &[&twin.to_string()],
        )
        .expect_err("the same email in capitals");
    let db = err.as_db_error().expect("a database error");
    assert_eq!(db.constraint(), Some("user_email_key"));
}

#[test]
fn index_entries_must_point_at_rows() {
    let (_place, mut sql) = postgres_place();
    drop(_place.open());
    let err = sql
        .batch_execute(
            "BEGIN; INSERT INTO idx_experts (key, id) VALUES ('\\x0000000000000063', 99); COMMIT;",
        )
        .expect_err("an entry without its row");
    assert!(err.as_db_error().is_some(), "{err}");
}

#[test]
fn every_tree_has_its_table() {
    let (place, mut sql) = postgres_place();
    drop(place.open());
    let tables: Vec<String> = sql
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .expect("tables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    for tree in TreeId::all() {
        let table = match tree {
            TreeId::Entity(kind) => kind.name().to_owned(),
            TreeId::Index(index) => index.name().replace('/', "_"),
            TreeId::Unique(unique) => format!("uniq_{}", unique.field()),
            TreeId::Changes => "changes".to_owned(),
            TreeId::Meta => "meta".to_owned(),
        };
        assert!(tables.contains(&table), "no table for {}", tree.name());
    }
}

#[test]
fn one_node_at_a_time_leads_the_jobs_and_another_takes_over_when_it_is_gone() {
    let (place, _) = postgres_place();
    let first = place.open();
    let second = place.open();
    assert!(first.leads_jobs().expect("ask"), "a free lease is taken");
    assert!(first.leads_jobs().expect("ask again"), "and kept");
    assert!(!second.leads_jobs().expect("ask"), "a held lease is not");
    // The leader's connection closes with it; the lease goes with it.
    drop(first);
    let started = std::time::Instant::now();
    while !second.leads_jobs().expect("ask") {
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let third = place.open();
    assert!(!third.leads_jobs().expect("ask"));
    // sled is opened by one process: it always leads its own jobs.
    let sled = StorePlace::new(Backend::Sled).open();
    assert!(sled.leads_jobs().expect("ask"));
}

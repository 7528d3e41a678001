//! What PostgreSQL enforces by itself, beneath the engine's own checks: no
//! two confirmed bookings of one provider overlap (an exclusion
//! constraint), emails are unique case-insensitively (a unique index),
//! index entries point at rows (foreign keys); and the schema has a table
//! for every tree the store keeps, with a typed column per field. Of the
//! nodes sharing a database, one at a time leads the store-wide jobs.

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
    // A copy of ann's row with her email in capitals, written by SQL alone.
    let err = sql
        .execute(
            "INSERT INTO \"user\"
             SELECT (jsonb_populate_record(ann, jsonb_build_object(
               'id', 999, 'username', 'ann_twin', 'referral_code', 'TWIN0001',
               'email', upper(ann.email)))).*
             FROM \"user\" AS ann WHERE ann.id = $1",
            &[&(ann.id.get() as i64)],
        )
        .expect_err("the same email in capitals");
    let db = err.as_db_error().expect("a database error");
    assert_eq!(db.constraint(), Some("user_email_key"));
}

#[test]
fn every_field_is_a_typed_column() {
    let (place, mut sql) = postgres_place();
    let store = place.open();
    let ann = store.users().create(full_user("ann")).expect("ann");
    let row = sql
        .query_one(
            "SELECT full_name, (hourly_rate).amount_minor, (hourly_rate).currency,
                    extract(epoch FROM created_at)::bigint, specialty_tags, is_available
             FROM \"user\" WHERE id = $1",
            &[&(ann.id.get() as i64)],
        )
        .expect("ann's columns");
    let rate = ann.hourly_rate.expect("full_user has a rate");
    assert_eq!(row.get::<_, String>(0), ann.full_name);
    assert_eq!(row.get::<_, i64>(1), rate.amount_minor);
    assert_eq!(row.get::<_, String>(2), rate.currency.as_str());
    assert_eq!(row.get::<_, i64>(3), ann.created_at.as_micros() / 1_000_000);
    assert_eq!(row.get::<_, Vec<String>>(4), ann.specialty_tags);
    assert_eq!(row.get::<_, bool>(5), ann.is_available);
    // The database checks each column's type: a word is no instant.
    let refused = sql.execute(
        "UPDATE \"user\" SET created_at = 'soon' WHERE id = $1",
        &[&(ann.id.get() as i64)],
    );
    assert!(refused.is_err(), "not an instant");
    let refused = sql.execute(
        "UPDATE \"user\" SET full_name = NULL WHERE id = $1",
        &[&(ann.id.get() as i64)],
    );
    assert!(refused.is_err(), "a field that is not optional is NOT NULL");
    let refused = sql.execute(
        "UPDATE \"user\" SET referred_by = 999999 WHERE id = $1",
        &[&(ann.id.get() as i64)],
    );
    let err = refused.expect_err("a referrer that does not exist");
    assert_eq!(
        err.as_db_error().and_then(|db| db.constraint()),
        Some("user_referred_by_fkey")
    );
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

/// The jobs lease's advisory lock key, as `pg_locks` shows it: the high
/// half of the engine's `bigint` key as `classid`, the low half as `objid`.
const JOBS_LOCK: i64 = 0x6472_6f70_6c79_0003;

/// The leader's session was ended by the database (as PostgreSQL does for
/// a client it finds gone, or an operator does): another node takes the
/// lease, and the old leader's next check says it lost it.
#[test]
fn a_leader_whose_session_the_database_ended_has_lost_the_lease() {
    let (place, mut sql) = postgres_place();
    let first = place.open();
    let second = place.open();
    assert!(first.leads_jobs().expect("ask"), "a free lease is taken");
    assert!(!second.leads_jobs().expect("ask"), "a held lease is not");
    let (high, low) = ((JOBS_LOCK >> 32) as u32, JOBS_LOCK as u32);
    let holders: Vec<i32> = sql
        .query(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND classid = $1 AND objid = $2 AND objsubid = 1",
            &[&high, &low],
        )
        .expect("holders")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(holders.len(), 1, "one session holds the lease: {holders:?}");
    let ended: bool = sql
        .query_one("SELECT pg_terminate_backend($1)", &[&holders[0]])
        .expect("terminate")
        .get(0);
    assert!(ended);
    let started = std::time::Instant::now();
    while !second.leads_jobs().expect("ask") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the ended session's lock is let go"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !first.leads_jobs().expect("ask"),
        "the old leader has lost the lease"
    );
    assert!(second.leads_jobs().expect("ask"), "the new one keeps it");
}

#[test]
fn rows_kept_as_json_by_version_1_become_columns_with_their_values() {
    let (place, mut sql) = postgres_place();
    // A database at version 2, as the previous build left it, holding a
    // user and a booking as version 1 kept them: serde JSON bodies.
    sql.batch_execute(concat!(
        include_str!("../../migrations/postgres/0001_store.sql"),
        include_str!("../../migrations/postgres/0002_shared_files.sql"),
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO schema_migrations (version) VALUES (1), (2);"
    ))
    .expect("version 2");
    let mut ann = full_user("ann");
    ann.id = droply_models::UserId::new(1);
    let mut bea = full_user("bea");
    bea.id = droply_models::UserId::new(2);
    bea.hourly_rate = None;
    let mut booking = full_booking(bea.id, ann.id, "2026-10-05T09:00:00Z");
    booking.id = droply_models::BookingId::new(3);
    booking.status = BookingStatus::Confirmed;
    let mut tx = sql.transaction().expect("tx");
    for (table, id, body) in [
        ("user", 1i64, serde_json::to_string(&ann).expect("ann")),
        ("user", 2, serde_json::to_string(&bea).expect("bea")),
        (
            "booking",
            3,
            serde_json::to_string(&booking).expect("booking"),
        ),
    ] {
        tx.execute(
            &format!("INSERT INTO \"{table}\" (id, body) VALUES ($1, $2::text::jsonb)"),
            &[&id, &body],
        )
        .expect("a version 1 row");
    }
    tx.execute("UPDATE store_counters SET next_id = 4", &[])
        .expect("counters");
    tx.commit().expect("commit");

    let store = place.open();
    assert_eq!(store.users().get(ann.id).expect("ann"), ann);
    assert_eq!(store.users().get(bea.id).expect("bea"), bea);
    assert_eq!(store.bookings().get(booking.id).expect("booking"), booking);
    let version: i32 = sql
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .expect("version")
        .get(0);
    assert_eq!(
        version, 15,
        "every migration applied, those after 0003 over these rows too"
    );
    let body_left: i64 = sql
        .query_one(
            "SELECT count(*) FROM information_schema.columns
             WHERE table_schema = current_schema() AND column_name = 'body'",
            &[],
        )
        .expect("columns")
        .get(0);
    assert_eq!(body_left, 0, "no table keeps a JSON body");
    // The exclusion constraint came through the conversion.
    let mut overlapping = full_booking(bea.id, ann.id, "2026-10-05T09:30:00Z");
    overlapping.status = BookingStatus::Confirmed;
    let err = store.bookings().create(overlapping).expect_err("overlap");
    assert!(matches!(err, Error::SlotUnavailable), "{err}");
}

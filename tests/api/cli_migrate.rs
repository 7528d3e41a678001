//! `droply migrate`: a sled store copied into PostgreSQL through the command
//! line, rows and relations intact; copying into a store that already holds
//! rows is refused.

use clap::Parser;
use droply_engine::Store;
use droply_server::cli::{Cli, run};
use droply_test_support::fixtures::{full_booking, full_user};
use droply_test_support::postgres::fresh_database;

fn migrate(from: &str, to: &str) -> droply_server::Result<()> {
    run(Cli::parse_from([
        "droply", "migrate", "--from", from, "--to", to,
    ]))
}

#[test]
fn migrate_copies_a_sled_store_into_postgres_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sled_dir = dir.path().join("store");
    let (ann, booking) = {
        let store = Store::open(&sled_dir).expect("sled");
        let ann = store.users().create(full_user("ann")).expect("ann");
        let bea = store.users().create(full_user("bea")).expect("bea");
        let booking = store
            .bookings()
            .create(full_booking(bea.id, ann.id, "2026-10-05T09:00:00Z"))
            .expect("booking");
        (ann, booking)
    };
    let url = fresh_database();
    let from = format!("sled:{}", sled_dir.display());
    migrate(&from, &url).expect("migrate");

    let copy = Store::open_postgres(&url).expect("the copy");
    assert_eq!(copy.users().get(ann.id).expect("ann"), ann);
    assert_eq!(copy.bookings().get(booking.id).expect("booking"), booking);
    let listed = copy
        .bookings()
        .by_provider(ann.id, &Default::default())
        .expect("by provider");
    assert_eq!(listed.items, vec![booking]);
    assert!(copy.verify_integrity().expect("check").is_consistent());

    let err = migrate(&from, &url).expect_err("the copy holds rows now");
    assert!(err.to_string().contains("already holds"), "{err}");
    assert_eq!(copy.users().count(), 2, "nothing copied twice");
}

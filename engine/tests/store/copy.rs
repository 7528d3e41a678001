//! `droply migrate`'s copy: a sled store copied into PostgreSQL and back
//! keeps every row, id, index entry, the instance key and the id counter; a
//! target that already holds rows is refused, and so is a PostgreSQL source
//! on which a node runs; a source that changes during the copy fails it; a
//! copy cut short stays marked as unfinished.

use std::time::{Duration, Instant};

use droply_engine::records::{StoreCopy, copy_store, refuse_unfinished_migration};
use droply_engine::store::Record;

use crate::fixtures::*;

/// A store with a row of most entities and every relationship between them.
fn filled(place: &StorePlace) -> droply_engine::Store {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let (c, e) = (client.id, expert.id);
    store
        .write(|txn| {
            let booking = txn.create(full_booking(c, e, "2026-10-05T09:00:00Z"))?;
            txn.create(favorite(c, e, "2026-10-01T00:00:00Z"))?;
            txn.create(interaction(
                c,
                e,
                droply_models::InteractionType::Click,
                "2026-10-01T00:00:00Z",
            ))?;
            txn.create(rule(e, 2, "09:00", "17:30"))?;
            txn.create(exception(e, "2026-12-24T00:00:00Z", "2026-12-27T00:00:00Z"))?;
            txn.create(payout(e, "2026-10-01T00:00:00Z"))?;
            txn.create(referral(e, c, "2026-10-01T00:00:00Z"))?;
            txn.create(reward(e, c, Some(booking.id), "2026-10-01T00:00:00Z"))?;
            // Content in a category, and a reward for its sale: rows that
            // point at rows of kinds copied later than `User` (regression: the
            // copy into PostgreSQL failed on their foreign keys).
            let shelf = txn.create(category("Tax"))?;
            let mut guide = content(e, "2026-10-01T00:00:00Z");
            guide.category_id = Some(shelf.id);
            let content = txn.create(guide)?;
            let sale = txn.create(purchase(c, content.id, "2026-10-02T00:00:00Z"))?;
            let mut sale_reward = reward(e, c, None, "2026-10-02T00:00:00Z");
            sale_reward.content_purchase_id = Some(sale.id);
            txn.create(sale_reward)?;
            let session = txn.create(dropin(e, "QA2026X", "2026-10-01T00:00:00Z"))?;
            let someone = txn.create(participant(session.id, Some(c), "2026-10-01T00:10:00Z"))?;
            txn.create(message(session.id, someone.id, "2026-10-01T00:11:00Z"))?;
            txn.create(ai_match(c, e, "2026-10-01T00:00:00Z"))?;
            txn.create(category("Engineering"))?;
            Ok(())
        })
        .expect("rows");
    store
}

/// Every row of `R` in `a` is in `b`, the same.
fn same_rows<R: Record>(a: &droply_engine::Store, b: &droply_engine::Store) {
    let rows: Vec<R> = a.iter::<R>().collect::<Result<_, _>>().expect("rows");
    assert!(!rows.is_empty(), "{} has rows to compare", R::KIND.name());
    for row in rows {
        let copy: R = b.require(row.id()).expect("copied");
        assert_eq!(
            copy.encode().expect("encode"),
            row.encode().expect("encode")
        );
    }
    assert_eq!(a.count::<R>(), b.count::<R>());
}

#[test]
fn sled_to_postgres_and_back_keeps_everything() {
    let sled = StorePlace::new(Backend::Sled);
    let original = filled(&sled);
    let postgres = StorePlace::new(Backend::Postgres);
    let copied = postgres.open();
    let report = copy_store(&original, &copied).expect("copy into PostgreSQL");
    assert_eq!(report.checked, report.total());
    assert_eq!(report.total(), 19);
    let back_place = StorePlace::new(Backend::Sled);
    let back = back_place.open();
    copy_store(&copied, &back).expect("copy back");
    for store in [&copied, &back] {
        same_rows::<droply_models::User>(&original, store);
        same_rows::<droply_models::Booking>(&original, store);
        same_rows::<droply_models::DropinMessage>(&original, store);
        same_rows::<droply_models::ReferralReward>(&original, store);
        same_rows::<droply_models::Content>(&original, store);
        same_rows::<droply_models::Category>(&original, store);
        assert_eq!(
            store.instance_key().expect("key"),
            original.instance_key().expect("key")
        );
        let report = store.verify_integrity().expect("check");
        assert!(report.is_consistent(), "{:?}", report.problems);
    }
    // Relationship queries answer the same on the copy.
    let provider = original
        .iter::<droply_models::Booking>()
        .next()
        .expect("a booking")
        .expect("read")
        .provider_id;
    let listed = |store: &droply_engine::Store| -> Vec<u64> {
        store
            .bookings()
            .by_provider(provider, &Default::default())
            .expect("list")
            .items
            .iter()
            .map(|b| b.id.get())
            .collect()
    };
    assert_eq!(listed(&copied), listed(&original));
    // Ids go on from where the original left off.
    let next = copied.users().create(full_user("newcomer")).expect("new");
    assert!(next.id.get() > 19);
}

#[test]
fn a_target_with_rows_is_refused() {
    let original = filled(&StorePlace::new(Backend::Sled));
    let target_place = StorePlace::new(Backend::Postgres);
    let target = target_place.open();
    target.users().create(full_user("already")).expect("a row");
    let err = copy_store(&original, &target).expect_err("not empty");
    assert!(matches!(err, droply_engine::Error::Invalid(_)), "{err}");
    assert_eq!(target.count::<droply_models::User>(), 1, "nothing copied");
}

/// `store` with ten users, the last three deleted; returns the largest id
/// the store ever gave.
fn ten_users_three_deleted(store: &droply_engine::Store) -> u64 {
    let users: Vec<droply_models::User> = (0..10)
        .map(|n| {
            store
                .users()
                .create(full_user(&format!("user{n}")))
                .expect("user")
        })
        .collect();
    for user in &users[7..] {
        store.users().delete(user.id).expect("delete");
    }
    users.iter().map(|user| user.id.get()).max().expect("ids")
}

/// Regression: the copy's id counter went on from its largest remaining
/// id, so a new row took the id of a row deleted before the copy, which
/// Stripe's metadata, links and file names still named.
#[test]
fn ids_of_rows_deleted_before_a_copy_are_never_given_again_in_it() {
    let sled = StorePlace::new(Backend::Sled);
    let original = sled.open();
    let old_max = ten_users_three_deleted(&original);
    let postgres = StorePlace::new(Backend::Postgres);
    let copied = postgres.open();
    let report = copy_store(&original, &copied).expect("copy into PostgreSQL");
    assert_eq!(report.total(), 7);
    assert_eq!(report.next_id, old_max + 1);
    let back_place = StorePlace::new(Backend::Sled);
    let back = back_place.open();
    let report = copy_store(&copied, &back).expect("copy back");
    assert_eq!(report.next_id, old_max + 1);
    for store in [&copied, &back] {
        // A completed copy leaves no in-progress marker.
        refuse_unfinished_migration(store).expect("finished");
        let next = store.users().create(full_user("newcomer")).expect("new");
        assert!(
            next.id.get() > old_max,
            "{} reuses an id of the source ({} <= {old_max})",
            store.describe(),
            next.id.get()
        );
    }
    // The counter is kept: a reopened sled copy goes on past it too.
    drop(back);
    let reopened = back_place.open();
    let next = reopened.users().create(full_user("later")).expect("new");
    assert!(next.id.get() > old_max + 1, "{}", next.id.get());
}

/// Regression: rows written to the source while the copy ran were missed
/// (or rows deleted kept), and the copy was reported checked.
#[test]
fn a_source_written_during_the_copy_fails_it_and_stays_marked_unfinished() {
    for (source, target) in [
        (Backend::Sled, Backend::Postgres),
        (Backend::Postgres, Backend::Sled),
    ] {
        let source_place = StorePlace::new(source);
        let from = filled(&source_place);
        let target_place = StorePlace::new(target);
        let to = target_place.open();
        let copy = StoreCopy::start(&from, &to).expect("start");
        copy.copy_rows().expect("rows");
        // Another process writes to the source before the copy ends.
        from.users()
            .create(full_user("latecomer"))
            .expect("a write meanwhile");
        let err = copy.finish().expect_err("the source moved");
        assert!(
            matches!(err, droply_engine::Error::InvalidState(_))
                && err.to_string().contains("changed during the copy"),
            "{err}"
        );
        let refused = refuse_unfinished_migration(&to).expect_err("unfinished");
        assert!(refused.to_string().contains("never finished"), "{refused}");
        // Another copy into it is refused with the way out, not "holds rows".
        let again = copy_store(&from, &to).expect_err("unfinished target");
        assert!(again.to_string().contains("Empty it"), "{again}");
    }
}

/// Regression: a PostgreSQL source was copied while its nodes kept
/// writing to it, since only the data directory's lock was checked.
#[test]
fn a_postgres_source_on_which_a_node_runs_is_refused() {
    let place = StorePlace::new(Backend::Postgres);
    let from = filled(&place);
    let node = place.open();
    assert!(
        node.leads_jobs().expect("lease"),
        "the running node leads the jobs"
    );
    let target_place = StorePlace::new(Backend::Sled);
    let to = target_place.open();
    let err = copy_store(&from, &to).expect_err("a node is running");
    assert!(
        err.to_string()
            .contains("a node is running on this database; stop every node before migrating"),
        "{err}"
    );
    assert_eq!(to.count::<droply_models::User>(), 0, "nothing copied");
    refuse_unfinished_migration(&to).expect("no marker: the copy never started");
    // Once the node stops (its session, and the lease with it, goes).
    drop(node);
    let deadline = Instant::now() + Duration::from_secs(10);
    let report = loop {
        match copy_store(&from, &to) {
            Ok(report) => break report,
            Err(err) if Instant::now() < deadline => {
                assert!(err.to_string().contains("a node is running"), "{err}");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(err) => panic!("still refused once the node stopped: {err}"),
        }
    };
    assert_eq!(report.total(), 19);
}

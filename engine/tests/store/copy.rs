//! `droply migrate`'s copy: a sled store copied into PostgreSQL and back
//! keeps every row, id, index entry and the instance key; a target that
//! already holds rows is refused.

use droply_engine::records::copy_store;
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

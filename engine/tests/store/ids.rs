//! Row ids run from 1 to `MAX_ID` on both backends: an imported id past it is
//! refused, the id after the last is never made (no wrap to 0 over existing
//! rows), and a range read for the last owner holds nothing instead of
//! panicking.

use droply_engine::Error;
use droply_engine::store::MAX_ID;
use droply_models::{ReferralCode, UserId};

use crate::fixtures::*;

/// Regression: an imported id near `u64::MAX` made the id counter wrap in
/// release builds (new rows got ids 0, 1, 2... over existing ones) and panic in
/// debug builds; on PostgreSQL every later write failed.
fn ids_stop_at_the_last_one_instead_of_wrapping(place: &StorePlace) {
    let store = place.open();
    let first = store.users().create(full_user("ada")).expect("ada");
    let past = store.write(|txn| {
        let mut row = full_user("bob");
        row.id = UserId::new(MAX_ID + 1);
        txn.put(row)
    });
    assert!(matches!(past, Err(Error::Invalid(_))), "{past:?}");
    store
        .write(|txn| {
            let mut row = full_user("cyd");
            row.id = UserId::new(MAX_ID);
            row.referral_code = ReferralCode::parse("CYD00001").expect("code");
            txn.put(row)
        })
        .expect("the last id");
    let mut next = full_user("dee");
    next.referral_code = ReferralCode::parse("DEE00001").expect("code");
    let none_left = store.users().create(next);
    assert!(matches!(none_left, Err(Error::Storage(_))), "{none_left:?}");
    assert_eq!(
        store.users().get(first.id).expect("ada"),
        first,
        "untouched"
    );
    // The last owner's rows in a time window: an empty range, not a panic.
    let bookings = store
        .write(|txn| {
            txn.list_index_range::<droply_models::Booking>(
                droply_engine::store::IndexName::BookingsByBooker,
                &droply_engine::store::KeyBuilder::new()
                    .u64(MAX_ID)
                    .time(droply_models::Timestamp::now())
                    .build(),
                &droply_engine::store::KeyBuilder::new().u64(MAX_ID).build(),
            )
        })
        .expect("read");
    assert!(bookings.is_empty());
    assert!(store.verify_integrity().expect("check").is_consistent());
}

droply_test_support::on_both_backends!(ids_stop_at_the_last_one_instead_of_wrapping,);

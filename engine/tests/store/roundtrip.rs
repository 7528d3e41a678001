//! Every entity, with every field set, reads back equal: right after the
//! write and after the store is closed and reopened.

use droply_engine::store::Record;

use crate::fixtures::*;

/// Creates `row`, checks it reads back equal now and after a reopen.
fn round_trip<R: Record + PartialEq + std::fmt::Debug>(place: &StorePlace, row: R) -> R {
    let stored = {
        let store = place.open();
        let stored = store.write(|txn| txn.create(row.clone())).expect("create");
        assert_ne!(stored.id(), row.id(), "an id is allocated");
        let read: R = store.get(stored.id()).expect("read").expect("present");
        assert_eq!(read, stored);
        stored
    };
    let store = place.open();
    let read: R = store
        .get(stored.id())
        .expect("read")
        .expect("present after reopen");
    assert_eq!(read, stored);
    stored
}

fn every_entity_round_trips_with_every_field(place: &StorePlace) {
    let client = round_trip(place, full_user("client"));
    let expert = round_trip(
        place,
        droply_models::User {
            referred_by: Some(client.id),
            ..full_user("expert")
        },
    );
    let (c, e) = (client.id, expert.id);
    let earlier = round_trip(place, full_booking(c, e, "2026-10-02T09:00:00Z"));
    let booking = round_trip(
        place,
        droply_models::Booking {
            rescheduled_from: Some(earlier.id),
            ..full_booking(c, e, "2026-10-05T09:00:00Z")
        },
    );
    round_trip(place, favorite(c, e, "2026-10-01T00:00:00Z"));
    round_trip(
        place,
        interaction(
            c,
            e,
            droply_models::InteractionType::Click,
            "2026-10-01T00:00:00Z",
        ),
    );
    round_trip(place, rule(e, 2, "09:00", "17:30"));
    round_trip(
        place,
        exception(e, "2026-12-24T00:00:00Z", "2026-12-27T00:00:00Z"),
    );
    round_trip(place, payout(e, "2026-10-01T00:00:00Z"));
    round_trip(place, referral(e, c, "2026-10-01T00:00:00Z"));
    round_trip(
        place,
        reward(e, c, Some(booking.id), "2026-10-01T00:00:00Z"),
    );
    let content = round_trip(place, content(e, "2026-10-01T00:00:00Z"));
    round_trip(place, purchase(c, content.id, "2026-10-02T00:00:00Z"));
    let session = round_trip(place, dropin(e, "QA2026X", "2026-10-01T00:00:00Z"));
    let participant = round_trip(
        place,
        participant(session.id, Some(c), "2026-10-01T00:10:00Z"),
    );
    round_trip(
        place,
        message(session.id, participant.id, "2026-10-01T00:11:00Z"),
    );
    round_trip(place, ai_match(c, e, "2026-10-01T00:00:00Z"));
    round_trip(place, category("Engineering"));
    let store = place.open();
    assert!(store.verify_integrity().expect("check").is_consistent());
}

fn updates_replace_rows_and_move_index_entries(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let booking = store
        .bookings()
        .create(full_booking(client.id, expert.id, "2026-10-05T09:00:00Z"))
        .expect("booking");
    let moved = store
        .bookings()
        .modify(booking.id, |b| {
            b.start_time = at("2026-10-07T09:00:00Z");
            b.end_time = b.start_time.plus_minutes(60);
            Ok(())
        })
        .expect("modify");
    assert_eq!(store.bookings().get(booking.id).expect("get"), moved);
    let listed = store
        .bookings()
        .by_provider(expert.id, &Default::default())
        .expect("list");
    assert_eq!(listed.items, vec![moved]);
    assert!(store.verify_integrity().expect("check").is_consistent());
}

fn deletes_remove_rows_index_entries_and_unique_keys(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let fav = store
        .favorites()
        .create(favorite(client.id, expert.id, "2026-10-01T00:00:00Z"))
        .expect("fav");
    store.favorites().delete(fav.id).expect("delete");
    assert!(store.favorites().find(fav.id).expect("find").is_none());
    assert!(
        store
            .favorites()
            .by_user(client.id, &Default::default())
            .expect("list")
            .items
            .is_empty()
    );
    assert!(
        store
            .favorites()
            .find_pair(client.id, expert.id)
            .expect("pair")
            .is_none()
    );
    // The pair is free again.
    store
        .favorites()
        .create(favorite(client.id, expert.id, "2026-10-02T00:00:00Z"))
        .expect("again");
    assert!(store.verify_integrity().expect("check").is_consistent());
}

fn missing_rows_are_not_found_and_invalid_rows_are_refused(place: &StorePlace) {
    let store = place.open();
    let err = store
        .bookings()
        .get(droply_models::BookingId::new(12345))
        .expect_err("missing");
    assert!(
        matches!(
            err,
            droply_engine::Error::NotFound {
                entity: "booking",
                id: 12345
            }
        ),
        "{err}"
    );
    let err = store
        .users()
        .update(full_user("ghost"))
        .expect_err("update of a missing row");
    assert!(
        matches!(err, droply_engine::Error::NotFound { .. }),
        "{err}"
    );
    let (client, _) = two_users(&store);
    let mut bad = full_booking(client.id, client.id, "2026-10-05T09:00:00Z");
    bad.duration = 30;
    let err = store.bookings().create(bad).expect_err("invalid");
    assert!(matches!(err, droply_engine::Error::Model(_)), "{err}");
    assert_eq!(store.bookings().count(), 0, "nothing written");
}

droply_test_support::on_both_backends!(
    every_entity_round_trips_with_every_field,
    updates_replace_rows_and_move_index_entries,
    deletes_remove_rows_index_entries_and_unique_keys,
    missing_rows_are_not_found_and_invalid_rows_are_refused,
);

//! The calendar outbox against the Google fake: a failed event operation
//! stays in the outbox and is sent again once its backoff has passed, a
//! cancel waits for the reschedule it follows, and an event made again
//! after the expert deleted it is made once when Google's answer is lost.

use droply_test_support::google_fake::GoogleFake;

use super::{ann_connected, one_at_a_time};
use crate::Store;
use crate::calendar::{
    CalendarEvent, CalendarOp, CalendarSync, booking_changed, booking_rescheduled,
};

/// [`ann_connected`] with a confirmed session of bob's whose event is in
/// her calendar: the store, the booking and the sync.
fn one_event_synced(fake: &GoogleFake) -> (Store, droply_models::Booking, CalendarSync) {
    let (store, ann, bob, sync) = ann_connected(fake);
    let mut first = crate::test_rows::booking(bob.id, ann.id);
    first.status = droply_models::BookingStatus::Confirmed;
    let first = store.bookings().create(first).expect("booking");
    store
        .write(|txn| booking_changed(txn, None, &first))
        .expect("queued");
    sync.sync_all(&store, droply_models::Timestamp::now())
        .expect("sync");
    (store, first, sync)
}

#[test]
fn a_failed_event_stays_in_the_outbox_and_is_sent_after_its_backoff() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, bob, sync) = ann_connected(&fake);
    let mut booking = crate::test_rows::booking(bob.id, ann.id);
    booking.status = droply_models::BookingStatus::Confirmed;
    let booking = store.bookings().create(booking).expect("booking");
    store
        .write(|txn| booking_changed(txn, None, &booking))
        .expect("queued");
    assert_eq!(store.count::<CalendarOp>(), 1);

    // FreeBusy and the event both meet a 503.
    fake.fail_next_api_calls(2);
    let now = droply_models::Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(
        (report.events_sent, report.events_failed),
        (0, 1),
        "{report:?}"
    );
    let op = store
        .iter::<CalendarOp>()
        .next()
        .expect("kept")
        .expect("op");
    assert_eq!(op.attempts, 1);
    assert!(op.not_before > now, "{op:?}");
    assert!(
        op.last_error.as_deref().is_some_and(|e| e.contains("503")),
        "{op:?}"
    );
    // Not due yet: nothing is sent.
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(report.events_sent + report.events_failed, 0, "{report:?}");
    assert!(fake.events().is_empty());
    // After the backoff it goes out, once.
    let later = now.plus_minutes(2);
    let report = sync.sync_all(&store, later).expect("sync");
    assert_eq!(report.events_sent, 1, "{report:?}");
    assert_eq!(fake.events().len(), 1);
    assert_eq!(store.count::<CalendarOp>(), 0);
    let link = store
        .get::<CalendarEvent>(booking.id)
        .expect("read")
        .expect("the event id");
    assert_eq!(link.event_id, fake.events()[0].id);
}

/// Regression: a reschedule whose event update failed, then a cancel of
/// the new booking: the cancel went first, found no event under the new
/// booking (the link was still the old one's) and was dropped; the retried
/// update then moved the link without calling Google, and the old event
/// stayed in the expert's calendar for good.
#[test]
fn a_cancel_waits_for_the_reschedule_it_follows() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, first, sync) = one_event_synced(&fake);
    assert_eq!(fake.events().len(), 1);

    // Moved a day later; the update meets a 503 and waits for its backoff.
    let mut moved = first.clone();
    moved.id = droply_models::BookingId::new(0);
    moved.start_time = first.start_time.plus_days(1);
    moved.end_time = first.end_time.plus_days(1);
    moved.rescheduled_from = Some(first.id);
    let moved = store
        .write(|txn| {
            let mut old = first.clone();
            old.status = droply_models::BookingStatus::Cancelled;
            txn.update(old)?;
            let moved = txn.create(moved.clone())?;
            booking_rescheduled(txn, &first, &moved)?;
            Ok(moved)
        })
        .expect("moved");
    // (FreeBusy and the event both meet a 503.)
    fake.fail_next_api_calls(2);
    let now = droply_models::Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(report.events_failed, 1, "{report:?}");

    // Then cancelled: its removal waits for the update.
    store
        .write(|txn| {
            let mut cancelled = moved.clone();
            cancelled.status = droply_models::BookingStatus::Cancelled;
            let cancelled = txn.update(cancelled)?;
            booking_changed(txn, Some(&moved), &cancelled)
        })
        .expect("cancelled");
    let now = droply_models::Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(report.events_sent, 0, "{report:?}");
    assert_eq!(store.count::<CalendarOp>(), 2, "both still queued");
    sync.sync_all(&store, now.plus_minutes(5)).expect("sync");
    assert!(fake.events().is_empty(), "{:?}", fake.events());
    assert_eq!(store.count::<CalendarOp>(), 0);
}

/// Regression: an update whose event the expert had deleted in Google made
/// a new event under an id of Google's; when Google's answer was lost, the
/// retry made another, and the first stayed in the expert's calendar for
/// good (a later cancel removed only the linked one).
#[test]
fn an_event_made_again_after_its_deletion_is_made_once_when_the_answer_is_lost() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, first, sync) = one_event_synced(&fake);
    let made = fake.events();
    assert_eq!(made.len(), 1);
    // The expert deletes the event in Google; then the session moves an hour.
    fake.remove_event(&made[0].id);
    let mut later = first.clone();
    later.start_time = first.start_time.plus_minutes(60);
    later.end_time = first.end_time.plus_minutes(60);
    store
        .write(|txn| {
            let later = txn.update(later.clone())?;
            booking_changed(txn, Some(&first), &later)
        })
        .expect("moved");
    // The new event is made, but Google's answer is lost.
    fake.lose_next_creates(1);
    let now = droply_models::Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(report.events_failed, 1, "{report:?}");
    sync.sync_all(&store, now.plus_minutes(5)).expect("sync");
    assert_eq!(fake.events().len(), 1, "{:?}", fake.events());
    assert_eq!(store.count::<CalendarOp>(), 0);
}

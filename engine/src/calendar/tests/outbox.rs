//! The calendar outbox against the Google fake: a failed event operation
//! stays in the outbox and is sent again once its backoff has passed, a
//! cancel waits for the reschedule it follows, an event made again after
//! the expert deleted it is made once when Google's answer is lost, two
//! stores writing the same booking id to one calendar make two events and
//! leave each other's alone, and an event id taken by an event not ours is
//! not adopted.

use droply_test_support::google_fake::{FakeEvent, GoogleFake};

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

/// The event id `store` links to booking `id`.
fn linked_event(store: &Store, id: droply_models::BookingId) -> String {
    store
        .get::<CalendarEvent>(id)
        .expect("read")
        .expect("linked")
        .event_id
}

/// Regression: an event's id was `dropb` and the booking id alone, and a
/// create that met its id taken (409) took the event there as its own. Two
/// stores (two deployments, or a store made again from nothing) writing to
/// one expert's calendar both have a booking 1: the second adopted the
/// first's event, then moved it on its reschedule and deleted it on its
/// cancel.
#[test]
fn two_stores_with_the_same_booking_id_make_two_events_and_leave_each_other_alone() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store_a, booking_a, _sync_a) = one_event_synced(&fake);
    let (store_b, booking_b, sync_b) = one_event_synced(&fake);
    assert_eq!(booking_a.id, booking_b.id, "both stores count from 1");
    let events = fake.events();
    assert_eq!(events.len(), 2, "{events:?}");
    let (event_a, event_b) = (
        linked_event(&store_a, booking_a.id),
        linked_event(&store_b, booking_b.id),
    );
    assert_ne!(event_a, event_b);
    let a_before = events
        .iter()
        .find(|e| e.id == event_a)
        .expect("A's event")
        .clone();
    let instance_a = store_a.instance_key().expect("instance key");
    assert_eq!(
        a_before.owner,
        Some(format!("{instance_a}:{}", booking_a.id.get())),
        "the event names its store and booking"
    );

    // B moves its session a day later: only B's event moves.
    let mut later = booking_b.clone();
    later.start_time = booking_b.start_time.plus_days(1);
    later.end_time = booking_b.end_time.plus_days(1);
    let later = store_b
        .write(|txn| {
            let later = txn.update(later.clone())?;
            booking_changed(txn, Some(&booking_b), &later)?;
            Ok(later)
        })
        .expect("moved");
    let now = droply_models::Timestamp::now();
    let report = sync_b.sync_all(&store_b, now).expect("sync");
    assert_eq!(report.events_sent, 1, "{report:?}");
    let events = fake.events();
    assert_eq!(
        events.iter().find(|e| e.id == event_a),
        Some(&a_before),
        "A's event is left alone"
    );
    let b_moved = events.iter().find(|e| e.id == event_b).expect("B's event");
    assert_eq!(b_moved.start, later.start_time.to_rfc3339());

    // B cancels: only B's event goes.
    store_b
        .write(|txn| {
            let mut cancelled = later.clone();
            cancelled.status = droply_models::BookingStatus::Cancelled;
            let cancelled = txn.update(cancelled)?;
            booking_changed(txn, Some(&later), &cancelled)
        })
        .expect("cancelled");
    sync_b
        .sync_all(&store_b, droply_models::Timestamp::now())
        .expect("sync");
    assert_eq!(fake.events(), [a_before]);
}

/// Regression: a create that met its id taken (409) took whatever event
/// was there as the one an earlier try made, without looking at it.
#[test]
fn an_event_id_taken_by_an_event_not_ours_is_not_adopted() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, booking, sync) = one_event_synced(&fake);
    let ours = linked_event(&store, booking.id);
    // Someone else's event now holds the id; the booking's event is to be
    // made again (its link lost).
    fake.remove_event(&ours);
    let foreign = FakeEvent {
        id: ours.clone(),
        summary: "Dentist".to_owned(),
        start: booking.start_time.plus_days(3).to_rfc3339(),
        end: booking.end_time.plus_days(3).to_rfc3339(),
        transparent: false,
        owner: Some("another-store:1".to_owned()),
    };
    fake.put_event(foreign.clone());
    store
        .write(|txn| {
            txn.delete::<CalendarEvent>(booking.id)?;
            booking_changed(txn, None, &booking)
        })
        .expect("queued again");
    let report = sync
        .sync_all(&store, droply_models::Timestamp::now())
        .expect("sync");
    assert_eq!(report.events_sent, 1, "{report:?}");
    assert_eq!(fake.count("get"), 1, "the taken id's event was read");
    let remade = linked_event(&store, booking.id);
    assert_ne!(remade, ours, "not the foreign event");
    let events = fake.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.contains(&foreign), "left as it was: {events:?}");
    let made = events.iter().find(|e| e.id == remade).expect("made");
    assert_eq!(made.start, booking.start_time.to_rfc3339());
    assert!(
        remade
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'v').contains(&c)),
        "{remade}"
    );
}

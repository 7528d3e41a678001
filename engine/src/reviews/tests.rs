//! Reviews against no-shows on a temporary store: a session reviewed while
//! confirmed and past its end, then marked a no-show, loses its review and
//! its stars in the same write (once: a repeated no-show writes nothing), and
//! is never reviewed again; the client's review of a session they attended
//! stays.

use droply_models::{PaymentStatus, Timestamp};

use super::*;
use crate::booking::{BookingAction, act};
use crate::payments::PaymentsConfig;
use crate::store::{Change, ChangeOp, EntityKind};
use crate::test_rows::{ann_and_bob, booking};

/// bob's paid one-hour session with ann, in `status`, that ended
/// `minutes_ago`.
fn ended_session(
    store: &Store,
    ann: &User,
    bob: &User,
    status: BookingStatus,
    minutes_ago: i64,
) -> Booking {
    let mut row = booking(bob.id, ann.id);
    row.status = status;
    row.payment_status = PaymentStatus::Succeeded;
    row.end_time = Timestamp::now().plus_minutes(-minutes_ago);
    row.start_time = row.end_time.plus_minutes(-60);
    store.bookings().create(row).expect("booking")
}

fn stars(rating: u8, comment: Option<&str>) -> NewReview {
    NewReview {
        rating,
        comment: comment.map(str::to_owned),
    }
}

/// Regression: marking a no-show left the client's review of the missed
/// session standing, and counting in the expert's rating.
#[test]
fn a_no_show_marked_after_the_client_reviewed_withdraws_the_review_and_its_stars() {
    let (store, ann, bob) = ann_and_bob();
    let policy = ReviewPolicy::default();
    // A session bob attended, reviewed: it stays.
    let attended = ended_session(&store, &ann, &bob, BookingStatus::Completed, 3 * 24 * 60);
    let kept = review_booking(&store, attended.id, bob.id, &stars(5, None), &policy)
        .expect("attended session reviewed");
    // A session bob missed, reviewed before ann marked it.
    let missed = ended_session(&store, &ann, &bob, BookingStatus::Confirmed, 30);
    review_booking(
        &store,
        missed.id,
        bob.id,
        &stars(1, Some("Not worth it.")),
        &policy,
    )
    .expect("missed session reviewed while confirmed");
    let rated: User = store.require(ann.id).expect("ann");
    assert_eq!((rated.rating_count(), rated.rating()), (2, Some(3.0)));
    let seen = store.last_seq();

    let (marked, refund) = act(
        &store,
        missed.id,
        ann.id,
        BookingAction::NoShow,
        None,
        &PaymentsConfig::default(),
    )
    .expect("no-show");
    assert_eq!(marked.status, BookingStatus::NoShow);
    assert!(refund.is_none());

    let listed = reviews_of(&store, ann.id, &PageRequest::first(10)).expect("reviews");
    assert_eq!(listed.items, vec![kept]);
    let unrated: User = store.require(ann.id).expect("ann");
    assert_eq!((unrated.rating_count(), unrated.rating()), (1, Some(5.0)));
    // The search index follows the expert's row through the change feed.
    let changes = store.changes_since(seen, 100).expect("changes");
    let expert_moved =
        |c: &Change| c.kind == EntityKind::User && c.id == ann.id.get() && c.op == ChangeOp::Put;
    assert!(changes.iter().any(expert_moved), "{changes:?}");
    assert!(
        changes
            .iter()
            .any(|c| c.kind == EntityKind::Review && c.op == ChangeOp::Delete),
        "{changes:?}"
    );
    let report = store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

/// Regression: a client could review a confirmed session past its end before
/// the expert marked it a no-show, locking the review in; once marked, the
/// freed key does not let them review it again.
#[test]
fn a_client_cannot_review_again_a_session_marked_a_no_show_after_their_review() {
    let (store, ann, bob) = ann_and_bob();
    let policy = ReviewPolicy::default();
    let missed = ended_session(&store, &ann, &bob, BookingStatus::Confirmed, 30);
    review_booking(&store, missed.id, bob.id, &stars(5, None), &policy).expect("reviewed");
    act(
        &store,
        missed.id,
        ann.id,
        BookingAction::NoShow,
        None,
        &PaymentsConfig::default(),
    )
    .expect("no-show");
    let again = review_booking(&store, missed.id, bob.id, &stars(5, None), &policy);
    assert!(matches!(again, Err(Error::InvalidState(_))), "{again:?}");
    let listed = reviews_of(&store, ann.id, &PageRequest::first(10)).expect("reviews");
    assert!(listed.items.is_empty(), "{:?}", listed.items);
    let unrated: User = store.require(ann.id).expect("ann");
    assert_eq!((unrated.rating_count(), unrated.rating()), (0, None));
}

/// Regression: a no-show sent twice (the expert's app resending a request
/// whose answer was lost) was refused with `InvalidState`; the repeat now
/// answers the booking as it stands and writes nothing (no second
/// withdrawal, no change to the expert's row).
#[test]
fn a_no_show_sent_twice_answers_the_booking_and_withdraws_the_review_once() {
    let (store, ann, bob) = ann_and_bob();
    let missed = ended_session(&store, &ann, &bob, BookingStatus::Confirmed, 30);
    review_booking(
        &store,
        missed.id,
        bob.id,
        &stars(2, None),
        &ReviewPolicy::default(),
    )
    .expect("reviewed");
    let mark = || {
        act(
            &store,
            missed.id,
            ann.id,
            BookingAction::NoShow,
            None,
            &PaymentsConfig::default(),
        )
    };
    let (marked, _) = mark().expect("no-show");
    assert_eq!(marked.status, BookingStatus::NoShow);
    let listed = reviews_of(&store, ann.id, &PageRequest::first(10)).expect("reviews");
    assert!(listed.items.is_empty(), "{:?}", listed.items);
    let unrated: User = store.require(ann.id).expect("ann");
    assert_eq!(unrated.rating_count(), 0);
    let seen = store.last_seq();

    let (again, refund) = mark().expect("the repeat answers the booking");
    assert_eq!(again, marked);
    assert!(refund.is_none());
    assert_eq!(store.last_seq(), seen, "the repeat wrote nothing");
    let still: User = store.require(ann.id).expect("ann");
    assert_eq!(still, unrated);
}

#[test]
fn a_no_show_without_a_review_leaves_the_rating_alone() {
    let (store, ann, bob) = ann_and_bob();
    let missed = ended_session(&store, &ann, &bob, BookingStatus::Confirmed, 30);
    act(
        &store,
        missed.id,
        ann.id,
        BookingAction::NoShow,
        None,
        &PaymentsConfig::default(),
    )
    .expect("no-show");
    let expert: User = store.require(ann.id).expect("ann");
    assert_eq!(expert.rating, ann.rating);
}

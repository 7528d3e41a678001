//! The booking rules, each test named after what a review found broken: a
//! booking lasts whole sessions and starts on the slot grid; a booker holds
//! few unpaid slots, and not for long (a lapsed hold frees its slot at once
//! and the sweep cancels it); a booking is confirmed only once paid (or when
//! free) and completed or marked a no-show only once started; booking
//! records the `book` interaction itself.

use std::time::{Duration, Instant};

use droply_engine::availability::{SlotPolicy, SlotQuery};
use droply_engine::booking::{
    BookingAction, BookingRequest, EXPIRED_HOLD_REASON, expire_unpaid_holds,
};
use droply_engine::{Engine, EngineConfig, Error, PageRequest, Store};
use droply_models::{
    Booking, BookingStatus, InteractionType, PaymentStatus, Timestamp, User, UserId,
};

use super::fixtures::{eur, full_booking, full_user, rule};
use super::{NowPlusDays, act, book, bookable_store, pay, reschedule};

fn request(booker: &User, expert: &User, start: Timestamp, minutes: u16) -> BookingRequest {
    BookingRequest {
        booker: booker.id,
        provider: expert.id,
        start,
        duration_minutes: minutes,
        client_message: None,
    }
}

fn invalid_field<T: std::fmt::Debug>(result: Result<T, Error>) -> &'static str {
    match result {
        Err(Error::Model(droply_models::Error::Invalid { field, .. })) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

/// The half-hour slots `expert` offers now on the day (in their zone) of `at`.
fn half_hours_on(
    store: &Store,
    expert: &User,
    at: Timestamp,
    policy: &SlotPolicy,
) -> Vec<droply_engine::availability::Slot> {
    let day = expert.timezone.local_date(at);
    droply_engine::availability::expert_slots(
        store,
        expert.id,
        &SlotQuery {
            from: day,
            to: day,
            viewer_tz: expert.timezone,
            duration_minutes: Some(30),
            now: Timestamp::now(),
        },
        policy,
    )
    .expect("slots")
}

/// A policy whose unpaid holds lapse after `ttl`.
fn holding_for(ttl: Duration) -> SlotPolicy {
    SlotPolicy {
        unpaid_hold_ttl: ttl,
        ..SlotPolicy::default()
    }
}

#[test]
fn a_one_minute_booking_inside_a_slot_is_refused() {
    let (_dir, store, expert, clients) = bookable_store(1);
    let policy = SlotPolicy::default();
    let client = &clients[0];
    let slot = Timestamp::now_plus_days(2);
    // The expert's sessions last 30 minutes: 1 or 45 minutes is no session,
    // 150 minutes is five (the cap is four).
    for minutes in [1, 29, 45, 150] {
        let asked = request(client, &expert, slot, minutes);
        assert_eq!(
            invalid_field(book(&store, &asked, &policy)),
            "duration",
            "{minutes}"
        );
    }
    let one_minute_at_seven_past = request(client, &expert, slot.plus_minutes(7), 1);
    assert_eq!(
        invalid_field(book(&store, &one_minute_at_seven_past, &policy)),
        "duration"
    );
    assert_eq!(store.bookings().count(), 0, "nothing was held");
    // Whole sessions up to the cap are booked.
    let two_hours = book(&store, &request(client, &expert, slot, 120), &policy).expect("4 x 30");
    assert_eq!(two_hours.payment_amount, eur(25_000));
}

#[test]
fn a_start_off_the_slot_grid_is_refused() {
    let (_dir, store, expert, clients) = bookable_store(1);
    let policy = SlotPolicy::default();
    let client = &clients[0];
    let slot = Timestamp::now_plus_days(2);
    for off in [
        slot.plus_minutes(7),
        slot.plus_minutes(15),
        slot.saturating_add(chrono::TimeDelta::seconds(30)),
    ] {
        let asked = request(client, &expert, off, 30);
        assert_eq!(
            invalid_field(book(&store, &asked, &policy)),
            "start_time",
            "{off}"
        );
    }
    // Every start the slot finder offers is on the grid and bookable.
    let offered = half_hours_on(&store, &expert, slot, &policy);
    assert_eq!(offered.len(), 16, "09:00-17:00 in half hours");
    assert!(
        offered
            .iter()
            .all(|s| policy.on_grid(s.start, expert.timezone))
    );
    let first = offered.first().expect("a slot").start;
    book(&store, &request(client, &expert, first, 30), &policy).expect("an offered slot");
}

#[test]
fn a_booker_cannot_hold_more_than_three_unpaid_slots() {
    let (_dir, store, expert, clients) = bookable_store(2);
    let policy = SlotPolicy::default();
    let (client, other) = (&clients[0], &clients[1]);
    let slot = |n: i64| Timestamp::now_plus_days(2).plus_minutes(30 * n);
    let held: Vec<Booking> = (0..3)
        .map(|n| book(&store, &request(client, &expert, slot(n), 30), &policy).expect("hold"))
        .collect();
    let fourth = request(client, &expert, slot(3), 30);
    assert!(
        matches!(
            book(&store, &fourth, &policy),
            Err(Error::TooManyUnpaidBookings { max: 3 })
        ),
        "a fourth unpaid hold"
    );
    // Others are not limited by this booker's holds.
    book(&store, &request(other, &expert, slot(3), 30), &policy).expect("another booker");
    // A paid booking no longer counts, nor does a cancelled one.
    pay(&store, held[0].id);
    book(&store, &request(client, &expert, slot(4), 30), &policy).expect("after paying one");
    act(
        &store,
        held[1].id,
        client.id,
        BookingAction::Cancel,
        Some("changed my mind".to_owned()),
    )
    .expect("cancel");
    book(&store, &request(client, &expert, slot(5), 30), &policy).expect("after cancelling one");
    assert!(matches!(
        book(&store, &request(client, &expert, slot(6), 30), &policy),
        Err(Error::TooManyUnpaidBookings { .. })
    ));
    // The cap is the policy's.
    let roomier = SlotPolicy {
        max_unpaid_holds: 4,
        ..policy
    };
    book(&store, &request(client, &expert, slot(6), 30), &roomier).expect("a cap of four");
}

/// Regression: a free session is confirmed at once and never counted as an unpaid
/// hold, so one account could book every slot of a free expert's calendar.
#[test]
fn a_booker_holds_few_free_sessions_ahead_with_one_expert() {
    let (_dir, store, expert, clients) = bookable_store(2);
    let mut free = expert.clone();
    free.hourly_rate = None;
    let expert = store.users().update(free).expect("a free expert");
    let mut other_expert = full_user("other");
    other_expert.is_available = true;
    other_expert.session_duration = 30;
    other_expert.hourly_rate = None;
    let other_expert = store.users().create(other_expert).expect("expert");
    for weekday in 0..7 {
        let mut r = rule(other_expert.id, weekday, "09:00", "17:00");
        r.is_active = true;
        store.availability_rules().create(r).expect("rule");
    }
    let policy = SlotPolicy::default();
    let (client, other) = (&clients[0], &clients[1]);
    let slot = |n: i64| Timestamp::now_plus_days(2).plus_minutes(30 * n);
    let booked: Vec<Booking> = (0..3)
        .map(|n| book(&store, &request(client, &expert, slot(n), 30), &policy).expect("free"))
        .collect();
    assert!(booked.iter().all(|b| b.status == BookingStatus::Confirmed));
    let fourth = book(&store, &request(client, &expert, slot(3), 30), &policy);
    assert!(
        matches!(&fourth, Err(Error::LimitReached(_))),
        "a fourth free session ahead: {fourth:?}"
    );
    // Other bookers, and other experts, are not limited by it.
    book(&store, &request(other, &expert, slot(3), 30), &policy).expect("another booker");
    book(
        &store,
        &request(client, &other_expert, slot(4), 30),
        &policy,
    )
    .expect("another expert");
    // A cancelled session makes room; the cap is the policy's.
    act(
        &store,
        booked[0].id,
        client.id,
        BookingAction::Cancel,
        Some("changed my mind".to_owned()),
    )
    .expect("cancel");
    book(&store, &request(client, &expert, slot(5), 30), &policy).expect("after cancelling one");
    assert!(matches!(
        book(&store, &request(client, &expert, slot(6), 30), &policy),
        Err(Error::LimitReached(_))
    ));
    let roomier = SlotPolicy {
        max_free_sessions_ahead: 4,
        ..policy
    };
    book(&store, &request(client, &expert, slot(6), 30), &roomier).expect("a cap of four");
}

#[test]
fn an_unpaid_hold_expires_and_frees_the_slot() {
    let (_dir, store, expert, clients) = bookable_store(2);
    let policy = holding_for(Duration::from_secs(1));
    let (client, other) = (&clients[0], &clients[1]);
    let start = Timestamp::now_plus_days(2);
    let held = book(&store, &request(client, &expert, start, 30), &policy).expect("hold");
    assert!(matches!(
        book(&store, &request(other, &expert, start, 30), &policy),
        Err(Error::SlotUnavailable)
    ));
    let hold_ends = held
        .created_at
        .saturating_add(chrono::TimeDelta::seconds(1));
    assert_eq!(policy.hold_expires_at(&held), Some(hold_ends));
    std::thread::sleep(Duration::from_millis(1100));

    // Before any sweep: the slot is offered and bookable again, and the
    // lapsed hold no longer counts towards its booker's cap.
    let slots = half_hours_on(&store, &expert, start, &policy);
    assert!(slots.iter().any(|s| s.start == start), "the slot is open");
    let rebooked = book(&store, &request(other, &expert, start, 30), &policy).expect("rebook");
    assert!(matches!(
        reschedule(&store, held.id, client.id, start.plus_minutes(60), &policy),
        Err(Error::InvalidState(_))
    ));

    // The sweep cancels the lapsed hold and leaves the fresh one.
    let swept = expire_unpaid_holds(&store, Timestamp::now(), &policy).expect("sweep");
    assert_eq!(swept, 1);
    let lapsed = store.bookings().get(held.id).expect("booking");
    assert_eq!(lapsed.status, BookingStatus::Cancelled);
    assert_eq!(lapsed.payment_status, PaymentStatus::Failed);
    assert_eq!(
        lapsed.cancellation_reason.as_deref(),
        Some(EXPIRED_HOLD_REASON)
    );
    let fresh = store.bookings().get(rebooked.id).expect("booking");
    assert_eq!(fresh.status, BookingStatus::PendingPayment);
    assert_eq!(
        expire_unpaid_holds(&store, Timestamp::now(), &policy).expect("again"),
        0
    );
    // A paid booking never lapses.
    pay(&store, rebooked.id);
    let much_later = Timestamp::now().plus_days(1);
    assert_eq!(
        expire_unpaid_holds(&store, much_later, &policy).expect("later"),
        0
    );
}

#[test]
fn the_hold_sweep_runs_in_the_background() {
    let (dir, store, expert, clients) = bookable_store(1);
    let config = EngineConfig {
        slot_policy: holding_for(Duration::from_millis(300)),
        hold_sweep_every: Some(Duration::from_millis(50)),
        ..EngineConfig::new(dir.path())
    };
    let asked = request(&clients[0], &expert, Timestamp::now_plus_days(2), 30);
    let held = book(&store, &asked, &config.slot_policy).expect("book");
    let engine = Engine::over(store, config).expect("engine");
    let started = Instant::now();
    while engine
        .store()
        .bookings()
        .get(held.id)
        .expect("booking")
        .status
        != BookingStatus::Cancelled
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the lapsed hold was never swept"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    engine.shutdown().expect("shutdown stops the job");
}

#[test]
fn a_provider_cannot_confirm_an_unpaid_booking() {
    let (_dir, store, expert, clients) = bookable_store(1);
    let policy = SlotPolicy::default();
    let client = &clients[0];
    let start = Timestamp::now_plus_days(2);
    let unpaid = book(&store, &request(client, &expert, start, 30), &policy).expect("book");
    match act(&store, unpaid.id, expert.id, BookingAction::Confirm, None) {
        Err(Error::InvalidState(message)) => assert!(message.contains("awaiting payment")),
        other => panic!("confirmed unpaid: {other:?}"),
    }
    let refused = store.bookings().get(unpaid.id).expect("booking");
    assert_eq!(
        refused.status,
        BookingStatus::PendingPayment,
        "left as it was"
    );
    pay(&store, unpaid.id);
    let confirmed = act(&store, unpaid.id, expert.id, BookingAction::Confirm, None).expect("paid");
    assert_eq!(confirmed.status, BookingStatus::Confirmed);

    // A free session (a price that rounds to nothing; rates are never zero)
    // has nothing to pay: the provider confirms it as is.
    let mut free = full_booking(client.id, expert.id, "2030-01-07T10:00:00Z");
    free.status = BookingStatus::PendingPayment;
    free.payment_status = PaymentStatus::Pending;
    free.payment_amount = eur(0);
    free.rescheduled_from = None;
    let free = store.bookings().create(free).expect("free booking");
    assert!(!droply_engine::availability::awaits_payment(&free));
    let confirmed = act(&store, free.id, expert.id, BookingAction::Confirm, None).expect("free");
    assert_eq!(confirmed.status, BookingStatus::Confirmed);
}

#[test]
fn a_booking_cannot_be_completed_or_marked_no_show_before_it_starts() {
    let (_dir, store, expert, clients) = bookable_store(1);
    let policy = SlotPolicy::default();
    let client = &clients[0];
    let upcoming = book(
        &store,
        &request(client, &expert, Timestamp::now_plus_days(2), 30),
        &policy,
    )
    .expect("book");
    pay(&store, upcoming.id);
    act(&store, upcoming.id, expert.id, BookingAction::Confirm, None).expect("confirm");
    for action in [BookingAction::Complete, BookingAction::NoShow] {
        match act(&store, upcoming.id, expert.id, action, None) {
            Err(Error::InvalidState(message)) => assert!(message.contains("not started")),
            other => panic!("{action:?} before the start: {other:?}"),
        }
    }
    let refused = store.bookings().get(upcoming.id).expect("booking");
    assert_eq!(refused.status, BookingStatus::Confirmed, "left as it was");
    // Once a session has started, it may be completed or marked a no-show.
    let past = |start: &str| {
        let mut booking = full_booking(client.id, expert.id, start);
        booking.status = BookingStatus::Confirmed;
        booking.rescheduled_from = None;
        store.bookings().create(booking).expect("past booking")
    };
    let took_place = past("2026-01-05T10:00:00Z");
    let missed = past("2026-01-06T10:00:00Z");
    let done = act(
        &store,
        took_place.id,
        expert.id,
        BookingAction::Complete,
        None,
    )
    .expect("complete");
    assert_eq!(done.status, BookingStatus::Completed);
    let absent = act(&store, missed.id, expert.id, BookingAction::NoShow, None).expect("no-show");
    assert_eq!(absent.status, BookingStatus::NoShow);
    // A repeat of either move (an answer lost, the request resent) answers
    // the booking as it stands; the other move stays refused.
    let again = act(
        &store,
        took_place.id,
        expert.id,
        BookingAction::Complete,
        None,
    )
    .expect("complete again");
    assert_eq!(again, done);
    let again = act(&store, missed.id, expert.id, BookingAction::NoShow, None).expect("again");
    assert_eq!(again, absent);
    assert!(matches!(
        act(&store, missed.id, expert.id, BookingAction::Complete, None),
        Err(Error::InvalidState(_))
    ));
}

#[test]
fn booking_records_one_book_interaction_and_rescheduling_none() {
    let (_dir, store, expert, clients) = bookable_store(1);
    let policy = SlotPolicy::default();
    let client = &clients[0];
    let start = Timestamp::now_plus_days(2);
    let booking = book(&store, &request(client, &expert, start, 30), &policy).expect("book");
    reschedule(
        &store,
        booking.id,
        client.id,
        start.plus_minutes(60),
        &policy,
    )
    .expect("reschedule");
    let kinds = interactions_of(&store, client.id);
    assert_eq!(kinds, [(expert.id, InteractionType::Book)]);
}

fn interactions_of(store: &Store, user: UserId) -> Vec<(UserId, InteractionType)> {
    store
        .interactions()
        .by_user(user, &PageRequest::first(100))
        .expect("interactions")
        .items
        .iter()
        .map(|i| (i.target_user_id, i.interaction_type))
        .collect()
}

#[test]
fn rescheduling_a_paid_booking_keeps_its_payment() {
    let (_dir, store, expert, clients) = bookable_store(1);
    let policy = SlotPolicy::default();
    let client = &clients[0];
    let slot = |n: i64| Timestamp::now_plus_days(2).plus_minutes(30 * n);
    let paid = book(&store, &request(client, &expert, slot(0), 30), &policy).expect("book");
    pay(&store, paid.id);
    for n in 1..4 {
        book(&store, &request(client, &expert, slot(n), 30), &policy).expect("unpaid hold");
    }
    // Three unpaid holds do not stop a paid booking from moving, and the
    // replacement is paid: it never lapses.
    let moved = reschedule(&store, paid.id, client.id, slot(6), &policy).expect("reschedule");
    assert_eq!(moved.payment_status, PaymentStatus::Succeeded);
    assert_eq!(moved.payment_amount, paid.payment_amount);
    assert_eq!(moved.rescheduled_from, Some(paid.id));
    assert_eq!(policy.hold_expires_at(&moved), None);
    assert_eq!(moved.status, BookingStatus::Confirmed, "paid, so confirmed");
    // An unpaid hold moves as an unpaid hold, within the cap.
    let holds = store
        .bookings()
        .by_booker(client.id, &PageRequest::first(10))
        .expect("bookings")
        .items;
    let unpaid = holds
        .iter()
        .find(|b| b.start_time == slot(1))
        .expect("a hold");
    let moved = reschedule(&store, unpaid.id, client.id, slot(8), &policy).expect("reschedule");
    assert!(policy.hold_expires_at(&moved).is_some());
}

/// Regression: a reschedule sent twice (its answer lost, the request resent)
/// was refused with `InvalidState`, the first having cancelled the old
/// booking; the repeat now answers the booking the first made and writes
/// nothing, while a move of the old booking to another start stays refused.
#[test]
fn a_reschedule_sent_twice_answers_the_booking_the_first_made() {
    let (_dir, store, expert, clients) = bookable_store(1);
    let policy = SlotPolicy::default();
    let client = &clients[0];
    let slot = |n: i64| Timestamp::now_plus_days(2).plus_minutes(30 * n);
    let booking = book(&store, &request(client, &expert, slot(0), 30), &policy).expect("book");
    let moved = reschedule(&store, booking.id, client.id, slot(2), &policy).expect("reschedule");
    let seen = store.last_seq();
    let again = reschedule(&store, booking.id, client.id, slot(2), &policy).expect("the repeat");
    assert_eq!(again, moved);
    assert_eq!(store.last_seq(), seen, "the repeat wrote nothing");
    assert!(matches!(
        reschedule(&store, booking.id, client.id, slot(4), &policy),
        Err(Error::InvalidState(_))
    ));
    let made = store
        .bookings()
        .by_booker(client.id, &PageRequest::first(10))
        .expect("bookings")
        .items;
    assert_eq!(made.len(), 2, "{made:?}");
}

//! Availability and booking: slots across a DST change, the viewer's own days,
//! exceptions, buffers and notice, and exactly one winner among concurrent
//! bookings of one slot; the booking rules (lengths, the grid, unpaid holds,
//! when a booking may be confirmed, completed or marked a no-show) are in
//! `rules`.

use droply_test_support::fixtures;

mod rules;

use std::sync::{Arc, Barrier};

use chrono::NaiveDate;
use droply_engine::availability::{ExpertCalendar, SlotPolicy, SlotQuery, find_slots};
use droply_engine::booking::{self, BookingAction, BookingRequest};
use droply_engine::payments::{ChargeTerms, PaymentsConfig};
use droply_engine::{Error, Store};
use droply_models::{Booking, BookingId, BookingStatus, TimeZone, Timestamp, User, UserId};

use fixtures::*;

/// Payments on, as a server with Stripe runs them: these store-level tests
/// never reach Stripe (a booking's payment starts in the engine).
const TERMS: ChargeTerms = ChargeTerms {
    payments_on: true,
    platform_fee_bps: 1500,
    earnings_hold_days: 7,
};

/// [`booking::book`] under [`TERMS`].
fn book(store: &Store, request: &BookingRequest, policy: &SlotPolicy) -> Result<Booking, Error> {
    booking::book(store, request, policy, &TERMS)
}

/// [`booking::act`] under the default refund policy, without the refund order.
fn act(
    store: &Store,
    id: BookingId,
    actor: UserId,
    action: BookingAction,
    reason: Option<String>,
) -> Result<Booking, Error> {
    booking::act(store, id, actor, action, reason, &PaymentsConfig::default()).map(|(b, _)| b)
}

/// [`booking::reschedule`] under [`TERMS`] and the default refund policy,
/// without whether it made the booking it answers.
fn reschedule(
    store: &Store,
    id: BookingId,
    actor: UserId,
    new_start: Timestamp,
    policy: &SlotPolicy,
) -> Result<Booking, Error> {
    booking::reschedule(
        store,
        id,
        actor,
        new_start,
        policy,
        &TERMS,
        &PaymentsConfig::default().refund_policy,
    )
    .map(|moved| moved.booking)
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("date")
}

fn zone(name: &str) -> TimeZone {
    TimeZone::parse(name).expect("zone")
}

/// A Berlin expert working 09:00-17:00 every day, with no bookings yet.
fn berlin_calendar(expert: &User) -> ExpertCalendar {
    let mut rules = Vec::new();
    for weekday in 0..7 {
        let mut r = rule(expert.id, weekday, "09:00", "17:00");
        r.is_active = true;
        rules.push(r);
    }
    ExpertCalendar {
        timezone: zone("Europe/Berlin"),
        rules,
        exceptions: Vec::new(),
        bookings: Vec::new(),
        busy: Vec::new(),
    }
}

fn query(from: &str, to: &str, viewer: &str) -> SlotQuery {
    SlotQuery {
        from: date(from),
        to: date(to),
        viewer_tz: zone(viewer),
        duration_minutes: Some(60),
        now: at("2027-01-01T00:00:00Z"),
    }
}

#[test]
fn berlin_nine_oclock_moves_in_utc_across_the_dst_change() {
    let expert = full_user("expert");
    let slots = find_slots(
        &berlin_calendar(&expert),
        &query("2027-03-26", "2027-03-29", "Europe/Berlin"),
        &SlotPolicy::default(),
    )
    .expect("slots");
    let first_on = |day: &str| {
        slots
            .iter()
            .find(|s| s.start.to_rfc3339().starts_with(day))
            .map(|s| s.start.to_rfc3339())
    };
    assert_eq!(
        first_on("2027-03-26").as_deref(),
        Some("2027-03-26T08:00:00Z")
    );
    assert_eq!(
        first_on("2027-03-27").as_deref(),
        Some("2027-03-27T08:00:00Z")
    );
    assert_eq!(
        first_on("2027-03-29").as_deref(),
        Some("2027-03-29T07:00:00Z")
    );
    // 09:00-17:00 with hour-long sessions every 30 minutes: 15 slots a day.
    assert_eq!(slots.len(), 4 * 15);
    assert!(slots.iter().all(|s| s.end == s.start.plus_minutes(60)));
}

/// Regression: a rule ending at 24:00 on a day whose midnight the clocks skip
/// (Beirut moves to summer time at 00:00) had no end instant, and the whole
/// rule was dropped for that day.
#[test]
fn evening_hours_survive_a_midnight_the_clocks_skip() {
    let expert = full_user("expert");
    let mut saturday = rule(expert.id, 5, "18:00", "24:00");
    saturday.is_active = true;
    let calendar = ExpertCalendar {
        timezone: zone("Asia/Beirut"),
        rules: vec![saturday],
        exceptions: Vec::new(),
        bookings: Vec::new(),
        busy: Vec::new(),
    };
    let slots = find_slots(
        &calendar,
        &query("2027-03-27", "2027-03-27", "Asia/Beirut"),
        &SlotPolicy::default(),
    )
    .expect("slots");
    let starts: Vec<String> = slots.iter().map(|s| s.start.to_rfc3339()).collect();
    assert_eq!(
        starts.first().map(String::as_str),
        Some("2027-03-27T16:00:00Z")
    );
    assert_eq!(
        starts.last().map(String::as_str),
        Some("2027-03-27T21:00:00Z")
    );
    assert_eq!(
        starts.len(),
        11,
        "18:00 to 23:00 every half hour: {starts:?}"
    );
}

#[test]
fn a_viewer_in_new_york_gets_the_new_york_day() {
    let expert = full_user("expert");
    let slots = find_slots(
        &berlin_calendar(&expert),
        &query("2027-03-29", "2027-03-29", "America/New_York"),
        &SlotPolicy::default(),
    )
    .expect("slots");
    // New York is on EDT (UTC-4) by then: its 29 March runs 04:00Z to 04:00Z next day.
    let (day_start, day_end) = (at("2027-03-29T04:00:00Z"), at("2027-03-30T04:00:00Z"));
    assert!(!slots.is_empty());
    assert!(
        slots
            .iter()
            .all(|s| s.start >= day_start && s.end <= day_end)
    );
    // Berlin works 07:00Z-15:00Z that day, all inside New York's day.
    assert_eq!(
        slots.first().map(|s| s.start),
        Some(at("2027-03-29T07:00:00Z"))
    );
    assert_eq!(
        slots.last().map(|s| s.end),
        Some(at("2027-03-29T15:00:00Z"))
    );
}

#[test]
fn exceptions_bookings_buffers_and_notice_shape_the_slots() {
    let expert = full_user("expert");
    let client = full_user("client");
    let mut calendar = berlin_calendar(&expert);
    // Blocked the whole of the 5th, extra evening hours on the 6th.
    calendar.exceptions.push(exception(
        expert.id,
        "2027-01-04T23:00:00Z",
        "2027-01-05T23:00:00Z",
    ));
    let mut evening = exception(expert.id, "2027-01-06T17:00:00Z", "2027-01-06T19:00:00Z");
    evening.is_blocked = false;
    calendar.exceptions.push(evening);
    // A confirmed booking 10:00-11:00 Berlin (09:00Z) on the 7th; a cancelled one is ignored.
    let mut taken = full_booking(client.id, expert.id, "2027-01-07T09:00:00Z");
    taken.status = BookingStatus::Confirmed;
    let mut cancelled = full_booking(client.id, expert.id, "2027-01-07T13:00:00Z");
    cancelled.status = BookingStatus::Cancelled;
    calendar.bookings = vec![taken, cancelled];
    let policy = SlotPolicy {
        buffer_minutes: 15,
        ..SlotPolicy::default()
    };
    let slots = find_slots(
        &calendar,
        &query("2027-01-05", "2027-01-07", "Europe/Berlin"),
        &policy,
    )
    .expect("slots");
    let on = |day: &str| {
        slots
            .iter()
            .filter(|s| s.start.to_rfc3339().starts_with(day))
            .count()
    };
    assert_eq!(on("2027-01-05"), 0, "blocked day");
    assert!(
        slots.iter().any(|s| s.start == at("2027-01-06T18:00:00Z")),
        "extra evening hour"
    );
    assert!(
        slots
            .iter()
            .all(|s| !(s.start < at("2027-01-07T10:15:00Z") && s.end > at("2027-01-07T08:45:00Z"))),
        "booking plus buffers"
    );
    assert!(
        slots.iter().any(|s| s.start == at("2027-01-07T13:00:00Z")),
        "a cancelled booking frees its slot"
    );
    // Minimum notice: with `now` at 09:30Z on the 7th, nothing before 10:30Z.
    let late = SlotQuery {
        now: at("2027-01-07T09:30:00Z"),
        ..query("2027-01-07", "2027-01-07", "Europe/Berlin")
    };
    let slots = find_slots(&calendar, &late, &policy).expect("slots");
    assert!(slots.iter().all(|s| s.start >= at("2027-01-07T10:30:00Z")));
}

#[test]
fn bad_slot_queries_are_refused() {
    let expert = full_user("expert");
    let calendar = berlin_calendar(&expert);
    let policy = SlotPolicy::default();
    assert!(matches!(
        find_slots(
            &calendar,
            &query("2027-01-07", "2027-01-05", "UTC"),
            &policy
        ),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        find_slots(
            &calendar,
            &query("2027-01-01", "2027-12-31", "UTC"),
            &policy
        ),
        Err(Error::Invalid(_))
    ));
}

/// A store with a bookable Berlin expert (every day 09:00-17:00, 30-minute
/// sessions at 125 EUR an hour) and clients.
fn bookable_store(clients: usize) -> (tempfile::TempDir, Store, User, Vec<User>) {
    let (dir, store) = temp_store();
    let mut expert = full_user("expert");
    expert.is_available = true;
    expert.session_duration = 30;
    let expert = store.users().create(expert).expect("expert");
    for weekday in 0..7 {
        let mut r = rule(expert.id, weekday, "09:00", "17:00");
        r.is_active = true;
        store.availability_rules().create(r).expect("rule");
    }
    let clients = (0..clients)
        .map(|n| {
            let mut c = full_user(&format!("client{n}"));
            c.referral_code =
                droply_models::ReferralCode::parse(&format!("CLIENT{n:04}")).expect("code");
            store.users().create(c).expect("client")
        })
        .collect();
    (dir, store, expert, clients)
}

#[test]
fn fifty_concurrent_requests_for_one_slot_make_one_booking() {
    let (_dir, store, expert, clients) = bookable_store(50);
    let start = Timestamp::now_plus_days(3);
    let barrier = Arc::new(Barrier::new(clients.len()));
    let handles: Vec<_> = clients
        .iter()
        .map(|client| {
            let (store, barrier) = (store.clone(), barrier.clone());
            let request = BookingRequest {
                booker: client.id,
                provider: expert.id,
                start,
                duration_minutes: 60,
                client_message: None,
            };
            std::thread::spawn(move || {
                barrier.wait();
                book(&store, &request, &SlotPolicy::default())
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    let won = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Error::SlotUnavailable)))
        .count();
    assert_eq!((won, refused), (1, 49));
    assert_eq!(store.bookings().count(), 1);
    let booking = results.into_iter().find_map(Result::ok).expect("winner");
    assert_eq!(booking.status, BookingStatus::PendingPayment);
    assert_eq!(
        booking.payment_amount,
        eur(12_500),
        "one hour at the expert's rate"
    );
}

#[test]
fn bookings_follow_their_lifecycle() {
    let (_dir, store, expert, clients) = bookable_store(1);
    let request = BookingRequest {
        booker: clients[0].id,
        provider: expert.id,
        start: Timestamp::now_plus_days(2),
        duration_minutes: 30,
        client_message: Some("hello".to_owned()),
    };
    let booking = book(&store, &request, &SlotPolicy::default()).expect("book");
    assert_eq!(booking.payment_amount, eur(6_250));
    assert!(matches!(
        book(&store, &request, &SlotPolicy::default()),
        Err(Error::SlotUnavailable)
    ));
    // Confirmed once paid, by the provider only; a repeat answers it as is.
    pay(&store, booking.id);
    assert!(matches!(
        act(
            &store,
            booking.id,
            clients[0].id,
            BookingAction::Confirm,
            None
        ),
        Err(Error::Forbidden(_))
    ));
    let confirmed =
        act(&store, booking.id, expert.id, BookingAction::Confirm, None).expect("confirm");
    assert_eq!(confirmed.status, BookingStatus::Confirmed);
    let again = act(&store, booking.id, expert.id, BookingAction::Confirm, None).expect("repeat");
    assert_eq!(again, confirmed);
    let cancelled = act(
        &store,
        booking.id,
        clients[0].id,
        BookingAction::Cancel,
        Some("ill".to_owned()),
    )
    .expect("cancel");
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(cancelled.cancellation_reason.as_deref(), Some("ill"));
    // A cancelled booking never comes back.
    assert!(matches!(
        act(&store, booking.id, expert.id, BookingAction::Confirm, None),
        Err(Error::InvalidState(_))
    ));
    // The slot is free again once cancelled.
    book(&store, &request, &SlotPolicy::default()).expect("rebook");
    // Outside working hours (03:00 Berlin) is never bookable.
    let night = BookingRequest {
        start: at("2030-01-07T02:00:00Z"),
        ..request
    };
    assert!(matches!(
        book(&store, &night, &SlotPolicy::default()),
        Err(Error::SlotUnavailable)
    ));
}

/// Regression: an expert's calendar held only their bookings as provider, and a
/// booker's only theirs as client, so an expert could be booked for a time they
/// had booked another expert for, and book another expert over their own session.
#[test]
fn an_expert_is_never_in_two_sessions_at_once_on_either_side() {
    let (_dir, store, ann, clients) = bookable_store(1);
    let mut fay = full_user("fay");
    fay.is_available = true;
    fay.session_duration = 30;
    fay.referral_code = droply_models::ReferralCode::parse("FAY00001").expect("code");
    let fay = store.users().create(fay).expect("fay");
    for weekday in 0..7 {
        let mut r = rule(fay.id, weekday, "09:00", "17:00");
        r.is_active = true;
        store.availability_rules().create(r).expect("rule");
    }
    let policy = SlotPolicy::default();
    let request = |booker: UserId, provider: UserId, start: Timestamp| BookingRequest {
        booker,
        provider,
        start,
        duration_minutes: 60,
        client_message: None,
    };
    let start = Timestamp::now_plus_days(3);
    book(&store, &request(ann.id, fay.id, start), &policy).expect("ann books fay");
    assert!(matches!(
        book(&store, &request(clients[0].id, ann.id, start), &policy),
        Err(Error::SlotUnavailable)
    ));
    let later = start.plus_minutes(120);
    book(&store, &request(clients[0].id, ann.id, later), &policy).expect("carl books ann");
    assert!(matches!(
        book(&store, &request(ann.id, fay.id, later), &policy),
        Err(Error::SlotUnavailable)
    ));
}

/// Marks booking `id` paid, as the payment provider's confirmation would.
fn pay(store: &Store, id: droply_models::BookingId) {
    store
        .bookings()
        .modify(id, |b| {
            b.payment_status = droply_models::PaymentStatus::Succeeded;
            Ok(())
        })
        .expect("paid");
}

/// A helper trait so tests can say "three days from now at 10:00 UTC".
trait NowPlusDays {
    fn now_plus_days(days: i64) -> Self;
}

impl NowPlusDays for droply_models::Timestamp {
    fn now_plus_days(days: i64) -> Self {
        let today = droply_models::Timestamp::now().as_datetime().date_naive();
        let day = today + chrono::Days::new(days as u64);
        let text = format!("{day}T10:00:00Z");
        at(&text)
    }
}

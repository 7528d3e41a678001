//! Moving a session keeps what was agreed: a free session stays free
//! after the expert sets a rate, a session keeps its length after the
//! expert changes theirs, an unpaid hold keeps its time to pay, an
//! expert cannot move a paid session into the window where the client's
//! full refund has passed, and a paid session's earning waits for its new
//! end before it can be paid out. Through its moves a session stays one
//! calendar event, and an expert who paused new bookings can still have
//! a paid session moved.

use std::time::Duration;

use droply_engine::availability::SlotPolicy;
use droply_engine::payments::{RefundPolicy, ledger};
use droply_models::{BookingId, BookingStatus, Timestamp, UserId};

use crate::app::{error_code, spawn_app_paying, spawn_app_paying_with};
use crate::availability::expert_working;
use crate::dates;
use crate::payments::{assert_consistent, book, booked};

fn move_to(app: &crate::app::TestApp, id: u64, token: &str, start: &str) -> crate::app::Response {
    app.authed(
        "POST",
        &format!("/v1/bookings/{id}/reschedule"),
        token,
        Some(&format!(r#"{{"start_time":"{start}"}}"#)),
    )
}

/// Regression: a confirmed free session moved after its expert set a rate
/// became `pending_payment` with no payment to pay, and lapsed as an
/// unpaid hold 15 minutes later.
#[test]
fn a_free_session_moved_after_the_expert_set_a_rate_stays_free_and_confirmed() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    app.make_free(expert);
    let (_, client) = app.register("carl");
    let created = book(&app, &client, expert, &dates::at(0, "09:00"));
    assert_eq!(created.body["status"], "confirmed", "{}", created.raw);
    app.make_expert(expert, "Europe/Berlin");
    let id = created.body["id"].as_u64().expect("id");
    let moved = move_to(&app, id, &client, &dates::at(0, "11:00"));
    assert_eq!(moved.status, 201, "{}", moved.raw);
    assert_eq!(moved.body["status"], "confirmed", "{}", moved.raw);
    assert_eq!(
        moved.body["payment_amount"]["amount_minor"], 0,
        "{}",
        moved.raw
    );
    assert_consistent(&app);
}

/// Regression: once the expert changed their session length, a booking of
/// the old length could not be moved (400 `invalid_input` naming
/// `duration`, as not whole sessions any more).
#[test]
fn a_session_keeps_its_length_when_moved_after_the_expert_changed_theirs() {
    let app = spawn_app_paying();
    let (expert, provider, client, id) = booked(&app);
    let changed = app.authed(
        "PATCH",
        "/v1/users/me",
        &provider,
        Some(r#"{"session_duration":45}"#),
    );
    assert_eq!(changed.status, 200, "{}", changed.raw);
    assert_eq!(changed.body["session_duration"], 45, "{}", changed.raw);
    let moved = move_to(&app, id, &client, &dates::at(0, "11:00"));
    assert_eq!(moved.status, 201, "{}", moved.raw);
    assert_eq!(moved.body["duration"], 60, "{}", moved.raw);
    assert_eq!(
        moved.body["end_time"],
        dates::at(0, "12:00"),
        "{}",
        moved.raw
    );
    assert_eq!(moved.body["rescheduled_from"], id, "{}", moved.raw);
    // A new booking is held to the new length.
    let (_, dora) = app.register("dora");
    let refused = book(&app, &dora, expert, &dates::at(0, "13:00"));
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (400, "invalid_input"),
        "{}",
        refused.raw
    );
    assert_consistent(&app);
}

/// Regression: the iCalendar export named each booking's own id as the
/// event's `UID`, so a calendar that had imported a session got a second
/// event once it was moved (a reschedule makes a new booking).
#[test]
fn a_moved_session_is_the_same_calendar_event_with_a_higher_sequence() {
    let app = spawn_app_paying();
    let (_, provider, client, first) = booked(&app);
    let ics = |id: u64, token: &str| {
        let answer = app.authed("GET", &format!("/v1/bookings/{id}.ics"), token, None);
        assert_eq!(answer.status, 200, "{}", answer.raw);
        answer.raw
    };
    let uid = format!("\r\nUID:booking-{first}@droply\r\n");
    let before = ics(first, &client);
    assert!(before.contains(&uid), "{before}");
    assert!(before.contains("\r\nSEQUENCE:0\r\n"), "{before}");
    let once = move_to(&app, first, &client, &dates::at(0, "11:00"));
    assert_eq!(once.status, 201, "{}", once.raw);
    let once = once.body["id"].as_u64().expect("id");
    let twice = move_to(&app, once, &provider, &dates::at(0, "13:00"));
    assert_eq!(twice.status, 201, "{}", twice.raw);
    let twice = twice.body["id"].as_u64().expect("id");
    let after = ics(twice, &provider);
    assert!(after.contains(&uid), "{after}");
    assert!(after.contains("\r\nSEQUENCE:2\r\n"), "{after}");
    let monday = dates::day(0).replace('-', "");
    assert!(
        after.contains(&format!("\r\nDTSTART:{monday}T130000Z\r\n")),
        "{after}"
    );
    assert!(after.contains("\r\nSTATUS:TENTATIVE\r\n"), "{after}");
    // The booking moved away from reads as that event cancelled, one
    // version earlier.
    let moved_away = ics(once, &client);
    assert!(moved_away.contains(&uid), "{moved_away}");
    assert!(moved_away.contains("\r\nSEQUENCE:1\r\n"), "{moved_away}");
    assert!(
        moved_away.contains("\r\nSTATUS:CANCELLED\r\n"),
        "{moved_away}"
    );
}

/// Regression: moving an unpaid hold made a new one with a fresh time to
/// pay, so moving it every few minutes held a slot unpaid for good.
#[test]
fn a_moved_hold_keeps_its_time_to_pay() {
    // Five seconds to pay: the move (a call to Stripe) has nearly four to
    // finish in after the pause, even on a loaded machine.
    let policy = SlotPolicy {
        unpaid_hold_ttl: Duration::from_secs(5),
        ..SlotPolicy::default()
    };
    let app = spawn_app_paying_with(move |config| {
        config.slot_policy = policy;
    });
    let (expert, _, client, id) = booked(&app);
    let first = app.store.bookings().get(BookingId::new(id)).expect("hold");
    std::thread::sleep(Duration::from_millis(1_200));
    let moved = move_to(&app, id, &client, &dates::at(0, "11:00"));
    assert_eq!(moved.status, 201, "{}", moved.raw);
    let new_id = moved.body["id"].as_u64().expect("id");
    let second = app
        .store
        .bookings()
        .get(BookingId::new(new_id))
        .expect("moved");
    assert_eq!(second.created_at, first.created_at);
    // Once the first hold's time is up, the moved one has lapsed too:
    // someone else can book its time.
    let lapses = policy.hold_expires_at(&second).expect("an unpaid hold");
    if let Ok(left) = lapses.signed_duration_since(Timestamp::now()).to_std() {
        std::thread::sleep(left + Duration::from_millis(200));
    }
    let (_, dora) = app.register("dora");
    let taken = book(&app, &dora, expert, &dates::at(0, "11:00"));
    assert_eq!(taken.status, 201, "{}", taken.raw);
}

/// Regression: the expert could move a paid session from well ahead to
/// tomorrow; the client could then neither move it back nor cancel it for a
/// refund.
#[test]
fn an_expert_cannot_move_a_paid_session_into_the_no_refund_window() {
    // The deadline falls between now and the session: 12 hours after the
    // earlier start's deadline would be, so that start is inside the window
    // and the booked one (a day later) outside it.
    let earlier_slot = dates::at(0, "09:00");
    let earlier = Timestamp::parse_rfc3339(&earlier_slot).expect("slot");
    let hours = (earlier.as_micros() - Timestamp::now().as_micros()) / 3_600_000_000 + 12;
    let app = spawn_app_paying_with(move |config| {
        config.payments.refund_policy = RefundPolicy {
            full_refund_hours_before: u32::try_from(hours).expect("hours"),
        };
    });
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let created = book(&app, &client, expert, &dates::at(1, "09:00"));
    let id = created.body["id"].as_u64().expect("id");
    app.pay_booking(id);
    let refused = move_to(&app, id, &provider, &earlier_slot);
    assert_eq!(refused.status, 409, "{}", refused.raw);
    assert_eq!(error_code(&refused), "invalid_state");
    let still = app
        .store
        .bookings()
        .get(BookingId::new(id))
        .expect("booking");
    assert_eq!(still.status, BookingStatus::Confirmed);
    // The client, still before the deadline, cancels for a full refund.
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/cancel"),
        &client,
        Some(r#"{"reason":"moved"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    assert_eq!(
        cancelled.body["payment_status"], "refunded",
        "{}",
        cancelled.raw
    );
    assert_consistent(&app);
}

/// Regression: a paid session kept its first payout date when moved, so the
/// expert could be paid out weeks before a session that could still be
/// cancelled for a full refund.
#[test]
fn a_moved_paid_sessions_earning_waits_for_its_new_end() {
    let app = spawn_app_paying();
    let (expert, _, client, id) = booked(&app);
    app.pay_booking(id);
    // Four weeks on; an earning is due seven days after its session ends
    // (10:00), so the old one a minute after that on day 7, the new on day 35.
    let moved = move_to(&app, id, &client, &dates::at(28, "09:00"));
    assert_eq!(moved.status, 201, "{}", moved.raw);
    let expert = app.store.users().get(UserId::new(expert)).expect("expert");
    let old_due = Timestamp::parse_rfc3339(&dates::at(7, "10:01")).expect("old date");
    let new_due = Timestamp::parse_rfc3339(&dates::at(35, "10:01")).expect("new date");
    let available = |at| {
        ledger::available_now(&app.store, &expert, at)
            .expect("available")
            .amount_minor
    };
    assert_eq!(available(old_due), 0);
    assert_eq!(available(new_due), 7_650);
    // The totals are the same; only the date moved.
    assert_eq!(expert.total_earnings.amount_minor, 7_650);
    assert_consistent(&app);
}

/// Regression: a move books the replacement under the new-booking check that
/// the expert takes bookings, so once the expert paused new bookings (or
/// their Stripe account stopped being active) neither side could move a
/// session already paid for (400 "takes no bookings").
#[test]
fn a_paid_session_can_be_moved_while_the_expert_pauses_new_bookings() {
    let app = spawn_app_paying();
    let (expert, provider, client, id) = booked(&app);
    app.pay_booking(id);
    let paused = app.authed(
        "PATCH",
        "/v1/users/me",
        &provider,
        Some(r#"{"is_available":false}"#),
    );
    assert_eq!(paused.status, 200, "{}", paused.raw);
    assert_eq!(paused.body["is_available"], false, "{}", paused.raw);
    let moved = move_to(&app, id, &client, &dates::at(0, "11:00"));
    assert_eq!(moved.status, 201, "{}", moved.raw);
    assert_eq!(moved.body["status"], "confirmed", "{}", moved.raw);
    assert_eq!(moved.body["rescheduled_from"], id, "{}", moved.raw);
    let once = moved.body["id"].as_u64().expect("id");
    // A new booking with the paused expert is still refused.
    let (_, dora) = app.register("dora");
    let refused = book(&app, &dora, expert, &dates::at(0, "15:00"));
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (400, "invalid_input"),
        "{}",
        refused.raw
    );
    // Its Stripe account no longer active, the expert still moves it.
    crate::payouts::not_onboarded(&app, expert);
    let again = move_to(&app, once, &provider, &dates::at(0, "13:00"));
    assert_eq!(again.status, 201, "{}", again.raw);
    assert_eq!(again.body["status"], "confirmed", "{}", again.raw);
    assert_consistent(&app);
}

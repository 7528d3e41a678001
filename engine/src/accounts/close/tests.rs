//! Closing on a temporary store: what is erased, what is kept, and the money checks.

use droply_models::{FavoriteId, InteractionType, PaymentStatus, PhoneNumber};

use super::*;
use crate::accounts::auth_session::{AuthSessionId, token_hash};
use crate::test_rows::{booking, user};

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("instant")
}

#[test]
fn anonymising_leaves_no_personal_field_and_a_valid_row() {
    let mut row = user("anna", "Tax Advisor");
    row.id = UserId::new(7);
    row.bio = "Twenty years of VAT returns in Berlin.".to_owned();
    row.phone = Some(PhoneNumber::parse("+4915112345678").expect("phone"));
    row.skills_1 = Some("VAT".to_owned());
    row.specialty_tags = vec!["freelancers".to_owned()];
    row.hourly_rate = Some(Money::new(9_000, row.currency));
    row.google_calendar_id = Some("primary".to_owned());
    let before = row.clone();
    let now = row.created_at.plus_days(1);
    anonymise(
        &mut row,
        Email::parse("closed-7@closed.invalid").expect("email"),
        Username::parse("closed_7").expect("username"),
        ReferralCode::parse("NEWCODE234").expect("code"),
        now,
    );
    assert!(row.is_closed());
    assert_eq!(row.public_name(), User::CLOSED_NAME);
    assert!(!row.is_expert() && !row.is_bookable());
    assert_eq!(row.username.as_str(), "closed_7");
    assert_eq!(row.phone, None);
    assert!(row.bio.is_empty() && row.specialty_tags.is_empty());
    assert_eq!((row.skills_1.as_deref(), row.hourly_rate), (None, None));
    assert_eq!(row.google_calendar_id, None);
    assert_ne!(row.password_hash, before.password_hash);
    assert_eq!((row.id, row.currency), (before.id, before.currency));
    assert_eq!(row.pending_balance, before.pending_balance);
    assert_eq!(row.updated_at, now);
    assert_eq!(row.validate(), Ok(()));
}

#[test]
fn closing_erases_the_user_frees_their_address_and_keeps_their_bookings() {
    let store = Store::open_temporary().expect("store");
    let now = Timestamp::now();
    let (ann, ed, squatter, past) = store
        .write(|txn| {
            let ann = txn.create(user("ann", ""))?;
            let ed = txn.create(user("eddie", "Tax Advisor"))?;
            // Someone signed up with the tombstone ann's closing would take.
            let mut squatter = user("sam", "");
            squatter.email = Email::parse(&format!("closed-{}@closed.invalid", ann.id))?;
            squatter.username = Username::parse(&format!("closed_{}", ann.id))?;
            let squatter = txn.create(squatter)?;
            let mut past = booking(ann.id, ed.id);
            past.start_time = at("2026-01-05T09:00:00Z");
            past.end_time = past.start_time.plus_minutes(60);
            past.created_at = at("2026-01-01T00:00:00Z");
            past.status = BookingStatus::Completed;
            past.client_name = ann.full_name.clone();
            past.client_email = ann.email.clone();
            past.client_message = Some("Call me on my mobile.".to_owned());
            let past = txn.create(past)?;
            txn.create(Favorite {
                id: FavoriteId::new(0),
                user_id: ann.id,
                favorited_user_id: ed.id,
                created_at: now,
            })?;
            txn.create(UserInteraction::new(
                ann.id,
                ed.id,
                InteractionType::View,
                now,
            ))?;
            txn.create(UserInteraction::new(
                ann.id,
                ann.id,
                InteractionType::View,
                now,
            ))?;
            txn.create(AuthSession {
                id: AuthSessionId::new(0),
                user_id: ann.id,
                token_hash: token_hash("ann's token"),
                created_at: now,
                expires_at: now.plus_days(30),
            })?;
            Ok((ann, ed, squatter, past))
        })
        .expect("rows");

    let ahead = bookings_to_cancel(&store, ann.id).expect("closable");
    assert!(ahead.is_empty(), "{ahead:?}");
    close(&store, ann.id, &[]).expect("closed");

    let closed: User = store.require(ann.id).expect("kept");
    assert!(closed.is_closed());
    assert_eq!(closed.full_name, User::CLOSED_NAME);
    assert_ne!(
        closed.email, squatter.email,
        "a squatted tombstone is not taken"
    );
    assert_ne!(closed.username, squatter.username);
    assert!(closed.username.as_str().starts_with("closed_"));
    assert_ne!(closed.referral_code, ann.referral_code);
    let old = Email::parse("ann@example.com").expect("email");
    assert_eq!(store.users().by_email(&old).expect("read"), None);
    let kept: Booking = store.require(past.id).expect("the booking stays");
    assert_eq!(kept.status, BookingStatus::Completed);
    assert_eq!((kept.user_id, kept.provider_id), (ann.id, ed.id));
    assert_eq!(kept.client_name, User::CLOSED_NAME);
    assert_eq!(kept.client_email, closed.email);
    assert_eq!(kept.client_message, None);
    assert_eq!(store.count::<Favorite>(), 0);
    assert_eq!(store.count::<UserInteraction>(), 0);
    assert_eq!(store.count::<AuthSession>(), 0);
    assert!(store.require::<User>(ed.id).expect("ed").is_expert());
    let report = store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

/// `eddie`, an expert, and a paid session of his, cancelled with
/// `reason`, whose full refund Stripe has not settled (still requested).
fn a_paid_session_cancelled_for(store: &Store, reason: &str) -> UserId {
    store
        .write(|txn| {
            let ed = txn.create(user("eddie", "Tax Advisor"))?;
            let bob = txn.create(user("bob", ""))?;
            let mut cancelled = booking(bob.id, ed.id);
            cancelled.start_time = txn.now().plus_days(30);
            cancelled.end_time = cancelled.start_time.plus_minutes(60);
            cancelled.status = BookingStatus::Cancelled;
            cancelled.cancellation_reason = Some(reason.to_owned());
            let cancelled = txn.create(cancelled)?;
            let terms = crate::payments::ChargeTerms {
                payments_on: true,
                platform_fee_bps: 1_500,
                earnings_hold_days: 7,
            };
            let mut payment = Payment::for_booking(&cancelled, &terms)?;
            payment.status = PaymentStatus::Succeeded;
            let mut payment = crate::payments::create_payment(txn, payment)?;
            crate::payments::ledger::record_charge(txn, &payment)?;
            let amount = payment.amount;
            payment.push_refund(amount, "cancelled by the expert", txn.now());
            txn.update(payment)?;
            Ok(ed.id)
        })
        .expect("rows")
}

/// Regression: a closing refused at its last write after cancelling a
/// paid session was refused again until Stripe settled the refund that
/// closing had asked for itself.
#[test]
fn a_closing_stopped_after_its_cancellations_runs_again_before_their_refunds_settle() {
    let store = Store::open_temporary().expect("store");
    let ed = a_paid_session_cancelled_for(&store, CLOSING_REASON);
    let underway = store
        .write(|txn| crate::payments::has_money_underway(txn, ed))
        .expect("read");
    assert!(underway, "the refund is underway for every other caller");
    let ahead = bookings_to_cancel(&store, ed).expect("closable again");
    assert!(ahead.is_empty(), "{ahead:?}");
    close(&store, ed, &[]).expect("closed");
    assert!(store.require::<User>(ed).expect("ed").is_closed());
}

#[test]
fn a_refund_of_another_cancellation_still_holds_the_closing() {
    let store = Store::open_temporary().expect("store");
    let ed = a_paid_session_cancelled_for(&store, "I am ill");
    let refused = bookings_to_cancel(&store, ed).expect_err("a refund on its way");
    assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
    let refused = close(&store, ed, &[]).expect_err("checked again");
    assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
    assert!(!store.require::<User>(ed).expect("ed").is_closed());
}

#[test]
fn an_available_balance_is_paid_out_before_closing() {
    let store = Store::open_temporary().expect("store");
    let ed = store
        .write(|txn| {
            let ed = txn.create(user("eddie", "Tax Advisor"))?;
            crate::payments::ledger::record_opening_balance(
                txn,
                ed.id,
                Money::new(5_000, ed.currency),
                Timestamp::now(),
            )?;
            Ok(ed)
        })
        .expect("rows");
    let refused = bookings_to_cancel(&store, ed.id).expect_err("money is owed to ed");
    assert!(
        matches!(&refused, Error::InvalidState(message) if message.contains("EUR 50.00")),
        "{refused}"
    );
    let refused = close(&store, ed.id, &[]).expect_err("checked again");
    assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
    let row: User = store.require(ed.id).expect("ed");
    assert!(!row.is_closed() && row.is_expert(), "nothing changed");
}

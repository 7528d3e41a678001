//! Closing on a temporary store: what is erased, what is kept, and the money checks.

use droply_models::{
    DropinMessage, DropinMessageId, DropinMessageType, DropinParticipant, DropinParticipantId,
    DropinSession, DropinSessionId, FavoriteId, InteractionType, PaymentStatus, PayoutId,
    PhoneNumber, SessionCode,
};

use super::*;
use crate::accounts::auth_session::{AuthSessionId, token_hash};
use crate::booking::{BookingAction, BookingRole, act};
use crate::dropins::{Role, messages_after};
use crate::payments::PaymentsConfig;
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

/// `eddie`, an expert, and a paid session of his starting in `hours`,
/// cancelled with `reason` by `side` through the bookings' own path: his
/// id and the booking's. The refund that cancellation asked for, if the
/// refund policy grants one, is still requested (Stripe has not settled it).
fn a_paid_session_cancelled_by(
    store: &Store,
    side: BookingRole,
    hours: i64,
    reason: &str,
) -> (UserId, BookingId) {
    let money = PaymentsConfig::default();
    let (ed, bob, session) = store
        .write(|txn| {
            let ed = txn.create(user("eddie", "Tax Advisor"))?;
            let bob = txn.create(user("bob", ""))?;
            let mut session = booking(bob.id, ed.id);
            session.start_time = txn.now().plus_minutes(60 * hours);
            session.end_time = session.start_time.plus_minutes(60);
            session.status = BookingStatus::Confirmed;
            session.payment_status = PaymentStatus::Succeeded;
            let session = txn.create(session)?;
            let mut payment = Payment::for_booking(&session, &money.terms())?;
            payment.status = PaymentStatus::Succeeded;
            let payment = crate::payments::create_payment(txn, payment)?;
            crate::payments::ledger::record_charge(txn, &payment)?;
            Ok((ed.id, bob.id, session.id))
        })
        .expect("rows");
    let by = match side {
        BookingRole::Provider => ed,
        BookingRole::Client => bob,
    };
    let (cancelled, _) = act(
        store,
        session,
        by,
        BookingAction::Cancel,
        Some(reason.to_owned()),
        &money,
    )
    .expect("cancelled");
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    (ed, session)
}

/// Regression: a closing refused at its last write after cancelling a
/// paid session was refused again until Stripe settled the refund that
/// closing had asked for itself.
#[test]
fn a_closing_stopped_after_its_cancellations_runs_again_before_their_refunds_settle() {
    let store = Store::open_temporary().expect("store");
    let (ed, _) =
        a_paid_session_cancelled_by(&store, BookingRole::Provider, 30 * 24, CLOSING_REASON);
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
    let (ed, _) = a_paid_session_cancelled_by(&store, BookingRole::Provider, 30 * 24, "I am ill");
    let refused = bookings_to_cancel(&store, ed).expect_err("a refund on its way");
    assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
    let refused = close(&store, ed, &[]).expect_err("checked again");
    assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
    assert!(!store.require::<User>(ed).expect("ed").is_closed());
}

/// Regression: a booking its client cancelled with the very words a
/// closing gives its own cancellations ("the account was closed") passed
/// for one the expert's closing had cancelled, so the refund on its way
/// was left out of the money check and the account closed under it.
#[test]
fn a_client_cancelling_with_the_closings_reason_still_holds_the_closing_while_refunded() {
    let store = Store::open_temporary().expect("store");
    let (ed, _) = a_paid_session_cancelled_by(&store, BookingRole::Client, 30 * 24, CLOSING_REASON);
    let refused = bookings_to_cancel(&store, ed).expect_err("the client's refund is on its way");
    assert!(
        matches!(&refused, Error::InvalidState(message) if message.contains("on its way")),
        "{refused}"
    );
    let refused = close(&store, ed, &[]).expect_err("checked again");
    assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
    assert!(!store.require::<User>(ed).expect("ed").is_closed());
}

/// Regression: a client's late cancellation (no refund) typed with the
/// closing's reason had the expert's earning from it taken off his
/// balance as if the closing had refunded it, so the account closed with
/// that earning still owed to him.
#[test]
fn a_late_client_cancellation_with_the_closings_reason_keeps_the_experts_earning_owed() {
    let store = Store::open_temporary().expect("store");
    let (ed, session) = a_paid_session_cancelled_by(&store, BookingRole::Client, 2, CLOSING_REASON);
    let payment = store
        .write(|txn| payment_of(txn, session))
        .expect("read")
        .expect("payment");
    assert!(payment.refunds.is_empty(), "too late for a refund");
    let refused = bookings_to_cancel(&store, ed).expect_err("his earning is still held");
    assert!(
        matches!(&refused, Error::InvalidState(message) if message.contains("still held")),
        "{refused}"
    );
    let refused = close(&store, ed, &[]).expect_err("checked again");
    assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
    assert!(!store.require::<User>(ed).expect("ed").is_closed());
}

/// The bookings a closing cancelled are known by the ids it collected, not
/// by the reason they carry.
#[test]
fn a_closing_knows_the_bookings_it_cancelled_by_their_ids_whatever_their_reason() {
    let store = Store::open_temporary().expect("store");
    let (ed, session) =
        a_paid_session_cancelled_by(&store, BookingRole::Provider, 30 * 24, "I am ill");
    close(&store, ed, &[session]).expect("closed: its refund is this closing's");
    assert!(store.require::<User>(ed).expect("ed").is_closed());
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

/// Regression: closing refused only while a payout was still being sent
/// (`Pending`); one in transit let the account close, and a
/// `transfer.reversed` for it then credited the closed account. A payout in
/// transit now holds the closing until it arrives.
#[test]
fn a_payout_in_transit_holds_the_closing() {
    let store = Store::open_temporary().expect("store");
    let (ed, payout) = store
        .write(|txn| {
            let ed = txn.create(user("eddie", "Tax Advisor"))?;
            let now = txn.now();
            let payout = txn.create(Payout {
                id: PayoutId::new(0),
                user_id: ed.id,
                amount: Money::new(2_500, ed.currency),
                stripe_transfer_id: Some("tr_in_transit".to_owned()),
                stripe_payout_id: None,
                status: PayoutStatus::InTransit,
                created_at: now,
                paid_at: None,
            })?;
            Ok((ed.id, payout.id))
        })
        .expect("rows");
    let refused = bookings_to_cancel(&store, ed).expect_err("a payout is on its way");
    assert!(
        matches!(&refused, Error::InvalidState(message) if message.contains("until it arrives")),
        "{refused}"
    );
    let refused = close(&store, ed, &[]).expect_err("checked again");
    assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
    assert!(!store.require::<User>(ed).expect("ed").is_closed());

    // Arrived (as `payout.paid` records it): nothing is on its way now.
    store
        .write(|txn| {
            let mut row: Payout = txn.require(payout)?;
            row.status = PayoutStatus::Paid;
            row.paid_at = Some(txn.now());
            txn.update(row)?;
            Ok(())
        })
        .expect("paid");
    close(&store, ed, &[]).expect("closed once it arrived");
    assert!(store.require::<User>(ed).expect("ed").is_closed());
}

/// Regression (review): a payout in transit held the closing until
/// `payout.paid` marked it paid, which never comes without the Connect
/// webhook: the account could never close. One sent over two weeks ago no
/// longer holds it.
#[test]
fn a_payout_long_in_transit_no_longer_holds_the_closing() {
    let store = Store::open_temporary().expect("store");
    let ed = store
        .write(|txn| {
            let ed = txn.create(user("eddie", "Tax Advisor"))?;
            let sent = txn.now().plus_days(-15);
            txn.create(Payout {
                id: PayoutId::new(0),
                user_id: ed.id,
                amount: Money::new(2_500, ed.currency),
                stripe_transfer_id: Some("tr_long_ago".to_owned()),
                stripe_payout_id: None,
                status: PayoutStatus::InTransit,
                created_at: sent,
                paid_at: None,
            })?;
            Ok(ed.id)
        })
        .expect("rows");
    close(&store, ed, &[]).expect("closed");
    assert!(store.require::<User>(ed).expect("ed").is_closed());
}

/// A drop-in `host` runs, `anonymous` or not, joined with `code`: started
/// an hour before `now` for two hours, and `ended` ten minutes before `now`
/// or live.
fn a_dropin(
    host: UserId,
    anonymous: bool,
    code: &str,
    now: Timestamp,
    ended: bool,
) -> DropinSession {
    DropinSession {
        id: DropinSessionId::new(0),
        host_id: host,
        topic: "Ask me about VAT".to_owned(),
        description: String::new(),
        max_participants: 10,
        current_participants: 0,
        is_active: !ended,
        is_anonymous: anonymous,
        session_code: SessionCode::parse(code).expect("code"),
        created_at: now.plus_minutes(-120),
        started_at: Some(now.plus_minutes(-60)),
        ended_at: ended.then(|| now.plus_minutes(-10)),
        duration_minutes: 120,
    }
}

/// `user` (none: a guest) in `session` under `name`, joined at `joined`;
/// still there when `active`, else gone five minutes later.
fn a_participant(
    session: &DropinSession,
    user: Option<UserId>,
    name: Option<&str>,
    joined: Timestamp,
    active: bool,
) -> DropinParticipant {
    DropinParticipant {
        id: DropinParticipantId::new(0),
        session_id: session.id,
        user_id: user,
        anonymous_name: name.map(str::to_owned),
        joined_at: joined,
        left_at: (!active).then(|| joined.plus_minutes(5)),
        is_active: active,
    }
}

/// A `kind` message `from` wrote in its drop-in at `at`, shown without a
/// name when `anonymous`.
fn a_message(
    from: &DropinParticipant,
    kind: DropinMessageType,
    text: &str,
    at: Timestamp,
    anonymous: bool,
) -> DropinMessage {
    DropinMessage {
        id: DropinMessageId::new(0),
        session_id: from.session_id,
        participant_id: from.id,
        message_type: kind,
        content: text.to_owned(),
        is_anonymous: anonymous,
        created_at: at,
        reply_to: None,
        removed_at: None,
    }
}

/// Regression: closing left the name a user typed to join an anonymous
/// drop-in on their participant row, and their rows (so the messages
/// written from them) tied to their account: a named room's history still
/// showed their user id, and their seat and pass in a live room stayed.
#[test]
fn closing_takes_the_users_name_and_account_off_their_dropin_rows_and_keeps_the_rooms_history() {
    let store = Store::open_temporary().expect("store");
    let now = Timestamp::now();
    let typed = "Ann from Berlin";
    let secret = "My tax id is DE123456789, can you check it?";
    let ago = |minutes: i64| now.plus_minutes(-minutes);
    let (ann, ed, over, live) = store
        .write(|txn| {
            let ann = txn.create(user("ann", ""))?;
            let ed = txn.create(user("eddie", "Tax Advisor"))?;
            let over = txn.create(a_dropin(ed.id, true, "QANDA1", now, true))?;
            let hosting = txn.create(a_participant(&over, Some(ed.id), None, ago(60), false))?;
            let anns = txn.create(a_participant(
                &over,
                Some(ann.id),
                Some(typed),
                ago(50),
                false,
            ))?;
            txn.create(a_participant(&over, None, Some("Fox"), ago(40), false))?;
            let question = txn.create(a_message(
                &anns,
                DropinMessageType::Question,
                "How do freelancers file VAT?",
                ago(48),
                true,
            ))?;
            let mut answer = a_message(
                &hosting,
                DropinMessageType::Answer,
                "Quarterly, online.",
                ago(47),
                true,
            );
            answer.reply_to = Some(question.id);
            txn.create(answer)?;
            let mut removed = a_message(&anns, DropinMessageType::Comment, secret, ago(46), true);
            removed.removed_at = Some(ago(45));
            txn.create(removed)?;

            let mut live = a_dropin(ed.id, false, "QANDA2", now, false);
            live.current_participants = 1;
            let live = txn.create(live)?;
            txn.create(a_participant(&live, Some(ed.id), None, ago(60), true))?;
            let anns = txn.create(a_participant(&live, Some(ann.id), None, ago(30), true))?;
            txn.create(a_message(
                &anns,
                DropinMessageType::Comment,
                "Thanks, that helps!",
                ago(20),
                false,
            ))?;
            Ok((ann, ed, over, live))
        })
        .expect("rows");
    let before = messages_after(&store, live.id, DropinMessageId::new(0), 100).expect("read");
    assert_eq!(
        before[0].author.user_id,
        Some(ann.id),
        "a named room shows who wrote"
    );

    close(&store, ann.id, &[]).expect("closed");

    let rows: Vec<DropinParticipant> = store
        .iter::<DropinParticipant>()
        .map(|row| row.expect("row"))
        .collect();
    assert_eq!(rows.len(), 5, "every row stays");
    assert!(
        !rows.iter().any(|row| row.user_id == Some(ann.id)),
        "{rows:?}"
    );
    assert!(
        !rows
            .iter()
            .any(|row| row.anonymous_name.as_deref() == Some(typed))
    );
    let closed: Vec<&DropinParticipant> = rows
        .iter()
        .filter(|row| row.anonymous_name.as_deref() == Some(User::CLOSED_NAME))
        .collect();
    assert_eq!(closed.len(), 2, "{rows:?}");
    assert!(
        closed
            .iter()
            .all(|row| row.user_id.is_none() && !row.is_active)
    );
    assert!(
        rows.iter()
            .any(|row| row.anonymous_name.as_deref() == Some("Fox"))
    );
    assert_eq!(
        rows.iter().filter(|row| row.user_id == Some(ed.id)).count(),
        2,
        "the host's rows keep their host"
    );

    // The ended room's history: the text stays, by "Closed account"; what
    // the host removed keeps none of theirs.
    let history = messages_after(&store, over.id, DropinMessageId::new(0), 100).expect("read");
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].message.content, "How do freelancers file VAT?");
    assert_eq!(history[0].author.display_name, User::CLOSED_NAME);
    assert_eq!(
        (history[0].author.user_id, history[0].author.role),
        (None, Role::Participant)
    );
    assert_eq!(history[1].message.content, "Quarterly, online.");
    assert_eq!(
        (
            history[1].author.role,
            history[1].author.display_name.as_str()
        ),
        (Role::Host, "Host")
    );
    assert_ne!(history[2].message.content, secret);
    assert!(history[2].message.removed_at.is_some());

    // The live room goes on without them, their text kept, their id gone.
    let live_now: DropinSession = store.require(live.id).expect("live");
    assert!(live_now.is_active && live_now.ended_at.is_none());
    assert_eq!(live_now.current_participants, 0, "their seat is free");
    let history = messages_after(&store, live.id, DropinMessageId::new(0), 100).expect("read");
    assert_eq!(history[0].message.content, "Thanks, that helps!");
    assert!(history[0].message.is_anonymous);
    assert_eq!(
        (
            history[0].author.user_id,
            history[0].author.display_name.as_str()
        ),
        (None, User::CLOSED_NAME)
    );
    let report = store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

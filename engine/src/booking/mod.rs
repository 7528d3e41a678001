//! Booking an expert: the slot is re-checked inside the same store
//! transaction that writes the booking, so of many concurrent requests for one
//! slot exactly one wins and the rest get `SlotUnavailable`. A booking lasts
//! whole sessions of the expert's length (a moved one keeps its own), starts
//! on the slot grid and within the booking horizon, and while
//! unpaid holds its slot only for the policy's hold time (a booker may hold a
//! few at once); the hold sweep cancels lapsed ones ([`expire_unpaid_holds`]).
//! Also: who may see and move a booking ([`booking_for`], [`act`]: confirmed
//! only once paid or free, completed or marked a no-show only once started),
//! rescheduling, idempotent booking requests and the iCalendar export.

mod access;
mod hold_sweep;
mod ics;
mod idempotency;
mod reschedule;
mod window;

pub use access::{BookingAction, BookingRole, act, booking_for, bookings_of, check_move};
pub(crate) use access::{apply_action, role_of};
pub use hold_sweep::{EXPIRED_HOLD_REASON, SWEEP_BATCH, expire_unpaid_holds};
pub use ics::to_ics;
pub use idempotency::{
    BookingIdempotency, BookingIdempotencyId, IdempotencyKey, MAX_KEY_LEN, book_idempotent,
};
pub use reschedule::{MoveHistory, Rescheduled, move_history, reschedule};
pub(crate) use window::bookings_starting_within;

use droply_models::{
    Booking, BookingStatus, Error as ModelError, InteractionType, Money, NewBooking,
    StripeAccountStatus, TimeZone, Timestamp, User, UserId,
};

use crate::availability::{ExpertCalendar, MAX_BOOKING_MINUTES, SlotPolicy, fits_open_hours};
use crate::payments::{ChargeTerms, Payment, charge_for_minutes, charge_refusal, payment_of};
use crate::store::{IndexName, Store, Txn};
use crate::{Error, Result};

/// What a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    /// Who books.
    pub booker: UserId,
    /// Whom they book.
    pub provider: UserId,
    /// When the session starts.
    pub start: Timestamp,
    /// Its length in minutes.
    pub duration_minutes: u16,
    /// A note for the expert.
    pub client_message: Option<String>,
}

/// Books a session if the slot is open now; a paid one awaits payment, a
/// free one is confirmed.
pub fn book(
    store: &Store,
    request: &BookingRequest,
    policy: &SlotPolicy,
    terms: &ChargeTerms,
) -> Result<Booking> {
    store.write(|txn| book_in(txn, request, policy, terms, None))
}

/// Books inside an open transaction, so callers can check and write more in
/// the same commit; `replacing` is the booking a reschedule replaces (already
/// cancelled in `txn`): the new one is linked to it by `rescheduled_from` and
/// keeps its payment when it was paid.
/// The rules, in the order they are checked: the provider takes bookings
/// ([`User::is_bookable`]; for a replacement only that they are still an
/// expert and, when it is an unpaid hold that costs money, can be paid);
/// the length is whole sessions of the provider's `session_duration`
/// ([`SlotPolicy::allows_duration`], else `invalid duration`), except that
/// a replacement keeps the length of the booking it replaces, whatever the
/// provider's session length is now ([`SlotPolicy::allows_kept_duration`]);
/// a new session with a provider who charges costs an amount Stripe can
/// charge (`charge_refusal`, else `Invalid`: a rate too low for the length);
/// the start is
/// on the slot grid ([`SlotPolicy::on_grid`], else `invalid start_time`);
/// the booker holds fewer than [`SlotPolicy::max_unpaid_holds`] unpaid
/// bookings, unless this one is paid already ([`Error::TooManyUnpaidBookings`]);
/// the booker is free then and
/// the time lies in the provider's open hours, after the notice and no later
/// than the booking horizon ([`fits_open_hours`], else
/// [`Error::SlotUnavailable`]);
/// a free session leaves the booker no more than
/// [`SlotPolicy::max_free_sessions_ahead`] with this provider
/// ([`Error::LimitReached`]).
/// A new booking (not a replacement) also records a `book` interaction.
/// A session that costs money needs payments ([`Error::PaymentsNotConfigured`])
/// and an expert who can be paid ([`User::is_bookable`]); it gets a
/// [`Payment`] row in the same transaction (a replacement takes over the
/// old booking's, and its earning waits for the new end:
/// `ledger::defer_earning`). A free one (no rate) is confirmed at once. A
/// replacement keeps the old booking's price, and an unpaid one its time to
/// pay. A booking
/// confirmed here gets its video room in the outbox in the same transaction.
pub(crate) fn book_in(
    txn: &mut Txn<'_>,
    request: &BookingRequest,
    policy: &SlotPolicy,
    terms: &ChargeTerms,
    replacing: Option<&Booking>,
) -> Result<Booking> {
    let paid = replacing.filter(|old| old.payment_status.is_paid());
    let provider: User = txn.require(request.provider)?;
    let booker: User = txn.require(request.booker)?;
    if replacing.is_none() && provider.charges_for_sessions() && !terms.payments_on {
        return Err(Error::PaymentsNotConfigured);
    }
    // A replacement moves a session agreed already: an expert who paused new
    // bookings (or whose Stripe account got restricted) still gives it, so
    // it needs only an expert, and one who can be paid as now when it is an
    // unpaid hold that costs money. A new booking needs a bookable expert.
    let takes_it = match replacing {
        Some(old) => {
            provider.is_expert()
                && (old.payment_status.is_paid()
                    || old.payment_amount.is_zero()
                    || provider.stripe_account_status == StripeAccountStatus::Active)
        }
        None => provider.is_bookable(),
    };
    if !takes_it {
        return Err(Error::Invalid(format!(
            "user {} takes no bookings{}",
            provider.id,
            if provider.is_expert() && (replacing.is_some() || provider.is_available) {
                " until their payouts are set up"
            } else {
                ""
            }
        )));
    }
    match replacing {
        // The length agreed when it was booked: the expert may have changed
        // their session length since.
        Some(old) if old.duration == request.duration_minutes => {
            policy.check_kept_duration(request.duration_minutes)?;
        }
        _ => policy.check_duration(provider.session_duration, request.duration_minutes)?,
    }
    let price = match provider.hourly_rate {
        Some(rate) => charge_for_minutes(rate, request.duration_minutes)?,
        None => Money::zero(provider.currency),
    };
    // A new session with an expert who charges must cost what Stripe can charge:
    // a rate that rounds a session to nothing made a paid expert's session free,
    // and one under Stripe's minimum a booking whose payment could never start.
    // (A replacement keeps the price it was booked at.)
    if replacing.is_none()
        && let Some(rate) = provider.hourly_rate.filter(|rate| rate.is_positive())
        && let Some(why) = charge_refusal(price)
    {
        return Err(Error::Invalid(format!(
            "a {}-minute session at this expert's rate of {rate} an hour comes to {price}, \
             which cannot be charged: {why}",
            request.duration_minutes
        )));
    }
    check_grid(request.start, provider.timezone, policy)?;
    let now = txn.now();
    let end = request
        .start
        .plus_minutes(i64::from(request.duration_minutes));
    // Only what can matter is read under the writer lock: the booker's
    // bookings that may still be open holds or overlap (those starting
    // after a booking made now could have started), not their history.
    let earliest_relevant = now
        .saturating_add(-chrono::TimeDelta::from_std(policy.unpaid_hold_ttl).unwrap_or_default())
        .plus_minutes(-i64::from(MAX_BOOKING_MINUTES));
    let booker_bookings = bookings_starting_within(
        &*txn,
        BookingRole::Client,
        booker.id,
        earliest_relevant,
        None,
    )?;
    let open_holds = booker_bookings
        .iter()
        .filter(|b| policy.is_open_hold(b, now))
        .count();
    if paid.is_none() && open_holds >= usize::from(policy.max_unpaid_holds) {
        return Err(Error::TooManyUnpaidBookings {
            max: policy.max_unpaid_holds,
        });
    }
    // The booker is busy in their own sessions on either side: as a client,
    // and as an expert giving one.
    let booker_giving = bookings_starting_within(
        &*txn,
        BookingRole::Provider,
        booker.id,
        request.start.plus_minutes(-i64::from(MAX_BOOKING_MINUTES)),
        Some(end),
    )?;
    let booker_busy = booker_bookings
        .iter()
        .chain(&booker_giving)
        .any(|b| policy.holds_slot(b, now) && b.overlaps(request.start, end));
    let calendar = calendar_around(txn, &provider, request.start, end)?;
    if booker_busy
        || !fits_open_hours(
            &calendar,
            request.start,
            request.duration_minutes,
            now,
            policy,
        )
    {
        return Err(Error::SlotUnavailable);
    }
    let moved_payment = match replacing {
        Some(old) => payment_of(txn, old.id)?,
        None => None,
    };
    // A moved session keeps its price: its payment's, or nothing when it
    // was free (an expert who set a rate since cannot turn a confirmed free
    // session into one awaiting a payment that was never asked for).
    let price = match (&moved_payment, replacing) {
        (Some(payment), _) => payment.amount,
        (None, Some(old)) => old.payment_amount,
        (None, None) => price,
    };
    let free_ahead = booker_bookings
        .iter()
        .filter(|b| b.provider_id == provider.id && policy.is_free_session_ahead(b, now))
        .count();
    if price.is_zero() && free_ahead >= usize::from(policy.max_free_sessions_ahead) {
        return Err(Error::LimitReached(format!(
            "you already have {} free sessions ahead with this expert; \
             book another once one has taken place or been cancelled",
            policy.max_free_sessions_ahead
        )));
    }
    let mut booking = Booking::new(NewBooking {
        user_id: booker.id,
        provider_id: provider.id,
        start_time: request.start,
        duration: request.duration_minutes,
        payment_amount: price,
        client_name: booker.full_name.clone(),
        client_email: booker.email.clone(),
        client_message: request.client_message.clone(),
        created_at: now,
    });
    booking.rescheduled_from = replacing.map(|old| old.id);
    // A moved hold keeps its time to pay, counted from when it was made:
    // moving it again and again cannot hold a slot unpaid for good.
    // (`replacing` is cancelled already: it awaited payment if it was not
    // paid and not free.)
    if let Some(old) =
        replacing.filter(|old| !old.payment_status.is_paid() && !old.payment_amount.is_zero())
    {
        booking.created_at = old.created_at;
    }
    if let Some(old) = paid.or(moved_payment.as_ref().and(replacing)) {
        booking.payment_status = old.payment_status;
        booking.payment_amount = old.payment_amount;
        booking.stripe_payment_intent_id = old.stripe_payment_intent_id.clone();
        booking.stripe_session_id = old.stripe_session_id.clone();
    }
    if price.is_zero() || paid.is_some() {
        booking.status = BookingStatus::Confirmed;
    }
    let booking = txn.create(booking)?;
    if booking.status == BookingStatus::Confirmed {
        crate::video::enqueue_room(txn, &booking)?;
    }
    match moved_payment {
        Some(mut payment) => {
            payment.pays_for = crate::payments::PaymentFor::Booking(booking.id);
            let until = terms.earning_available_at(&booking);
            if until > payment.earning_available_at {
                crate::payments::ledger::defer_earning(txn, &payment, until)?;
                payment.earning_available_at = until;
            }
            txn.update(payment)?;
        }
        None if !price.is_zero() && replacing.is_none() => {
            crate::payments::create_payment(txn, Payment::for_booking(&booking, terms)?)?;
        }
        None => {}
    }
    if replacing.is_none() {
        crate::calendar::booking_changed(txn, None, &booking)?;
        // Within the day's bounds like every interaction: a loop of booking and
        // cancelling writes one `book` a day, not one each time, so it cannot push
        // other people's interactions out of the windows the ranking reads.
        crate::accounts::record_within_bounds(txn, booker.id, provider.id, InteractionType::Book)?;
    }
    Ok(booking)
}

/// `Invalid start_time` unless `start` lies on the slot grid of an expert
/// in `zone`.
fn check_grid(start: Timestamp, zone: TimeZone, policy: &SlotPolicy) -> Result<()> {
    if policy.on_grid(start, zone) {
        return Ok(());
    }
    Err(ModelError::invalid(
        "start_time",
        format!(
            "must be a start the expert's slots offer: on the {}-minute grid counted \
             from midnight on the expert's clock, with no seconds",
            policy.grid_minutes()
        ),
    )
    .into())
}

/// The expert's rules, exceptions, busy times, and the bookings that can touch
/// `[start, end)` (what [`fits_open_hours`] looks at: a day either side,
/// plus the longest booking that could reach in), as seen inside `txn`: the
/// sessions they give and those they booked with other experts, since they
/// are in neither's slot while in the other.
pub fn calendar_around(
    txn: &Txn<'_>,
    expert: &User,
    start: Timestamp,
    end: Timestamp,
) -> Result<ExpertCalendar> {
    let owner = expert.id.to_be_bytes();
    let from = start.plus_minutes(-1440 - i64::from(MAX_BOOKING_MINUTES));
    let to = end.plus_minutes(1440);
    Ok(ExpertCalendar {
        timezone: expert.timezone,
        rules: txn.list_index(IndexName::RulesByUser, &owner)?,
        exceptions: txn.list_index(IndexName::ExceptionsByUser, &owner)?,
        bookings: [BookingRole::Provider, BookingRole::Client]
            .into_iter()
            .map(|side| bookings_starting_within(txn, side, expert.id, from, Some(to)))
            .collect::<Result<Vec<_>>>()?
            .concat(),
        busy: crate::calendar::busy_in(txn, expert.id)?,
    })
}

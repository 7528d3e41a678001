//! Who may see and move a booking: only its booker and its provider see it
//! (to anyone else it does not exist); the provider confirms (once it is
//! paid, or when it is free), completes and marks no-shows (once it has
//! started); either side cancels, with a reason.

use droply_models::{Booking, BookingId, BookingStatus, Timestamp, UserId, text};

use crate::availability::awaits_payment;
use crate::payments::{
    PaymentFor, PaymentsConfig, RefundOrder, on_booking_completed, refund_on_cancel,
};
use crate::store::{Page, PageRequest, Store};
use crate::{Error, Result};

/// Which side of a booking a user is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingRole {
    /// The one who booked (`user_id`).
    Client,
    /// The expert booked (`provider_id`).
    Provider,
}

/// A move along the booking lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingAction {
    /// Provider: the session is on.
    Confirm,
    /// Either side: call it off (needs a reason).
    Cancel,
    /// Provider: the session took place.
    Complete,
    /// Provider: the client did not show up.
    NoShow,
}

impl BookingAction {
    /// The status the action leads to.
    pub fn target(self) -> BookingStatus {
        match self {
            BookingAction::Confirm => BookingStatus::Confirmed,
            BookingAction::Cancel => BookingStatus::Cancelled,
            BookingAction::Complete => BookingStatus::Completed,
            BookingAction::NoShow => BookingStatus::NoShow,
        }
    }

    fn allowed_for(self, role: BookingRole) -> bool {
        match self {
            BookingAction::Cancel => true,
            BookingAction::Confirm | BookingAction::Complete | BookingAction::NoShow => {
                role == BookingRole::Provider
            }
        }
    }
}

/// The side `viewer` is on, if any.
pub(crate) fn role_of(booking: &Booking, viewer: UserId) -> Option<BookingRole> {
    if booking.provider_id == viewer {
        Some(BookingRole::Provider)
    } else if booking.user_id == viewer {
        Some(BookingRole::Client)
    } else {
        None
    }
}

fn not_found(id: BookingId) -> Error {
    Error::NotFound {
        entity: "booking",
        id: id.get(),
    }
}

/// The booking, if `viewer` is its booker or provider; `NotFound` otherwise.
pub fn booking_for(store: &Store, id: BookingId, viewer: UserId) -> Result<Booking> {
    let booking = store.bookings().find(id)?.ok_or_else(|| not_found(id))?;
    role_of(&booking, viewer).ok_or_else(|| not_found(id))?;
    Ok(booking)
}

/// One page of the bookings `user` made (client) or received (provider), by start time.
pub fn bookings_of(
    store: &Store,
    user: UserId,
    role: BookingRole,
    page: &PageRequest,
) -> Result<Page<Booking>> {
    match role {
        BookingRole::Client => store.bookings().by_booker(user, page),
        BookingRole::Provider => store.bookings().by_provider(user, page),
    }
}

/// The booking rules on a move the lifecycle allows, as of `now`: a booking
/// is confirmed only once paid (or when it costs nothing), and completed or
/// marked a no-show only once its session has started. `InvalidState`
/// naming the rule otherwise.
pub fn check_move(booking: &Booking, next: BookingStatus, now: Timestamp) -> Result<()> {
    match next {
        BookingStatus::Confirmed if awaits_payment(booking) => Err(Error::InvalidState(
            "awaiting payment: a booking is confirmed once it is paid".to_owned(),
        )),
        BookingStatus::Completed | BookingStatus::NoShow if now < booking.start_time => {
            Err(Error::InvalidState(format!(
                "the session has not started yet (it starts at {})",
                booking.start_time.to_rfc3339()
            )))
        }
        _ => Ok(()),
    }
}

/// Applies `action` for `actor` in one transaction. `NotFound` for strangers,
/// `Forbidden` for the wrong side, `InvalidState` when the lifecycle or the
/// booking rules ([`check_move`]) forbid it.
/// A repeat of the move the booking already made (a client resending a
/// request whose answer was lost: the booking is already in the action's
/// target status, and `actor` is on a side that may make that move) answers
/// the booking as it stands and no refund order, writing nothing and doing
/// none of the side effects below. A cancel of a booking already cancelled
/// answers it the same way whoever or whatever cancelled it (the other side,
/// a lapsed unpaid hold): there is nothing left to call off. A booking a
/// reschedule moved is refused `InvalidState` instead: its session goes on
/// as the new booking, which is the one to cancel.
/// Cancelling a paid booking records the refund the refund policy grants,
/// in the same transaction; the caller sends it
/// ([`crate::payments::send_refund`]). Cancelling an unpaid one asks for its
/// PaymentIntent to be cancelled at Stripe; cancelling one with a video room
/// asks for the room to be deleted at Daily. Completing one creates the client's
/// referrer's first-booking reward, if due. Confirming one puts its video
/// room in the outbox. Marking a no-show withdraws the client's review of the
/// session and its stars from the expert's rating
/// (`reviews::withdraw_review_of_no_show`).
pub fn act(
    store: &Store,
    id: BookingId,
    actor: UserId,
    action: BookingAction,
    reason: Option<String>,
    money: &PaymentsConfig,
) -> Result<(Booking, Option<RefundOrder>)> {
    apply_action(store, id, actor, action, reason, money).map(|acted| (acted.booking, acted.refund))
}

/// What [`apply_action`] did.
#[derive(Debug)]
pub(crate) struct Acted {
    /// The booking as it stands after the action.
    pub(crate) booking: Booking,
    /// The refund the move recorded, for the caller to send.
    pub(crate) refund: Option<RefundOrder>,
    /// False for a repeat of the move the booking had made already: nothing
    /// was written. A caller that must know whether this call cancelled the
    /// booking (the account closing) reads it here.
    pub(crate) moved: bool,
}

/// [`act`], telling a move from a repeat of one ([`Acted::moved`]).
pub(crate) fn apply_action(
    store: &Store,
    id: BookingId,
    actor: UserId,
    action: BookingAction,
    reason: Option<String>,
    money: &PaymentsConfig,
) -> Result<Acted> {
    let reason = match action {
        BookingAction::Cancel => {
            let reason = reason.unwrap_or_default();
            text::check_required("reason", &reason, text::NOTE_MAX)?;
            Some(reason.trim().to_owned())
        }
        _ => None,
    };
    store.write(|txn| {
        let mut booking: Booking = txn.get(id)?.ok_or_else(|| not_found(id))?;
        let role = role_of(&booking, actor).ok_or_else(|| not_found(id))?;
        if !action.allowed_for(role) {
            return Err(Error::Forbidden(format!(
                "only the provider may {}",
                match action {
                    BookingAction::Confirm => "confirm",
                    BookingAction::Complete => "complete",
                    BookingAction::NoShow => "mark a no-show",
                    BookingAction::Cancel => "cancel",
                }
            )));
        }
        let next = action.target();
        if next == BookingStatus::Cancelled && super::reschedule::was_moved(&booking) {
            // Not a repeat: the session goes on as the booking it was moved to.
            return Err(Error::InvalidState(
                "this booking was moved to another time: cancel the booking it was moved to"
                    .to_owned(),
            ));
        }
        if booking.status == next {
            // Already made, by this request's first send or otherwise.
            return Ok(Acted {
                booking,
                refund: None,
                moved: false,
            });
        }
        if !booking.status.can_transition_to(next) {
            return Err(Error::InvalidState(format!(
                "a {} booking cannot become {}",
                booking.status.as_str(),
                next.as_str()
            )));
        }
        check_move(&booking, next, txn.now())?;
        let before = booking.clone();
        booking.status = next;
        if reason.is_some() {
            booking.cancellation_reason = reason;
        }
        let booking = txn.update(booking)?;
        crate::calendar::booking_changed(txn, Some(&before), &booking)?;
        if next == BookingStatus::NoShow {
            crate::reviews::withdraw_review_of_no_show(txn, &booking)?;
        }
        let refund = if next == BookingStatus::Cancelled {
            crate::video::retire_room(txn, booking.id)?;
            crate::payments::give_up_intent(txn, PaymentFor::Booking(booking.id))?;
            refund_on_cancel(txn, &money.refund_policy, &booking, role)?
        } else {
            None
        };
        if next == BookingStatus::Completed {
            on_booking_completed(txn, &money.referrals, &booking)?;
        }
        if next == BookingStatus::Confirmed {
            crate::video::enqueue_room(txn, &booking)?;
        }
        Ok(Acted {
            booking,
            refund,
            moved: true,
        })
    })
}

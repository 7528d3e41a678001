//! Which bookings hold their time: a confirmed booking always does; a
//! booking awaiting payment holds its slot only for the policy's
//! `unpaid_hold_ttl` from when it was made, then lapses. A lapsed hold blocks
//! nobody from that instant on, whether or not the hold sweep has cancelled
//! it yet, so what is open never depends on the sweep's timing. A booking
//! that is paid, or costs nothing (it waits only for the provider's
//! confirmation), does not lapse.

use droply_models::{Booking, BookingStatus, PaymentStatus, Timestamp};

use super::policy::SlotPolicy;

/// Whether `booking` waits for its client's money: `pending_payment`, not
/// paid yet, and not free.
pub fn awaits_payment(booking: &Booking) -> bool {
    booking.status == BookingStatus::PendingPayment
        && booking.payment_status != PaymentStatus::Succeeded
        && !booking.payment_amount.is_zero()
}

impl SlotPolicy {
    /// When `booking`'s unpaid hold lapses; `None` when it awaits no payment.
    pub fn hold_expires_at(&self, booking: &Booking) -> Option<Timestamp> {
        awaits_payment(booking).then(|| {
            let ttl =
                chrono::TimeDelta::from_std(self.unpaid_hold_ttl).unwrap_or(chrono::TimeDelta::MAX);
            booking.created_at.saturating_add(ttl)
        })
    }

    /// Whether `booking` is an unpaid hold whose time ran out at `now`.
    pub fn hold_lapsed(&self, booking: &Booking, now: Timestamp) -> bool {
        self.hold_expires_at(booking)
            .is_some_and(|expires| expires <= now)
    }

    /// Whether `booking` keeps its time from others at `now`: its status
    /// holds the slot and, if it awaits payment, its hold has not lapsed.
    pub fn holds_slot(&self, booking: &Booking, now: Timestamp) -> bool {
        booking.status.blocks_slot() && !self.hold_lapsed(booking, now)
    }

    /// Whether `booking` counts towards its booker's
    /// [`SlotPolicy::max_unpaid_holds`] at `now`: not yet paid (or, when
    /// free, not yet confirmed) and not lapsed.
    pub fn is_open_hold(&self, booking: &Booking, now: Timestamp) -> bool {
        booking.status == BookingStatus::PendingPayment
            && booking.payment_status != PaymentStatus::Succeeded
            && !self.hold_lapsed(booking, now)
    }

    /// Whether `booking` counts towards its booker's
    /// [`SlotPolicy::max_free_sessions_ahead`] with its expert at `now`: a
    /// free session that has not started and still holds its time.
    pub fn is_free_session_ahead(&self, booking: &Booking, now: Timestamp) -> bool {
        booking.payment_amount.is_zero()
            && booking.start_time > now
            && self.holds_slot(booking, now)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use droply_models::{Currency, Email, Money, NewBooking, UserId};

    use super::*;

    fn booking(created: Timestamp, price: i64) -> Booking {
        Booking::new(NewBooking {
            user_id: UserId::new(1),
            provider_id: UserId::new(2),
            start_time: created.plus_days(2),
            duration: 60,
            payment_amount: Money::new(price, Currency::EUR),
            client_name: "Ada".to_owned(),
            client_email: Email::parse("ada@example.com").expect("email"),
            client_message: None,
            created_at: created,
        })
    }

    #[test]
    fn an_unpaid_hold_lapses_after_its_ttl_and_a_paid_or_free_one_does_not() {
        let policy = SlotPolicy {
            unpaid_hold_ttl: Duration::from_secs(600),
            ..SlotPolicy::default()
        };
        let made = Timestamp::parse_rfc3339("2027-01-04T09:00:00Z").expect("instant");
        let unpaid = booking(made, 9_000);
        assert!(policy.holds_slot(&unpaid, made.plus_minutes(9)));
        assert!(policy.is_open_hold(&unpaid, made.plus_minutes(9)));
        assert!(!policy.holds_slot(&unpaid, made.plus_minutes(10)));
        assert!(!policy.is_open_hold(&unpaid, made.plus_minutes(10)));
        let mut paid = booking(made, 9_000);
        paid.payment_status = PaymentStatus::Succeeded;
        assert!(policy.holds_slot(&paid, made.plus_days(1)));
        assert!(!policy.is_open_hold(&paid, made));
        let free = booking(made, 0);
        assert!(policy.holds_slot(&free, made.plus_days(1)));
        assert!(policy.is_open_hold(&free, made.plus_days(1)));
        let mut cancelled = booking(made, 9_000);
        cancelled.status = BookingStatus::Cancelled;
        assert!(!policy.holds_slot(&cancelled, made));
    }
}

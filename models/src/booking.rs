//! `Booking`: one paid session between a client (the booker) and a
//! provider, with its payment and video-call details.

use serde::{Deserialize, Serialize};

use crate::text::{self, EXTERNAL_ID_MAX, MESSAGE_MAX, NAME_MAX, NOTE_MAX};
use crate::{
    BookingId, BookingStatus, Email, Error, HttpUrl, Money, PaymentStatus, Result, Timestamp,
    UserId,
};

/// A booked session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    /// Primary key.
    pub id: BookingId,
    /// The client who booked.
    pub user_id: UserId,
    /// The expert who is booked.
    pub provider_id: UserId,
    /// Start of the session.
    pub start_time: Timestamp,
    /// End of the session (after `start_time`).
    pub end_time: Timestamp,
    /// Length in minutes; always `end_time - start_time`.
    pub duration: u16,
    /// Lifecycle state; see [`BookingStatus::can_transition_to`].
    pub status: BookingStatus,
    /// When the booking was made.
    pub created_at: Timestamp,

    /// State of the payment.
    pub payment_status: PaymentStatus,
    /// What the client pays (not negative).
    pub payment_amount: Money,
    /// Stripe PaymentIntent id (`pi_...`).
    pub stripe_payment_intent_id: Option<String>,
    /// Stripe Checkout session id (`cs_...`).
    pub stripe_session_id: Option<String>,
    /// The client's name as entered, 1–100 characters.
    pub client_name: String,
    /// Where confirmations go.
    pub client_email: Email,
    /// The client's note to the provider, at most 4000 characters.
    pub client_message: Option<String>,

    /// Video room id at the meeting provider.
    pub meeting_room_id: Option<String>,
    /// Link to join the call.
    pub meeting_url: Option<HttpUrl>,
    /// When the call actually started.
    pub meeting_started_at: Option<Timestamp>,
    /// When the call actually ended.
    pub meeting_ended_at: Option<Timestamp>,
    /// Measured call length in minutes.
    pub meeting_duration: Option<u32>,
    /// Link to the recording.
    pub recording_url: Option<HttpUrl>,

    /// The booking this one replaced, when it was rescheduled.
    pub rescheduled_from: Option<BookingId>,
    /// Why it was cancelled, at most 500 characters.
    pub cancellation_reason: Option<String>,
}

/// What a new booking is made of; everything else (payment ids, the call,
/// rescheduling and cancellation) starts empty.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBooking {
    /// The client who books.
    pub user_id: UserId,
    /// The expert who is booked.
    pub provider_id: UserId,
    /// Start of the session.
    pub start_time: Timestamp,
    /// Length in minutes.
    pub duration: u16,
    /// What the client pays.
    pub payment_amount: Money,
    /// The client's name.
    pub client_name: String,
    /// Where confirmations go.
    pub client_email: Email,
    /// The client's note to the provider.
    pub client_message: Option<String>,
    /// When the booking is made.
    pub created_at: Timestamp,
}

impl Booking {
    /// A booking awaiting payment, made of `new`; the store assigns the id.
    pub fn new(new: NewBooking) -> Self {
        Booking {
            id: BookingId::new(0),
            user_id: new.user_id,
            provider_id: new.provider_id,
            start_time: new.start_time,
            end_time: new.start_time.plus_minutes(i64::from(new.duration)),
            duration: new.duration,
            status: BookingStatus::PendingPayment,
            created_at: new.created_at,
            payment_status: PaymentStatus::Pending,
            payment_amount: new.payment_amount,
            stripe_payment_intent_id: None,
            stripe_session_id: None,
            client_name: new.client_name,
            client_email: new.client_email,
            client_message: new.client_message,
            meeting_room_id: None,
            meeting_url: None,
            meeting_started_at: None,
            meeting_ended_at: None,
            meeting_duration: None,
            recording_url: None,
            rescheduled_from: None,
            cancellation_reason: None,
        }
    }

    /// Whether this booking's time overlaps `[start, end)`.
    pub fn overlaps(&self, start: Timestamp, end: Timestamp) -> bool {
        self.start_time < end && start < self.end_time
    }

    /// Checks: start before end and `duration` equal to their distance,
    /// booker is not the provider, payment not negative, text lengths, the
    /// call does not end before it starts, and a booking does not replace
    /// itself.
    pub fn validate(&self) -> Result<()> {
        if self.end_time <= self.start_time {
            return Err(Error::invalid("end_time", "must be after start_time"));
        }
        if self.end_time != self.start_time.plus_minutes(i64::from(self.duration)) {
            return Err(Error::invalid(
                "duration",
                "must equal end_time - start_time in minutes",
            ));
        }
        if self.user_id == self.provider_id {
            return Err(Error::invalid(
                "provider_id",
                "a user cannot book themselves",
            ));
        }
        if self.payment_amount.is_negative() {
            return Err(Error::invalid("payment_amount", "must not be negative"));
        }
        text::check_required("client_name", &self.client_name, NAME_MAX)?;
        text::check_optional(
            "client_message",
            self.client_message.as_deref(),
            MESSAGE_MAX,
        )?;
        text::check_optional(
            "cancellation_reason",
            self.cancellation_reason.as_deref(),
            NOTE_MAX,
        )?;
        for (field, value) in [
            ("stripe_payment_intent_id", &self.stripe_payment_intent_id),
            ("stripe_session_id", &self.stripe_session_id),
            ("meeting_room_id", &self.meeting_room_id),
        ] {
            text::check_optional_required(field, value.as_deref(), EXTERNAL_ID_MAX)?;
        }
        if let (Some(started), Some(ended)) = (self.meeting_started_at, self.meeting_ended_at)
            && ended < started
        {
            return Err(Error::invalid(
                "meeting_ended_at",
                "must not be before meeting_started_at",
            ));
        }
        if self.rescheduled_from == Some(self.id) {
            return Err(Error::invalid(
                "rescheduled_from",
                "a booking cannot replace itself",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn sample() -> Booking {
        let start = Timestamp::parse_rfc3339("2027-03-29T09:00:00Z").expect("ts");
        let mut booking = Booking::new(NewBooking {
            user_id: UserId::new(2),
            provider_id: UserId::new(3),
            start_time: start,
            duration: 60,
            payment_amount: Money::new(9000, Currency::EUR),
            client_name: "Ben".into(),
            client_email: Email::parse("ben@example.com").expect("email"),
            client_message: Some("Rust lifetimes".into()),
            created_at: start.plus_days(-1),
        });
        booking.id = BookingId::new(1);
        booking
    }

    #[test]
    fn a_new_booking_awaits_payment_and_ends_after_its_duration() {
        let b = sample();
        assert_eq!(b.status, BookingStatus::PendingPayment);
        assert_eq!(b.payment_status, PaymentStatus::Pending);
        assert_eq!(b.end_time, b.start_time.plus_minutes(60));
        assert!(b.stripe_payment_intent_id.is_none() && b.rescheduled_from.is_none());
    }

    fn field_of(b: &Booking) -> Option<&'static str> {
        match b.validate() {
            Err(Error::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn valid_sample() {
        assert_eq!(sample().validate(), Ok(()));
    }

    #[test]
    fn duration_must_match() {
        let mut b = sample();
        b.duration = 59;
        assert_eq!(field_of(&b), Some("duration"));
        b.end_time = b.start_time;
        assert_eq!(field_of(&b), Some("end_time"));
        let mut b = sample();
        b.end_time = b.end_time.saturating_add(chrono::TimeDelta::seconds(30));
        assert_eq!(field_of(&b), Some("duration"));
    }

    #[test]
    fn other_rules() {
        let mut b = sample();
        b.provider_id = b.user_id;
        assert_eq!(field_of(&b), Some("provider_id"));
        let mut b = sample();
        b.client_name = String::new();
        assert_eq!(field_of(&b), Some("client_name"));
        let mut b = sample();
        b.meeting_started_at = Some(b.start_time);
        b.meeting_ended_at = Some(b.start_time.plus_minutes(-1));
        assert_eq!(field_of(&b), Some("meeting_ended_at"));
        let mut b = sample();
        b.rescheduled_from = Some(b.id);
        assert_eq!(field_of(&b), Some("rescheduled_from"));
    }

    #[test]
    fn overlap() {
        let b = sample();
        assert!(b.overlaps(b.start_time.plus_minutes(30), b.end_time.plus_minutes(30)));
        assert!(!b.overlaps(b.end_time, b.end_time.plus_minutes(30)));
    }

    #[test]
    fn serde_roundtrips() {
        let b = sample();
        let json = serde_json::to_string(&b).expect("json");
        assert_eq!(serde_json::from_str::<Booking>(&json).ok(), Some(b.clone()));
        let config = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&b, config).expect("encode");
        let (back, _): (Booking, usize) =
            bincode::serde::decode_from_slice(&bytes, config).expect("decode");
        assert_eq!(back, b);
    }
}

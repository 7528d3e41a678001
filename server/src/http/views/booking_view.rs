//! A booking as its booker and provider see it: times, state, price and the
//! client's note; never payment-provider ids or the client's email.

use droply_models::{Booking, BookingId, Money, Timestamp, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use super::model_schemas::{BookingStatusSchema, MoneySchema, PaymentStatusSchema};

/// A booking over the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingView {
    /// The booking's id.
    #[schema(value_type = u64)]
    pub id: BookingId,
    /// Who booked.
    #[schema(value_type = u64)]
    pub client_id: UserId,
    /// Whom they booked.
    #[schema(value_type = u64)]
    pub provider_id: UserId,
    /// Start (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub start_time: Timestamp,
    /// End (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub end_time: Timestamp,
    /// Minutes.
    pub duration: u16,
    /// Lifecycle state.
    #[schema(value_type = BookingStatusSchema)]
    pub status: &'static str,
    /// Payment state.
    #[schema(value_type = PaymentStatusSchema)]
    pub payment_status: &'static str,
    /// Price.
    #[schema(value_type = MoneySchema)]
    pub payment_amount: Money,
    /// The client's name.
    pub client_name: String,
    /// The client's note.
    pub client_message: Option<String>,
    /// Link to join the call (a Daily room, once made; join through
    /// `POST /v1/bookings/{id}/meeting`, which gives the token).
    pub meeting_url: Option<String>,
    /// When the call actually started (from Daily's webhooks).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub meeting_started_at: Option<Timestamp>,
    /// When the call actually ended (from Daily's webhooks).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub meeting_ended_at: Option<Timestamp>,
    /// The call's measured length in minutes, rounded up.
    pub meeting_duration: Option<u32>,
    /// The booking this one replaced.
    #[schema(value_type = Option<u64>)]
    pub rescheduled_from: Option<BookingId>,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// When it was booked.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&Booking> for BookingView {
    fn from(b: &Booking) -> Self {
        BookingView {
            id: b.id,
            client_id: b.user_id,
            provider_id: b.provider_id,
            start_time: b.start_time,
            end_time: b.end_time,
            duration: b.duration,
            status: b.status.as_str(),
            payment_status: b.payment_status.as_str(),
            payment_amount: b.payment_amount,
            client_name: b.client_name.clone(),
            client_message: b.client_message.clone(),
            meeting_url: b.meeting_url.as_ref().map(|u| u.as_str().to_owned()),
            meeting_started_at: b.meeting_started_at,
            meeting_ended_at: b.meeting_ended_at,
            meeting_duration: b.meeting_duration,
            rescheduled_from: b.rescheduled_from,
            cancellation_reason: b.cancellation_reason.clone(),
            created_at: b.created_at,
        }
    }
}

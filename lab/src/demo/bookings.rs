//! Bookings: a client books a provider's next free slot; where that slot
//! lies relative to "now" decides its story (past sessions mostly
//! completed, some cancelled or missed; future ones confirmed or waiting
//! for payment), and the payment and call details follow from it.

use droply_models::{
    Booking, BookingId, BookingStatus, HttpUrl, NewBooking, PaymentStatus, Timestamp, User,
};
use rand::Rng;

use super::bio::pick_text;
use super::id_counter::IdCounter;
use super::instants;
use super::schedule::Schedule;
use super::slots::find_slot;
use super::template::fill;
use super::vocab::Vocab;
use droply_engine::Result;

/// Every provider's booked time, so that no two bookings overlap.
#[derive(Debug, Default)]
pub(crate) struct Calendar {
    taken: Vec<Vec<(Timestamp, Timestamp)>>,
}

impl Calendar {
    /// An empty calendar for `providers` providers.
    pub fn new(providers: usize) -> Self {
        Self {
            taken: vec![Vec::new(); providers],
        }
    }
}

/// A client asking for a session.
pub(crate) struct Request<'a> {
    pub client: &'a User,
    pub provider: &'a User,
    /// The provider's index among the experts (and in the calendar).
    pub provider_index: usize,
    pub schedule: &'a Schedule,
    /// When the client books.
    pub created_at: Timestamp,
    /// The session may not start before this.
    pub earliest: Timestamp,
}

/// Books the provider's next free slot after `request.earliest`; `None`
/// when there is none in the following two weeks or the provider has no
/// price.
pub(crate) fn book(
    rng: &mut impl Rng,
    vocab: &Vocab,
    calendar: &mut Calendar,
    request: Request<'_>,
    ids: &mut IdCounter,
    now: Timestamp,
) -> Result<Option<Booking>> {
    let provider = request.provider;
    let Some(price) = provider.session_price().transpose()? else {
        return Ok(None);
    };
    let Some(taken) = calendar.taken.get_mut(request.provider_index) else {
        return Ok(None);
    };
    let minutes = provider.session_duration;
    let Some(start) = find_slot(
        rng,
        request.schedule,
        provider.timezone,
        request.earliest,
        minutes,
        taken,
    ) else {
        return Ok(None);
    };
    let end = start.plus_minutes(i64::from(minutes));
    taken.push((start, end));

    let id = BookingId::new(ids.next());
    let roll = rng.random_range(0..100);
    let status = if end <= now {
        match roll {
            0..80 => BookingStatus::Completed,
            80..87 => BookingStatus::NoShow,
            _ => BookingStatus::Cancelled,
        }
    } else if start <= now {
        BookingStatus::Confirmed
    } else {
        match roll {
            0..65 => BookingStatus::Confirmed,
            65..90 => BookingStatus::PendingPayment,
            _ => BookingStatus::Cancelled,
        }
    };
    let payment_status = match status {
        BookingStatus::PendingPayment if rng.random_bool(0.1) => PaymentStatus::RequiresAction,
        BookingStatus::PendingPayment => PaymentStatus::Pending,
        BookingStatus::Cancelled if rng.random_bool(0.7) => PaymentStatus::Refunded,
        BookingStatus::Cancelled => PaymentStatus::Failed,
        _ => PaymentStatus::Succeeded,
    };

    let provider_first = provider.full_name.split_whitespace().next().unwrap_or("");
    let skill = provider.skills_1.as_deref().unwrap_or("your field");
    let client_message = rng.random_bool(0.6).then(|| {
        fill(
            pick_text(rng, &vocab.texts.client_messages),
            &[("provider_first", provider_first), ("skill", skill)],
        )
    });
    let cancellation_reason = (status == BookingStatus::Cancelled)
        .then(|| pick_text(rng, &vocab.texts.cancellation_reasons).to_owned());

    let has_room = matches!(
        status,
        BookingStatus::Confirmed | BookingStatus::Completed | BookingStatus::NoShow
    );
    let (meeting_room_id, meeting_url) = if has_room {
        let room = format!("demo-{}", id.get());
        let url = HttpUrl::parse(&format!("https://meet.example.com/{room}"))?;
        (Some(room), Some(url))
    } else {
        (None, None)
    };
    let (meeting_started_at, meeting_ended_at, meeting_duration) =
        if status == BookingStatus::Completed {
            let started = instants::plus_seconds(start, rng.random_range(0..300));
            let length = i64::from(minutes) * 60 + rng.random_range(-300..240);
            let ended = instants::plus_seconds(started, length);
            let measured = u32::try_from(ended.minutes_since(started)).unwrap_or(0);
            (Some(started), Some(ended), Some(measured))
        } else {
            (None, None, None)
        };

    let mut booking = Booking::new(NewBooking {
        user_id: request.client.id,
        provider_id: provider.id,
        start_time: start,
        duration: minutes,
        payment_amount: price,
        client_name: request.client.full_name.clone(),
        client_email: request.client.email.clone(),
        client_message,
        created_at: request.created_at,
    });
    debug_assert_eq!(booking.end_time, end);
    booking.id = id;
    booking.status = status;
    booking.payment_status = payment_status;
    booking.meeting_room_id = meeting_room_id;
    booking.meeting_url = meeting_url;
    booking.meeting_started_at = meeting_started_at;
    booking.meeting_ended_at = meeting_ended_at;
    booking.meeting_duration = meeting_duration;
    booking.cancellation_reason = cancellation_reason;
    Ok(Some(booking))
}

//! `Idempotency-Key` for booking requests: the key a booker sent, a
//! fingerprint of the request it came with, and the booking it made, written
//! in the same transaction as the booking. A retried request returns the
//! first booking instead of making a second; the same key with a different
//! request is refused with [`Error::IdempotencyKeyReused`]. A first request
//! whose payment could not be started answered an error, not a booking: its
//! retry books again.

use droply_models::{Booking, BookingId, BookingStatus, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{BookingRequest, book_in};
use crate::availability::SlotPolicy;
pub use crate::idempotency_key::{IdempotencyKey, MAX_KEY_LEN};
use crate::idempotency_key::{caller_key, check_key};
use crate::payments::ChargeTerms;
use crate::payments::PAYMENT_NOT_STARTED;
use crate::store::{EntityKind, Record, Store, UniqueEntry, UniqueName, codec};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies a [`BookingIdempotency`].
    pub struct BookingIdempotencyId;
}

/// One (booker, key) pair and the booking it made. Engine-internal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingIdempotency {
    /// Primary key.
    pub id: BookingIdempotencyId,
    /// Who sent the key.
    pub booker: UserId,
    /// The key as sent.
    pub key: String,
    /// The booking the first request made.
    pub booking_id: BookingId,
    /// SHA-256 (hex) of the first request, see [`request_fingerprint`];
    /// `None` for records written before fingerprints were kept.
    pub fingerprint: Option<String>,
}

/// The row layout of format 1, before the fingerprint.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct BookingIdempotencyV1 {
    id: BookingIdempotencyId,
    booker: UserId,
    key: String,
    booking_id: BookingId,
}

/// SHA-256 (lower-case hex) of a canonical encoding of what a booking request
/// asks for: provider, start, duration and message, each at a fixed width or
/// length-prefixed, so two requests share a fingerprint only when they ask
/// for the same thing. The booker is not part of it: keys are per booker.
fn request_fingerprint(request: &BookingRequest) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"droply-booking-request/1");
    hasher.update(request.provider.get().to_be_bytes());
    hasher.update(request.start.as_micros().to_be_bytes());
    hasher.update(request.duration_minutes.to_be_bytes());
    match &request.client_message {
        Some(message) => {
            hasher.update([1]);
            hasher.update((message.len() as u64).to_be_bytes());
            hasher.update(message.as_bytes());
        }
        None => hasher.update([0]),
    }
    hex::encode(hasher.finalize())
}

impl Record for BookingIdempotency {
    type Id = BookingIdempotencyId;
    const KIND: EntityKind = EntityKind::BookingIdempotency;
    const FORMAT: u8 = 2;

    fn id(&self) -> BookingIdempotencyId {
        self.id
    }
    fn set_id(&mut self, id: BookingIdempotencyId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        check_key(&self.key)
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::IdempotencyKey,
            key: caller_key(self.booker, &self.key),
            shown: self.key.clone(),
        }]
    }
    fn upgrade(format: u8, payload: &[u8]) -> Result<Self> {
        match format {
            1 => {
                let old: BookingIdempotencyV1 = codec::decode_payload(payload)?;
                Ok(BookingIdempotency {
                    id: old.id,
                    booker: old.booker,
                    key: old.key,
                    booking_id: old.booking_id,
                    fingerprint: None,
                })
            }
            other => Err(Error::Corrupt(format!(
                "booking idempotency row has unknown format {other}"
            ))),
        }
    }
}

/// Books like [`super::book`]; with a key, a repeat of the same booker's key
/// with the same request returns the booking the first request made, and
/// with a different request fails with [`Error::IdempotencyKeyReused`]
/// (records kept before fingerprints accept any request). The flag is true
/// when this call created the booking.
pub fn book_idempotent(
    store: &Store,
    request: &BookingRequest,
    key: Option<&IdempotencyKey>,
    policy: &SlotPolicy,
    terms: &ChargeTerms,
) -> Result<(Booking, bool)> {
    let key = key.map(IdempotencyKey::as_str);
    let fingerprint = request_fingerprint(request);
    store.write(|txn| {
        if let Some(key) = key {
            let seen =
                txn.lookup_unique(UniqueName::IdempotencyKey, &caller_key(request.booker, key))?;
            if let Some(raw) = seen {
                let record: BookingIdempotency = txn.require(BookingIdempotencyId::new(raw))?;
                if record
                    .fingerprint
                    .as_ref()
                    .is_some_and(|first| *first != fingerprint)
                {
                    return Err(Error::IdempotencyKeyReused);
                }
                let first: Booking = txn.require(record.booking_id)?;
                if !payment_never_started(&first) {
                    return Ok((first, false));
                }
                // The first request failed (its payment could not be
                // started, and it answered that error): the retry books
                // again rather than answer a cancelled booking as made.
                txn.delete::<BookingIdempotency>(record.id)?;
            }
        }
        let booking = book_in(txn, request, policy, terms, None)?;
        if let Some(key) = key {
            txn.create(BookingIdempotency {
                id: BookingIdempotencyId::new(0),
                booker: request.booker,
                key: key.to_owned(),
                booking_id: booking.id,
                fingerprint: Some(fingerprint),
            })?;
        }
        Ok((booking, true))
    })
}

/// Whether `booking` was cancelled because its payment could not be
/// started: what its request answered was that error, not the booking.
fn payment_never_started(booking: &Booking) -> bool {
    booking.status == BookingStatus::Cancelled
        && booking.cancellation_reason.as_deref() == Some(PAYMENT_NOT_STARTED)
}

#[cfg(test)]
mod tests {
    use droply_models::Timestamp;

    use super::*;

    fn request() -> BookingRequest {
        BookingRequest {
            booker: UserId::new(1),
            provider: UserId::new(2),
            start: Timestamp::from_micros(1_800_000_000_000_000).expect("instant"),
            duration_minutes: 60,
            client_message: Some("hello".to_owned()),
        }
    }

    #[test]
    fn format_1_rows_upgrade_without_a_fingerprint() {
        let old = BookingIdempotencyV1 {
            id: BookingIdempotencyId::new(7),
            booker: UserId::new(1),
            key: "order-1".to_owned(),
            booking_id: BookingId::new(9),
        };
        let bytes = codec::encode(1, &old).expect("encode");
        let row = BookingIdempotency::decode(&bytes).expect("upgrade");
        assert_eq!(row.id, BookingIdempotencyId::new(7));
        assert_eq!(row.booking_id, BookingId::new(9));
        assert_eq!(row.key, "order-1");
        assert_eq!(row.fingerprint, None);
        let again = BookingIdempotency::decode(&row.encode().expect("encode")).expect("decode");
        assert_eq!(again, row);
    }

    #[test]
    fn the_fingerprint_changes_with_every_field_but_the_booker() {
        let base = request_fingerprint(&request());
        assert_eq!(base.len(), 64);
        let mut other_booker = request();
        other_booker.booker = UserId::new(5);
        assert_eq!(request_fingerprint(&other_booker), base);
        let variants = [
            BookingRequest {
                provider: UserId::new(3),
                ..request()
            },
            BookingRequest {
                start: request().start.plus_minutes(30),
                ..request()
            },
            BookingRequest {
                duration_minutes: 30,
                ..request()
            },
            BookingRequest {
                client_message: None,
                ..request()
            },
            BookingRequest {
                client_message: Some(String::new()),
                ..request()
            },
        ];
        let mut seen = vec![base];
        for variant in &variants {
            let fingerprint = request_fingerprint(variant);
            assert!(!seen.contains(&fingerprint), "{variant:?}");
            seen.push(fingerprint);
        }
    }
}

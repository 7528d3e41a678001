//! `Idempotency-Key` for booking requests: the key a booker sent and the
//! booking it made, written in the same transaction as the booking, so a
//! retried request returns the first booking instead of making a second.

use droply_models::{Booking, BookingId, UserId};
use serde::{Deserialize, Serialize};

use super::{BookingRequest, book_in};
use crate::availability::SlotPolicy;
use crate::store::{EntityKind, KeyBuilder, Record, RecordId, Store, UniqueEntry, UniqueName};
use crate::{Error, Result};

droply_models::typed_id! {
    /// Identifies a [`BookingIdempotency`].
    pub struct BookingIdempotencyId;
}

impl RecordId for BookingIdempotencyId {
    fn raw(self) -> u64 {
        self.get()
    }
    fn from_raw(raw: u64) -> Self {
        BookingIdempotencyId::new(raw)
    }
}

/// The longest accepted key.
pub const MAX_KEY_LEN: usize = 255;

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
}

fn unique_key(booker: UserId, key: &str) -> Vec<u8> {
    let mut out = KeyBuilder::new().u64(booker.get()).build();
    out.extend_from_slice(key.as_bytes());
    out
}

impl Record for BookingIdempotency {
    type Id = BookingIdempotencyId;
    const KIND: EntityKind = EntityKind::BookingIdempotency;

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
            key: unique_key(self.booker, &self.key),
            shown: self.key.clone(),
        }]
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::Invalid(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        )));
    }
    Ok(())
}

/// Books like [`super::book`]; with a key, a repeat of the same booker's key
/// returns the booking the first request made. The flag is true when this
/// call created the booking.
pub fn book_idempotent(
    store: &Store,
    request: &BookingRequest,
    key: Option<&str>,
    policy: &SlotPolicy,
) -> Result<(Booking, bool)> {
    if let Some(key) = key {
        check_key(key)?;
    }
    store.write(|txn| {
        if let Some(key) = key {
            let seen =
                txn.lookup_unique(UniqueName::IdempotencyKey, &unique_key(request.booker, key))?;
            if let Some(raw) = seen {
                let record: BookingIdempotency = txn.require(BookingIdempotencyId::new(raw))?;
                return Ok((txn.require(record.booking_id)?, false));
            }
        }
        let booking = book_in(txn, request, policy, None)?;
        if let Some(key) = key {
            txn.create(BookingIdempotency {
                id: BookingIdempotencyId::new(0),
                booker: request.booker,
                key: key.to_owned(),
                booking_id: booking.id,
            })?;
        }
        Ok((booking, true))
    })
}

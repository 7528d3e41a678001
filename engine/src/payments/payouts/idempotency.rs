//! `Idempotency-Key` for payout requests (`POST /v1/payouts`): the key an
//! expert's client sent, a fingerprint of the amount it asked for, and the
//! payout it made, written in the payout's own transaction. A request sent
//! again after its answer was lost returns the first payout (its transfer
//! sent again under the payout's own Stripe key if it is still pending)
//! instead of reserving and transferring the amount a second time; the
//! same key with another amount is refused with
//! [`Error::IdempotencyKeyReused`]. A first request whose transfer Stripe
//! refused answered that error and paid nothing (the payout `failed` with
//! no transfer, the amount available again): its repeat asks again.

use droply_models::{Money, Payout, PayoutId, PayoutStatus, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::idempotency_key::{IdempotencyKey, caller_key, check_key};
use crate::store::{EntityKind, Record, Txn, UniqueEntry, UniqueName};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies a [`PayoutIdempotency`].
    pub struct PayoutIdempotencyId;
}

/// One (requester, key) pair and the payout it made. Engine-internal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutIdempotency {
    /// Primary key.
    pub id: PayoutIdempotencyId,
    /// Who sent the key.
    pub requester: UserId,
    /// The key as sent.
    pub key: String,
    /// The payout the request made.
    pub payout_id: PayoutId,
    /// SHA-256 (hex) of what the request asked for ([`request_fingerprint`]).
    pub fingerprint: String,
}

impl Record for PayoutIdempotency {
    type Id = PayoutIdempotencyId;
    const KIND: EntityKind = EntityKind::PayoutIdempotency;
    const FORMAT: u8 = 1;

    fn id(&self) -> PayoutIdempotencyId {
        self.id
    }
    fn set_id(&mut self, id: PayoutIdempotencyId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        check_key(&self.key)
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::PayoutIdempotencyKey,
            key: caller_key(self.requester, &self.key),
            shown: self.key.clone(),
        }]
    }
}

/// SHA-256 (lower-case hex) of what a payout request asks for: everything
/// available, or an amount (minor units and currency at fixed widths), so
/// two requests share a fingerprint only when they ask for the same.
pub(super) fn request_fingerprint(amount: Option<Money>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"droply-payout-request/1");
    match amount {
        Some(amount) => {
            hasher.update([1]);
            hasher.update(amount.amount_minor.to_be_bytes());
            hasher.update(amount.currency.as_str().as_bytes());
        }
        None => hasher.update([0]),
    }
    hex::encode(hasher.finalize())
}

/// Inside the payout's write: the payout an earlier request of
/// `requester`'s with `key` made, if it still stands; `IdempotencyKeyReused`
/// when that request asked for something else. A payout whose transfer
/// Stripe refused ([`refused_at_send`]: nothing paid, the amount given back)
/// no longer stands: its record is removed, and the caller reserves anew
/// under the same key.
pub(super) fn earlier_payout(
    txn: &mut Txn<'_>,
    requester: UserId,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> Result<Option<Payout>> {
    let Some(raw) = txn.lookup_unique(
        UniqueName::PayoutIdempotencyKey,
        &caller_key(requester, key.as_str()),
    )?
    else {
        return Ok(None);
    };
    let record: PayoutIdempotency = txn.require(PayoutIdempotencyId::new(raw))?;
    if record.fingerprint != fingerprint {
        return Err(Error::IdempotencyKeyReused);
    }
    let first: Payout = txn.require(record.payout_id)?;
    if refused_at_send(&first) {
        txn.delete::<PayoutIdempotency>(record.id)?;
        return Ok(None);
    }
    Ok(Some(first))
}

/// Whether Stripe refused `payout`'s transfer when it was sent: `failed`
/// with no transfer made, so nothing was paid and the amount is available
/// again. A bank payout that failed after its transfer (`payout.failed`)
/// is `failed` too, but its money sits in the expert's Stripe balance: that
/// payout still stands, and its key pays nothing again.
fn refused_at_send(payout: &Payout) -> bool {
    payout.status == PayoutStatus::Failed && payout.stripe_transfer_id.is_none()
}

/// Inside the payout's write: remembers that `requester`'s `key` made
/// `payout`.
pub(super) fn remember(
    txn: &mut Txn<'_>,
    requester: UserId,
    key: &IdempotencyKey,
    fingerprint: String,
    payout: PayoutId,
) -> Result<()> {
    txn.create(PayoutIdempotency {
        id: PayoutIdempotencyId::new(0),
        requester,
        key: key.as_str().to_owned(),
        payout_id: payout,
        fingerprint,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use droply_models::Currency;

    use super::*;

    #[test]
    fn requests_share_a_fingerprint_only_when_they_ask_for_the_same() {
        let eur = |minor| Some(Money::new(minor, Currency::EUR));
        assert_eq!(
            request_fingerprint(eur(1_000)),
            request_fingerprint(eur(1_000))
        );
        assert_eq!(request_fingerprint(None), request_fingerprint(None));
        assert_ne!(
            request_fingerprint(eur(1_000)),
            request_fingerprint(eur(1_001))
        );
        assert_ne!(request_fingerprint(eur(1_000)), request_fingerprint(None));
        assert_ne!(
            request_fingerprint(eur(1_000)),
            request_fingerprint(Some(Money::new(1_000, Currency::USD)))
        );
    }
}

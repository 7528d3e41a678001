//! `Payment`: the money a client owes and pays for a booking or a content
//! purchase ([`PaymentFor`]), kept beside it (engine-internal). It holds what
//! the model's fields cannot: the platform's fee fixed when the price was,
//! the Stripe PaymentIntent (unique: one payment per intent), each refund
//! with its own state, and when the seller's earning becomes available. A
//! reschedule moves a payment to the new booking; the booking's or
//! purchase's `payment_status` and `stripe_payment_intent_id` mirror it,
//! written in the same transaction. A payment whose booking or purchase
//! was given up unpaid asks for its PaymentIntent to be cancelled at Stripe
//! ([`IntentCancel`]), so that it can no longer be paid. While it owes
//! Stripe a call (that cancel, or a refund still `requested`) it is listed
//! for the payments sweep (`due_calls`). Format-1 rows (bookings only),
//! format-2 rows (before the cancel) and format-3 rows (before a dispute's
//! refund remembered what Stripe withdrew) are read as format 4.

use droply_models::{BookingId, Money, PaymentStatus, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::due_calls::payment_call_entries;
use super::subject::PaymentFor;
use crate::store::{EntityKind, IndexEntry, Record, UniqueEntry, UniqueName, codec};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies a [`Payment`].
    pub struct PaymentId;
}

/// Where one refund is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefundState {
    /// Decided and recorded; Stripe not told yet (or the call failed and
    /// the sweep retries it with the same key).
    Requested,
    /// Stripe accepted it; the money is on its way back.
    Pending,
    /// The money is back with the client.
    Succeeded,
    /// Stripe could not refund it; nothing moved.
    Failed,
}

impl RefundState {
    /// Whether the refund's money counts as returned (in the ledger).
    pub fn counts(self) -> bool {
        matches!(self, RefundState::Pending | RefundState::Succeeded)
    }

    /// Whether a refund in this state may move to `next`: only forward, from
    /// requested to pending to succeeded or failed, and from succeeded to failed
    /// (Stripe fails a refund after reporting it succeeded when the card or bank
    /// sends the money back). Failed is final, and nothing goes back to pending or
    /// requested: Stripe's events come in any order and our own calls' answers
    /// are written after them, so a `refund.created` (pending) delivered after
    /// `refund.updated` (succeeded), or the refund call's answer written after
    /// that event, is older news. Every change of a refund's state asks this.
    pub fn may_become(self, next: RefundState) -> bool {
        use RefundState::{Failed, Pending, Requested, Succeeded};
        matches!(
            (self, next),
            (Requested, Pending | Succeeded | Failed)
                | (Pending, Succeeded | Failed)
                | (Succeeded, Failed)
        )
    }

    /// The state a refund in this state is in once Stripe has said `reported`:
    /// `reported` when the refund may move there ([`may_become`](Self::may_become)),
    /// else this one.
    pub fn after(self, reported: RefundState) -> RefundState {
        if self.may_become(reported) {
            reported
        } else {
            self
        }
    }
}

/// Whether a PaymentIntent its booking or purchase no longer wants is
/// cancelled at Stripe (`intent_cancel` sends it, after the transaction
/// that gave the booking or purchase up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntentCancel {
    /// Wanted, or paid: nothing to do.
    #[default]
    Wanted,
    /// Its booking or purchase was given up unpaid: to cancel at Stripe
    /// (sent again by the sweep until Stripe answers).
    Requested,
    /// Cancelled at Stripe: it can no longer be paid.
    Cancelled,
    /// Stripe would not cancel it (it was paid, or is being paid,
    /// meanwhile): the webhook treats that payment as a late one.
    Refused,
}

/// One refund of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRefund {
    /// 1, 2, ... within the payment: part of its idempotency key.
    pub number: u32,
    /// How much.
    pub amount: Money,
    /// Where it is.
    pub state: RefundState,
    /// Stripe's `re_...`, once known.
    pub stripe_id: Option<String>,
    /// Why (shown to the owner).
    pub reason: String,
    /// When it was decided.
    pub requested_at: Timestamp,
    /// For a chargeback's refund (`disputes`): what Stripe withdrew. The
    /// refund itself is less while other refunds hold the rest of the
    /// payment, and takes up what they free when they fail
    /// (`refunds::settle_refund`). `None` for every other refund.
    #[serde(default)]
    pub disputed: Option<Money>,
}

/// A refund as formats 1 to 3 wrote it (no `disputed`).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct PaymentRefundV3 {
    number: u32,
    amount: Money,
    state: RefundState,
    stripe_id: Option<String>,
    reason: String,
    requested_at: Timestamp,
}

impl From<PaymentRefundV3> for PaymentRefund {
    fn from(old: PaymentRefundV3) -> PaymentRefund {
        PaymentRefund {
            number: old.number,
            amount: old.amount,
            state: old.state,
            stripe_id: old.stripe_id,
            reason: old.reason,
            requested_at: old.requested_at,
            disputed: None,
        }
    }
}

/// One booking's or purchase's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Primary key.
    pub id: PaymentId,
    /// What it pays for now.
    pub pays_for: PaymentFor,
    /// The client.
    pub payer: UserId,
    /// The expert or creator.
    pub payee: UserId,
    /// What the client pays.
    pub amount: Money,
    /// The platform's share of `amount`.
    pub fee: Money,
    /// Where the payment is.
    pub status: PaymentStatus,
    /// Stripe's PaymentIntent (`pi_...`), once created.
    pub intent_id: Option<String>,
    /// Refunds, oldest first.
    pub refunds: Vec<PaymentRefund>,
    /// When the expert's earning can be paid out.
    pub earning_available_at: Timestamp,
    /// When the payment was set up.
    pub created_at: Timestamp,
    /// Whether its PaymentIntent is to be, or was, cancelled at Stripe.
    pub intent_cancel: IntentCancel,
}

impl Payment {
    /// The expert's share: `amount - fee`.
    pub fn earning(&self) -> Result<Money> {
        Ok(self.amount.checked_sub(self.fee)?)
    }

    /// What was given back (refunds Stripe accepted).
    pub fn refunded(&self) -> Result<Money> {
        self.refunds_where(|refund| refund.state.counts())
    }

    /// What a charge's `amount_refunded` may count: every refund that counts, and the
    /// failed ones Stripe named (a snapshot of the charge taken before they failed still
    /// counts them).
    pub fn refunded_or_named(&self) -> Result<Money> {
        self.refunds_where(|refund| refund.state.counts() || refund.stripe_id.is_some())
    }

    /// What was decided to give back, sent or not (every refund but the failed).
    pub fn committed_refunds(&self) -> Result<Money> {
        self.refunds_where(|refund| refund.state != RefundState::Failed)
    }

    /// The sum of the refunds `keep` keeps.
    fn refunds_where(&self, keep: impl Fn(&PaymentRefund) -> bool) -> Result<Money> {
        self.refunds
            .iter()
            .filter(|refund| keep(refund))
            .try_fold(Money::zero(self.amount.currency), |sum, refund| {
                sum.checked_add(refund.amount)
            })
            .map_err(Error::from)
    }

    /// The status the refunds imply for a paid payment: succeeded, partly
    /// or fully refunded.
    pub fn paid_status(&self) -> Result<PaymentStatus> {
        let refunded = self.refunded()?;
        Ok(if refunded.is_zero() {
            PaymentStatus::Succeeded
        } else if refunded.amount_minor >= self.amount.amount_minor {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        })
    }

    /// Appends a refund of `amount`, `requested` at `at`; its number.
    pub fn push_refund(&mut self, amount: Money, reason: &str, at: Timestamp) -> u32 {
        let number = u32::try_from(self.refunds.len() + 1).unwrap_or(u32::MAX);
        self.refunds.push(PaymentRefund {
            number,
            amount,
            state: RefundState::Requested,
            stripe_id: None,
            reason: reason.to_owned(),
            requested_at: at,
            disputed: None,
        });
        number
    }

    /// The idempotency key of this payment's PaymentIntent.
    pub fn intent_key(&self, instance: &str) -> String {
        format!("droply-{instance}-payment-{}", self.id)
    }

    /// The idempotency key of the PaymentIntent's cancel.
    pub fn cancel_key(&self, instance: &str) -> String {
        format!("droply-{instance}-payment-{}-cancel", self.id)
    }

    /// The idempotency key of refund `number`.
    pub fn refund_key(&self, instance: &str, number: u32) -> String {
        format!("droply-{instance}-payment-{}-refund-{number}", self.id)
    }
}

/// A payment row as format 3 wrote it (no refund's `disputed`).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct PaymentV3 {
    id: PaymentId,
    pays_for: PaymentFor,
    payer: UserId,
    payee: UserId,
    amount: Money,
    fee: Money,
    status: PaymentStatus,
    intent_id: Option<String>,
    refunds: Vec<PaymentRefundV3>,
    earning_available_at: Timestamp,
    created_at: Timestamp,
    intent_cancel: IntentCancel,
}

/// A payment row as format 2 wrote it (no `intent_cancel`).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct PaymentV2 {
    id: PaymentId,
    pays_for: PaymentFor,
    payer: UserId,
    payee: UserId,
    amount: Money,
    fee: Money,
    status: PaymentStatus,
    intent_id: Option<String>,
    refunds: Vec<PaymentRefundV3>,
    earning_available_at: Timestamp,
    created_at: Timestamp,
}

/// A payment row as format 1 wrote it (bookings only).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct PaymentV1 {
    id: PaymentId,
    booking_id: BookingId,
    payer: UserId,
    payee: UserId,
    amount: Money,
    fee: Money,
    status: PaymentStatus,
    intent_id: Option<String>,
    refunds: Vec<PaymentRefundV3>,
    earning_available_at: Timestamp,
    created_at: Timestamp,
}

impl Record for Payment {
    type Id = PaymentId;
    const KIND: EntityKind = EntityKind::Payment;
    const FORMAT: u8 = 4;

    fn upgrade(format: u8, payload: &[u8]) -> Result<Self> {
        let old = match format {
            1 => {
                let old: PaymentV1 = codec::decode_payload(payload)?;
                PaymentV3 {
                    id: old.id,
                    pays_for: PaymentFor::Booking(old.booking_id),
                    payer: old.payer,
                    payee: old.payee,
                    amount: old.amount,
                    fee: old.fee,
                    status: old.status,
                    intent_id: old.intent_id,
                    refunds: old.refunds,
                    earning_available_at: old.earning_available_at,
                    created_at: old.created_at,
                    intent_cancel: IntentCancel::Wanted,
                }
            }
            2 => {
                let old: PaymentV2 = codec::decode_payload(payload)?;
                PaymentV3 {
                    id: old.id,
                    pays_for: old.pays_for,
                    payer: old.payer,
                    payee: old.payee,
                    amount: old.amount,
                    fee: old.fee,
                    status: old.status,
                    intent_id: old.intent_id,
                    refunds: old.refunds,
                    earning_available_at: old.earning_available_at,
                    created_at: old.created_at,
                    intent_cancel: IntentCancel::Wanted,
                }
            }
            3 => codec::decode_payload(payload)?,
            _ => {
                return Err(Error::Corrupt(format!(
                    "payment row has unknown format {format}"
                )));
            }
        };
        Ok(Payment {
            id: old.id,
            pays_for: old.pays_for,
            payer: old.payer,
            payee: old.payee,
            amount: old.amount,
            fee: old.fee,
            status: old.status,
            intent_id: old.intent_id,
            refunds: old.refunds.into_iter().map(PaymentRefund::from).collect(),
            earning_available_at: old.earning_available_at,
            created_at: old.created_at,
            intent_cancel: old.intent_cancel,
        })
    }

    fn id(&self) -> PaymentId {
        self.id
    }
    fn set_id(&mut self, id: PaymentId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        if !self.amount.is_positive() || self.fee.is_negative() || self.earning()?.is_negative() {
            return Err(Error::Invalid(format!(
                "payment of {} with a fee of {} is not a valid split",
                self.amount, self.fee
            )));
        }
        if self.committed_refunds()?.amount_minor > self.amount.amount_minor {
            return Err(Error::Invalid(format!(
                "refunds of payment {} exceed its amount",
                self.id
            )));
        }
        Ok(())
    }
    fn owner(&self) -> Option<u64> {
        Some(self.payee.get())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        let mut entries = vec![self.pays_for.index_entry()];
        entries.extend(payment_call_entries(
            self.intent_cancel,
            self.intent_id.is_some(),
            &self.refunds,
        ));
        entries
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        self.intent_id
            .iter()
            .map(|intent| UniqueEntry {
                unique: UniqueName::PaymentIntent,
                key: intent.as_bytes().to_vec(),
                shown: intent.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use droply_models::{Currency, Money};

    use super::*;

    #[test]
    fn a_refund_only_moves_forward() {
        use RefundState::{Failed, Pending, Requested, Succeeded};
        let all = [Requested, Pending, Succeeded, Failed];
        let allowed = [
            (Requested, Pending),
            (Requested, Succeeded),
            (Requested, Failed),
            (Pending, Succeeded),
            (Pending, Failed),
            (Succeeded, Failed),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    from.may_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
                let kept = from.after(to);
                assert_eq!(
                    kept,
                    if allowed.contains(&(from, to)) {
                        to
                    } else {
                        from
                    }
                );
            }
        }
        // Regression: a pending report after a success undid it for good.
        assert_eq!(Succeeded.after(Pending), Succeeded);
        assert_eq!(Failed.after(Succeeded), Failed);
    }

    #[test]
    fn a_format_1_row_reads_as_a_bookings_payment() {
        let now = Timestamp::now();
        let old = PaymentV1 {
            id: PaymentId::new(3),
            booking_id: BookingId::new(42),
            payer: UserId::new(1),
            payee: UserId::new(2),
            amount: Money::new(9_000, Currency::USD),
            fee: Money::new(1_350, Currency::USD),
            status: PaymentStatus::Succeeded,
            intent_id: Some("pi_1".to_owned()),
            refunds: Vec::new(),
            earning_available_at: now,
            created_at: now,
        };
        let bytes = codec::encode(1, &old).expect("encode");
        let payment = Payment::decode(&bytes).expect("decode");
        assert_eq!(payment.pays_for, PaymentFor::Booking(BookingId::new(42)));
        assert_eq!(payment.intent_cancel, IntentCancel::Wanted);
        assert_eq!(
            payment.earning().expect("earning"),
            Money::new(7_650, Currency::USD)
        );
        let again = Payment::decode(&payment.encode().expect("encode")).expect("decode");
        assert_eq!(again, payment);
    }

    #[test]
    fn a_format_2_row_reads_with_its_intent_wanted() {
        let now = Timestamp::now();
        let old = PaymentV2 {
            id: PaymentId::new(4),
            pays_for: PaymentFor::Booking(BookingId::new(43)),
            payer: UserId::new(1),
            payee: UserId::new(2),
            amount: Money::new(9_000, Currency::USD),
            fee: Money::new(1_350, Currency::USD),
            status: PaymentStatus::Pending,
            intent_id: Some("pi_2".to_owned()),
            refunds: Vec::new(),
            earning_available_at: now,
            created_at: now,
        };
        let payment = Payment::decode(&codec::encode(2, &old).expect("encode")).expect("decode");
        assert_eq!(payment.intent_id.as_deref(), Some("pi_2"));
        assert_eq!(payment.intent_cancel, IntentCancel::Wanted);
        let mut given_up = payment;
        given_up.intent_cancel = IntentCancel::Requested;
        let again = Payment::decode(&given_up.encode().expect("encode")).expect("decode");
        assert_eq!(again, given_up);
    }

    #[test]
    fn a_format_3_row_reads_with_its_refunds_disputing_nothing() {
        let now = Timestamp::now();
        let old = PaymentV3 {
            id: PaymentId::new(5),
            pays_for: PaymentFor::Booking(BookingId::new(44)),
            payer: UserId::new(1),
            payee: UserId::new(2),
            amount: Money::new(9_000, Currency::USD),
            fee: Money::new(1_350, Currency::USD),
            status: PaymentStatus::PartiallyRefunded,
            intent_id: Some("pi_3".to_owned()),
            refunds: vec![PaymentRefundV3 {
                number: 1,
                amount: Money::new(3_000, Currency::USD),
                state: RefundState::Succeeded,
                stripe_id: Some("du_1".to_owned()),
                reason: "dispute".to_owned(),
                requested_at: now,
            }],
            earning_available_at: now,
            created_at: now,
            intent_cancel: IntentCancel::Cancelled,
        };
        let payment = Payment::decode(&codec::encode(3, &old).expect("encode")).expect("decode");
        assert_eq!(payment.intent_cancel, IntentCancel::Cancelled);
        assert_eq!(payment.refunds.len(), 1);
        assert_eq!(payment.refunds[0].stripe_id.as_deref(), Some("du_1"));
        assert_eq!(payment.refunds[0].disputed, None);
        let mut disputed = payment;
        disputed.refunds[0].disputed = Some(Money::new(9_000, Currency::USD));
        let again = Payment::decode(&disputed.encode().expect("encode")).expect("decode");
        assert_eq!(again, disputed);
    }
}

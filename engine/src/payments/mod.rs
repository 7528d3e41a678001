//! Money: Stripe payments for bookings, refunds, webhooks, the ledger and
//! payouts to experts' connected accounts.
//!
//! The shape of every money path is the same: decide and record in one store
//! transaction (a booking and its [`Payment`], a requested refund, a reserved
//! payout with its ledger row), then call Stripe outside any transaction with
//! an idempotency key made from the store's instance key and our id, then
//! record what Stripe answered in another transaction. A crash between the
//! call and the record leaves a row that says "requested"; the sweep repeats
//! the call with the same key, so Stripe does it once. Webhooks
//! ([`webhook`]) are verified, applied with their event id in one
//! transaction (a redelivery changes nothing), and written so that any order
//! of a payment's events ends in the same state.
//!
//! Parts: `amount` (Money ⇄ Stripe's integers, and the least and most
//! Stripe charges), `config`, `gateway` (the
//! async-stripe client), `signature`, the records (`payment`, `ledger`,
//! `stripe_event`), the use cases `checkout`, `refunds`, `webhook`,
//! `payouts`, `onboarding` and `intent_cancel` (PaymentIntents given up are
//! cancelled at Stripe), `due_calls` (the sweep's work lists: the payments
//! and payouts owing Stripe a call, indexed while they do, so a sweep never
//! reads a settled row), and `imported_sales` (history from before the
//! store).

mod amount;
mod checkout;
mod config;
mod due_calls;
mod gateway;
mod imported_sales;
mod intent_cancel;
pub mod ledger;
mod onboarding;
mod payment;
mod payouts;
mod referral_rewards;
mod refunds;
mod signature;
mod stripe_event;
mod subject;
mod webhook;

pub use amount::{
    AmountUse, charge_for_minutes, charge_refusal, check_chargeable, currency_from_stripe,
    from_stripe, maximum_charge, minimum_charge, round_down_for, stripe_currency, to_stripe,
};
pub use checkout::{
    Attempt, PAYMENT_NOT_STARTED, PaymentStart, start_payment, start_purchase_payment,
};
pub use config::{PaymentsConfig, RefundPolicy, STRIPE_API_BASE, StripeConfig};
#[cfg(test)]
pub(crate) use due_calls::tests::{OwingRows, write_owing_rows};
pub(crate) use due_calls::{payment_call_entries, payout_call_entry};
pub use gateway::{Gateway, GatewayError};
pub use imported_sales::open_imported_sales;
pub use intent_cancel::cancel_given_up_intents;
pub(crate) use intent_cancel::give_up_intent;
pub use ledger::{Balances, LedgerEntry, LedgerEntryId, LedgerKind};
pub use onboarding::{PayoutAccount, account_status_from, payout_account, start_onboarding};
pub use payment::{IntentCancel, Payment, PaymentId, PaymentRefund, RefundState};
pub use payouts::{
    PayoutIdempotency, PayoutIdempotencyId, payout_sweep, request_payout,
    request_payout_unless_paid_since, scheduled_payouts,
};
pub(crate) use referral_rewards::on_booking_completed;
pub use referral_rewards::{ReferralRules, reward_sweep};
pub(crate) use refunds::{CANCELLED_BY_EXPERT, request_refund};
pub use refunds::{RefundOrder, refund_on_cancel, send_refund};
pub use signature::{TOLERANCE_SECS, verify_timestamped_hmac};
pub use stripe_event::{StripeEvent, StripeEventRowId};
pub use subject::{PaymentFor, grants_access};
pub(crate) use subject::{count_purchase, mirror_onto};
pub use webhook::{WebhookReceipt, handle_webhook};

use std::collections::HashMap;
use std::sync::Arc;

use droply_models::{
    Booking, BookingId, BookingStatus, ContentPurchase, ContentPurchaseId, PaymentStatus,
    Timestamp, UserId,
};

use crate::store::{IndexName, PageRequest, Store, Txn};
use crate::{Error, Result};

/// What a new payment gets: whether payments are on at all, the platform's
/// fee and the earnings hold. Copied from [`PaymentsConfig`] for the
/// booking rules, which need nothing else of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeTerms {
    /// Whether paid bookings can be taken.
    pub payments_on: bool,
    /// The platform's share, in basis points.
    pub platform_fee_bps: u32,
    /// Days after a session's end before its earning can be paid out.
    pub earnings_hold_days: u32,
}

impl ChargeTerms {
    /// When the expert's earning from `booking` can be paid out: the hold's
    /// days after the session ends.
    pub fn earning_available_at(&self, booking: &Booking) -> Timestamp {
        let hold = chrono::TimeDelta::days(i64::from(self.earnings_hold_days));
        booking
            .start_time
            .plus_minutes(i64::from(booking.duration))
            .saturating_add(hold)
    }
}

impl PaymentsConfig {
    /// The terms new payments get.
    pub fn terms(&self) -> ChargeTerms {
        ChargeTerms {
            payments_on: self.stripe.is_some(),
            platform_fee_bps: self.platform_fee_bps,
            earnings_hold_days: self.earnings_hold_days,
        }
    }
}

impl Payment {
    /// A new, unpaid payment for `booking` under `terms`.
    pub fn for_booking(booking: &Booking, terms: &ChargeTerms) -> Result<Payment> {
        let amount = booking.payment_amount;
        let fee = amount.checked_mul_ratio(i64::from(terms.platform_fee_bps), 10_000)?;
        Ok(Payment {
            id: PaymentId::new(0),
            pays_for: PaymentFor::Booking(booking.id),
            payer: booking.user_id,
            payee: booking.provider_id,
            amount,
            fee,
            status: PaymentStatus::Pending,
            intent_id: None,
            refunds: Vec::new(),
            earning_available_at: terms.earning_available_at(booking),
            created_at: booking.created_at,
            intent_cancel: IntentCancel::Wanted,
        })
    }

    /// A new, unpaid payment for content `purchase` under `terms`: the
    /// creator's earning is available after the hold, counted from now.
    pub fn for_purchase(
        purchase: &ContentPurchase,
        creator: droply_models::UserId,
        terms: &ChargeTerms,
    ) -> Result<Payment> {
        let amount = purchase.amount_paid;
        let fee = amount.checked_mul_ratio(i64::from(terms.platform_fee_bps), 10_000)?;
        let hold = chrono::TimeDelta::days(i64::from(terms.earnings_hold_days));
        Ok(Payment {
            id: PaymentId::new(0),
            pays_for: PaymentFor::Purchase(purchase.id),
            payer: purchase.buyer_id,
            payee: creator,
            amount,
            fee,
            status: PaymentStatus::Pending,
            intent_id: None,
            refunds: Vec::new(),
            earning_available_at: purchase.created_at.saturating_add(hold),
            created_at: purchase.created_at,
            intent_cancel: IntentCancel::Wanted,
        })
    }
}

/// Writes a new payment. Its amount must be in the payee's currency: their
/// balances hold one currency, so an earning in another could never be recorded (the
/// payer would be charged for nothing). A price left in a currency the seller has moved
/// away from is refused here, before anyone is charged.
pub fn create_payment(txn: &mut Txn<'_>, payment: Payment) -> Result<Payment> {
    let payee: droply_models::User = txn.require(payment.payee)?;
    if payment.amount.currency != payee.currency {
        return Err(Error::InvalidState(format!(
            "the price is in {} but its seller is paid in {}: the seller must set it again",
            payment.amount.currency, payee.currency
        )));
    }
    txn.create(payment)
}

/// Whether money is still on its way to or from `payee` in their currency as it is
/// now, so that currency must not change under it: a booking of theirs awaiting
/// payment (a hold lapses within minutes), a referral reward of theirs awaiting its
/// hold (it could never be credited in another currency), or a refund of one of their
/// payments that Stripe has not settled (one that fails gives their share back, in
/// the payment's currency). An open content purchase does not count: it may never be
/// paid, and one that is paid after the move is refunded in full by the webhook
/// (`FOREIGN_PAYMENT_REASON`), as is any payment that arrives late in a currency its
/// payee left.
pub fn has_money_underway(txn: &Txn<'_>, payee: UserId) -> Result<bool> {
    has_money_underway_besides(txn, payee, |_, _| Ok(false))
}

/// [`has_money_underway`], leaving out the refunds of the payments for
/// which `left_out` says yes: closing an account leaves out those of the
/// bookings its own closing cancelled (it takes their earnings off the
/// balance itself), so a closing stopped after cancelling them can run
/// again before Stripe has settled them.
pub fn has_money_underway_besides(
    txn: &Txn<'_>,
    payee: UserId,
    left_out: impl Fn(&Txn<'_>, &Payment) -> Result<bool>,
) -> Result<bool> {
    let owner = payee.to_be_bytes();
    if referral_rewards::has_pending_rewards(txn, payee)? {
        return Ok(true);
    }
    let bookings: Vec<Booking> = txn.list_index(IndexName::BookingsByProvider, &owner)?;
    if bookings
        .iter()
        .any(|booking| booking.status == BookingStatus::PendingPayment)
    {
        return Ok(true);
    }
    has_unsettled_refunds(txn, payee, left_out)
}

/// Whether a payment `payee` earned from, other than those `left_out` picks, has a
/// refund still requested or pending at Stripe. Their payments are the ones their
/// earning rows name.
fn has_unsettled_refunds(
    txn: &Txn<'_>,
    payee: UserId,
    left_out: impl Fn(&Txn<'_>, &Payment) -> Result<bool>,
) -> Result<bool> {
    let rows: Vec<LedgerEntry> = txn.list_index(IndexName::LedgerByUser, &payee.to_be_bytes())?;
    let paid_from: std::collections::BTreeSet<PaymentId> = rows
        .iter()
        .filter(|row| row.kind == LedgerKind::Earning)
        .filter_map(|row| row.payment_id)
        .collect();
    for id in paid_from {
        let payment: Payment = txn.require(id)?;
        if left_out(txn, &payment)? {
            continue;
        }
        if payment
            .refunds
            .iter()
            .any(|refund| matches!(refund.state, RefundState::Requested | RefundState::Pending))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The payment of `subject`, if it has one.
pub fn payment_for(txn: &Txn<'_>, subject: PaymentFor) -> Result<Option<Payment>> {
    let entry = subject.index_entry();
    Ok(txn
        .list_index::<Payment>(entry.index, &entry.prefix)?
        .into_iter()
        .next())
}

/// The payment of booking `booking`, if it has one.
pub fn payment_of(txn: &Txn<'_>, booking: BookingId) -> Result<Option<Payment>> {
    payment_for(txn, PaymentFor::Booking(booking))
}

/// The payment of `subject` read outside a transaction.
pub fn stored_payment_for(store: &Store, subject: PaymentFor) -> Result<Option<Payment>> {
    let entry = subject.index_entry();
    Ok(store
        .list_index::<Payment>(entry.index, &entry.prefix, &PageRequest::first(1))?
        .items
        .into_iter()
        .next())
}

/// The payment of booking `booking` read outside a transaction.
pub fn stored_payment_of(store: &Store, booking: BookingId) -> Result<Option<Payment>> {
    stored_payment_for(store, PaymentFor::Booking(booking))
}

/// The payment of content purchase `purchase` read outside a transaction.
pub fn stored_payment_of_purchase(
    store: &Store,
    purchase: ContentPurchaseId,
) -> Result<Option<Payment>> {
    stored_payment_for(store, PaymentFor::Purchase(purchase))
}

/// Payments as the engine runs them: the configuration, the gateway when
/// Stripe is configured, and the store's instance key.
#[derive(Debug, Clone)]
pub struct Payments {
    config: PaymentsConfig,
    gateway: Option<Arc<Gateway>>,
    instance: String,
}

impl Payments {
    /// Payments over `store` as `config` says (the gateway is built now).
    pub fn new(store: &Store, config: PaymentsConfig) -> Result<Payments> {
        let gateway = config
            .stripe
            .as_ref()
            .map(Gateway::new)
            .transpose()?
            .map(Arc::new);
        Ok(Payments {
            config,
            gateway,
            instance: store.instance_key()?,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PaymentsConfig {
        &self.config
    }

    /// The terms new payments get.
    pub fn terms(&self) -> ChargeTerms {
        self.config.terms()
    }

    /// The gateway, or [`Error::PaymentsNotConfigured`].
    pub fn gateway(&self) -> Result<&Gateway> {
        self.gateway.as_deref().ok_or(Error::PaymentsNotConfigured)
    }

    /// The store's instance key, part of every idempotency key and of the
    /// tag on what we create at Stripe.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Metadata for an object we create at Stripe: our ids plus the tag.
    fn metadata(&self, ids: &[(&str, String)]) -> HashMap<String, String> {
        let mut metadata: HashMap<String, String> = ids
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect();
        metadata.insert(META_INSTANCE.to_owned(), self.instance.clone());
        metadata
    }

    /// Whether `metadata`, read back from an object at Stripe, is what
    /// [`Payments::metadata`] made for `ids`: this store's tag and each id.
    fn made_for(&self, metadata: Option<&HashMap<String, String>>, ids: &[(&str, String)]) -> bool {
        metadata.is_some_and(|metadata| {
            metadata.get(META_INSTANCE) == Some(&self.instance)
                && ids
                    .iter()
                    .all(|(key, value)| metadata.get(*key) == Some(value))
        })
    }
}

/// Metadata key of the store tag.
pub(crate) const META_INSTANCE: &str = "droply_instance";
/// Metadata key of our payment id.
pub(crate) const META_PAYMENT: &str = "droply_payment";
/// Metadata key of our booking id, on PaymentIntents requested before
/// their metadata held only stable values (`checkout` still meets their
/// idempotency keys for Stripe's 24 hours).
pub(crate) const META_BOOKING: &str = "droply_booking";
/// Metadata key of our content purchase id, as [`META_BOOKING`].
pub(crate) const META_PURCHASE: &str = "droply_purchase";
/// Metadata key of our payout id.
pub(crate) const META_PAYOUT: &str = "droply_payout";
/// Metadata key of our user id.
pub(crate) const META_USER: &str = "droply_user";
/// Metadata key of a refund's number within its payment.
pub(crate) const META_REFUND: &str = "droply_refund";

//! The engine's money use cases: Stripe webhooks, Connect onboarding and
//! the payout account, earnings, and payouts. Paid bookings and refunds on
//! cancellation go through the booking use cases (`bookings`); the rules
//! live in [`crate::payments`].

use droply_models::{Money, Payout, Timestamp, User, UserId};

use super::Engine;
use crate::availability::SlotPolicy;
use crate::idempotency_key::IdempotencyKey;
use crate::payments::{
    self, Balances, Payments, PayoutAccount, WebhookReceipt, handle_webhook, ledger,
};
use crate::store::Store;
use crate::{Page, PageRequest, Result};

/// An expert's money: the ledger's balances and what can be paid out now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earnings {
    /// Earned (net of refunds), paid out, and owed.
    pub balances: Balances,
    /// What a payout may take now (earnings past their hold, minus payouts).
    pub available: Money,
}

impl Engine {
    /// Verifies and applies one Stripe webhook delivery (`payload` is the
    /// raw body, `signature` the `Stripe-Signature` header).
    pub fn stripe_webhook(
        &self,
        payload: &[u8],
        signature: Option<&str>,
    ) -> Result<WebhookReceipt> {
        handle_webhook(
            self.payments(),
            self.store(),
            self.slot_policy(),
            payload,
            signature,
        )
    }

    /// Creates `user`'s connected account if needed; a fresh onboarding link.
    pub fn start_payout_onboarding(&self, user: UserId) -> Result<String> {
        payments::start_onboarding(self.payments(), self.store(), user)
    }

    /// `user`'s payout account.
    pub fn payout_account(&self, user: UserId) -> Result<PayoutAccount> {
        payments::payout_account(self.store(), user)
    }

    /// `user`'s balances and what can be paid out now.
    pub fn earnings(&self, user: UserId) -> Result<Earnings> {
        let row: User = self.store().require(user)?;
        Ok(Earnings {
            balances: Balances::of_user(&row),
            available: ledger::available_now(self.store(), &row, Timestamp::now())?,
        })
    }

    /// Pays out `amount` (everything available when `None`) to `user`.
    /// With a `key`, the same request sent again returns the first payout
    /// (flag false) instead of a second; the same key with another amount
    /// is `IdempotencyKeyReused`.
    pub fn request_payout(
        &self,
        user: UserId,
        amount: Option<Money>,
        key: Option<&IdempotencyKey>,
    ) -> Result<(Payout, bool)> {
        payments::request_payout(self.payments(), self.store(), user, amount, key)
    }

    /// Pays out like [`Engine::request_payout`] unless a payout of `user`'s
    /// was made after `seen` (when the form asking was shown; `None`: before
    /// any payout): then `None`, nothing asked. A form sent twice pays once.
    pub fn request_payout_unless_paid_since(
        &self,
        user: UserId,
        amount: Option<Money>,
        seen: Option<Timestamp>,
    ) -> Result<Option<Payout>> {
        payments::request_payout_unless_paid_since(
            self.payments(),
            self.store(),
            user,
            amount,
            seen,
        )
    }

    /// When `user`'s newest payout was made (`None`: they have none), for
    /// the payout form to send back.
    pub fn newest_payout_at(&self, user: UserId) -> Result<Option<Timestamp>> {
        let newest = self
            .store()
            .payouts()
            .by_user(user, &PageRequest::first(1).desc())?;
        Ok(newest.items.first().map(|payout| payout.created_at))
    }

    /// `user`'s payouts, newest first.
    pub fn payouts_of(&self, user: UserId, page: &PageRequest) -> Result<Page<Payout>> {
        self.store().payouts().by_user(user, page)
    }

    /// Runs the whole payments sweep now, as the background job does every
    /// `sweep_every` ([`payment_sweep`]): unfinished Stripe calls repeated,
    /// given-up PaymentIntents cancelled, referral rewards settled,
    /// scheduled payouts made; how many Stripe calls went through.
    pub fn run_payment_sweep(&self) -> Result<usize> {
        payment_sweep(
            self.payments(),
            self.store(),
            self.slot_policy(),
            Timestamp::now(),
        )
    }
}

/// The payments sweep at `now`: refunds and transfers retried, given-up
/// PaymentIntents cancelled, referral rewards settled, scheduled payouts
/// made; how many Stripe calls went through (retries, cancels, payouts).
/// Each step runs whatever the others met: a step's error is logged and
/// the next step runs; the first error is returned once all have run.
pub(crate) fn payment_sweep(
    payments: &Payments,
    store: &Store,
    policy: &SlotPolicy,
    now: Timestamp,
) -> Result<usize> {
    let mut calls = 0;
    let mut first_error = None;
    let mut step = |name: &str, outcome: Result<usize>, counted: bool| match outcome {
        Ok(done) if counted => calls += done,
        Ok(_) => {}
        Err(err) => {
            tracing::warn!(step = name, error = %err, "a payments sweep step failed; the others still run");
            first_error.get_or_insert(err);
        }
    };
    step(
        "payout-sweep",
        payments::payout_sweep(payments, store, now),
        true,
    );
    step(
        "intent-cancels",
        payments::cancel_given_up_intents(payments, store, policy),
        true,
    );
    step(
        "reward-sweep",
        payments::reward_sweep(store, &payments.config().referrals, now),
        false,
    );
    step(
        "scheduled-payouts",
        payments::scheduled_payouts(payments, store, now),
        true,
    );
    match first_error {
        Some(err) => Err(err),
        None => Ok(calls),
    }
}

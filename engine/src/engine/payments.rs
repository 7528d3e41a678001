//! The engine's money use cases: Stripe webhooks, Connect onboarding and
//! the payout account, earnings, and payouts. Paid bookings and refunds on
//! cancellation go through the booking use cases (`bookings`); the rules
//! live in [`crate::payments`].

use droply_models::{Money, Payout, Timestamp, User, UserId};

use super::Engine;
use crate::payments::{self, Balances, PayoutAccount, WebhookReceipt, handle_webhook, ledger};
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
    pub fn request_payout(&self, user: UserId, amount: Option<Money>) -> Result<Payout> {
        payments::request_payout(self.payments(), self.store(), user, amount)
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

    /// Repeats unfinished Stripe calls and makes scheduled payouts now (the
    /// background job does this every `sweep_every`); how many calls.
    pub fn run_payment_sweep(&self) -> Result<usize> {
        let now = Timestamp::now();
        let retried = payments::payout_sweep(self.payments(), self.store(), now)?;
        Ok(retried + payments::scheduled_payouts(self.payments(), self.store(), now)?)
    }
}

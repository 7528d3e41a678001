//! Money as its owner sees it: the payment a booker needs to pay (its
//! client secret, to them only, at booking), payouts, the payout account
//! and earnings. Stripe's object ids never appear.

use droply_engine::Earnings;
use droply_engine::payments::{PaymentStart, PayoutAccount};
use droply_models::{Money, Payout, PayoutId, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use super::BookingView;
use super::model_schemas::{MoneySchema, PayoutStatusSchema, StripeAccountStatusSchema};

/// What the booker needs to pay a new booking with Stripe.js.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    /// The PaymentIntent's client secret (for the booker only; never logged).
    pub client_secret: String,
    /// What will be charged.
    #[schema(value_type = MoneySchema)]
    pub amount: Money,
}

impl From<&PaymentStart> for PaymentView {
    fn from(start: &PaymentStart) -> Self {
        PaymentView {
            client_secret: start.client_secret.clone(),
            amount: start.amount,
        }
    }
}

/// A booking as its creation answers it: the booking, and for a priced
/// session awaiting payment, `payment`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedBookingView {
    /// The booking.
    #[serde(flatten)]
    pub booking: BookingView,
    /// How to pay it; absent when nothing is owed (free or paid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentView>,
}

/// A payout as its expert sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayoutView {
    /// The payout's id.
    #[schema(value_type = u64)]
    pub id: PayoutId,
    /// How much.
    #[schema(value_type = MoneySchema)]
    pub amount: Money,
    /// `pending` (reserved, transfer not confirmed), `in_transit`, `paid`, `failed`, `cancelled`.
    #[schema(value_type = PayoutStatusSchema)]
    pub status: &'static str,
    /// When it was asked for.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it arrived.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paid_at: Option<Timestamp>,
}

impl From<&Payout> for PayoutView {
    fn from(payout: &Payout) -> Self {
        PayoutView {
            id: payout.id,
            amount: payout.amount,
            status: payout.status.as_str(),
            created_at: payout.created_at,
            paid_at: payout.paid_at,
        }
    }
}

/// The owner's payout account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayoutAccountView {
    /// Whether a Stripe connected account exists.
    pub connected: bool,
    /// `not_connected`, `pending`, `active`, `restricted` or `disabled`.
    #[schema(value_type = StripeAccountStatusSchema)]
    pub status: &'static str,
    /// Whether payouts can be made now.
    pub payouts_enabled: bool,
}

impl From<&PayoutAccount> for PayoutAccountView {
    fn from(account: &PayoutAccount) -> Self {
        PayoutAccountView {
            connected: account.connected,
            status: account.status.as_str(),
            payouts_enabled: account.payouts_enabled,
        }
    }
}

/// An expert's money, from the ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EarningsView {
    /// Earned, net of refunds.
    #[schema(value_type = MoneySchema)]
    pub total_earnings: Money,
    /// Sent out, net of payouts that came back.
    #[schema(value_type = MoneySchema)]
    pub total_payouts: Money,
    /// Owed: earnings minus payouts (some still within their hold).
    #[schema(value_type = MoneySchema)]
    pub pending_balance: Money,
    /// What a payout may take now.
    #[schema(value_type = MoneySchema)]
    pub available: Money,
}

impl From<&Earnings> for EarningsView {
    fn from(earnings: &Earnings) -> Self {
        EarningsView {
            total_earnings: earnings.balances.total_earnings,
            total_payouts: earnings.balances.total_payouts,
            pending_balance: earnings.balances.pending_balance,
            available: earnings.available,
        }
    }
}

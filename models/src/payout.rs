//! `Payout`: money sent from a user's Droply balance to their bank through
//! Stripe.

use serde::{Deserialize, Serialize};

use crate::text::{self, EXTERNAL_ID_MAX};
use crate::{Error, Money, PayoutId, PayoutStatus, Result, Timestamp, UserId};

/// One payout.
///
/// The spec lists `amount` and `currency` separately; here `amount` is a
/// [`Money`], which carries the currency (`amount.currency`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payout {
    /// Primary key.
    pub id: PayoutId,
    /// Who is paid.
    pub user_id: UserId,
    /// How much, in which currency (greater than zero).
    pub amount: Money,
    /// Stripe transfer id (`tr_...`).
    pub stripe_transfer_id: Option<String>,
    /// Stripe payout id (`po_...`).
    pub stripe_payout_id: Option<String>,
    /// State of the payout.
    pub status: PayoutStatus,
    /// When it was requested.
    pub created_at: Timestamp,
    /// When it arrived; set exactly when `status` is `paid`.
    pub paid_at: Option<Timestamp>,
}

impl Payout {
    /// The payout's currency (the spec's `currency`).
    pub fn currency(&self) -> crate::Currency {
        self.amount.currency
    }

    /// Checks: amount positive, `paid_at` set iff paid and not before
    /// `created_at`, Stripe ids non-blank.
    pub fn validate(&self) -> Result<()> {
        if !self.amount.is_positive() {
            return Err(Error::invalid("amount", "must be greater than zero"));
        }
        match (self.status, self.paid_at) {
            (PayoutStatus::Paid, None) => {
                return Err(Error::invalid(
                    "paid_at",
                    "must be set when the payout is paid",
                ));
            }
            (status, Some(_)) if status != PayoutStatus::Paid => {
                return Err(Error::invalid(
                    "paid_at",
                    "must only be set when the payout is paid",
                ));
            }
            (_, Some(paid)) if paid < self.created_at => {
                return Err(Error::invalid("paid_at", "must not be before created_at"));
            }
            _ => {}
        }
        text::check_optional_required(
            "stripe_transfer_id",
            self.stripe_transfer_id.as_deref(),
            EXTERNAL_ID_MAX,
        )?;
        text::check_optional_required(
            "stripe_payout_id",
            self.stripe_payout_id.as_deref(),
            EXTERNAL_ID_MAX,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn rules() {
        let now = Timestamp::now();
        let mut p = Payout {
            id: PayoutId::new(1),
            user_id: UserId::new(1),
            amount: Money::new(10_000, Currency::EUR),
            stripe_transfer_id: None,
            stripe_payout_id: None,
            status: PayoutStatus::Pending,
            created_at: now,
            paid_at: None,
        };
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.currency(), Currency::EUR);
        p.status = PayoutStatus::Paid;
        assert!(p.validate().is_err());
        p.paid_at = Some(now.plus_days(2));
        assert_eq!(p.validate(), Ok(()));
        p.paid_at = Some(now.plus_days(-2));
        assert!(p.validate().is_err());
        p.paid_at = None;
        p.status = PayoutStatus::Pending;
        p.amount = Money::zero(Currency::EUR);
        assert!(p.validate().is_err());
    }
}

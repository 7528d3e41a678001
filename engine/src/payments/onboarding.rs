//! Connect onboarding: an expert gets one Express connected account (made
//! once: the idempotency key is the store's instance key and the user id,
//! and the id is recorded before a link is made) and a one-time link to
//! Stripe's onboarding. Whether the account can be paid out to comes from
//! `account.updated` webhooks ([`account_status_from`]); only an active
//! account makes a priced expert bookable ([`droply_models::User::is_bookable`]).

use droply_models::{StripeAccountStatus, User, UserId};

use super::{META_USER, Payments};
use crate::store::Store;
use crate::{Error, Result};

/// What the owner sees of their payout account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutAccount {
    /// Whether a connected account exists.
    pub connected: bool,
    /// `not_connected`, `pending`, `active`, `restricted` or `disabled`.
    pub status: StripeAccountStatus,
    /// Whether payouts can be made now.
    pub payouts_enabled: bool,
}

/// Our status for what Stripe says of an account.
pub fn account_status_from(
    charges_enabled: bool,
    payouts_enabled: bool,
    details_submitted: bool,
    disabled_reason: Option<&str>,
) -> StripeAccountStatus {
    match disabled_reason {
        Some(reason) if reason.starts_with("rejected") => StripeAccountStatus::Disabled,
        Some(_) if details_submitted => StripeAccountStatus::Restricted,
        _ if charges_enabled && payouts_enabled => StripeAccountStatus::Active,
        _ if details_submitted => StripeAccountStatus::Restricted,
        _ => StripeAccountStatus::Pending,
    }
}

/// Creates `user`'s connected account if they have none and returns a
/// fresh onboarding link. Experts only (`Forbidden` otherwise).
pub fn start_onboarding(payments: &Payments, store: &Store, user: UserId) -> Result<String> {
    let gateway = payments.gateway()?;
    let row: User = store.require(user)?;
    if !row.is_expert() {
        return Err(Error::Forbidden(
            "only experts (users with a profession) are paid out".to_owned(),
        ));
    }
    let account = match row.stripe_account_id {
        Some(account) => account,
        None => {
            let key = format!("droply-{}-account-{}", payments.instance(), user);
            let made = gateway
                .create_account(
                    row.email.as_str(),
                    payments.metadata(&[(META_USER, user.to_string())]),
                    &key,
                )
                .map_err(Error::from)?;
            store.write(|txn| {
                let mut row: User = txn.require(user)?;
                if row.stripe_account_id.is_none() {
                    row.stripe_account_id = Some(made.id.clone());
                    row.stripe_account_status = StripeAccountStatus::Pending;
                    row.payout_enabled = false;
                    row = txn.update(row)?;
                }
                Ok(row.stripe_account_id.unwrap_or(made.id.clone()))
            })?
        }
    };
    gateway.onboarding_link(&account).map_err(Error::from)
}

/// `user`'s payout account as the store knows it.
pub fn payout_account(store: &Store, user: UserId) -> Result<PayoutAccount> {
    let row: User = store.require(user)?;
    Ok(PayoutAccount {
        connected: row.stripe_account_id.is_some(),
        status: row.stripe_account_status,
        payouts_enabled: row.payout_enabled,
    })
}

//! The owner's view of their own account: their profile and settings, never
//! the password hash, tokens, Stripe ids or Google credentials.

use droply_models::{Timestamp, User, UserId};
use serde::Serialize;

/// An account as its owner sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    /// The user's id.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// Login email (the owner's own).
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Headline profession; empty for clients.
    pub profession: String,
    /// Currency the user prices and earns in.
    pub currency: String,
    /// IANA time zone.
    pub timezone: String,
    /// Preferred language.
    pub language: String,
    /// The user's referral code, to share.
    pub referral_code: String,
    /// Accepting bookings.
    pub is_available: bool,
    /// When the account was made.
    pub created_at: Timestamp,
}

impl From<&User> for AccountView {
    fn from(user: &User) -> Self {
        AccountView {
            id: user.id,
            username: user.username.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            full_name: user.full_name.clone(),
            profession: user.profession.clone(),
            currency: user.currency.as_str().to_owned(),
            timezone: user.timezone.as_str().to_owned(),
            language: user.language.as_str().to_owned(),
            referral_code: user.referral_code.as_str().to_owned(),
            is_available: user.is_available,
            created_at: user.created_at,
        }
    }
}

//! The `User`: one account that can both book experts and be booked as an
//! expert, with its profile, branding, pricing, payouts, integrations,
//! referral stats and preferences — every field of the data model's User.

mod new_user;
mod validation;

pub use new_user::NewUser;

use serde::{Deserialize, Serialize};

use crate::{
    CategoryId, Currency, Email, FontFamily, FontSize, HexColor, HttpUrl, LanguageCode, Money,
    PayoutSchedule, PhoneNumber, ProfileLayout, Rating, ReferralCode, StripeAccountStatus,
    TimeZone, Timestamp, UserId, Username,
};

/// A Droply account. Fields are flat and carry the data model's names; the
/// only merge is `rating`, which holds both the spec's `rating` and
/// `rating_count` (see [`User::rating`] and [`User::rating_count`]).
///
/// `password_hash` and the Google tokens are secrets: never put a `User`
/// into a public response as is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    // --- Basic info ---
    /// Primary key.
    pub id: UserId,
    /// Unique public handle.
    pub username: Username,
    /// Unique (by [`Email::normalized`]) login address.
    pub email: Email,
    /// PHC-format password hash (e.g. `$argon2id$...`); never shown.
    pub password_hash: String,
    /// Display name, 1–100 characters.
    pub full_name: String,
    /// Phone number in E.164 form.
    pub phone: Option<PhoneNumber>,
    /// Free-text biography, at most 5000 characters; may be empty.
    pub bio: String,
    /// Industry, at most 100 characters; may be empty.
    pub industry: String,
    /// Job title / headline, at most 100 characters; may be empty.
    pub profession: String,
    /// Free-text location, at most 100 characters; may be empty.
    pub location: String,

    // --- Skills & expertise ---
    /// Legacy free-text skills list, at most 500 characters.
    pub skills: String,
    /// Primary skill.
    pub skills_1: Option<String>,
    /// Secondary skill.
    pub skills_2: Option<String>,
    /// Tertiary skill.
    pub skills_3: Option<String>,
    /// Up to 20 tags of at most 40 characters each.
    pub specialty_tags: Vec<String>,

    // --- Appearance & branding ---
    /// Profile picture URL.
    pub profile_picture: Option<HttpUrl>,
    /// Page background colour.
    pub background_color: HexColor,
    /// Primary brand colour.
    pub primary_color: HexColor,
    /// Secondary brand colour.
    pub secondary_color: HexColor,
    /// Typeface of the profile page.
    pub font_family: FontFamily,
    /// Base font size of the profile page.
    pub font_size: FontSize,
    /// Layout of the profile page.
    pub profile_layout: ProfileLayout,

    // --- Business & pricing ---
    /// Price of one hour; `None` when the user does not sell sessions.
    /// Always in [`User::currency`].
    pub hourly_rate: Option<Money>,
    /// The currency the user prices and earns in.
    pub currency: Currency,
    /// Review totals: the spec's `rating` and `rating_count`.
    pub rating: Rating,
    /// Whether the user currently accepts bookings.
    pub is_available: bool,
    /// Whether the user is featured on the home page.
    pub is_featured_user: bool,

    // --- Stripe ---
    /// Connected Stripe account id (`acct_...`).
    pub stripe_account_id: Option<String>,
    /// State of the connected account.
    pub stripe_account_status: StripeAccountStatus,
    /// Whether payouts may be sent.
    pub payout_enabled: bool,
    /// How often payouts are sent.
    pub payout_schedule: PayoutSchedule,
    /// Everything earned so far, in `currency`.
    pub total_earnings: Money,
    /// Everything paid out so far, in `currency`.
    pub total_payouts: Money,
    /// Earned but not yet paid out, in `currency`; below zero when money
    /// refunded after it was paid out is owed back from later earnings.
    pub pending_balance: Money,

    // --- Social media ---
    /// LinkedIn profile.
    pub linkedin_url: Option<HttpUrl>,
    /// Twitter / X profile.
    pub twitter_url: Option<HttpUrl>,
    /// GitHub profile.
    pub github_url: Option<HttpUrl>,
    /// Instagram profile.
    pub instagram_url: Option<HttpUrl>,
    /// Facebook profile.
    pub facebook_url: Option<HttpUrl>,
    /// YouTube channel.
    pub youtube_url: Option<HttpUrl>,
    /// Snapchat profile.
    pub snapchat_url: Option<HttpUrl>,
    /// Personal website.
    pub website_url: Option<HttpUrl>,

    // --- Content & services ---
    /// What a booked session offers, at most 5000 characters.
    pub service_description: String,
    /// Length of one bookable session in minutes, 15–480.
    pub session_duration: u16,
    /// What the user's content is about, at most 5000 characters.
    pub content_description: String,
    /// Categories of the user's content.
    pub content_categories: Vec<CategoryId>,

    // --- Google Calendar ---
    /// Whether a Google calendar is connected.
    pub google_calendar_connected: bool,
    /// OAuth access token (secret).
    pub google_calendar_token: Option<String>,
    /// OAuth refresh token (secret).
    pub google_calendar_refresh_token: Option<String>,
    /// The connected calendar's id.
    pub google_calendar_id: Option<String>,

    // --- Referral system ---
    /// The user's own code to share.
    pub referral_code: ReferralCode,
    /// Who referred this user.
    pub referred_by: Option<UserId>,
    /// Everything earned from referrals, in `currency`.
    pub total_referral_earnings: Money,
    /// How many users this user referred.
    pub referral_count: u32,

    // --- Preferences ---
    /// Preferred language.
    pub language: LanguageCode,
    /// The zone the user's availability is written in.
    pub timezone: TimeZone,
    /// Whether to send notification e-mails.
    pub email_notifications: bool,

    // --- Bookkeeping ---
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the account last changed.
    pub updated_at: Timestamp,
}

impl User {
    /// The name a closed account goes by wherever records others hold
    /// still show it (reviews it wrote, bookings it made, content it sold).
    pub const CLOSED_NAME: &'static str = "Closed account";

    /// The domain of a closed account's tombstone address
    /// (`closed-{id}@closed.invalid`): `.invalid` is reserved (RFC 2606), so
    /// no mailbox has it, and the account's own address is free again.
    pub const CLOSED_EMAIL_DOMAIN: &'static str = "closed.invalid";

    /// Whether the account was closed: its personal data was erased and its
    /// address replaced by a tombstone under [`User::CLOSED_EMAIL_DOMAIN`].
    pub fn is_closed(&self) -> bool {
        self.email.domain() == Self::CLOSED_EMAIL_DOMAIN
    }

    /// Whether the user offers sessions: an expert has a profession (spaces
    /// alone are none). The one definition search, booking, favorites and
    /// the expert routes share.
    pub fn is_expert(&self) -> bool {
        !self.profession.trim().is_empty()
    }

    /// How the user is named to other users where only a public name may
    /// show (reviews, referrals): the first name and the initial of the
    /// last ("Carl Person" → "Carl P."), or the one name they gave; a
    /// closed account is [`User::CLOSED_NAME`] in full.
    pub fn public_name(&self) -> String {
        if self.is_closed() {
            return Self::CLOSED_NAME.to_owned();
        }
        let mut words = self.full_name.split_whitespace();
        let first = words.next().unwrap_or("A client");
        match words.last().and_then(|last| last.chars().next()) {
            Some(initial) => format!("{first} {initial}."),
            None => first.to_owned(),
        }
    }

    /// Whether a session with this user costs money: a positive hourly rate.
    pub fn charges_for_sessions(&self) -> bool {
        self.hourly_rate.is_some_and(|rate| rate.is_positive())
    }

    /// Whether this user can be booked now: an expert who takes bookings
    /// and, when sessions cost money, whose Stripe account is active (paid
    /// out to). The one definition search, slots and booking share.
    pub fn is_bookable(&self) -> bool {
        self.is_expert()
            && self.is_available
            && (!self.charges_for_sessions()
                || self.stripe_account_status == StripeAccountStatus::Active)
    }

    /// Average stars (the spec's `rating`), `None` before the first review.
    pub fn rating(&self) -> Option<f32> {
        self.rating.average()
    }

    /// Number of reviews (the spec's `rating_count`).
    pub fn rating_count(&self) -> u32 {
        self.rating.count()
    }

    /// The three ranked skills that are set, in order.
    pub fn ranked_skills(&self) -> impl Iterator<Item = &str> {
        [&self.skills_1, &self.skills_2, &self.skills_3]
            .into_iter()
            .filter_map(|s| s.as_deref())
    }

    /// The price of one session of `session_duration` minutes, rounded
    /// down to the minor unit; `None` when there is no hourly rate.
    pub fn session_price(&self) -> Option<crate::Result<Money>> {
        self.hourly_rate
            .map(|rate| rate.checked_mul_ratio(i64::from(self.session_duration), 60))
    }
}

#[cfg(test)]
mod tests {
    use super::new_user::sample_user;
    use super::*;

    #[test]
    fn a_closed_account_is_named_in_full_by_its_tombstone() {
        let mut user = sample_user();
        assert!(!user.is_closed());
        assert_eq!(user.public_name(), "Anna S.");
        user.email = Email::parse("closed-1@closed.invalid").expect("tombstone");
        user.full_name = User::CLOSED_NAME.to_owned();
        assert!(user.is_closed());
        assert_eq!(user.public_name(), "Closed account");
        assert_eq!(user.validate(), Ok(()));
    }
}

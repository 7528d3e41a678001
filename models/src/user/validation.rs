//! [`User::validate`]: the rules that span several fields of a user.

use crate::text::{self, BIO_MAX, EXTERNAL_ID_MAX, HEADLINE_MAX, NAME_MAX, SKILLS_MAX};
use crate::{Error, Money, Result, User};

impl User {
    /// Shortest bookable session in minutes.
    pub const MIN_SESSION_DURATION: u16 = 15;
    /// Longest bookable session in minutes.
    pub const MAX_SESSION_DURATION: u16 = 8 * 60;

    /// The links the user gives (picture and social), by field name.
    pub fn links(&self) -> [(&'static str, Option<&crate::HttpUrl>); 9] {
        [
            ("profile_picture", self.profile_picture.as_ref()),
            ("linkedin_url", self.linkedin_url.as_ref()),
            ("twitter_url", self.twitter_url.as_ref()),
            ("github_url", self.github_url.as_ref()),
            ("instagram_url", self.instagram_url.as_ref()),
            ("facebook_url", self.facebook_url.as_ref()),
            ("youtube_url", self.youtube_url.as_ref()),
            ("snapchat_url", self.snapchat_url.as_ref()),
            ("website_url", self.website_url.as_ref()),
        ]
    }

    /// Checks the rules no single field type can: text lengths, tags,
    /// money in the user's own currency (hourly rate positive, totals not
    /// negative; the pending balance may be, when money is owed back),
    /// session length 15–480 minutes, links to the public
    /// internet only, no self-referral, and `updated_at` not before
    /// `created_at`.
    pub fn validate(&self) -> Result<()> {
        text::check_required("password_hash", &self.password_hash, EXTERNAL_ID_MAX)?;
        text::check_required("full_name", &self.full_name, NAME_MAX)?;
        text::check_max("bio", &self.bio, BIO_MAX)?;
        text::check_max("industry", &self.industry, HEADLINE_MAX)?;
        text::check_max("profession", &self.profession, HEADLINE_MAX)?;
        text::check_max("location", &self.location, HEADLINE_MAX)?;
        text::check_max("skills", &self.skills, SKILLS_MAX)?;
        text::check_optional_required("skills_1", self.skills_1.as_deref(), HEADLINE_MAX)?;
        text::check_optional_required("skills_2", self.skills_2.as_deref(), HEADLINE_MAX)?;
        text::check_optional_required("skills_3", self.skills_3.as_deref(), HEADLINE_MAX)?;
        text::check_tags("specialty_tags", &self.specialty_tags)?;
        text::check_max("service_description", &self.service_description, BIO_MAX)?;
        text::check_max("content_description", &self.content_description, BIO_MAX)?;
        for (field, value) in [
            ("stripe_account_id", &self.stripe_account_id),
            ("google_calendar_token", &self.google_calendar_token),
            (
                "google_calendar_refresh_token",
                &self.google_calendar_refresh_token,
            ),
            ("google_calendar_id", &self.google_calendar_id),
        ] {
            text::check_optional_required(field, value.as_deref(), EXTERNAL_ID_MAX)?;
        }

        for (field, url) in self.links() {
            if url.is_some_and(|url| !url.is_public()) {
                return Err(Error::invalid(
                    field,
                    "must link to the public internet (not localhost, a private or a metadata address)",
                ));
            }
        }

        if let Some(rate) = self.hourly_rate {
            self.check_currency("hourly_rate", rate)?;
            if !rate.is_positive() {
                return Err(Error::invalid("hourly_rate", "must be greater than zero"));
            }
        }
        // The pending balance alone may fall below zero: money refunded
        // after it was paid out is owed back from later earnings.
        self.check_currency("pending_balance", self.pending_balance)?;
        for (field, amount) in [
            ("total_earnings", self.total_earnings),
            ("total_payouts", self.total_payouts),
            ("total_referral_earnings", self.total_referral_earnings),
        ] {
            self.check_currency(field, amount)?;
            if amount.is_negative() {
                return Err(Error::invalid(field, "must not be negative"));
            }
        }

        if !(Self::MIN_SESSION_DURATION..=Self::MAX_SESSION_DURATION)
            .contains(&self.session_duration)
        {
            return Err(Error::invalid(
                "session_duration",
                "must be 15 to 480 minutes",
            ));
        }
        if self.referred_by == Some(self.id) {
            return Err(Error::invalid(
                "referred_by",
                "a user cannot refer themselves",
            ));
        }
        if self.updated_at < self.created_at {
            return Err(Error::invalid(
                "updated_at",
                "must not be before created_at",
            ));
        }
        Ok(())
    }

    fn check_currency(&self, field: &'static str, amount: Money) -> Result<()> {
        if amount.currency != self.currency {
            return Err(Error::invalid(
                field,
                format!(
                    "must be in the user's currency {}, not {}",
                    self.currency, amount.currency
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::new_user::sample_user;
    use crate::{Currency, Money, UserId};

    fn field_of(user: &crate::User) -> Option<&'static str> {
        match user.validate() {
            Err(crate::Error::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn hourly_rate_must_match_currency_and_be_positive() {
        let mut user = sample_user();
        user.hourly_rate = Some(Money::new(5000, Currency::USD));
        assert_eq!(field_of(&user), Some("hourly_rate"));
        user.hourly_rate = Some(Money::new(0, Currency::EUR));
        assert_eq!(field_of(&user), Some("hourly_rate"));
        user.hourly_rate = Some(Money::new(5000, Currency::EUR));
        assert_eq!(user.validate(), Ok(()));
    }

    #[test]
    fn money_totals_checked() {
        let mut user = sample_user();
        user.total_payouts = Money::new(-1, Currency::EUR);
        assert_eq!(field_of(&user), Some("total_payouts"));
        // Owed back after a refund of money already paid out.
        let mut user = sample_user();
        user.pending_balance = Money::new(-1, Currency::EUR);
        assert_eq!(user.validate(), Ok(()));
        user.pending_balance = Money::new(-1, Currency::USD);
        assert_eq!(field_of(&user), Some("pending_balance"));
        let mut user = sample_user();
        user.total_earnings = Money::zero(Currency::USD);
        assert_eq!(field_of(&user), Some("total_earnings"));
    }

    #[test]
    fn text_and_tags() {
        let mut user = sample_user();
        user.full_name = " ".into();
        assert_eq!(field_of(&user), Some("full_name"));
        let mut user = sample_user();
        user.bio = "x".repeat(5001);
        assert_eq!(field_of(&user), Some("bio"));
        let mut user = sample_user();
        user.specialty_tags = (0..21).map(|i| i.to_string()).collect();
        assert_eq!(field_of(&user), Some("specialty_tags"));
        let mut user = sample_user();
        user.skills_2 = Some(String::new());
        assert_eq!(field_of(&user), Some("skills_2"));
    }

    #[test]
    fn session_duration_range() {
        let mut user = sample_user();
        for (minutes, ok) in [(14, false), (15, true), (480, true), (481, false)] {
            user.session_duration = minutes;
            assert_eq!(user.validate().is_ok(), ok, "{minutes}");
        }
    }

    #[test]
    fn no_self_referral_and_time_order() {
        let mut user = sample_user();
        user.referred_by = Some(user.id);
        assert_eq!(field_of(&user), Some("referred_by"));
        user.referred_by = Some(UserId::new(2));
        assert_eq!(user.validate(), Ok(()));
        user.updated_at = user.created_at.plus_minutes(-1);
        assert_eq!(field_of(&user), Some("updated_at"));
    }
}

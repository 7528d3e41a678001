//! [`ProfileUpdate`]: the allowlist of fields an owner may change on their
//! own account, and [`update_profile`], which applies one in a single store
//! transaction. Fields only the system sets (ratings, money totals, Stripe,
//! Google, referral counts, the featured flag, credentials) have no place
//! here, and unknown fields are refused when deserialising. Clearing an
//! expert's profession ends the drop-ins they host in that transaction, and
//! is refused while a session they give is still ahead.

use droply_models::{
    Currency, Error as ModelError, FontFamily, FontSize, HexColor, HttpUrl, LanguageCode, Money,
    ProfileLayout, TimeZone, Timestamp, User, UserId,
};
use serde::{Deserialize, Deserializer};

use crate::Result;
use crate::store::Txn;

/// A partial change to one's own profile. An absent field is left as it is;
/// for the fields that may be empty (`skills_1..3`, `profile_picture`,
/// `hourly_rate` and the social links) `null` clears the value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// Display name.
    pub full_name: Option<String>,
    /// Biography.
    pub bio: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Headline profession.
    pub profession: Option<String>,
    /// Free-text location.
    pub location: Option<String>,
    /// Legacy free-text skills list.
    pub skills: Option<String>,
    /// Primary skill; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub skills_1: Option<Option<String>>,
    /// Secondary skill; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub skills_2: Option<Option<String>>,
    /// Tertiary skill; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub skills_3: Option<Option<String>>,
    /// Specialty tags (replaces the whole list).
    pub specialty_tags: Option<Vec<String>>,
    /// Profile picture URL; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub profile_picture: Option<Option<HttpUrl>>,
    /// Page background colour.
    pub background_color: Option<HexColor>,
    /// Primary brand colour.
    pub primary_color: Option<HexColor>,
    /// Secondary brand colour.
    pub secondary_color: Option<HexColor>,
    /// Typeface, by snake_case or display name (`"Open Sans"`).
    pub font_family: Option<String>,
    /// Base font size in pixels.
    pub font_size: Option<FontSize>,
    /// Layout of the profile page.
    pub profile_layout: Option<ProfileLayout>,
    /// Price of one hour in minor units of the user's currency; `null`
    /// stops selling sessions.
    #[serde(default, deserialize_with = "present")]
    pub hourly_rate: Option<Option<i64>>,
    /// The currency the user prices and earns in; only before any money was
    /// earned, and together with `hourly_rate` when the user has a rate.
    pub currency: Option<Currency>,
    /// Accepting bookings.
    pub is_available: Option<bool>,
    /// What a session offers.
    pub service_description: Option<String>,
    /// Minutes per session, 15–480.
    pub session_duration: Option<u16>,
    /// What the user's content is about.
    pub content_description: Option<String>,
    /// IANA time zone.
    pub timezone: Option<TimeZone>,
    /// Preferred language.
    pub language: Option<LanguageCode>,
    /// Whether to send notification e-mails.
    pub email_notifications: Option<bool>,
    /// LinkedIn profile; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub linkedin_url: Option<Option<HttpUrl>>,
    /// Twitter / X profile; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub twitter_url: Option<Option<HttpUrl>>,
    /// GitHub profile; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub github_url: Option<Option<HttpUrl>>,
    /// Instagram profile; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub instagram_url: Option<Option<HttpUrl>>,
    /// Facebook profile; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub facebook_url: Option<Option<HttpUrl>>,
    /// YouTube channel; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub youtube_url: Option<Option<HttpUrl>>,
    /// Snapchat profile; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub snapchat_url: Option<Option<HttpUrl>>,
    /// Personal website; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub website_url: Option<Option<HttpUrl>>,
}

/// A field that is present in the body: `null` becomes `Some(None)`.
fn present<'de, T, D>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

impl ProfileUpdate {
    /// Applies the change to `user` and validates the result with
    /// [`User::validate`]; `now` becomes `updated_at`. On error `user` may be
    /// partly changed and must be discarded.
    pub fn apply(self, user: &mut User, now: Timestamp) -> Result<()> {
        let prices_change = self.hourly_rate.is_some()
            || self.session_duration.is_some()
            || self.currency.is_some();
        if let Some(currency) = self.currency {
            change_currency(user, currency, self.hourly_rate.is_some())?;
        }
        if let Some(rate) = self.hourly_rate {
            user.hourly_rate = rate.map(|amount| Money::new(amount, user.currency));
        }
        if let Some(name) = self.font_family {
            user.font_family = FontFamily::parse_lenient(&name)?;
        }
        set(&mut user.full_name, self.full_name);
        set(&mut user.bio, self.bio);
        set(&mut user.industry, self.industry);
        set(&mut user.profession, self.profession);
        set(&mut user.location, self.location);
        set(&mut user.skills, self.skills);
        set(&mut user.skills_1, self.skills_1);
        set(&mut user.skills_2, self.skills_2);
        set(&mut user.skills_3, self.skills_3);
        set(&mut user.specialty_tags, self.specialty_tags);
        set(&mut user.profile_picture, self.profile_picture);
        set(&mut user.background_color, self.background_color);
        set(&mut user.primary_color, self.primary_color);
        set(&mut user.secondary_color, self.secondary_color);
        set(&mut user.font_size, self.font_size);
        set(&mut user.profile_layout, self.profile_layout);
        set(&mut user.is_available, self.is_available);
        set(&mut user.service_description, self.service_description);
        set(&mut user.session_duration, self.session_duration);
        set(&mut user.content_description, self.content_description);
        set(&mut user.timezone, self.timezone);
        set(&mut user.language, self.language);
        set(&mut user.email_notifications, self.email_notifications);
        set(&mut user.linkedin_url, self.linkedin_url);
        set(&mut user.twitter_url, self.twitter_url);
        set(&mut user.github_url, self.github_url);
        set(&mut user.instagram_url, self.instagram_url);
        set(&mut user.facebook_url, self.facebook_url);
        set(&mut user.youtube_url, self.youtube_url);
        set(&mut user.snapchat_url, self.snapchat_url);
        set(&mut user.website_url, self.website_url);
        user.updated_at = now.max(user.created_at);
        user.validate()?;
        if prices_change {
            check_session_price(user)?;
        }
        Ok(())
    }
}

/// A rate must price one session (`hourly_rate × session_duration / 60`, rounded as it
/// is charged) at an amount Stripe can charge: one minor unit an hour made 15-minute
/// sessions cost nothing (booked free from an expert who charges), and JPY 60 an hour
/// 30-minute sessions of JPY 30, under Stripe's JPY 50 (booked, then never payable).
fn check_session_price(user: &User) -> Result<()> {
    let Some(rate) = user.hourly_rate.filter(|rate| rate.is_positive()) else {
        return Ok(());
    };
    let price = crate::payments::charge_for_minutes(rate, user.session_duration)?;
    match crate::payments::charge_refusal(price) {
        None => Ok(()),
        Some(why) => Err(ModelError::invalid(
            "hourly_rate",
            format!(
                "{rate} an hour makes a {}-minute session cost {price}, which cannot be \
                 charged ({why}): raise the rate or lengthen the session",
                user.session_duration
            ),
        )
        .into()),
    }
}

/// Moves the user to `currency`: only while every money total is zero, and
/// only with a new hourly rate when the user has one.
fn change_currency(user: &mut User, currency: Currency, rate_given: bool) -> Result<()> {
    if currency == user.currency {
        return Ok(());
    }
    let totals = [
        &mut user.total_earnings,
        &mut user.total_payouts,
        &mut user.pending_balance,
        &mut user.total_referral_earnings,
    ];
    if totals.iter().any(|total| total.amount_minor != 0) {
        return Err(ModelError::invalid(
            "currency",
            "cannot change once money has been earned or paid out",
        )
        .into());
    }
    if user.hourly_rate.is_some() && !rate_given {
        return Err(ModelError::invalid(
            "currency",
            "change hourly_rate in the same request so that it matches the new currency",
        )
        .into());
    }
    for total in totals {
        *total = Money::zero(currency);
    }
    user.currency = currency;
    Ok(())
}

/// Applies `update` to `user`'s own account in one transaction and returns
/// the stored result. The currency does not change while money is on its way to
/// or from them (`has_money_underway`). An expert whose change leaves them no
/// profession stops hosting: their open and scheduled drop-ins end in the
/// same transaction (`dropins::end_dropins_of_host`); an expert with a
/// session to give still ahead may not clear their profession
/// (`InvalidState`, 409) until it is cancelled.
pub fn update_profile(store: &crate::Store, user: UserId, update: ProfileUpdate) -> Result<User> {
    let now = Timestamp::now();
    store.write(|txn| {
        let mut row: User = txn.require(user)?;
        if row.is_closed() {
            // Closed meanwhile: its token is gone too.
            return Err(crate::Error::Unauthorized);
        }
        let before = row.currency;
        let was_expert = row.is_expert();
        // Applied first: a currency change with money on the books is refused there,
        // before the look for money underway reads the user's payments.
        update.apply(&mut row, now)?;
        if row.currency != before && crate::payments::has_money_underway(txn, user)? {
            return Err(ModelError::invalid(
                "currency",
                "cannot change while a booking of yours awaits payment, a referral reward of yours awaits its hold, or a refund of a payment to you is not settled",
            )
            .into());
        }
        if was_expert && !row.is_expert() {
            check_no_sessions_to_give(txn, user)?;
            crate::dropins::end_dropins_of_host(txn, user)?;
        }
        txn.update(row)
    })
}

/// `InvalidState` (409) while `user` has a session to give that is still
/// ahead and holds its time (awaiting payment or confirmed), found as the
/// account closing finds them (`close::future_bookings`): an expert who
/// stopped being one could no longer have it rescheduled, their public page
/// would be gone, and a client's late cancellation would be refunded by the
/// client's policy rather than in full as the expert's own cancellation is.
fn check_no_sessions_to_give(txn: &Txn<'_>, user: UserId) -> Result<()> {
    let giving = super::close::future_bookings(txn, user)?
        .iter()
        .any(|booking| booking.provider_id == user);
    if giving {
        return Err(crate::Error::InvalidState(
            "the profession cannot be cleared while a session you give is still ahead; \
             cancel it first"
                .to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(body: &str) -> ProfileUpdate {
        serde_json::from_str(body).expect("an update")
    }

    #[test]
    fn a_rate_must_price_a_session_stripe_can_charge() {
        let now = Timestamp::parse_rfc3339("2027-01-02T00:00:00Z").expect("instant");
        let mut user = crate::test_rows::user("ann", "Tax Advisor");
        // Regression: one minor unit an hour made 15-minute sessions cost nothing.
        let penny = update(r#"{"hourly_rate":1,"session_duration":15}"#)
            .apply(&mut user.clone(), now)
            .expect_err("a session of nothing");
        assert!(penny.to_string().contains("hourly_rate"), "{penny}");
        // Regression: JPY 60 an hour made 30-minute sessions of JPY 30, under JPY 50.
        let yen = update(r#"{"currency":"JPY","hourly_rate":60,"session_duration":30}"#)
            .apply(&mut user.clone(), now)
            .expect_err("a session under Stripe's minimum");
        assert!(yen.to_string().contains("JPY 50"), "{yen}");
        update(r#"{"currency":"JPY","hourly_rate":100,"session_duration":30}"#)
            .apply(&mut user, now)
            .expect("JPY 50 a session");
        // A rate from before the rule does not block edits that leave prices alone,
        // but no change may make its sessions cheaper still.
        user.hourly_rate = Some(Money::new(60, user.currency));
        update(r#"{"bio":"About me."}"#)
            .apply(&mut user.clone(), now)
            .expect("a new bio");
        assert!(
            update(r#"{"session_duration":15}"#)
                .apply(&mut user, now)
                .is_err()
        );
    }
}

//! The owner's view of their own account: their profile, branding, pricing
//! and settings (everything they may set with `PATCH /v1/users/me`), never
//! the password hash, tokens, Stripe ids or Google credentials.

use droply_models::{HttpUrl, Money, Timestamp, User, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use super::model_schemas::MoneySchema;

/// An account as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountView {
    /// The user's id.
    #[schema(value_type = u64)]
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
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When the account last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Short biography.
    pub bio: String,
    /// Industry.
    pub industry: String,
    /// "City, Country".
    pub location: String,
    /// Legacy free-text skills list.
    pub skills: String,
    /// Primary skill.
    pub skills_1: Option<String>,
    /// Secondary skill.
    pub skills_2: Option<String>,
    /// Tertiary skill.
    pub skills_3: Option<String>,
    /// Specialty tags.
    pub specialty_tags: Vec<String>,
    /// Profile picture URL.
    pub profile_picture: Option<String>,
    /// Page background colour.
    pub background_color: String,
    /// Primary brand colour.
    pub primary_color: String,
    /// Secondary brand colour.
    pub secondary_color: String,
    /// Typeface of the profile page (snake_case name).
    pub font_family: String,
    /// Base font size in pixels.
    pub font_size: u8,
    /// Layout of the profile page.
    pub profile_layout: String,
    /// Price of one hour, in `currency`.
    #[schema(value_type = Option<MoneySchema>)]
    pub hourly_rate: Option<Money>,
    /// What a session offers.
    pub service_description: String,
    /// Minutes per session.
    pub session_duration: u16,
    /// What the user's content is about.
    pub content_description: String,
    /// Whether notification e-mails are sent.
    pub email_notifications: bool,
    /// LinkedIn profile.
    pub linkedin_url: Option<String>,
    /// Twitter / X profile.
    pub twitter_url: Option<String>,
    /// GitHub profile.
    pub github_url: Option<String>,
    /// Instagram profile.
    pub instagram_url: Option<String>,
    /// Facebook profile.
    pub facebook_url: Option<String>,
    /// YouTube channel.
    pub youtube_url: Option<String>,
    /// Snapchat profile.
    pub snapchat_url: Option<String>,
    /// Personal website.
    pub website_url: Option<String>,
}

fn url(value: &Option<HttpUrl>) -> Option<String> {
    value.as_ref().map(|url| url.as_str().to_owned())
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
            updated_at: user.updated_at,
            bio: user.bio.clone(),
            industry: user.industry.clone(),
            location: user.location.clone(),
            skills: user.skills.clone(),
            skills_1: user.skills_1.clone(),
            skills_2: user.skills_2.clone(),
            skills_3: user.skills_3.clone(),
            specialty_tags: user.specialty_tags.clone(),
            profile_picture: url(&user.profile_picture),
            background_color: user.background_color.as_str().to_owned(),
            primary_color: user.primary_color.as_str().to_owned(),
            secondary_color: user.secondary_color.as_str().to_owned(),
            font_family: user.font_family.as_str().to_owned(),
            font_size: user.font_size.get(),
            profile_layout: user.profile_layout.as_str().to_owned(),
            hourly_rate: user.hourly_rate,
            service_description: user.service_description.clone(),
            session_duration: user.session_duration,
            content_description: user.content_description.clone(),
            email_notifications: user.email_notifications,
            linkedin_url: url(&user.linkedin_url),
            twitter_url: url(&user.twitter_url),
            github_url: url(&user.github_url),
            instagram_url: url(&user.instagram_url),
            facebook_url: url(&user.facebook_url),
            youtube_url: url(&user.youtube_url),
            snapchat_url: url(&user.snapchat_url),
            website_url: url(&user.website_url),
        }
    }
}

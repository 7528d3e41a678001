//! The public view of an expert: what anyone may see. Built field by field
//! from the stored user, so a new private field never leaks by default: no
//! email, phone, password hash, tokens, Stripe ids or balances.

use droply_models::{Money, User};
use serde::Serialize;
use utoipa::ToSchema;

use super::Branding;
use super::model_schemas::MoneySchema;

/// An expert as the public sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicProfile {
    /// The expert's id.
    pub id: u64,
    /// Username.
    pub username: String,
    /// Display name.
    pub full_name: String,
    /// Headline profession.
    pub profession: String,
    /// Industry.
    pub industry: String,
    /// "City, Country".
    pub location: String,
    /// Short biography.
    pub bio: String,
    /// Primary, secondary and tertiary skills.
    pub skills: Vec<String>,
    /// Specialty tags.
    pub specialty_tags: Vec<String>,
    /// What a session offers.
    pub service_description: String,
    /// Price of one hour.
    #[schema(value_type = Option<MoneySchema>)]
    pub hourly_rate: Option<Money>,
    /// Minutes per session.
    pub session_duration: u16,
    /// Average stars, when reviewed.
    pub rating: Option<f32>,
    /// Number of reviews.
    pub rating_count: u32,
    /// Accepting bookings.
    pub is_available: bool,
    /// Featured by Droply.
    pub is_featured_user: bool,
    /// IANA time zone the expert works in.
    pub timezone: String,
    /// Preferred language.
    pub language: String,
    /// Profile picture URL.
    pub profile_picture: Option<String>,
    /// Public links.
    pub links: Vec<String>,
    /// How their profile page looks.
    pub branding: Branding,
}

impl From<&User> for PublicProfile {
    fn from(user: &User) -> Self {
        let links = [
            &user.linkedin_url,
            &user.twitter_url,
            &user.github_url,
            &user.instagram_url,
            &user.facebook_url,
            &user.youtube_url,
            &user.snapchat_url,
            &user.website_url,
        ]
        .into_iter()
        .flatten()
        .map(|url| url.as_str().to_owned())
        .collect();
        PublicProfile {
            id: user.id.get(),
            username: user.username.as_str().to_owned(),
            full_name: user.full_name.clone(),
            profession: user.profession.clone(),
            industry: user.industry.clone(),
            location: user.location.clone(),
            bio: user.bio.clone(),
            skills: [&user.skills_1, &user.skills_2, &user.skills_3]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            specialty_tags: user.specialty_tags.clone(),
            service_description: user.service_description.clone(),
            hourly_rate: user.hourly_rate,
            session_duration: user.session_duration,
            rating: user.rating(),
            rating_count: user.rating_count(),
            is_available: user.is_available,
            is_featured_user: user.is_featured_user,
            timezone: user.timezone.as_str().to_owned(),
            language: user.language.as_str().to_owned(),
            profile_picture: user
                .profile_picture
                .as_ref()
                .map(|url| url.as_str().to_owned()),
            links,
            branding: Branding::from(user),
        }
    }
}

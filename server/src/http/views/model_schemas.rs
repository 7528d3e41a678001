//! OpenAPI schemas of the models and engine types the API sends or takes as
//! they are (money, availability rows, the profile allowlist, string enums),
//! so the models and engine crates stay free of API documentation concerns.
//! The enums are built from the models' own variant lists; the structs are
//! described here field by field, and the API tests compare them with real
//! answers (and the allowlist with the fields the engine accepts) so they
//! cannot drift apart unnoticed. These types are never built.
#![allow(dead_code)]

use std::borrow::Cow;

use droply_engine::accounts::CLIENT_INTERACTIONS;
use droply_models::{
    BookingStatus, ContentStatus, ContentType, FontFamily, PaymentStatus, PayoutStatus,
    ProfileLayout, StripeAccountStatus,
};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// A string schema listing `values`.
fn string_enum(description: &str, values: impl Iterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.collect::<Vec<_>>()))
        .into()
}

macro_rules! string_enum_schema {
    ($(#[$meta:meta])* $schema:ident = $name:literal, $enum:ty, $description:literal) => {
        $(#[$meta])*
        pub struct $schema;

        impl PartialSchema for $schema {
            fn schema() -> RefOr<Schema> {
                string_enum($description, <$enum>::ALL.iter().map(|v| v.as_str()))
            }
        }

        impl ToSchema for $schema {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_enum_schema!(
    /// `BookingStatus` as sent.
    BookingStatusSchema = "BookingStatus",
    BookingStatus,
    "A booking's lifecycle state."
);
string_enum_schema!(
    /// `ContentType` as sent.
    ContentTypeSchema = "ContentType",
    ContentType,
    "What kind of content an item is."
);
string_enum_schema!(
    /// `PaymentStatus` as sent.
    PaymentStatusSchema = "PaymentStatus",
    PaymentStatus,
    "A booking's payment state."
);
string_enum_schema!(
    /// `ContentStatus` as sent.
    ContentStatusSchema = "ContentStatus",
    ContentStatus,
    "Where content is in its life: a draft only its creator sees, published (for sale), or archived (off sale; buyers keep access)."
);
string_enum_schema!(
    /// `PayoutStatus` as sent.
    PayoutStatusSchema = "PayoutStatus",
    PayoutStatus,
    "A payout's state."
);
string_enum_schema!(
    /// `StripeAccountStatus` as sent.
    StripeAccountStatusSchema = "StripeAccountStatus",
    StripeAccountStatus,
    "The state of an expert's Stripe connected account."
);
/// `InteractionType` as sent and taken by `POST /v1/interactions`: only the
/// kinds a client may record (the engine records the others itself).
pub struct InteractionTypeSchema;

impl PartialSchema for InteractionTypeSchema {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "What a client did to another profile; `book`, `favorite`, `unfavorite` and `search_impression` are recorded by Droply itself.",
            CLIENT_INTERACTIONS.iter().map(|kind| kind.as_str()),
        )
    }
}

impl ToSchema for InteractionTypeSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("InteractionType")
    }
}
string_enum_schema!(
    /// `FontFamily` as sent.
    FontFamilySchema = "FontFamily",
    FontFamily,
    "A profile page's typeface (snake_case name)."
);
string_enum_schema!(
    /// `ProfileLayout` as taken.
    ProfileLayoutSchema = "ProfileLayout",
    ProfileLayout,
    "Layout of the profile page."
);

/// `Money` as sent: integer minor units and an ISO 4217 code.
#[derive(ToSchema)]
#[schema(as = Money)]
pub struct MoneySchema {
    /// The amount in the currency's minor unit (`1250` EUR = 12.50 EUR).
    amount_minor: i64,
    /// ISO 4217 code.
    #[schema(example = "EUR")]
    currency: String,
}

/// `AvailabilityRule` as sent.
#[derive(ToSchema)]
#[schema(as = AvailabilityRule)]
pub struct AvailabilityRuleSchema {
    /// The rule's id.
    id: u64,
    /// Whose availability.
    user_id: u64,
    /// Day of the week, 0 = Monday to 6 = Sunday.
    #[schema(minimum = 0, maximum = 6)]
    weekday: u8,
    /// Local start time `HH:MM` in the owner's time zone.
    #[schema(example = "09:00")]
    start: String,
    /// Local end time `HH:MM`, up to `24:00`.
    #[schema(example = "17:00")]
    end: String,
    /// Whether the rule is in force.
    is_active: bool,
    /// When the rule was created.
    #[schema(format = DateTime)]
    created_at: String,
    /// When the rule last changed.
    #[schema(format = DateTime)]
    updated_at: String,
}

/// `AvailabilityException` as sent.
#[derive(ToSchema)]
#[schema(as = AvailabilityException)]
pub struct AvailabilityExceptionSchema {
    /// The exception's id.
    id: u64,
    /// Whose availability.
    user_id: u64,
    /// Start of the range.
    #[schema(format = DateTime)]
    start: String,
    /// End of the range.
    #[schema(format = DateTime)]
    end: String,
    /// Why, at most 500 characters.
    reason: Option<String>,
    /// `true` blocks the range, `false` opens it.
    is_blocked: bool,
    /// When the exception was created.
    #[schema(format = DateTime)]
    created_at: String,
}

/// The body of `PATCH /v1/users/me`: the engine's `ProfileUpdate`
/// allowlist. Absent fields are left as they are; `null` clears the
/// nullable ones; any other field is refused.
#[derive(serde::Deserialize, ToSchema)]
#[schema(as = ProfileUpdate)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdateSchema {
    /// Display name.
    #[schema(nullable = false)]
    full_name: Option<String>,
    /// Biography.
    #[schema(nullable = false)]
    bio: Option<String>,
    /// Industry.
    #[schema(nullable = false)]
    industry: Option<String>,
    /// Headline profession.
    #[schema(nullable = false)]
    profession: Option<String>,
    /// "City, Country".
    #[schema(nullable = false)]
    location: Option<String>,
    /// Legacy free-text skills list.
    #[schema(nullable = false)]
    skills: Option<String>,
    /// Primary skill; `null` clears it.
    skills_1: Option<String>,
    /// Secondary skill; `null` clears it.
    skills_2: Option<String>,
    /// Tertiary skill; `null` clears it.
    skills_3: Option<String>,
    /// Specialty tags (replaces the whole list).
    #[schema(nullable = false)]
    specialty_tags: Option<Vec<String>>,
    /// Profile picture URL (http or https); `null` clears it.
    profile_picture: Option<String>,
    /// Page background colour, `#RGB` or `#RRGGBB`.
    #[schema(nullable = false, example = "#101010")]
    background_color: Option<String>,
    /// Primary brand colour, `#RGB` or `#RRGGBB`.
    #[schema(nullable = false)]
    primary_color: Option<String>,
    /// Secondary brand colour, `#RGB` or `#RRGGBB`.
    #[schema(nullable = false)]
    secondary_color: Option<String>,
    /// Typeface, by snake_case or display name (`"Open Sans"`).
    #[schema(nullable = false)]
    font_family: Option<String>,
    /// Base font size in pixels.
    #[schema(nullable = false)]
    font_size: Option<u8>,
    /// Layout of the profile page.
    #[schema(value_type = Option<ProfileLayoutSchema>, nullable = false)]
    profile_layout: Option<String>,
    /// Price of one hour in minor units of the user's currency; `null`
    /// stops selling sessions.
    hourly_rate: Option<i64>,
    /// ISO 4217 currency; only while no money was earned, and with
    /// `hourly_rate` when the user has a rate.
    #[schema(nullable = false)]
    currency: Option<String>,
    /// Accepting bookings.
    #[schema(nullable = false)]
    is_available: Option<bool>,
    /// What a session offers.
    #[schema(nullable = false)]
    service_description: Option<String>,
    /// Minutes per session, 15 to 480.
    #[schema(nullable = false, minimum = 15, maximum = 480)]
    session_duration: Option<u16>,
    /// What the user's content is about.
    #[schema(nullable = false)]
    content_description: Option<String>,
    /// IANA time zone.
    #[schema(nullable = false, example = "Europe/Berlin")]
    timezone: Option<String>,
    /// Language code.
    #[schema(nullable = false)]
    language: Option<String>,
    /// Whether to send notification e-mails.
    #[schema(nullable = false)]
    email_notifications: Option<bool>,
    /// LinkedIn profile; `null` clears it.
    linkedin_url: Option<String>,
    /// Twitter / X profile; `null` clears it.
    twitter_url: Option<String>,
    /// GitHub profile; `null` clears it.
    github_url: Option<String>,
    /// Instagram profile; `null` clears it.
    instagram_url: Option<String>,
    /// Facebook profile; `null` clears it.
    facebook_url: Option<String>,
    /// YouTube channel; `null` clears it.
    youtube_url: Option<String>,
    /// Snapchat profile; `null` clears it.
    snapchat_url: Option<String>,
    /// Personal website; `null` clears it.
    website_url: Option<String>,
}

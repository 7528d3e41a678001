//! What the text index holds about an expert ([`ExpertDoc`]), and the filters a search
//! can apply to it ([`ExpertFilters`]). An `ExpertDoc` has no field for anything
//! private (email, phone, password hash, tokens, Stripe ids, balances), so none can
//! reach the index.

use droply_models::{CategoryId, Currency, UserId};

/// The searchable, filterable part of an expert's profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpertDoc {
    /// Whose profile this is.
    pub id: UserId,
    /// A hash of everything below, written by the caller; lets parity checks and
    /// re-indexing tell whether the indexed copy is current.
    pub version: u64,
    /// Display name.
    pub name: String,
    /// Job title / headline.
    pub profession: String,
    /// Biography.
    pub bio: String,
    /// The ranked skills (`skills_1`, `skills_2`, `skills_3`), in order; unset ones empty.
    pub ranked_skills: [String; 3],
    /// The legacy free-text skills list.
    pub skills_text: String,
    /// Specialty tags.
    pub specialty_tags: Vec<String>,
    /// Industry.
    pub industry: String,
    /// Free-text location.
    pub location: String,
    /// What a booked session offers.
    pub service_description: String,
    /// What the expert's content is about.
    pub content_description: String,
    /// Names of the expert's content categories.
    pub category_names: Vec<String>,
    /// Ids of the expert's content categories.
    pub category_ids: Vec<CategoryId>,
    /// The currency the expert prices in.
    pub currency: Option<Currency>,
    /// Hourly rate in minor units of `currency`; `None` when sessions are free (indexed
    /// as a rate of zero, so a price range admitting zero keeps the expert).
    pub hourly_rate_minor: Option<i64>,
    /// Average stars, if rated.
    pub rating: Option<f32>,
    /// Number of reviews.
    pub rating_count: u32,
    /// Whether the expert accepts bookings now.
    pub is_available: bool,
    /// Whether the expert is featured.
    pub is_featured: bool,
    /// Whether the expert can be booked and paid right now.
    pub is_bookable: bool,
    /// Length of one session in minutes.
    pub session_minutes: u16,
}

/// A price range in one currency, in minor units, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceRange {
    /// The currency the bounds are in; only experts pricing in it match.
    pub currency: Currency,
    /// Lowest hourly rate, if bounded.
    pub min_minor: Option<i64>,
    /// Highest hourly rate, if bounded.
    pub max_minor: Option<i64>,
}

/// Restrictions on which experts a search returns. Empty lists and `None` restrict
/// nothing; a list matches when any of its values does (values compare
/// case-insensitively, whole value; a location also matches one of its comma-separated
/// parts); the fields combine with AND.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExpertFilters {
    /// Industries.
    pub industries: Vec<String>,
    /// Professions.
    pub professions: Vec<String>,
    /// Locations: each matches an expert's whole location or one of its
    /// comma-separated parts (`Berlin` and `Germany` match "Berlin, Germany"; `Berl`
    /// does not).
    pub locations: Vec<String>,
    /// Ranked skills (any of `skills_1..3`).
    pub skills: Vec<String>,
    /// Specialty tags.
    pub specialty_tags: Vec<String>,
    /// Content categories.
    pub categories: Vec<CategoryId>,
    /// Hourly-rate ranges, one per currency (a caller converting a budget into each
    /// currency passes one range per currency; an expert matches any of them). A free
    /// expert counts as a rate of zero in its currency: a range without a minimum, or
    /// with a minimum of zero, keeps them.
    pub prices: Vec<PriceRange>,
    /// Lowest average rating.
    pub min_rating: Option<f32>,
    /// Fewest reviews.
    pub min_rating_count: Option<u32>,
    /// Only experts accepting bookings.
    pub available_only: bool,
    /// Only bookable experts (available, priced, able to be paid).
    pub bookable_only: bool,
    /// Only featured experts.
    pub featured_only: bool,
}

impl ExpertFilters {
    /// Whether the filters restrict nothing.
    pub fn is_empty(&self) -> bool {
        *self == ExpertFilters::default()
    }
}

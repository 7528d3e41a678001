//! Droply's domain model: every entity of the data model as a plain struct
//! with typed ids, money, time and validated values, plus the cross-field
//! rules each entity must satisfy (`validate`). No I/O happens here; the
//! store, the search index and the server all build on these types.

#[macro_use]
mod string_enum;

mod ai_match;
mod availability;
mod booking;
mod category;
mod content;
mod currency;
mod dropin;
mod enums;
mod error;
mod favorite;
mod id;
mod interaction;
mod money;
mod payout;
mod rating;
mod referral;
pub mod text;
mod time;
mod user;
mod validate;

#[doc(hidden)]
pub use serde as __serde;

pub use ai_match::{AiMatch, MatchReason};
pub use availability::{AvailabilityException, AvailabilityRule};
pub use booking::{Booking, NewBooking};
pub use category::Category;
pub use content::{Content, ContentPurchase, FileMeta};
pub use currency::Currency;
pub use dropin::{DropinMessage, DropinParticipant, DropinSession};
pub use enums::{
    BookingStatus, CategoryType, ContentStatus, ContentType, DropinMessageType, InteractionType,
    PaymentStatus, PayoutSchedule, PayoutStatus, ProfileLayout, ReferralStatus, RewardStatus,
    RewardType, StripeAccountStatus,
};
pub use error::{Error, Result};
pub use favorite::Favorite;
pub use id::{
    AiMatchId, AvailabilityExceptionId, AvailabilityRuleId, BookingId, CategoryId, ContentId,
    ContentPurchaseId, DropinMessageId, DropinParticipantId, DropinSessionId, FavoriteId,
    InteractionId, PayoutId, ReferralId, ReferralRewardId, UserId, parse_id_digits,
};
pub use interaction::UserInteraction;
pub use money::Money;
pub use payout::Payout;
pub use rating::Rating;
pub use referral::{Referral, ReferralReward};
pub use time::{LocalTime, TimeZone, Timestamp, Weekday};
pub use user::{NewUser, User};
pub use validate::{
    Email, FontFamily, FontSize, HexColor, HttpUrl, LanguageCode, PhoneNumber, ReferralCode,
    SessionCode, Username,
};

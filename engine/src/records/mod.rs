//! Every entity of the data model as a store [`Record`]: how each is keyed,
//! indexed and kept unique, plus a typed repository per entity with its
//! relationship queries (`store.bookings().by_provider(...)`).

/// The parts of a `Record` impl every entity shares: the id accessors and
/// validation through the model's own `validate`.
macro_rules! record_basics {
    ($id:ty) => {
        fn id(&self) -> $id {
            self.id
        }
        fn set_id(&mut self, id: $id) {
            self.id = id;
        }
        fn validate(&self) -> $crate::Result<()> {
            Ok(Self::validate(self)?)
        }
    };
}

mod ai_match;
mod availability;
mod booking;
mod category;
mod content;
mod dropin;
mod favorite;
mod interaction;
mod payout;
mod referral;
mod repo;
mod user;

use droply_models::{
    AiMatch, AiMatchId, AvailabilityException, AvailabilityExceptionId, AvailabilityRule,
    AvailabilityRuleId, Booking, BookingId, Category, CategoryId, Content, ContentId,
    ContentPurchase, ContentPurchaseId, DropinMessage, DropinMessageId, DropinParticipant,
    DropinParticipantId, DropinSession, DropinSessionId, Favorite, FavoriteId, InteractionId,
    Payout, PayoutId, Referral, ReferralId, ReferralReward, ReferralRewardId, User, UserId,
    UserInteraction,
};

pub use repo::{Deletable, Repo};

use crate::Result;
use crate::store::IntegrityCheck;
use crate::store::{IntegrityReport, RecordId, Store};

macro_rules! record_ids {
    ($($id:ty),* $(,)?) => {$(
        impl RecordId for $id {
            fn raw(self) -> u64 {
                self.get()
            }
            fn from_raw(raw: u64) -> Self {
                <$id>::new(raw)
            }
        }
    )*};
}

record_ids!(
    UserId,
    BookingId,
    FavoriteId,
    InteractionId,
    AvailabilityRuleId,
    AvailabilityExceptionId,
    PayoutId,
    ReferralId,
    ReferralRewardId,
    ContentId,
    ContentPurchaseId,
    DropinSessionId,
    DropinParticipantId,
    DropinMessageId,
    AiMatchId,
    CategoryId,
);

impl Store {
    /// Users: accounts and expert profiles.
    pub fn users(&self) -> Repo<'_, User> {
        Repo::new(self)
    }
    /// Bookings between clients and providers.
    pub fn bookings(&self) -> Repo<'_, Booking> {
        Repo::new(self)
    }
    /// Favorites.
    pub fn favorites(&self) -> Repo<'_, Favorite> {
        Repo::new(self)
    }
    /// User interactions.
    pub fn interactions(&self) -> Repo<'_, UserInteraction> {
        Repo::new(self)
    }
    /// Weekly availability rules.
    pub fn availability_rules(&self) -> Repo<'_, AvailabilityRule> {
        Repo::new(self)
    }
    /// Availability exceptions.
    pub fn availability_exceptions(&self) -> Repo<'_, AvailabilityException> {
        Repo::new(self)
    }
    /// Payouts.
    pub fn payouts(&self) -> Repo<'_, Payout> {
        Repo::new(self)
    }
    /// Referrals.
    pub fn referrals(&self) -> Repo<'_, Referral> {
        Repo::new(self)
    }
    /// Referral rewards.
    pub fn referral_rewards(&self) -> Repo<'_, ReferralReward> {
        Repo::new(self)
    }
    /// Content for sale.
    pub fn contents(&self) -> Repo<'_, Content> {
        Repo::new(self)
    }
    /// Content purchases.
    pub fn content_purchases(&self) -> Repo<'_, ContentPurchase> {
        Repo::new(self)
    }
    /// Drop-in Q&A sessions.
    pub fn dropin_sessions(&self) -> Repo<'_, DropinSession> {
        Repo::new(self)
    }
    /// Drop-in participants.
    pub fn dropin_participants(&self) -> Repo<'_, DropinParticipant> {
        Repo::new(self)
    }
    /// Drop-in messages.
    pub fn dropin_messages(&self) -> Repo<'_, DropinMessage> {
        Repo::new(self)
    }
    /// AI matches.
    pub fn ai_matches(&self) -> Repo<'_, AiMatch> {
        Repo::new(self)
    }
    /// Categories.
    pub fn categories(&self) -> Repo<'_, Category> {
        Repo::new(self)
    }

    /// Checks that every index and unique tree agrees with the rows of every
    /// entity, and that every balance agrees with the ledger.
    pub fn verify_integrity(&self) -> Result<IntegrityReport> {
        let mut check = IntegrityCheck::default();
        check.add::<User>(self)?;
        check.add::<Booking>(self)?;
        check.add::<Favorite>(self)?;
        check.add::<UserInteraction>(self)?;
        check.add::<AvailabilityRule>(self)?;
        check.add::<AvailabilityException>(self)?;
        check.add::<Payout>(self)?;
        check.add::<Referral>(self)?;
        check.add::<ReferralReward>(self)?;
        check.add::<Content>(self)?;
        check.add::<ContentPurchase>(self)?;
        check.add::<DropinSession>(self)?;
        check.add::<DropinParticipant>(self)?;
        check.add::<DropinMessage>(self)?;
        check.add::<AiMatch>(self)?;
        check.add::<Category>(self)?;
        check.add::<crate::accounts::AuthSession>(self)?;
        check.add::<crate::booking::BookingIdempotency>(self)?;
        check.add::<crate::payments::Payment>(self)?;
        check.add::<crate::payments::LedgerEntry>(self)?;
        check.add::<crate::payments::StripeEvent>(self)?;
        check.add::<crate::video::VideoRoom>(self)?;
        check.add::<crate::video::DailyEvent>(self)?;
        check.add::<crate::video::Recording>(self)?;
        check.add::<crate::reviews::Review>(self)?;
        check.add::<crate::dropins::DropinPass>(self)?;
        check.add::<crate::calendar::CalendarConnection>(self)?;
        check.add::<crate::calendar::OAuthState>(self)?;
        check.add::<crate::calendar::BusyTimes>(self)?;
        check.add::<crate::calendar::CalendarOp>(self)?;
        check.add::<crate::calendar::CalendarEvent>(self)?;
        let mut report = check.finish(self)?;
        crate::payments::ledger::check_ledger(self, &mut report)?;
        Ok(report)
    }
}

//! Every entity of the data model as a store [`Record`]: how each is keyed,
//! indexed and kept unique, plus a typed repository per entity with its
//! relationship queries (`store.bookings().by_provider(...)`), and how rows
//! that lapse are listed and removed (`expiring`).

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
mod copy;
mod dropin;
mod expiring;
mod favorite;
mod interaction;
mod payout;
mod referral;
mod repo;
mod user;

pub use copy::{CopyReport, StoreCopy, copy_store, refuse_unfinished_migration};
use droply_models::{
    AiMatch, AiMatchId, AvailabilityException, AvailabilityExceptionId, AvailabilityRule,
    AvailabilityRuleId, Booking, BookingId, Category, CategoryId, Content, ContentId,
    ContentPurchase, ContentPurchaseId, DropinMessage, DropinMessageId, DropinParticipant,
    DropinParticipantId, DropinSession, DropinSessionId, Favorite, FavoriteId, InteractionId,
    Payout, PayoutId, Referral, ReferralId, ReferralReward, ReferralRewardId, User, UserId,
    UserInteraction,
};
#[cfg(test)]
pub(crate) use expiring::on_both_backends;
pub(crate) use expiring::{Expiring, LAPSE_BATCH, SWEEP_LIMIT, drop_first_lapsing, sweep_lapsed};

pub use repo::{Deletable, Repo};
pub(crate) use user::{email_rekeys, stripe_account_holders, stripe_account_key};

use crate::Result;
use crate::store::IntegrityCheck;
use crate::store::{IntegrityReport, Record, RecordId, Store};

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
        struct Check<'s> {
            store: &'s Store,
            check: IntegrityCheck,
        }
        impl EntityVisitor for Check<'_> {
            fn visit<R: Record>(&mut self) -> Result<()> {
                self.check.add::<R>(self.store)
            }
        }
        let mut visitor = Check {
            store: self,
            check: IntegrityCheck::default(),
        };
        for_every_entity(&mut visitor)?;
        let check = visitor.check;
        let mut report = check.finish(self)?;
        crate::payments::ledger::check_ledger(self, &mut report)?;
        Ok(report)
    }
}

/// Something done once per entity type ([`for_every_entity`]).
pub(crate) trait EntityVisitor {
    /// Does it for the entity `R`.
    fn visit<R: Record>(&mut self) -> Result<()>;
}

/// Visits every entity type the store keeps, users first, then the rows
/// that point at them, so that a copy made in this order never refers
/// ahead of itself.
pub(crate) fn for_every_entity(visitor: &mut impl EntityVisitor) -> Result<()> {
    visitor.visit::<User>()?;
    visitor.visit::<Category>()?;
    visitor.visit::<Booking>()?;
    visitor.visit::<Favorite>()?;
    visitor.visit::<UserInteraction>()?;
    visitor.visit::<AvailabilityRule>()?;
    visitor.visit::<AvailabilityException>()?;
    visitor.visit::<Payout>()?;
    visitor.visit::<Referral>()?;
    visitor.visit::<Content>()?;
    visitor.visit::<ContentPurchase>()?;
    visitor.visit::<ReferralReward>()?;
    visitor.visit::<DropinSession>()?;
    visitor.visit::<DropinParticipant>()?;
    visitor.visit::<DropinMessage>()?;
    visitor.visit::<AiMatch>()?;
    visitor.visit::<crate::accounts::AuthSession>()?;
    visitor.visit::<crate::booking::BookingIdempotency>()?;
    visitor.visit::<crate::payments::Payment>()?;
    visitor.visit::<crate::payments::LedgerEntry>()?;
    visitor.visit::<crate::payments::StripeEvent>()?;
    visitor.visit::<crate::video::VideoRoom>()?;
    visitor.visit::<crate::video::DailyEvent>()?;
    visitor.visit::<crate::video::Recording>()?;
    visitor.visit::<crate::reviews::Review>()?;
    visitor.visit::<crate::dropins::DropinPass>()?;
    visitor.visit::<crate::dropins::DropinSeat>()?;
    visitor.visit::<crate::calendar::CalendarConnection>()?;
    visitor.visit::<crate::calendar::OAuthState>()?;
    visitor.visit::<crate::calendar::BusyTimes>()?;
    visitor.visit::<crate::calendar::CalendarOp>()?;
    visitor.visit::<crate::calendar::CalendarEvent>()?;
    visitor.visit::<crate::calendar::PendingRevocation>()?;
    visitor.visit::<crate::accounts::LoginAttempts>()?;
    visitor.visit::<crate::content::CountedView>()?;
    visitor.visit::<crate::payments::PayoutIdempotency>()
}

//! The names of every sled tree the store keeps: one per entity, one per
//! relationship index, one per unique key, plus the change feed and metadata.
//! Adding a tree means adding a variant here; nothing else names trees.

/// The kinds of rows the store holds, one per entity of the data model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum EntityKind {
    /// `User`: accounts and expert profiles.
    User = 1,
    /// `Booking`: a booked session between a client and a provider.
    Booking = 2,
    /// `Favorite`: a user saving an expert.
    Favorite = 3,
    /// `UserInteraction`: views, clicks and other behaviour.
    Interaction = 4,
    /// `AvailabilityRule`: weekly working hours.
    AvailabilityRule = 5,
    /// `AvailabilityException`: blocked or extra available time.
    AvailabilityException = 6,
    /// `Payout`: money sent to an expert.
    Payout = 7,
    /// `Referral`: one user bringing another.
    Referral = 8,
    /// `ReferralReward`: what a referral earned.
    ReferralReward = 9,
    /// `Content`: something an expert sells.
    Content = 10,
    /// `ContentPurchase`: a sale of content.
    ContentPurchase = 11,
    /// `DropinSession`: a live Q&A session.
    DropinSession = 12,
    /// `DropinParticipant`: someone in a live session.
    DropinParticipant = 13,
    /// `DropinMessage`: a message in a live session.
    DropinMessage = 14,
    /// `AIMatch`: a ranked answer given to a user.
    AiMatch = 15,
    /// `Category`: content and expertise categories.
    Category = 16,
    /// `AuthSession`: a signed-in bearer token (engine-internal, not a data-model entity).
    AuthSession = 17,
    /// `BookingIdempotency`: an `Idempotency-Key` and the booking it made (engine-internal).
    BookingIdempotency = 18,
    /// `Payment`: one booking's money from its client (engine-internal).
    Payment = 19,
    /// `LedgerEntry`: one movement of money, append-only (engine-internal).
    LedgerEntry = 20,
    /// `StripeEvent`: a Stripe webhook event already applied (engine-internal).
    StripeEvent = 21,
    /// `Review`: a client's rating of a completed session (engine-internal).
    Review = 22,
    /// `DropinPass`: a drop-in participant's token (engine-internal).
    DropinPass = 23,
    /// `VideoRoom`: a confirmed booking's Daily room, the room job's outbox row (engine-internal).
    VideoRoom = 24,
    /// `DailyEvent`: a Daily webhook event already applied (engine-internal).
    DailyEvent = 25,
    /// `Recording`: a recording of a booking's call, by Daily's id (engine-internal).
    Recording = 26,
    /// `CalendarConnection`: an expert's sealed Google tokens (engine-internal, keyed by user id).
    CalendarConnection = 27,
    /// `OAuthState`: a Google consent in progress (engine-internal).
    OAuthState = 28,
    /// `BusyTimes`: an expert's busy intervals from Google (engine-internal, keyed by user id).
    BusyTimes = 29,
    /// `CalendarOp`: a pending calendar event operation, the outbox (engine-internal).
    CalendarOp = 30,
    /// `CalendarEvent`: Google's event id for a booking (engine-internal, keyed by booking id).
    CalendarEvent = 31,
    /// `DropinSeat`: how long a drop-in participant's seat is held (engine-internal, keyed by participant id).
    DropinSeat = 32,
    /// `PendingRevocation`: a Google grant still to be revoked after a disconnect (engine-internal).
    CalendarRevocation = 33,
    /// `LoginAttempts`: one (client network, email) pair's recent sign-in
    /// attempts, keyed by a keyed hash of the pair (engine-internal).
    LoginAttempts = 34,
    /// `CountedView`: a viewer's view of a content item already counted
    /// today, keyed by a keyed hash of the three (engine-internal).
    CountedView = 35,
    /// `PayoutIdempotency`: an `Idempotency-Key` and the payout it made (engine-internal).
    PayoutIdempotency = 36,
}

impl EntityKind {
    /// Every kind, in tag order.
    pub const ALL: [EntityKind; 36] = [
        EntityKind::User,
        EntityKind::Booking,
        EntityKind::Favorite,
        EntityKind::Interaction,
        EntityKind::AvailabilityRule,
        EntityKind::AvailabilityException,
        EntityKind::Payout,
        EntityKind::Referral,
        EntityKind::ReferralReward,
        EntityKind::Content,
        EntityKind::ContentPurchase,
        EntityKind::DropinSession,
        EntityKind::DropinParticipant,
        EntityKind::DropinMessage,
        EntityKind::AiMatch,
        EntityKind::Category,
        EntityKind::AuthSession,
        EntityKind::BookingIdempotency,
        EntityKind::Payment,
        EntityKind::LedgerEntry,
        EntityKind::StripeEvent,
        EntityKind::Review,
        EntityKind::DropinPass,
        EntityKind::VideoRoom,
        EntityKind::DailyEvent,
        EntityKind::Recording,
        EntityKind::CalendarConnection,
        EntityKind::OAuthState,
        EntityKind::BusyTimes,
        EntityKind::CalendarOp,
        EntityKind::CalendarEvent,
        EntityKind::DropinSeat,
        EntityKind::CalendarRevocation,
        EntityKind::LoginAttempts,
        EntityKind::CountedView,
        EntityKind::PayoutIdempotency,
    ];

    /// The tree holding rows of this kind.
    pub fn tree(self) -> TreeId {
        TreeId::Entity(self)
    }

    /// A stable lowercase name, used in tree names, errors and the change feed.
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Booking => "booking",
            EntityKind::Favorite => "favorite",
            EntityKind::Interaction => "interaction",
            EntityKind::AvailabilityRule => "availability_rule",
            EntityKind::AvailabilityException => "availability_exception",
            EntityKind::Payout => "payout",
            EntityKind::Referral => "referral",
            EntityKind::ReferralReward => "referral_reward",
            EntityKind::Content => "content",
            EntityKind::ContentPurchase => "content_purchase",
            EntityKind::DropinSession => "dropin_session",
            EntityKind::DropinParticipant => "dropin_participant",
            EntityKind::DropinMessage => "dropin_message",
            EntityKind::AiMatch => "ai_match",
            EntityKind::Category => "category",
            EntityKind::AuthSession => "auth_session",
            EntityKind::BookingIdempotency => "booking_idempotency",
            EntityKind::Payment => "payment",
            EntityKind::LedgerEntry => "ledger_entry",
            EntityKind::StripeEvent => "stripe_event",
            EntityKind::Review => "review",
            EntityKind::DropinPass => "dropin_pass",
            EntityKind::VideoRoom => "video_room",
            EntityKind::DailyEvent => "daily_event",
            EntityKind::Recording => "recording",
            EntityKind::CalendarConnection => "calendar_connection",
            EntityKind::OAuthState => "oauth_state",
            EntityKind::BusyTimes => "busy_times",
            EntityKind::CalendarOp => "calendar_op",
            EntityKind::CalendarEvent => "calendar_event",
            EntityKind::DropinSeat => "dropin_seat",
            EntityKind::CalendarRevocation => "calendar_revocation",
            EntityKind::LoginAttempts => "login_attempts",
            EntityKind::CountedView => "counted_view",
            EntityKind::PayoutIdempotency => "payout_idempotency",
        }
    }

    /// The kind with this tag, if any.
    pub fn from_tag(tag: u8) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|kind| *kind as u8 == tag)
    }
}

/// A secondary index: keys are `owner id ++ sort part ++ row id`, values empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndexName {
    /// Bookings by booker (`user_id`), then start time.
    BookingsByBooker,
    /// Bookings by provider, then start time.
    BookingsByProvider,
    /// Favorites by the user who saved, newest last.
    FavoritesByUser,
    /// Favorites by the expert saved.
    FavoritesByTarget,
    /// Interactions by the acting user, in time order.
    InteractionsByUser,
    /// Interactions by the user acted upon, in time order.
    InteractionsByTarget,
    /// Availability rules by owner, then weekday and start.
    RulesByUser,
    /// Availability exceptions by owner, then start.
    ExceptionsByUser,
    /// Payouts by user, in time order.
    PayoutsByUser,
    /// Referrals by referrer, in time order.
    ReferralsByReferrer,
    /// Referrals by the referred user.
    ReferralsByReferred,
    /// Referral rewards by the booking that earned them.
    RewardsByBooking,
    /// Referral rewards by referrer, in time order.
    RewardsByReferrer,
    /// Content by creator, in time order.
    ContentByCreator,
    /// Purchases by buyer, in time order.
    PurchasesByBuyer,
    /// Purchases by content, in time order.
    PurchasesByContent,
    /// Drop-in sessions by host, in time order.
    DropinsByHost,
    /// Participants by session, in join order.
    ParticipantsBySession,
    /// Messages by session, in time order.
    MessagesBySession,
    /// AI matches by the user they were made for, in time order.
    MatchesByUser,
    /// Every expert ([`droply_models::User::is_expert`]), in id order (no owner part).
    Experts,
    /// Sign-in sessions by user, oldest first.
    SessionsByUser,
    /// Payments by the booking they pay for.
    PaymentsByBooking,
    /// Ledger entries by the user whose money moved, in time order.
    LedgerByUser,
    /// Bookings awaiting payment, by when they were made (no owner part):
    /// what the hold sweep reads, oldest first.
    UnpaidHolds,
    /// Reviews by the expert reviewed, in time order.
    ReviewsByExpert,
    /// Payments by the content purchase they pay for.
    PaymentsByPurchase,
    /// Purchases by (buyer, content): whether a buyer already holds one.
    PurchasesByBuyerContent,
    /// Referral rewards by the content purchase that earned them.
    RewardsByPurchase,
    /// Referral rewards not yet credited, oldest first (no owner part).
    PendingRewards,
    /// Drop-ins not yet ended (no owner part): what search looks through.
    OpenDropins,
    /// Video rooms still to be made, by when the next attempt is due (no
    /// owner part): what the room job reads, oldest first.
    VideoRoomsDue,
    /// Recordings by the booking whose call they recorded, in time order.
    RecordingsByBooking,
    /// Google consent states by the user who asked, by expiry.
    OAuthStatesByUser,
    /// Payments owing a Stripe call (a given-up PaymentIntent to cancel, a
    /// requested refund to send), by the call's kind and then since when
    /// (no owner part): what the payments sweep reads. A settled payment
    /// has no entry.
    PaymentCallsDue,
    /// Payouts whose transfer is not sent yet, oldest first (no owner
    /// part): what the payments sweep retries.
    PendingPayouts,
    /// Sign-in attempt rows by when their last attempt leaves the window,
    /// soonest first (no owner part): what the sweep removes and what
    /// makes room when the throttle is full.
    LoginAttemptsByExpiry,
    /// Counted views by the end of their day, soonest first (no owner
    /// part): what the sweep removes.
    CountedViewsByExpiry,
    /// Drop-in participants by the user they are (guests have no entry),
    /// in id order: a user's rows in one drop-in or in all of them.
    ParticipantsByUser,
    /// Drop-in participants still in their room (active; one who left has
    /// no entry), by session, in id order: what a full room's take-back of
    /// lapsed seats reads, bounded by the seats rather than by everyone
    /// who ever joined.
    SeatedParticipants,
}

impl IndexName {
    /// Every index.
    pub const ALL: [IndexName; 40] = [
        IndexName::BookingsByBooker,
        IndexName::BookingsByProvider,
        IndexName::FavoritesByUser,
        IndexName::FavoritesByTarget,
        IndexName::InteractionsByUser,
        IndexName::InteractionsByTarget,
        IndexName::RulesByUser,
        IndexName::ExceptionsByUser,
        IndexName::PayoutsByUser,
        IndexName::ReferralsByReferrer,
        IndexName::ReferralsByReferred,
        IndexName::RewardsByBooking,
        IndexName::RewardsByReferrer,
        IndexName::ContentByCreator,
        IndexName::PurchasesByBuyer,
        IndexName::PurchasesByContent,
        IndexName::DropinsByHost,
        IndexName::ParticipantsBySession,
        IndexName::MessagesBySession,
        IndexName::MatchesByUser,
        IndexName::Experts,
        IndexName::SessionsByUser,
        IndexName::PaymentsByBooking,
        IndexName::LedgerByUser,
        IndexName::UnpaidHolds,
        IndexName::ReviewsByExpert,
        IndexName::PaymentsByPurchase,
        IndexName::PurchasesByBuyerContent,
        IndexName::RewardsByPurchase,
        IndexName::PendingRewards,
        IndexName::OpenDropins,
        IndexName::VideoRoomsDue,
        IndexName::RecordingsByBooking,
        IndexName::OAuthStatesByUser,
        IndexName::PaymentCallsDue,
        IndexName::PendingPayouts,
        IndexName::LoginAttemptsByExpiry,
        IndexName::CountedViewsByExpiry,
        IndexName::ParticipantsByUser,
        IndexName::SeatedParticipants,
    ];

    /// The tree's name on disk.
    pub fn name(self) -> &'static str {
        match self {
            IndexName::BookingsByBooker => "idx/bookings_by_booker",
            IndexName::BookingsByProvider => "idx/bookings_by_provider",
            IndexName::FavoritesByUser => "idx/favorites_by_user",
            IndexName::FavoritesByTarget => "idx/favorites_by_target",
            IndexName::InteractionsByUser => "idx/interactions_by_user",
            IndexName::InteractionsByTarget => "idx/interactions_by_target",
            IndexName::RulesByUser => "idx/rules_by_user",
            IndexName::ExceptionsByUser => "idx/exceptions_by_user",
            IndexName::PayoutsByUser => "idx/payouts_by_user",
            IndexName::ReferralsByReferrer => "idx/referrals_by_referrer",
            IndexName::ReferralsByReferred => "idx/referrals_by_referred",
            IndexName::RewardsByBooking => "idx/rewards_by_booking",
            IndexName::RewardsByReferrer => "idx/rewards_by_referrer",
            IndexName::ContentByCreator => "idx/content_by_creator",
            IndexName::PurchasesByBuyer => "idx/purchases_by_buyer",
            IndexName::PurchasesByContent => "idx/purchases_by_content",
            IndexName::DropinsByHost => "idx/dropins_by_host",
            IndexName::ParticipantsBySession => "idx/participants_by_session",
            IndexName::MessagesBySession => "idx/messages_by_session",
            IndexName::MatchesByUser => "idx/matches_by_user",
            IndexName::Experts => "idx/experts",
            IndexName::SessionsByUser => "idx/sessions_by_user",
            IndexName::PaymentsByBooking => "idx/payments_by_booking",
            IndexName::LedgerByUser => "idx/ledger_by_user",
            IndexName::UnpaidHolds => "idx/unpaid_holds",
            IndexName::ReviewsByExpert => "idx/reviews_by_expert",
            IndexName::PaymentsByPurchase => "idx/payments_by_purchase",
            IndexName::PurchasesByBuyerContent => "idx/purchases_by_buyer_content",
            IndexName::RewardsByPurchase => "idx/rewards_by_purchase",
            IndexName::PendingRewards => "idx/pending_rewards",
            IndexName::OpenDropins => "idx/open_dropins",
            IndexName::VideoRoomsDue => "idx/video_rooms_due",
            IndexName::RecordingsByBooking => "idx/recordings_by_booking",
            IndexName::OAuthStatesByUser => "idx/oauth_states_by_user",
            IndexName::PaymentCallsDue => "idx/payment_calls_due",
            IndexName::PendingPayouts => "idx/pending_payouts",
            IndexName::LoginAttemptsByExpiry => "idx/login_attempts_by_expiry",
            IndexName::CountedViewsByExpiry => "idx/counted_views_by_expiry",
            IndexName::ParticipantsByUser => "idx/participants_by_user",
            IndexName::SeatedParticipants => "idx/seated_participants",
        }
    }
}

/// A unique key: keys are the normalised value, values the owning row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UniqueName {
    /// `User.username`, lowercase.
    Username,
    /// `User.email`, lowercase.
    Email,
    /// `User.referral_code`.
    ReferralCode,
    /// `DropinSession.session_code`.
    SessionCode,
    /// One favorite per (user, expert) pair.
    FavoritePair,
    /// `AuthSession.token_hash`: the SHA-256 of a bearer token.
    TokenHash,
    /// `BookingIdempotency`: one booking per (booker, `Idempotency-Key`).
    IdempotencyKey,
    /// `Payment.intent_id`: one payment per Stripe PaymentIntent.
    PaymentIntent,
    /// `StripeEvent.event_id`: each webhook event applied once.
    StripeEventId,
    /// `Review.booking_id`: one review per booking.
    ReviewedBooking,
    /// `DropinPass.token_hash`: the SHA-256 of a participant token.
    DropinToken,
    /// `VideoRoom.booking_id`: one room per booking.
    VideoRoomBooking,
    /// `DailyEvent.event_id`: each Daily webhook event applied once.
    DailyEventId,
    /// `Recording.recording_id`: each Daily recording kept once.
    RecordingId,
    /// `OAuthState.state_hash`: each consent state used once.
    OAuthState,
    /// `LoginAttempts.pair_key`: one row per (client network, email) pair.
    LoginPair,
    /// `CountedView.view_key`: each (content, viewer, day) counted once.
    CountedView,
    /// `User.stripe_account_id`: one connected Stripe account per user
    /// (users without one have no entry). What a bank payout's event
    /// finds its account's holder by.
    StripeAccount,
    /// `PayoutIdempotency`: one payout per (requester, `Idempotency-Key`).
    PayoutIdempotencyKey,
}

impl UniqueName {
    /// Every unique key.
    pub const ALL: [UniqueName; 19] = [
        UniqueName::Username,
        UniqueName::Email,
        UniqueName::ReferralCode,
        UniqueName::SessionCode,
        UniqueName::FavoritePair,
        UniqueName::TokenHash,
        UniqueName::IdempotencyKey,
        UniqueName::PaymentIntent,
        UniqueName::StripeEventId,
        UniqueName::ReviewedBooking,
        UniqueName::DropinToken,
        UniqueName::VideoRoomBooking,
        UniqueName::DailyEventId,
        UniqueName::RecordingId,
        UniqueName::OAuthState,
        UniqueName::LoginPair,
        UniqueName::CountedView,
        UniqueName::StripeAccount,
        UniqueName::PayoutIdempotencyKey,
    ];

    /// The field name shown in conflict errors, and the tree's name on disk after `uniq/`.
    pub fn field(self) -> &'static str {
        match self {
            UniqueName::Username => "username",
            UniqueName::Email => "email",
            UniqueName::ReferralCode => "referral_code",
            UniqueName::SessionCode => "session_code",
            UniqueName::FavoritePair => "favorite",
            UniqueName::TokenHash => "token_hash",
            UniqueName::IdempotencyKey => "idempotency_key",
            UniqueName::PaymentIntent => "payment_intent",
            UniqueName::StripeEventId => "stripe_event",
            UniqueName::ReviewedBooking => "review",
            UniqueName::DropinToken => "dropin_token",
            UniqueName::VideoRoomBooking => "video_room",
            UniqueName::DailyEventId => "daily_event",
            UniqueName::RecordingId => "recording",
            UniqueName::OAuthState => "oauth_state",
            UniqueName::LoginPair => "login_pair",
            UniqueName::CountedView => "counted_view",
            UniqueName::StripeAccount => "stripe_account",
            UniqueName::PayoutIdempotencyKey => "payout_idempotency_key",
        }
    }
}

/// Any tree of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TreeId {
    /// Rows of one entity, keyed by big-endian id.
    Entity(EntityKind),
    /// A relationship index.
    Index(IndexName),
    /// A unique key.
    Unique(UniqueName),
    /// The change feed, keyed by big-endian sequence number.
    Changes,
    /// Store metadata: schema version, id and sequence counters.
    Meta,
}

impl TreeId {
    /// Every tree the store opens.
    pub fn all() -> impl Iterator<Item = TreeId> {
        EntityKind::ALL
            .into_iter()
            .map(TreeId::Entity)
            .chain(IndexName::ALL.into_iter().map(TreeId::Index))
            .chain(UniqueName::ALL.into_iter().map(TreeId::Unique))
            .chain([TreeId::Changes, TreeId::Meta])
    }

    /// The tree's name on disk.
    pub fn name(self) -> String {
        match self {
            TreeId::Entity(kind) => format!("rows/{}", kind.name()),
            TreeId::Index(index) => index.name().to_owned(),
            TreeId::Unique(unique) => format!("uniq/{}", unique.field()),
            TreeId::Changes => "changes".to_owned(),
            TreeId::Meta => "meta".to_owned(),
        }
    }
}

//! The engine crate's one error type. User errors (not found, conflict,
//! invalid) are kept apart from internal ones (storage, corruption) so that
//! the server can map each to its own status and code.

/// Everything the engine can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No row of this kind has this id.
    #[error("{entity} {id} not found")]
    NotFound {
        /// The entity's name, e.g. `booking`.
        entity: &'static str,
        /// The id asked for.
        id: u64,
    },
    /// A unique value is already taken by another row.
    #[error("{field} {value:?} is already taken")]
    Conflict {
        /// The unique field, e.g. `email`.
        field: &'static str,
        /// The value that clashed.
        value: String,
    },
    /// A value failed the domain's validation.
    #[error(transparent)]
    Model(#[from] droply_models::Error),
    /// The asked time is not open (taken, blocked, outside working hours or too soon).
    #[error("that time is not available")]
    SlotUnavailable,
    /// No valid bearer token: missing, unknown or expired.
    #[error("sign in first")]
    Unauthorized,
    /// The email and password do not match an account.
    #[error("email or password is wrong")]
    InvalidCredentials,
    /// Too many failed sign-ins for one email; try again later.
    #[error("too many failed attempts; try again in {retry_after_secs} seconds")]
    TooManyAttempts {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// The engine is too busy to do this now (e.g. every password-hashing
    /// permit is taken); try again shortly.
    #[error("the server is too busy ({what}); try again in {retry_after_secs} seconds")]
    Overloaded {
        /// What is saturated, e.g. `password hashing`.
        what: &'static str,
        /// Seconds after which trying again makes sense.
        retry_after_secs: u64,
    },
    /// The caller may see the row but not do this to it.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The row's state does not allow this (e.g. confirming a cancelled booking).
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// An idempotency key was sent again with a different request than the
    /// one it first came with.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The caller already holds as many rows of a kind as one may.
    #[error("limit reached: {0}")]
    LimitReached(String),
    /// The booker already holds as many bookings awaiting payment as the
    /// slot policy allows.
    #[error(
        "you already hold {max} bookings awaiting payment; pay for or cancel one before booking another"
    )]
    TooManyUnpaidBookings {
        /// The policy's `max_unpaid_holds`.
        max: u16,
    },
    /// A paid booking or a payout was asked of a service running without
    /// Stripe.
    #[error("payments are not configured on this server; only free sessions can be booked")]
    PaymentsNotConfigured,
    /// A webhook's `Stripe-Signature` is missing, malformed, stale or wrong.
    #[error("invalid webhook signature: {0}")]
    InvalidSignature(String),
    /// Stripe could not be reached or refused what we asked.
    #[error("payment provider: {0}")]
    PaymentProvider(String),
    /// A payout larger than what can be paid out now.
    #[error("the amount is more than the {available} available for payout")]
    InsufficientBalance {
        /// What can be paid out now.
        available: droply_models::Money,
    },
    /// The expert cannot be paid out yet (no connected account, or it is
    /// not enabled for payouts).
    #[error("payouts are not enabled: {0}")]
    PayoutsNotEnabled(String),
    /// Google Calendar is asked for on a server running without it.
    #[error("Google Calendar is not configured on this server")]
    CalendarNotConfigured,
    /// An OAuth callback's `state` is unknown, expired or already used, or
    /// Google refused its code.
    #[error("{0}")]
    InvalidOAuthState(String),
    /// Google could not be reached or refused what we asked.
    #[error("calendar provider: {0}")]
    CalendarProvider(String),
    /// An uploaded file is larger than its limit.
    #[error("the file is larger than the limit of {limit} bytes")]
    FileTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// An uploaded file's bytes are not of a type allowed here.
    #[error("{0}")]
    UnsupportedFile(String),
    /// The buyer already holds this content (or is paying for it).
    #[error("you already bought this content")]
    AlreadyPurchased,
    /// Content someone bought cannot be deleted (archive it instead).
    #[error("content that someone bought cannot be deleted; archive it instead")]
    ContentHasBuyers,
    /// The drop-in has as many participants as its host allows.
    #[error("this drop-in is full ({max} participants)")]
    DropinFull {
        /// The session's capacity.
        max: u32,
    },
    /// A meeting was asked of a booking that is not confirmed (its status).
    #[error("only a confirmed booking has a meeting (this one is {0})")]
    MeetingNeedsConfirmation(String),
    /// A meeting was asked outside its window (what the window is).
    #[error("the meeting is not open: {0}")]
    MeetingNotOpen(String),
    /// Daily.co could not be reached or refused what we asked.
    #[error("video provider: {0}")]
    VideoProvider(String),
    /// Something that needs Daily.co (a webhook, a recording link) was
    /// asked of a service running without it.
    #[error("video (Daily.co) is not configured on this server")]
    VideoNotConfigured,
    /// A request made no sense (bad reference, ...).
    #[error("invalid: {0}")]
    Invalid(String),
    /// A well-formed page cursor that another list returned (another
    /// person's, another role's or another kind's).
    #[error("cursor is not one this list returned")]
    InvalidCursor,
    /// A search filter cannot be parsed or names what cannot be filtered.
    #[error("{0}")]
    InvalidFilter(String),
    /// A search asks for facet counts of a field that has none.
    #[error("{0}")]
    InvalidFacets(String),
    /// Search is off on this engine, or its index is still being built.
    #[error("{0}")]
    SearchUnavailable(String),
    /// The engine cannot start with this configuration (e.g. a missing model).
    #[error("configuration: {0}")]
    Config(String),
    /// The store was written by a newer Droply and cannot be read safely.
    #[error("store schema {found} is newer than this build supports ({supported}); upgrade droply")]
    SchemaTooNew {
        /// The schema found on disk.
        found: u32,
        /// The newest schema this build knows.
        supported: u32,
    },
    /// Stored bytes could not be read back.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The underlying storage failed.
    #[error("storage: {0}")]
    Storage(String),
    /// A disk sync failed, so the store takes no more writes: what the
    /// failed sync held may not be on disk, and only a restart (which
    /// replays the store's log) tells. Reads still answer.
    #[error("the store takes no writes since a disk sync failed ({0}); restart droply")]
    WritesStopped(String),
    /// A file could not be read or written.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// True for errors caused by the caller's input rather than by the engine.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Error::NotFound { .. }
                | Error::Conflict { .. }
                | Error::SlotUnavailable
                | Error::Model(_)
                | Error::Invalid(_)
                | Error::InvalidCursor
                | Error::InvalidFilter(_)
                | Error::InvalidFacets(_)
                | Error::Unauthorized
                | Error::InvalidCredentials
                | Error::TooManyAttempts { .. }
                | Error::Forbidden(_)
                | Error::InvalidState(_)
                | Error::IdempotencyKeyReused
                | Error::LimitReached(_)
                | Error::TooManyUnpaidBookings { .. }
                | Error::InvalidSignature(_)
                | Error::InsufficientBalance { .. }
                | Error::PayoutsNotEnabled(_)
                | Error::FileTooLarge { .. }
                | Error::UnsupportedFile(_)
                | Error::AlreadyPurchased
                | Error::ContentHasBuyers
                | Error::DropinFull { .. }
                | Error::MeetingNeedsConfirmation(_)
                | Error::MeetingNotOpen(_)
                | Error::InvalidOAuthState(_)
        )
    }
}

impl From<postgres::Error> for Error {
    fn from(err: postgres::Error) -> Self {
        crate::store::postgres_error(&err)
    }
}

impl From<sled::Error> for Error {
    fn from(err: sled::Error) -> Self {
        match err {
            sled::Error::Io(io) => Error::Io(io),
            sled::Error::Corruption { .. } => Error::Corrupt(err.to_string()),
            other => Error::Storage(other.to_string()),
        }
    }
}

/// Result with the engine crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

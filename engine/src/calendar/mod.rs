//! Google Calendar sync: an expert connects their Google calendar (OAuth
//! 2.0 with a single-use state and PKCE), Droply keeps the tokens sealed
//! with AES-GCM in an engine-only record, reads the calendar's busy times
//! (FreeBusy, the next 90 days) into stored intervals that slots, bookings
//! and ranking subtract, and writes an event for every confirmed booking
//! (moved on reschedule, deleted on cancel) through a durable outbox
//! written with the booking change. Disconnecting revokes the grant at
//! Google through a pending revocation written with the disconnect and sent
//! again by the sync until Google takes it. Every call to Google happens
//! outside the store's write transactions.
//!
//! Parts: `config`, `crypto` (the key and sealed values), `oauth` (state,
//! PKCE, the consent URL), `connection`, `busy`, `outbox`, `revocation`
//! (grants still to be revoked), `google_client` (reqwest on its own
//! runtime) and `sync` (the use cases and one sync pass).

mod busy;
mod config;
mod connection;
mod crypto;
mod google_client;
mod oauth;
mod outbox;
mod revocation;
mod sync;

pub use busy::{BusySpan, BusyTimes, MAX_BUSY_INTERVALS, busy_in, busy_of};
pub use config::{
    CalendarConfig, GOOGLE_API_BASE, GOOGLE_AUTH_URL, GOOGLE_REVOKE_URL, GOOGLE_SCOPES,
    GOOGLE_TOKEN_URL, GoogleConfig,
};
pub use connection::{CalendarConnection, CalendarStatus, LinkState};
pub use crypto::{SecretKey, base64url};
pub use google_client::{GoogleError, GoogleFailure};
pub use oauth::{OAuthState, OAuthStateId, pkce_challenge};
pub use outbox::{CalendarEvent, CalendarOp, CalendarOpId, CalendarOpKind, has_event};
pub(crate) use outbox::{booking_changed, booking_rescheduled};
pub use revocation::{PendingRevocation, RevocationId};
pub use sync::{CalendarSync, SyncReport};

#[cfg(test)]
mod tests;

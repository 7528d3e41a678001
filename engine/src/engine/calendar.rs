//! The engine's Google Calendar use cases: the consent URL, the OAuth
//! callback, the owner's status, disconnecting, and one sync pass now (what
//! the background job runs every `calendar.sync_every`; tests call it so
//! they need not wait). The rules live in [`crate::calendar`].

use droply_models::{Timestamp, UserId};

use super::Engine;
use crate::Result;
use crate::calendar::{CalendarStatus, SyncReport};

impl Engine {
    /// Google's consent URL for expert `user` (a new single-use state with
    /// PKCE); `CalendarNotConfigured` without Google, `Forbidden` for
    /// non-experts.
    pub fn google_connect_url(&self, user: UserId) -> Result<String> {
        self.inner.calendar.connect_url(self.store(), user)
    }

    /// Google's redirect back with `code` and `state`, landing where
    /// `caller` is signed in (they must be the expert who asked): the
    /// connection is stored (tokens sealed); whose it is and its status.
    pub fn google_callback(
        &self,
        code: &str,
        state: &str,
        caller: UserId,
    ) -> Result<(UserId, CalendarStatus)> {
        self.inner
            .calendar
            .complete(self.store(), code, state, caller)
    }

    /// What `user` sees of their Google connection.
    pub fn google_status(&self, user: UserId) -> Result<CalendarStatus> {
        self.inner.calendar.status(self.store(), user)
    }

    /// Disconnects `user`'s Google calendar and revokes the grant: a
    /// revocation Google does not take now is kept (sealed) and sent again
    /// by the calendar sync; the disconnect succeeds all the same.
    pub fn google_disconnect(&self, user: UserId) -> Result<()> {
        self.inner.calendar.disconnect(self.store(), user)
    }

    /// One calendar sync pass now: tokens refreshed as needed, busy times
    /// read, the event outbox sent, pending revocations sent again.
    pub fn sync_calendars(&self) -> Result<SyncReport> {
        self.inner.calendar.sync_all(self.store(), Timestamp::now())
    }
}

//! `CalendarConnection`: one expert's link to their Google calendar
//! (engine-internal, keyed by the expert's user id, never on `User`): the
//! access and refresh tokens sealed with the service's key, when the access
//! token expires, whether the link works (`connected`) or Google refused
//! its refresh token (`broken`, until the owner connects again), and when
//! busy times were last read. Its `Debug` shows no token bytes.

use droply_models::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::store::{EntityKind, Record};

/// Whether a connection can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    /// The tokens work (as far as we know).
    Connected,
    /// Google refused the refresh token (`invalid_grant`): revoked, expired
    /// or the password changed. The owner must connect again.
    Broken,
}

/// One expert's Google calendar link; the row's id is the expert's id.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarConnection {
    /// The expert (and the row's key).
    pub user_id: UserId,
    /// Whether it works.
    pub state: LinkState,
    /// The access token, sealed ([`super::SecretKey::seal`]).
    pub access_token: Vec<u8>,
    /// The refresh token, sealed; `None` when Google gave none.
    pub refresh_token: Option<Vec<u8>>,
    /// When the access token stops working.
    pub access_expires_at: Timestamp,
    /// When the owner connected.
    pub connected_at: Timestamp,
    /// When busy times were last read.
    pub last_sync_at: Option<Timestamp>,
    /// Why it broke, in words (never a token).
    pub problem: Option<String>,
}

impl std::fmt::Debug for CalendarConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalendarConnection")
            .field("user_id", &self.user_id)
            .field("state", &self.state)
            .field("access_expires_at", &self.access_expires_at)
            .field("connected_at", &self.connected_at)
            .field("last_sync_at", &self.last_sync_at)
            .field("problem", &self.problem)
            .finish_non_exhaustive()
    }
}

/// What the associated data of a sealed token says: whose and which.
pub(crate) fn token_aad(user: UserId, which: &str) -> String {
    format!("droply:google:{}:{which}", user.get())
}

impl Record for CalendarConnection {
    type Id = UserId;
    const KIND: EntityKind = EntityKind::CalendarConnection;

    fn id(&self) -> UserId {
        self.user_id
    }
    fn set_id(&mut self, id: UserId) {
        self.user_id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn owner(&self) -> Option<u64> {
        Some(self.user_id.get())
    }
}

/// What the owner sees of their connection: never a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarStatus {
    /// `None` when nothing is connected.
    pub state: Option<LinkState>,
    /// When it was connected.
    pub connected_at: Option<Timestamp>,
    /// When busy times were last read.
    pub last_sync_at: Option<Timestamp>,
    /// Why it is broken.
    pub problem: Option<String>,
}

impl CalendarStatus {
    /// The status of `connection` (or of none).
    pub fn of(connection: Option<&CalendarConnection>) -> CalendarStatus {
        CalendarStatus {
            state: connection.map(|c| c.state),
            connected_at: connection.map(|c| c.connected_at),
            last_sync_at: connection.and_then(|c| c.last_sync_at),
            problem: connection.and_then(|c| c.problem.clone()),
        }
    }
}

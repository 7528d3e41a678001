//! What the owner sees of their Google Calendar connection: its state, when
//! it was connected and last synced, and why it broke; never a token.

use droply_engine::calendar::{CalendarStatus, LinkState};
use droply_models::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// The state of a calendar connection.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CalendarState {
    /// Nothing connected.
    None,
    /// Connected and working.
    Connected,
    /// Google refused the stored grant: connect again.
    Broken,
}

/// `GET /v1/calendar/google`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarStatusView {
    /// Always `google`.
    pub provider: &'static str,
    /// `none`, `connected` or `broken`.
    pub status: CalendarState,
    /// When it was connected.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub connected_at: Option<Timestamp>,
    /// When busy times were last read.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sync_at: Option<Timestamp>,
    /// Why it is broken, in words.
    pub problem: Option<String>,
}

impl From<&CalendarStatus> for CalendarStatusView {
    fn from(status: &CalendarStatus) -> Self {
        CalendarStatusView {
            provider: "google",
            status: match status.state {
                None => CalendarState::None,
                Some(LinkState::Connected) => CalendarState::Connected,
                Some(LinkState::Broken) => CalendarState::Broken,
            },
            connected_at: status.connected_at,
            last_sync_at: status.last_sync_at,
            problem: status.problem.clone(),
        }
    }
}

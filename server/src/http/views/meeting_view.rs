//! How a party joins a booking's call (`provider: daily` with the room URL
//! and their own meeting token, or `provider: webrtc` with the relay's
//! path), a booking's recordings, and a recording's download link. The
//! token and the link are never stored; their `Debug` hides them.

use droply_engine::video::{MeetingAccess, MeetingPath, Recording, RecordingLink};
use droply_models::Timestamp;
use secrecy::ExposeSecret;
use serde::Serialize;
use utoipa::ToSchema;

/// Which path a call takes.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MeetingProvider {
    /// A Daily.co room: join `room_url` with `token`.
    Daily,
    /// The WebRTC relay at `signal_url` (a WebSocket) between the two parties.
    Webrtc,
}

/// How the caller joins the call.
#[derive(Clone, Serialize, ToSchema)]
pub struct MeetingView {
    /// `daily` or `webrtc`.
    pub provider: MeetingProvider,
    /// The Daily room (with `daily`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_url: Option<String>,
    /// The caller's own Daily meeting token, fresh for this answer (with
    /// `daily`); the provider's owns the room.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The WebRTC relay's path, `/v1/bookings/{id}/signal` (with `webrtc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal_url: Option<String>,
    /// When the session starts (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// When it ends (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
}

impl std::fmt::Debug for MeetingView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeetingView")
            .field("provider", &self.provider)
            .field("room_url", &self.room_url)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("signal_url", &self.signal_url)
            .field("starts_at", &self.starts_at)
            .field("ends_at", &self.ends_at)
            .finish()
    }
}

impl From<&MeetingAccess> for MeetingView {
    fn from(access: &MeetingAccess) -> Self {
        let (provider, room_url, token, signal_url) = match &access.path {
            MeetingPath::Daily { room_url, token } => (
                MeetingProvider::Daily,
                Some(room_url.clone()),
                Some(token.expose_secret().to_owned()),
                None,
            ),
            MeetingPath::WebRtc { signal_url } => (
                MeetingProvider::Webrtc,
                None,
                None,
                Some(signal_url.clone()),
            ),
        };
        MeetingView {
            provider,
            room_url,
            token,
            signal_url,
            starts_at: access.starts_at,
            ends_at: access.ends_at,
        }
    }
}

/// One recording of the call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordingView {
    /// Daily's recording id (ask for its link with it).
    pub recording_id: String,
    /// When the recording started (RFC 3339), if Daily said.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    /// Its length in seconds, if Daily said.
    pub duration_secs: Option<u32>,
    /// When it was ready (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub ready_at: Timestamp,
}

impl From<&Recording> for RecordingView {
    fn from(r: &Recording) -> Self {
        RecordingView {
            recording_id: r.recording_id.clone(),
            started_at: r.started_at,
            duration_secs: r.duration_secs,
            ready_at: r.received_at,
        }
    }
}

/// A booking's recordings, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordingList {
    /// The recordings (at most 100).
    pub recordings: Vec<RecordingView>,
}

/// A short-lived download link (fetched from Daily now, never stored).
#[derive(Clone, Serialize, ToSchema)]
pub struct RecordingLinkView {
    /// The download link.
    pub url: String,
    /// When it stops working (RFC 3339), if Daily said.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for RecordingLinkView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingLinkView")
            .field("url", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl From<&RecordingLink> for RecordingLinkView {
    fn from(link: &RecordingLink) -> Self {
        RecordingLinkView {
            url: link.url.clone(),
            expires_at: link.expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use droply_engine::video::MeetingPath;
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn the_token_and_the_link_never_show_in_debug() {
        let now = Timestamp::now();
        let access = MeetingAccess {
            path: MeetingPath::Daily {
                room_url: "https://x.daily.co/r".to_owned(),
                token: SecretString::from("tok-secret-1".to_owned()),
            },
            starts_at: now,
            ends_at: now,
        };
        let view = MeetingView::from(&access);
        assert_eq!(view.token.as_deref(), Some("tok-secret-1"));
        for debug in [format!("{view:?}"), format!("{access:?}")] {
            assert!(!debug.contains("tok-secret-1"), "{debug}");
        }
        let link = RecordingLink {
            url: "https://rec.test/secret-link".to_owned(),
            expires_at: None,
        };
        let view = RecordingLinkView::from(&link);
        for debug in [format!("{view:?}"), format!("{link:?}")] {
            assert!(!debug.contains("secret-link"), "{debug}");
        }
    }
}

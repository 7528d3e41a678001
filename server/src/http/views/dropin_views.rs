//! Drop-ins as callers see them: a session (its code is how people join,
//! so it is shown), a participant (the one who joined, with their token
//! once), and a message with its author. An author carries a user id only
//! for a signed-in participant of a named session; in an anonymous session
//! nobody does, the host included.

use droply_engine::dropins::{Author, Joined, Posted, state_of};
use droply_models::{DropinSession, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

/// A drop-in session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DropinView {
    /// The session's id.
    pub id: u64,
    /// The expert who hosts it.
    pub host_id: u64,
    /// What it is about.
    pub topic: String,
    /// More detail.
    pub description: String,
    /// The code people join with.
    pub session_code: String,
    /// `upcoming`, `live` or `ended`.
    pub state: String,
    /// Whether people may join without signing in, and appear without names.
    pub is_anonymous: bool,
    /// Seats.
    pub max_participants: u32,
    /// Seats taken.
    pub current_participants: u32,
    /// When it starts or started (RFC 3339); none for one cancelled before it started.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    /// When it ended.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    /// Planned minutes; once ended, the minutes it ran.
    pub duration_minutes: u32,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&DropinSession> for DropinView {
    fn from(session: &DropinSession) -> Self {
        DropinView {
            id: session.id.get(),
            host_id: session.host_id.get(),
            topic: session.topic.clone(),
            description: session.description.clone(),
            session_code: session.session_code.as_str().to_owned(),
            state: state_of(session, Timestamp::now()).as_str().to_owned(),
            is_anonymous: session.is_anonymous,
            max_participants: session.max_participants,
            current_participants: session.current_participants,
            starts_at: session.started_at,
            ended_at: session.ended_at,
            duration_minutes: session.duration_minutes,
            created_at: session.created_at,
        }
    }
}

/// Who wrote a message, as the room sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorView {
    /// The participant (ids are per session).
    pub participant_id: u64,
    /// The name shown.
    pub display_name: String,
    /// `host` or `participant`.
    pub role: String,
    /// The user, only for a signed-in participant of a named session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
}

impl From<&Author> for AuthorView {
    fn from(author: &Author) -> Self {
        AuthorView {
            participant_id: author.participant_id.get(),
            display_name: author.display_name.clone(),
            role: author.role.as_str().to_owned(),
            user_id: author.user_id.map(|id| id.get()),
        }
    }
}

/// The answer to joining: the session, who the caller is in it, and the
/// token for its live room (shown once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JoinedView {
    /// The session.
    pub dropin: DropinView,
    /// The caller as the room sees them.
    pub participant: AuthorView,
    /// The participant token: `Authorization: Bearer` (or `?token=`) on
    /// `GET /v1/dropins/{id}/live`. Valid while the session is open.
    pub token: String,
    /// Where the live room is.
    pub live_url: String,
}

impl From<&Joined> for JoinedView {
    fn from(joined: &Joined) -> Self {
        JoinedView {
            dropin: DropinView::from(&joined.session),
            participant: AuthorView::from(&joined.author),
            token: joined.token.clone(),
            live_url: format!("/v1/dropins/{}/live", joined.session.id),
        }
    }
}

/// A message of a drop-in as delivered live (`kind: "message"`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    /// Always `message`.
    pub kind: &'static str,
    /// The message's id: messages arrive in id order.
    pub id: u64,
    /// `question`, `answer`, `comment`, `reaction` or `system`.
    #[serde(rename = "type")]
    pub message_type: String,
    /// The text; for a system notice the event (`joined`, `left`,
    /// `removed`, `ended`); empty once the host removed it.
    pub content: String,
    /// Who wrote it (for a system notice: whom it is about).
    pub author: AuthorView,
    /// The question an answer answers, the message a reaction or a removal concerns.
    pub reply_to: Option<u64>,
    /// Whether the host removed it.
    pub removed: bool,
    /// When it was sent.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&Posted> for MessageView {
    fn from(posted: &Posted) -> Self {
        let message = &posted.message;
        let removed = message.removed_at.is_some();
        MessageView {
            kind: "message",
            id: message.id.get(),
            message_type: message.message_type.as_str().to_owned(),
            content: if removed {
                String::new()
            } else {
                message.content.clone()
            },
            author: AuthorView::from(&posted.author),
            reply_to: message.reply_to.map(|id| id.get()),
            removed,
            created_at: message.created_at,
        }
    }
}

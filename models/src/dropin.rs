//! Drop-in Q&A sessions: a live session a host opens ([`DropinSession`]),
//! the people in it ([`DropinParticipant`]) and what they write
//! ([`DropinMessage`]).

use serde::{Deserialize, Serialize};

use crate::text::{self, BIO_MAX, DISPLAY_NAME_MAX, MESSAGE_MAX, TOPIC_MAX};
use crate::{
    DropinMessageId, DropinMessageType, DropinParticipantId, DropinSessionId, Error, Result,
    SessionCode, Timestamp, UserId,
};

/// A live Q&A session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropinSession {
    /// Primary key.
    pub id: DropinSessionId,
    /// Who runs it.
    pub host_id: UserId,
    /// Topic, 1–200 characters.
    pub topic: String,
    /// Description, at most 5000 characters.
    pub description: String,
    /// Capacity, 1–500.
    pub max_participants: u32,
    /// How many are in it now (at most `max_participants`).
    pub current_participants: u32,
    /// Whether it is open.
    pub is_active: bool,
    /// Whether participants appear without their names.
    pub is_anonymous: bool,
    /// The code people join with.
    pub session_code: SessionCode,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub ended_at: Option<Timestamp>,
    /// Planned length in minutes.
    pub duration_minutes: u32,
}

impl DropinSession {
    /// Largest allowed capacity.
    pub const MAX_CAPACITY: u32 = 500;

    /// Checks: text lengths, capacity 1–500, not over capacity, a positive
    /// planned length, and `ended_at` not before `started_at`.
    pub fn validate(&self) -> Result<()> {
        text::check_required("topic", &self.topic, TOPIC_MAX)?;
        text::check_max("description", &self.description, BIO_MAX)?;
        if !(1..=Self::MAX_CAPACITY).contains(&self.max_participants) {
            return Err(Error::invalid("max_participants", "must be 1 to 500"));
        }
        if self.current_participants > self.max_participants {
            return Err(Error::invalid(
                "current_participants",
                "must not exceed max_participants",
            ));
        }
        if self.duration_minutes == 0 {
            return Err(Error::invalid(
                "duration_minutes",
                "must be greater than zero",
            ));
        }
        if let (Some(started), Some(ended)) = (self.started_at, self.ended_at)
            && ended < started
        {
            return Err(Error::invalid("ended_at", "must not be before started_at"));
        }
        Ok(())
    }

    /// Whether another participant fits.
    pub fn has_room(&self) -> bool {
        self.current_participants < self.max_participants
    }
}

/// Someone in a drop-in session, signed in or anonymous.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropinParticipant {
    /// Primary key.
    pub id: DropinParticipantId,
    /// The session.
    pub session_id: DropinSessionId,
    /// The user; `None` for an anonymous guest.
    pub user_id: Option<UserId>,
    /// Name shown for an anonymous participant, 1–50 characters; required
    /// when `user_id` is `None`.
    pub anonymous_name: Option<String>,
    /// When they joined.
    pub joined_at: Timestamp,
    /// When they left.
    pub left_at: Option<Timestamp>,
    /// Whether they are still in the session.
    pub is_active: bool,
}

impl DropinParticipant {
    /// Checks: a guest has a name, names are 1–50 characters, `left_at` is
    /// not before `joined_at`, and an active participant has not left.
    pub fn validate(&self) -> Result<()> {
        if self.user_id.is_none() && self.anonymous_name.is_none() {
            return Err(Error::invalid("anonymous_name", "is required for a guest"));
        }
        text::check_optional_required(
            "anonymous_name",
            self.anonymous_name.as_deref(),
            DISPLAY_NAME_MAX,
        )?;
        if let Some(left) = self.left_at {
            if left < self.joined_at {
                return Err(Error::invalid("left_at", "must not be before joined_at"));
            }
            if self.is_active {
                return Err(Error::invalid(
                    "is_active",
                    "a participant who left is not active",
                ));
            }
        }
        Ok(())
    }
}

/// A message in a drop-in session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropinMessage {
    /// Primary key.
    pub id: DropinMessageId,
    /// The session.
    pub session_id: DropinSessionId,
    /// Who wrote it.
    pub participant_id: DropinParticipantId,
    /// Question, answer, comment, ...
    pub message_type: DropinMessageType,
    /// The text, 1–4000 characters.
    pub content: String,
    /// Whether it is shown without the author's name.
    pub is_anonymous: bool,
    /// When it was sent.
    pub created_at: Timestamp,
    /// The message this one answers or concerns: the question of an
    /// answer, the message a system notice of a removal names.
    #[serde(default)]
    pub reply_to: Option<DropinMessageId>,
    /// When the host removed it; a removed message's text is never shown.
    #[serde(default)]
    pub removed_at: Option<Timestamp>,
}

impl DropinMessage {
    /// Checks the text is 1–4000 characters.
    pub fn validate(&self) -> Result<()> {
        text::check_required("content", &self.content, MESSAGE_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> DropinSession {
        DropinSession {
            id: DropinSessionId::new(1),
            host_id: UserId::new(1),
            topic: "Ask me about Rust".into(),
            description: String::new(),
            max_participants: 2,
            current_participants: 2,
            is_active: true,
            is_anonymous: false,
            session_code: SessionCode::parse("Q7X9K2").expect("code"),
            created_at: Timestamp::now(),
            started_at: None,
            ended_at: None,
            duration_minutes: 30,
        }
    }

    #[test]
    fn session_rules() {
        let mut s = session();
        assert_eq!(s.validate(), Ok(()));
        assert!(!s.has_room());
        s.current_participants = 3;
        assert!(s.validate().is_err());
        let mut s = session();
        s.max_participants = 501;
        assert!(s.validate().is_err());
        s.max_participants = 0;
        assert!(s.validate().is_err());
    }

    #[test]
    fn participant_rules() {
        let now = Timestamp::now();
        let mut p = DropinParticipant {
            id: DropinParticipantId::new(1),
            session_id: DropinSessionId::new(1),
            user_id: None,
            anonymous_name: Some("Curious Cat".into()),
            joined_at: now,
            left_at: None,
            is_active: true,
        };
        assert_eq!(p.validate(), Ok(()));
        p.anonymous_name = None;
        assert!(p.validate().is_err());
        p.user_id = Some(UserId::new(5));
        assert_eq!(p.validate(), Ok(()));
        p.left_at = Some(now.plus_minutes(5));
        assert!(p.validate().is_err());
        p.is_active = false;
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn message_rules() {
        let mut m = DropinMessage {
            id: DropinMessageId::new(1),
            session_id: DropinSessionId::new(1),
            participant_id: DropinParticipantId::new(1),
            message_type: DropinMessageType::Question,
            content: "How do lifetimes work?".into(),
            is_anonymous: false,
            created_at: Timestamp::now(),
            reply_to: None,
            removed_at: None,
        };
        assert_eq!(m.validate(), Ok(()));
        m.content = "x".repeat(4001);
        assert!(m.validate().is_err());
    }
}

//! Who wrote a drop-in message, as everyone in the room may see it. In an
//! anonymous session nobody carries an identity: participants appear under
//! the name they chose (or a guest name) and the host as "Host"; an
//! anonymous guest is anonymous in any session. Only a signed-in
//! participant of a named session is shown with their user id and name.

use droply_models::{DropinParticipant, DropinParticipantId, DropinSession, User, UserId};

/// What a member is in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The expert who runs it.
    Host,
    /// Anyone who joined.
    Participant,
}

impl Role {
    /// The role's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Host => "host",
            Role::Participant => "participant",
        }
    }
}

/// The author of a message as shown to the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The participant (ids are per session, never a user's).
    pub participant_id: DropinParticipantId,
    /// The name shown.
    pub display_name: String,
    /// Host or participant.
    pub role: Role,
    /// The user, only for a signed-in participant of a named session.
    pub user_id: Option<UserId>,
}

/// The name shown for the host of an anonymous session (reserved: no one
/// joins under it).
pub(super) const HOST_NAME: &str = "Host";
/// The name shown when a guest gave none (never stored that way: joining
/// always stores a name for anyone who appears anonymously).
const GUEST_NAME: &str = "Guest";

/// Whether `participant` appears without identity in `session`.
pub(super) fn appears_anonymous(session: &DropinSession, participant: &DropinParticipant) -> bool {
    session.is_anonymous || participant.user_id.is_none()
}

/// How `participant` of `session` appears; `user` is the participant's
/// account when signed in (needed for a named session's display name).
pub(super) fn author_of(
    session: &DropinSession,
    participant: &DropinParticipant,
    user: Option<&User>,
) -> Author {
    let role = if participant.user_id == Some(session.host_id) {
        Role::Host
    } else {
        Role::Participant
    };
    if appears_anonymous(session, participant) {
        let display_name = match (role, &participant.anonymous_name) {
            (Role::Host, _) => HOST_NAME.to_owned(),
            (Role::Participant, Some(name)) => name.clone(),
            (Role::Participant, None) => GUEST_NAME.to_owned(),
        };
        return Author {
            participant_id: participant.id,
            display_name,
            role,
            user_id: None,
        };
    }
    Author {
        participant_id: participant.id,
        display_name: user.map_or_else(|| GUEST_NAME.to_owned(), |u| u.full_name.clone()),
        role,
        user_id: participant.user_id,
    }
}

#[cfg(test)]
mod tests {
    use droply_models::{DropinSessionId, SessionCode, Timestamp};

    use super::*;

    fn session(anonymous: bool) -> DropinSession {
        DropinSession {
            id: DropinSessionId::new(1),
            host_id: UserId::new(7),
            topic: "Ask me".into(),
            description: String::new(),
            max_participants: 10,
            current_participants: 0,
            is_active: true,
            is_anonymous: anonymous,
            session_code: SessionCode::parse("ABCDEFGH").expect("code"),
            created_at: Timestamp::now(),
            started_at: None,
            ended_at: None,
            duration_minutes: 30,
        }
    }

    fn participant(user: Option<u64>, name: Option<&str>) -> DropinParticipant {
        DropinParticipant {
            id: DropinParticipantId::new(3),
            session_id: DropinSessionId::new(1),
            user_id: user.map(UserId::new),
            anonymous_name: name.map(str::to_owned),
            joined_at: Timestamp::now(),
            left_at: None,
            is_active: true,
        }
    }

    #[test]
    fn an_anonymous_session_shows_no_identity_even_for_the_host() {
        let session = session(true);
        let host = author_of(&session, &participant(Some(7), None), None);
        assert_eq!((host.role, host.user_id), (Role::Host, None));
        assert_eq!(host.display_name, "Host");
        let signed_in = author_of(&session, &participant(Some(9), Some("Owl")), None);
        assert_eq!(signed_in.user_id, None);
        assert_eq!(signed_in.display_name, "Owl");
    }

    #[test]
    fn a_named_session_shows_signed_in_people_and_hides_guests() {
        let session = session(false);
        let guest = author_of(&session, &participant(None, Some("Fox")), None);
        assert_eq!((guest.user_id, guest.display_name.as_str()), (None, "Fox"));
        let named = author_of(&session, &participant(Some(9), None), None);
        assert_eq!(named.user_id, Some(UserId::new(9)));
    }
}

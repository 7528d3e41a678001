//! Joining a drop-in with its code. Signed-in people may always join an
//! open session of an expert (one whose host is no longer an expert is
//! refused as ended); anonymous guests only where the host allows it. Each
//! join hands out a random participant token, stored only as its hash; joining
//! again signed in keeps the same participant (a new token, no second seat)
//! and the name it first joined under. The pass of someone signed in names
//! the sign-in session they joined with, and opens nothing once it ended
//! (see `members`). Nobody may join as "Host" or
//! "Closed account" (the names the room shows for the host of an anonymous
//! session and for a closed account).
//! Capacity is checked and taken in the same write transaction, so two
//! people can never take the last seat together; a full room first takes
//! back the seats nobody held on to (see `seats`).

use droply_models::{
    DropinParticipant, DropinParticipantId, DropinSession, SessionCode, Timestamp, User, UserId,
    text,
};

use super::authors::{Author, HOST_NAME, author_of};
use super::hosting::{DropinState, state_of};
use super::pass::{DropinPass, DropinPassId};
use super::seats::{hold_seat, take_back_lapsed};
use crate::accounts::{AuthSession, AuthSessionId, token_hash};
use crate::codes::random_code;
use crate::store::{IndexName, Store, Txn, UniqueName};
use crate::{Error, Result};

/// Someone asking to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joining {
    /// The code they were given.
    pub code: String,
    /// Their account, when signed in.
    pub user: Option<UserId>,
    /// The name to appear under where they appear anonymously, 1–50 characters.
    pub display_name: Option<String>,
}

/// A successful join.
#[derive(Clone, PartialEq)]
pub struct Joined {
    /// The session.
    pub session: DropinSession,
    /// The participant row.
    pub participant: DropinParticipant,
    /// How the room sees them.
    pub author: Author,
    /// The participant token: shown once, stored only hashed.
    pub token: String,
}

impl std::fmt::Debug for Joined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Joined")
            .field("session", &self.session.id)
            .field("participant", &self.participant.id)
            .field("token", &"(redacted)")
            .finish()
    }
}

/// The session whose join code is `code`, in whatever state; `NotFound`
/// for a code no session has (or one that is not a code at all).
pub fn session_by_code(store: &Store, code: &str) -> Result<DropinSession> {
    let not_found = || Error::NotFound {
        entity: "drop-in",
        id: 0,
    };
    let code = SessionCode::parse(code).map_err(|_| not_found())?;
    store
        .dropin_sessions()
        .by_code(&code)?
        .ok_or_else(not_found)
}

/// Joins the session with `joining.code`. `NotFound` for a code no session
/// has; `InvalidState` once it ended (or its host is no longer an expert)
/// or for its host; `Unauthorized` for an anonymous guest where the host
/// asks people to sign in; `DropinFull` when every seat is taken.
///
/// The pass of someone signed in is tied to their newest live sign-in
/// session (the one a caller that just checked their token holds, unless
/// they signed in elsewhere since); [`join_dropin_as`] names it exactly.
pub fn join_dropin(store: &Store, joining: &Joining) -> Result<Joined> {
    join_dropin_as(store, joining, None)
}

/// [`join_dropin`] by a caller signed in with the sign-in session
/// `signed_in_with` (the one its request came with): the pass is tied to
/// it and lasts as long as it (`Unauthorized` when it is not a live sign-in
/// of `joining.user`). Without one the pass is tied to no sign-in.
pub fn join_dropin_as(
    store: &Store,
    joining: &Joining,
    signed_in_with: Option<AuthSessionId>,
) -> Result<Joined> {
    let code = SessionCode::parse(&joining.code)?;
    let display_name = match joining.display_name.as_deref().map(str::trim) {
        Some(name) => {
            text::check_required("display_name", name, text::DISPLAY_NAME_MAX)?;
            check_not_reserved(name)?;
            Some(name.to_owned())
        }
        None => None,
    };
    store.write(|txn| {
        let id = txn
            .lookup_unique(UniqueName::SessionCode, code.as_str().as_bytes())?
            .ok_or(Error::NotFound {
                entity: "drop-in",
                id: 0,
            })?;
        let mut session = txn.require::<DropinSession>(droply_models::DropinSessionId::new(id))?;
        let now = txn.now();
        if state_of(&session, now) == DropinState::Ended || !hosted_by_expert(txn, &session)? {
            return Err(Error::InvalidState("this drop-in has ended".to_owned()));
        }
        if joining.user == Some(session.host_id) {
            return Err(Error::InvalidState(
                "you host this drop-in; connect to it with your own sign-in".to_owned(),
            ));
        }
        if joining.user.is_none() && !session.is_anonymous {
            return Err(Error::Unauthorized);
        }
        let sign_in = match joining.user {
            Some(user) => sign_in_of(txn, user, signed_in_with, now)?,
            None => None,
        };
        let anonymous_name = (session.is_anonymous || joining.user.is_none())
            .then(|| display_name.clone().unwrap_or_else(guest_name));
        let participant = match returning(txn, &session, joining.user)? {
            // They keep the name they first joined under: the room shows
            // their past messages under it, and a new name must not rename
            // what others already read.
            Some(participant) => participant,
            None => {
                if !session.has_room() {
                    session = take_back_lapsed(txn, session, now)?;
                }
                if !session.has_room() {
                    return Err(Error::DropinFull {
                        max: session.max_participants,
                    });
                }
                session.current_participants += 1;
                session = txn.update(session)?;
                txn.create(DropinParticipant {
                    id: DropinParticipantId::new(0),
                    session_id: session.id,
                    user_id: joining.user,
                    anonymous_name,
                    joined_at: now,
                    left_at: None,
                    is_active: true,
                })?
            }
        };
        hold_seat(txn, session.id, participant.id, now)?;
        let token = issue_pass(txn, &session, &participant, sign_in, now)?;
        let user = match joining.user {
            Some(user) => txn.get::<droply_models::User>(user)?,
            None => None,
        };
        let author = author_of(&session, &participant, user.as_ref());
        Ok(Joined {
            session,
            participant,
            author,
            token,
        })
    })
}

/// Whether `session`'s host is still an expert. Ending a host's drop-ins
/// when they stop being one is the rule (`hosting`); one left open anyway
/// is as good as ended, as their profile and list of drop-ins are gone.
fn hosted_by_expert(txn: &Txn<'_>, session: &DropinSession) -> Result<bool> {
    Ok(txn
        .get::<droply_models::User>(session.host_id)?
        .is_some_and(|host| host.is_expert()))
}

/// The sign-in session `user` joins with, checked live at `now`: `given`
/// when the caller names one (`Unauthorized` unless it is a live sign-in of
/// `user`), else none.
fn sign_in_of(
    txn: &Txn<'_>,
    user: UserId,
    given: Option<AuthSessionId>,
    now: Timestamp,
) -> Result<Option<AuthSessionId>> {
    let Some(id) = given else {
        return Ok(None);
    };
    let stands = txn
        .get::<AuthSession>(id)?
        .is_some_and(|row| row.user_id == user && row.is_live(now));
    if stands {
        Ok(Some(id))
    } else {
        Err(Error::Unauthorized)
    }
}

/// The active participant `user` already is in `session`, if any. Only an
/// active row is a returning one (someone who left joins anew, with a seat
/// of their own), so the room's seated participants are read
/// (`IndexName::SeatedParticipants`: at most its capacity and the host),
/// not the user's rows in every drop-in they ever joined, which are never
/// deleted and grew each join's write with the user's history.
fn returning(
    txn: &Txn<'_>,
    session: &DropinSession,
    user: Option<UserId>,
) -> Result<Option<DropinParticipant>> {
    let Some(user) = user else {
        return Ok(None);
    };
    Ok(txn
        .list_index::<DropinParticipant>(IndexName::SeatedParticipants, &session.id.to_be_bytes())?
        .into_iter()
        .find(|p| p.is_active && p.session_id == session.id && p.user_id == Some(user)))
}

/// Stores the hash of a new random token for `participant`, tied to the
/// sign-in session `sign_in` they joined with, and returns the token.
fn issue_pass(
    txn: &mut Txn<'_>,
    session: &DropinSession,
    participant: &DropinParticipant,
    sign_in: Option<AuthSessionId>,
    now: Timestamp,
) -> Result<String> {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let token = hex::encode(bytes);
    txn.create(DropinPass {
        id: DropinPassId::new(0),
        session_id: session.id,
        participant_id: participant.id,
        token_hash: token_hash(&token),
        created_at: now,
        signed_in_with: sign_in,
    })?;
    Ok(token)
}

/// The names nobody may join under, compared trimmed and case-blind: the
/// host's name in an anonymous room, and the name of a closed account's
/// messages. Someone under either would pass as the host, or as nobody.
const RESERVED_NAMES: [&str; 2] = [HOST_NAME, User::CLOSED_NAME];

/// `Invalid` (`display_name`) when `name` is one of the [`RESERVED_NAMES`].
fn check_not_reserved(name: &str) -> Result<()> {
    let name = name.trim();
    match RESERVED_NAMES
        .iter()
        .find(|reserved| name.eq_ignore_ascii_case(reserved))
    {
        Some(reserved) => Err(droply_models::Error::invalid(
            "display_name",
            format!("\"{reserved}\" is reserved; choose another name"),
        )
        .into()),
        None => Ok(()),
    }
}

/// A name for a guest who gave none: "Guest" and four code characters.
fn guest_name() -> String {
    format!("Guest {}", random_code(4))
}

//! Who may hold a side of a booking's signal relay, checked when it opens
//! and again every [`RECHECK_EVERY`] while it is open: the credential that
//! opened it still names the same user ([`RelayProof`]: a sign-in token
//! still signs them in; a socket ticket's sign-in session still stands, so
//! signing out, signing out everywhere or closing the account ends it), and
//! the booking can still be joined by them (`Engine::signal_party`: they
//! are a party, it is confirmed, and now is within its window). A
//! cancelled or rescheduled booking (rescheduling cancels the old one), or
//! a credential gone, closes the connection at the next check
//! ([`Standing`]). The check reads the store every node shares, so it holds
//! whichever node the connection reached; what the credential is stays in
//! this node's memory, never in a log (`Debug` hides it).

use std::time::Duration;

use droply_engine::accounts::SocketTarget;
use droply_engine::booking::BookingRole;
use droply_engine::video::SignalParty;
use droply_engine::{Engine, Error};
use droply_models::{BookingId, Timestamp, UserId};

/// How often an open relay connection checks again that its party may
/// still hold it: one read of the booking and one of the sign-in session
/// each time, per connection.
pub const RECHECK_EVERY: Duration = Duration::from_secs(5);

/// How a party proved who they are when their side of the relay opened,
/// kept to prove it again.
#[derive(Clone, PartialEq, Eq)]
pub enum RelayProof {
    /// A sign-in token (the bearer header, or the call page's session
    /// cookie): it must still sign the same user in.
    Token(String),
    /// A socket ticket for the relay, redeemed at `at`. A ticket works for a
    /// minute, the connection for the whole session: it is proved again as
    /// of `at`, which still needs its sign-in session, while the ticket's
    /// own expiry is not held against it.
    Ticket {
        /// The ticket as sent.
        ticket: String,
        /// When it was redeemed.
        at: Timestamp,
    },
}

impl std::fmt::Debug for RelayProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RelayProof::Token(_) => "Token(..)",
            RelayProof::Ticket { .. } => "Ticket(..)",
        })
    }
}

impl RelayProof {
    /// The user the proof shows for booking `id`'s relay; `Unauthorized`
    /// when it shows nobody (signed out, expired, a ticket for another
    /// socket, tampered with, or of a session that ended).
    pub fn user(&self, engine: &Engine, id: BookingId) -> droply_engine::Result<UserId> {
        match self {
            RelayProof::Token(token) => engine.authenticate(token),
            RelayProof::Ticket { ticket, at } => {
                engine.redeem_socket_ticket_at(ticket, SocketTarget::SignalRelay(id), *at)
            }
        }
    }
}

/// One party of a booking's relay, as admitted.
#[derive(Debug, Clone)]
pub struct RelayParty {
    /// Who they are.
    pub user: UserId,
    /// Which side they hold.
    pub role: BookingRole,
    /// When the relay closes for them (the session's end).
    pub closes_at: Timestamp,
    /// How they proved who they are.
    pub proof: RelayProof,
}

/// Admits the caller proving who they are with `proof` to booking `id`'s
/// relay: the errors of [`RelayProof::user`] and `Engine::signal_party`
/// (`NotFound` for anyone but its parties, `MeetingNeedsConfirmation`,
/// `MeetingNotOpen`).
pub fn admit(
    engine: &Engine,
    id: BookingId,
    proof: RelayProof,
) -> droply_engine::Result<RelayParty> {
    let user = proof.user(engine, id)?;
    let party = engine.signal_party(id, user)?;
    Ok(RelayParty {
        user,
        role: party.role,
        closes_at: party.closes_at,
        proof,
    })
}

/// Where an admitted party stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// They may keep their side, which closes at `closes_at`.
    Joinable {
        /// When the relay closes for them (the booking's end, as stored now).
        closes_at: Timestamp,
    },
    /// The credential that opened the side names them no longer.
    SignedOut,
    /// The booking can no longer be joined by them: cancelled (or
    /// rescheduled), no longer confirmed, outside its window, or not theirs.
    NotJoinable,
}

/// Checks again, by the rule that admitted them ([`admit`]), whether
/// `party` may keep their side of booking `id`'s relay; an error only when
/// the store could not answer (the connection then stays until the next
/// check).
pub fn standing(
    engine: &Engine,
    id: BookingId,
    party: &RelayParty,
) -> droply_engine::Result<Standing> {
    let checked = party.proof.user(engine, id).and_then(|user| {
        if user == party.user {
            engine.signal_party(id, user)
        } else {
            Err(Error::Unauthorized)
        }
    });
    verdict(checked, party.role)
}

/// The standing that a check answering `checked` gives a party on the side
/// of `role`.
fn verdict(
    checked: droply_engine::Result<SignalParty>,
    role: BookingRole,
) -> droply_engine::Result<Standing> {
    match checked {
        Ok(party) if party.role == role => Ok(Standing::Joinable {
            closes_at: party.closes_at,
        }),
        Ok(_) => Ok(Standing::NotJoinable),
        Err(Error::Unauthorized) => Ok(Standing::SignedOut),
        Err(
            Error::NotFound { .. } | Error::MeetingNeedsConfirmation(_) | Error::MeetingNotOpen(_),
        ) => Ok(Standing::NotJoinable),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(role: BookingRole) -> droply_engine::Result<SignalParty> {
        Ok(SignalParty {
            role,
            closes_at: Timestamp::now().plus_minutes(30),
        })
    }

    #[test]
    fn a_confirmed_booking_in_its_window_keeps_its_party_until_its_end() {
        let checked = party(BookingRole::Client);
        let end = checked.as_ref().map(|p| p.closes_at).expect("party");
        assert_eq!(
            verdict(checked, BookingRole::Client).expect("standing"),
            Standing::Joinable { closes_at: end }
        );
    }

    /// Regression: the relay stayed open until the booking's end whatever
    /// happened meanwhile; a check that now refuses the party ends it.
    #[test]
    fn a_cancelled_moved_or_lost_booking_and_a_signed_out_party_lose_their_side() {
        let refusals = [
            (
                Error::MeetingNeedsConfirmation("cancelled".to_owned()),
                Standing::NotJoinable,
            ),
            (
                Error::MeetingNotOpen("the session ended".to_owned()),
                Standing::NotJoinable,
            ),
            (
                Error::NotFound {
                    entity: "booking",
                    id: 7,
                },
                Standing::NotJoinable,
            ),
            (Error::Unauthorized, Standing::SignedOut),
        ];
        for (refusal, expected) in refusals {
            let why = refusal.to_string();
            assert_eq!(
                verdict(Err(refusal), BookingRole::Provider).expect("standing"),
                expected,
                "{why}"
            );
        }
        assert_eq!(
            verdict(party(BookingRole::Client), BookingRole::Provider).expect("standing"),
            Standing::NotJoinable,
            "no longer on the side they hold"
        );
    }

    #[test]
    fn a_store_that_cannot_answer_closes_nothing() {
        assert!(verdict(Err(Error::Storage("down".to_owned())), BookingRole::Client).is_err());
    }

    #[test]
    fn a_proof_never_shows_its_secret() {
        let token = RelayProof::Token("sign-in-secret".to_owned());
        let ticket = RelayProof::Ticket {
            ticket: "signal.7.1.99.abcdef".to_owned(),
            at: Timestamp::now(),
        };
        assert_eq!(format!("{token:?}"), "Token(..)");
        assert_eq!(format!("{ticket:?}"), "Ticket(..)");
        let party = RelayParty {
            user: UserId::new(3),
            role: BookingRole::Client,
            closes_at: Timestamp::now(),
            proof: token,
        };
        assert!(!format!("{party:?}").contains("sign-in-secret"));
    }
}

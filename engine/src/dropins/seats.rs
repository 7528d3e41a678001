//! `DropinSeat`: how long a participant's seat is held (engine-internal,
//! one row per participant keyed by its id). Seats are counted by
//! presence, not by lifetime joins: a join holds its seat for
//! [`SEAT_GRACE`] to connect, a live connection keeps renewing it, and once
//! nobody has renewed it for that long the seat lapses. A join that finds
//! every seat taken first takes back the lapsed ones (their participants
//! leave), so guests who join and never come, or who went away, cannot
//! keep a room full.

use droply_models::{
    DropinParticipant, DropinParticipantId, DropinSession, DropinSessionId, Timestamp,
};
use serde::{Deserialize, Serialize};

use super::hosting::{DropinState, state_of};
use crate::Result;
use crate::store::{EntityKind, IndexName, Record, Store, Txn};

/// How long a seat is held without a renewal: after a join, to connect;
/// after a connection's last renewal, to come back.
pub const SEAT_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// How often a live connection renews its seat (well inside [`SEAT_GRACE`]).
pub const SEAT_RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(45);

/// A participant's seat lease; the row's id is the participant's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropinSeat {
    /// The participant (and the row's key).
    pub participant_id: DropinParticipantId,
    /// Their session.
    pub session_id: DropinSessionId,
    /// Until when the seat is theirs without a renewal.
    pub held_until: Timestamp,
}

impl Record for DropinSeat {
    type Id = DropinParticipantId;
    const KIND: EntityKind = EntityKind::DropinSeat;

    fn id(&self) -> DropinParticipantId {
        self.participant_id
    }
    fn set_id(&mut self, id: DropinParticipantId) {
        self.participant_id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Holds `participant`'s seat in `session` for [`SEAT_GRACE`] from `now`.
pub(crate) fn hold_seat(
    txn: &mut Txn<'_>,
    session: DropinSessionId,
    participant: DropinParticipantId,
    now: Timestamp,
) -> Result<()> {
    txn.put(DropinSeat {
        participant_id: participant,
        session_id: session,
        held_until: now.saturating_add(SEAT_GRACE),
    })
    .map(drop)
}

/// Whether `participant`'s seat lapsed at `now`: nobody renewed it within
/// [`SEAT_GRACE`] (one never held is counted from the join).
fn lapsed(txn: &Txn<'_>, participant: &DropinParticipant, now: Timestamp) -> Result<bool> {
    let held_until = match txn.get::<DropinSeat>(participant.id)? {
        Some(seat) => seat.held_until,
        None => participant.joined_at.saturating_add(SEAT_GRACE),
    };
    Ok(held_until <= now)
}

/// Takes back the lapsed seats of `session` (not the host's): their
/// participants leave. Answers the session with its count lowered.
pub(crate) fn take_back_lapsed(
    txn: &mut Txn<'_>,
    mut session: DropinSession,
    now: Timestamp,
) -> Result<DropinSession> {
    let participants = txn.list_index::<DropinParticipant>(
        IndexName::ParticipantsBySession,
        &session.id.to_be_bytes(),
    )?;
    let mut freed = 0_u32;
    for mut participant in participants {
        if !participant.is_active
            || participant.user_id == Some(session.host_id)
            || !lapsed(txn, &participant, now)?
        {
            continue;
        }
        participant.is_active = false;
        participant.left_at = Some(now.max(participant.joined_at));
        txn.update(participant)?;
        freed += 1;
    }
    if freed > 0 {
        session.current_participants = session.current_participants.saturating_sub(freed);
        session = txn.update(session)?;
    }
    Ok(session)
}

/// A live connection renews `participant`'s seat; false when their seat
/// was taken back. Once the session has ended there is nothing to hold and
/// nothing is lost: true (the end notice, broadcast or read back by the
/// connection's catch-up, closes it).
pub fn renew_seat(
    store: &Store,
    session: DropinSessionId,
    participant: DropinParticipantId,
) -> Result<bool> {
    store.write(|txn| {
        let now = txn.now();
        let row: DropinParticipant = txn.require(participant)?;
        if row.session_id != session {
            return Ok(false);
        }
        if !row.is_active {
            let session: DropinSession = txn.require(session)?;
            return Ok(state_of(&session, now) == DropinState::Ended);
        }
        hold_seat(txn, session, participant, now)?;
        Ok(true)
    })
}

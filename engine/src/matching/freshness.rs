//! Keeping cached expert stats honest: before each request the matcher reads the
//! store's change feed since the last one it saw and forgets the stats of every expert
//! a change touched (a booking or interaction names its expert, availability its owner,
//! a profile itself). A deleted row no longer says whose it was, so such a delete, or a
//! backlog too long to read, forgets everything. Favourites need no entry of their own:
//! saving and unsaving also record an interaction on the expert.

use std::collections::HashSet;

use droply_models::{
    AvailabilityException, AvailabilityRule, Booking, BookingId, InteractionId, UserId,
    UserInteraction,
};
use droply_models::{AvailabilityExceptionId, AvailabilityRuleId};

use crate::store::{ChangeOp, EntityKind};
use crate::{Result, Store};

/// The longest backlog read change by change; past it everything is forgotten.
const MAX_BACKLOG: usize = 10_000;

/// What to forget after some changes.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) enum Forget {
    /// Nothing changed that stats depend on.
    #[default]
    Nothing,
    /// The stats of these experts.
    Experts(HashSet<UserId>),
    /// Every cached stat.
    Everything,
}

/// The changes after `seen` up to the store's last one, as what to forget, and the
/// sequence number now seen.
pub(crate) fn changes_to_forget(store: &Store, seen: u64) -> Result<(Forget, u64)> {
    let last = store.last_seq();
    if last <= seen {
        return Ok((Forget::Nothing, seen));
    }
    if last - seen > MAX_BACKLOG as u64 {
        return Ok((Forget::Everything, last));
    }
    let mut experts = HashSet::new();
    let mut upto = seen;
    for change in store.changes_since(seen, MAX_BACKLOG)? {
        upto = change.seq;
        let relevant = matches!(
            change.kind,
            EntityKind::User
                | EntityKind::Booking
                | EntityKind::Interaction
                | EntityKind::AvailabilityRule
                | EntityKind::AvailabilityException
        );
        if !relevant {
            continue;
        }
        if change.op == ChangeOp::Delete && change.kind != EntityKind::User {
            return Ok((Forget::Everything, last));
        }
        let expert = match change.kind {
            EntityKind::User => Some(UserId::new(change.id)),
            EntityKind::Booking => store
                .get::<Booking>(BookingId::new(change.id))?
                .map(|b| b.provider_id),
            EntityKind::Interaction => store
                .get::<UserInteraction>(InteractionId::new(change.id))?
                .map(|i| i.target_user_id),
            EntityKind::AvailabilityRule => store
                .get::<AvailabilityRule>(AvailabilityRuleId::new(change.id))?
                .map(|r| r.user_id),
            EntityKind::AvailabilityException => store
                .get::<AvailabilityException>(AvailabilityExceptionId::new(change.id))?
                .map(|x| x.user_id),
            _ => None,
        };
        match expert {
            Some(expert) => {
                experts.insert(expert);
            }
            // Deleted since: its owner is unknown.
            None => return Ok((Forget::Everything, last)),
        }
    }
    let forget = if experts.is_empty() {
        Forget::Nothing
    } else {
        Forget::Experts(experts)
    };
    Ok((forget, upto))
}

//! Keeping cached expert stats honest: before each request the matcher reads the
//! store's change feed since the last one it saw and forgets the stats of every expert
//! a change touched (a booking names both its provider, whose track record and slots it
//! changes, and its booker, whose slots it blocks: an expert books others too; an
//! interaction names its expert, availability its owner, a profile itself, busy times
//! from an outside calendar their expert); a deleted row is named with its owner in the
//! feed, so deleting one's own availability rule forgets only one's own stats. A
//! deleted booking names its provider only (bookings are never deleted in service, only
//! moved through states), so its booker is unknown and it forgets everything, as do a
//! delete from before the feed named owners and a backlog too long to read. Favourites
//! need no entry of their own: saving and unsaving also record an interaction on the
//! expert.

use std::collections::{HashMap, HashSet};

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

impl Forget {
    /// Drops from `cache` the entries of experts this names.
    pub(crate) fn apply<V>(&self, cache: &mut HashMap<UserId, V>) {
        match self {
            Forget::Nothing => {}
            Forget::Experts(experts) => cache.retain(|id, _| !experts.contains(id)),
            Forget::Everything => cache.clear(),
        }
    }
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
                | EntityKind::BusyTimes
        );
        if !relevant {
            continue;
        }
        if change.op == ChangeOp::Delete && change.kind != EntityKind::User {
            match change.owner {
                // The feed names a booking's provider only: its booker is unknown.
                Some(_) if change.kind == EntityKind::Booking => {
                    return Ok((Forget::Everything, last));
                }
                Some(owner) => {
                    experts.insert(UserId::new(owner));
                    continue;
                }
                // Written before the feed named owners: whose it was is unknown.
                None => return Ok((Forget::Everything, last)),
            }
        }
        let expert = match change.kind {
            // Busy times are keyed by their expert's id.
            EntityKind::User | EntityKind::BusyTimes => Some(UserId::new(change.id)),
            EntityKind::Booking => match store.get::<Booking>(BookingId::new(change.id))? {
                Some(booking) => {
                    // The booker's own slots are blocked by it too (see `expert_calendar`).
                    experts.insert(booking.user_id);
                    Some(booking.provider_id)
                }
                None => None,
            },
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
        // None: deleted since, and the delete, later in this same read, names its owner.
        if let Some(expert) = expert {
            experts.insert(expert);
        }
    }
    let forget = if experts.is_empty() {
        Forget::Nothing
    } else {
        Forget::Experts(experts)
    };
    Ok((forget, upto))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rows::{monday_rule, user};

    #[test]
    fn deleting_ones_own_availability_rule_forgets_only_ones_own_stats() {
        let store = Store::open_temporary().expect("store");
        let ann = store
            .users()
            .create(user("ann", "Tax Advisor"))
            .expect("ann");
        store
            .users()
            .create(user("bob", "Tax Advisor"))
            .expect("bob");
        let rule = store
            .availability_rules()
            .create(monday_rule(ann.id))
            .expect("rule");
        let seen = store.last_seq();
        store.availability_rules().delete(rule.id).expect("delete");
        let (forget, upto) = changes_to_forget(&store, seen).expect("changes");
        assert_eq!(forget, Forget::Experts(HashSet::from([ann.id])));
        assert_eq!(upto, store.last_seq());
    }

    #[test]
    fn a_row_written_and_deleted_since_forgets_its_owner_only() {
        let store = Store::open_temporary().expect("store");
        let ann = store
            .users()
            .create(user("ann", "Tax Advisor"))
            .expect("ann");
        let seen = store.last_seq();
        let rule = store
            .availability_rules()
            .create(monday_rule(ann.id))
            .expect("rule");
        store.availability_rules().delete(rule.id).expect("delete");
        let (forget, _) = changes_to_forget(&store, seen).expect("changes");
        assert_eq!(forget, Forget::Experts(HashSet::from([ann.id])));
    }

    /// Regression: a booking forgot only its provider's stats, but it also blocks
    /// the booker's slots (an expert booking another), so the booker's cached
    /// earliest slot stayed stale.
    #[test]
    fn a_booking_forgets_its_providers_and_its_bookers_stats() {
        let store = Store::open_temporary().expect("store");
        let ann = store
            .users()
            .create(user("ann", "Tax Advisor"))
            .expect("ann");
        let bob = store
            .users()
            .create(user("bob", "Tax Advisor"))
            .expect("bob");
        let seen = store.last_seq();
        let made = store
            .bookings()
            .create(crate::test_rows::booking(ann.id, bob.id))
            .expect("booking");
        let (forget, upto) = changes_to_forget(&store, seen).expect("changes");
        assert_eq!(forget, Forget::Experts(HashSet::from([ann.id, bob.id])));
        let seen = upto;
        store
            .bookings()
            .modify(made.id, |booking| {
                booking.status = droply_models::BookingStatus::Cancelled;
                Ok(())
            })
            .expect("cancel");
        let (forget, upto) = changes_to_forget(&store, seen).expect("changes");
        assert_eq!(forget, Forget::Experts(HashSet::from([ann.id, bob.id])));
        // A delete names the provider only: whose slots it freed is unknown.
        let seen = upto;
        store
            .write(|txn| txn.delete::<Booking>(made.id))
            .expect("delete");
        let (forget, _) = changes_to_forget(&store, seen).expect("changes");
        assert_eq!(forget, Forget::Everything);
    }

    #[test]
    fn a_change_of_busy_times_forgets_its_experts_stats() {
        let store = Store::open_temporary().expect("store");
        let ann = store
            .users()
            .create(user("ann", "Tax Advisor"))
            .expect("ann");
        let seen = store.last_seq();
        let now = droply_models::Timestamp::now();
        store
            .write(|txn| {
                txn.put(crate::calendar::BusyTimes {
                    user_id: ann.id,
                    spans: vec![crate::calendar::BusySpan {
                        start: now.plus_days(1),
                        end: now.plus_days(1).plus_minutes(60),
                    }],
                    synced_at: now,
                })
            })
            .expect("busy");
        let (forget, upto) = changes_to_forget(&store, seen).expect("changes");
        assert_eq!(forget, Forget::Experts(HashSet::from([ann.id])));
        let seen = upto;
        store
            .write(|txn| txn.delete::<crate::calendar::BusyTimes>(ann.id))
            .expect("delete");
        let (forget, _) = changes_to_forget(&store, seen).expect("changes");
        assert_eq!(forget, Forget::Experts(HashSet::from([ann.id])));
    }
}

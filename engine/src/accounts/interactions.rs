//! Interactions a client records itself (`POST /v1/interactions`): only
//! [`CLIENT_INTERACTIONS`] (`view`, `click`, `share`, `message`). The engine
//! records the others itself, in the transaction of what they stand for:
//! `favorite` and `unfavorite` with the favorite, `book` with the booking,
//! `search_impression` with a stored match; so nobody can claim a booking or
//! an impression that did not happen.
//!
//! A client's repeat of the same interaction on the same profile within one
//! UTC day returns the day's first row and writes nothing: the ranking counts
//! each user once a day anyway (`matching::stats`), and this way a flood of
//! views neither grows the store nor pushes other people's interactions out
//! of the windows the ranking reads. Acting on one's own profile is recorded
//! but counted by nothing.

use droply_models::{
    Error as ModelError, InteractionType, Timestamp, User, UserId, UserInteraction,
};

use crate::store::PageRequest;
use crate::{Result, Store};

/// What a client may record through the API.
pub const CLIENT_INTERACTIONS: [InteractionType; 4] = [
    InteractionType::View,
    InteractionType::Click,
    InteractionType::Share,
    InteractionType::Message,
];

/// How many of the user's latest interactions a same-day repeat is looked
/// for in at most (past that, a new row is written; it still counts once).
const REPEAT_SCAN: usize = 1000;
/// Rows read per page while looking.
const REPEAT_PAGE: usize = 200;

/// Records that `user` did `kind` to `target`: `Invalid interaction_type`
/// for a kind only the engine records, `NotFound` for an unknown target.
/// The flag is false when the same interaction was already recorded today
/// (UTC) and that row is returned instead.
pub fn record_interaction(
    store: &Store,
    user: UserId,
    target: UserId,
    kind: InteractionType,
) -> Result<(UserInteraction, bool)> {
    if !CLIENT_INTERACTIONS.contains(&kind) {
        return Err(ModelError::invalid(
            "interaction_type",
            format!(
                "clients record only view, click, share or message; `{kind}` is recorded by \
                 Droply itself"
            ),
        )
        .into());
    }
    let now = Timestamp::now();
    if let Some(seen) = recorded_today(store, user, target, kind, now)? {
        return Ok((seen, false));
    }
    store.write(|txn| {
        txn.require::<User>(target)?;
        let row = txn.create(UserInteraction::new(user, target, kind, now))?;
        Ok((row, true))
    })
}

/// The row of `user` doing `kind` to `target` on `now`'s UTC day, if any,
/// among the user's latest [`REPEAT_SCAN`] interactions.
fn recorded_today(
    store: &Store,
    user: UserId,
    target: UserId,
    kind: InteractionType,
    now: Timestamp,
) -> Result<Option<UserInteraction>> {
    let today = now.utc_day();
    let mut request = PageRequest::first(REPEAT_PAGE).desc();
    let mut read = 0;
    loop {
        let page = store.interactions().by_user(user, &request)?;
        for row in page.items {
            read += 1;
            if row.created_at.utc_day() < today {
                return Ok(None);
            }
            if row.target_user_id == target
                && row.interaction_type == kind
                && row.created_at.utc_day() == today
            {
                return Ok(Some(row));
            }
        }
        match page.next {
            Some(cursor) if read < REPEAT_SCAN => {
                request = PageRequest::first(REPEAT_PAGE).desc().after(Some(cursor));
            }
            _ => return Ok(None),
        }
    }
}

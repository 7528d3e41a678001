//! Interactions a client records itself (`POST /v1/interactions`): only
//! [`CLIENT_INTERACTIONS`] (`view`, `click`, `share`, `message`). The engine
//! records the others itself, in the transaction of what they stand for:
//! `favorite` and `unfavorite` with the favorite, `book` with the booking,
//! `search_impression` with a stored match; so nobody can claim a booking or
//! an impression that did not happen.
//!
//! A user's repeat of the same interaction on the same profile within one
//! UTC day returns the day's first row and writes nothing (the ranking
//! counts each user once a day anyway, `matching::stats`), and one user's
//! actions write at most [`DAILY_INTERACTIONS`] interactions a UTC day
//! (past that a client's is refused `LimitReached` and a match's impression
//! is not written; nor is a favorite's or an unfavorite's, while the save
//! itself is kept). Both are checked on the user's rows of the day, read
//! inside the writing transaction: so a flood of views or stored matches
//! neither grows the store nor pushes other people's interactions out of
//! the windows the ranking reads (a booking's `book` too, so a loop of
//! booking and cancelling writes one a day). Acting on one's own profile is
//! recorded but counted by nothing.

use droply_models::{
    Error as ModelError, InteractionType, Timestamp, User, UserId, UserInteraction,
};

use crate::store::{IndexName, KeyBuilder, Txn};
use crate::{Error, Result, Store};

/// What a client may record through the API.
pub const CLIENT_INTERACTIONS: [InteractionType; 4] = [
    InteractionType::View,
    InteractionType::Click,
    InteractionType::Share,
    InteractionType::Message,
];

/// The most interactions one user's own actions (client interactions and
/// the impressions of their stored matches) write in a UTC day.
pub const DAILY_INTERACTIONS: usize = 500;

/// Records that `user` did `kind` to `target`: `Invalid interaction_type`
/// for a kind only the engine records, `NotFound` for a target who is not
/// an expert, `LimitReached` past [`DAILY_INTERACTIONS`] today. The flag is
/// false when the same interaction was already recorded today (UTC) and
/// that row is returned instead.
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
    store.write(|txn| {
        // Only an expert has a profile to act on; anyone else is unknown here.
        txn.get::<User>(target)?
            .filter(User::is_expert)
            .ok_or(Error::NotFound {
                entity: "expert",
                id: target.get(),
            })?;
        let now = txn.now();
        let today = interactions_today(txn, user, now)?;
        if let Some(seen) = today
            .iter()
            .find(|row| row.target_user_id == target && row.interaction_type == kind)
        {
            return Ok((seen.clone(), false));
        }
        if today.len() >= DAILY_INTERACTIONS {
            return Err(Error::LimitReached(format!(
                "at most {DAILY_INTERACTIONS} interactions are recorded a day"
            )));
        }
        let row = txn.create(UserInteraction::new(user, target, kind, now))?;
        Ok((row, true))
    })
}

/// Records an interaction the engine writes with what it stands for (a
/// favorite, an unfavorite), under a client's bounds: not when `user`
/// recorded the same one on `target` today, nor past
/// [`DAILY_INTERACTIONS`] today. Whether it was written. (Saving and
/// forgetting an expert in a loop would otherwise write without bound and
/// push everyone else's interactions out of the ranking's windows.)
pub(crate) fn record_within_bounds(
    txn: &mut Txn<'_>,
    user: UserId,
    target: UserId,
    kind: InteractionType,
) -> Result<bool> {
    let now = txn.now();
    let today = interactions_today(txn, user, now)?;
    let seen = today
        .iter()
        .any(|row| row.target_user_id == target && row.interaction_type == kind);
    if seen || today.len() >= DAILY_INTERACTIONS {
        return Ok(false);
    }
    txn.create(UserInteraction::new(user, target, kind, now))?;
    Ok(true)
}

/// `user`'s interactions of `now`'s UTC day, in time order, as seen
/// inside `txn` (a key range of their index: at most a day's bounded rows).
pub(crate) fn interactions_today(
    txn: &Txn<'_>,
    user: UserId,
    now: Timestamp,
) -> Result<Vec<UserInteraction>> {
    let (start, end) = utc_day_bounds(now)?;
    let lower = KeyBuilder::new().u64(user.get()).time(start).build();
    let upper = KeyBuilder::new().u64(user.get()).time(end).build();
    txn.list_index_range(IndexName::InteractionsByUser, &lower, &upper)
}

/// The first instant of `now`'s UTC day and of the next.
pub(crate) fn utc_day_bounds(now: Timestamp) -> Result<(Timestamp, Timestamp)> {
    let start = now.utc_day().saturating_mul(Timestamp::DAY_MICROS);
    Ok((
        Timestamp::from_micros(start)?,
        Timestamp::from_micros(start.saturating_add(Timestamp::DAY_MICROS))?,
    ))
}

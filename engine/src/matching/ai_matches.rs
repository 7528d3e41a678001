//! Stored matches: a signed-in match request keeps one [`AiMatch`] row per returned
//! expert (query, score, structured reasons), with a `search_impression`
//! interaction on the expert (what click-through is measured against) the first
//! time that day the user is shown them, in one transaction. A user stores at most
//! [`DAILY_MATCHES`] matches a UTC day, and their impressions count towards the
//! interactions' daily bound (`accounts::interactions`), so repeating match
//! requests can neither grow the store without end nor push other people's
//! interactions out of the windows the ranking reads. Marking a match viewed
//! or acted upon is the owner's alone and is recorded as a `view` or `click` interaction
//! on the expert in the same transaction, so it feeds the popularity signal.

use std::collections::HashSet;

use droply_models::{AiMatch, AiMatchId, InteractionType, Timestamp, UserId, UserInteraction};

use super::ranker::RankedExpert;
use crate::accounts::interactions::{DAILY_INTERACTIONS, interactions_today, utc_day_bounds};
use crate::store::{IndexName, KeyBuilder};
use crate::{Error, Result, Store};

/// The most matches one user stores in a UTC day.
pub const DAILY_MATCHES: usize = 500;

/// Stores a match row for each of `hits` found for `viewer`'s `query`;
/// `LimitReached` when that would pass [`DAILY_MATCHES`] today.
pub fn record_matches(
    store: &Store,
    viewer: UserId,
    query: &str,
    hits: &[RankedExpert],
) -> Result<Vec<AiMatch>> {
    let query = if query.trim().is_empty() {
        "(browse)".to_owned()
    } else {
        query.trim().to_owned()
    };
    store.write(|txn| {
        let now = txn.now();
        let (start, end) = utc_day_bounds(now)?;
        let stored_today = txn.count_index_range(
            IndexName::MatchesByUser,
            &KeyBuilder::new().u64(viewer.get()).time(start).build(),
            &KeyBuilder::new().u64(viewer.get()).time(end).build(),
        )?;
        if stored_today + hits.len() > DAILY_MATCHES {
            return Err(Error::LimitReached(format!(
                "at most {DAILY_MATCHES} matches are stored a day; search without storing instead"
            )));
        }
        let today = interactions_today(txn, viewer, now)?;
        let mut written = today.len();
        let mut shown: HashSet<UserId> = today
            .iter()
            .filter(|row| row.interaction_type == InteractionType::SearchImpression)
            .map(|row| row.target_user_id)
            .collect();
        let mut rows = Vec::with_capacity(hits.len());
        for hit in hits {
            if written < DAILY_INTERACTIONS && shown.insert(hit.expert.id) {
                txn.create(UserInteraction::new(
                    viewer,
                    hit.expert.id,
                    InteractionType::SearchImpression,
                    now,
                ))?;
                written += 1;
            }
            rows.push(txn.create(AiMatch {
                id: AiMatchId::new(0),
                user_id: viewer,
                matched_user_id: hit.expert.id,
                query: query.clone(),
                match_score: hit.match_score,
                match_reasons: hit.reasons.clone(),
                created_at: now,
                is_viewed: false,
                is_acted_upon: false,
            })?);
        }
        Ok(rows)
    })
}

/// What the owner did with a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchFeedback {
    /// Opened the matched profile.
    Viewed,
    /// Acted on it (contacted, booked, ...); implies viewed.
    Acted,
}

/// Records `feedback` on match `id` for `viewer`; another user's match is `NotFound`.
/// Idempotent: repeating it changes nothing and records no second interaction.
pub fn record_feedback(
    store: &Store,
    viewer: UserId,
    id: AiMatchId,
    feedback: MatchFeedback,
) -> Result<AiMatch> {
    let now = Timestamp::now();
    store.write(|txn| {
        let mut row = txn
            .get::<AiMatch>(id)?
            .filter(|m| m.user_id == viewer)
            .ok_or(Error::NotFound {
                entity: "match",
                id: id.get(),
            })?;
        let already = match feedback {
            MatchFeedback::Viewed => row.is_viewed,
            MatchFeedback::Acted => row.is_acted_upon,
        };
        if already {
            return Ok(row);
        }
        row.is_viewed = true;
        if feedback == MatchFeedback::Acted {
            row.is_acted_upon = true;
        }
        let kind = match feedback {
            MatchFeedback::Viewed => InteractionType::View,
            MatchFeedback::Acted => InteractionType::Click,
        };
        txn.create(UserInteraction::new(viewer, row.matched_user_id, kind, now))?;
        txn.update(row)
    })
}

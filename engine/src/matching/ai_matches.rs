//! Stored matches: a signed-in match request keeps one [`AiMatch`] row per returned
//! expert (query, score, structured reasons), with a `search_impression`
//! interaction on the expert (what click-through is measured against) the first
//! time that day the user is shown them, in one transaction. A user stores at most
//! [`DAILY_MATCHES`] matches a UTC day, and their impressions count towards the
//! interactions' daily bound (`accounts::interactions`), so repeating match
//! requests can neither grow the store without end nor push other people's
//! interactions out of the windows the ranking reads. Marking a match viewed
//! or acted upon is the owner's alone and is recorded as a `view` or `click` interaction
//! on the expert in the same transaction, so it feeds the popularity signal; that
//! interaction keeps a client's bounds (once a day per expert, within the daily
//! bound) and is written only while the matched user is still an expert, while
//! the match's flag is kept regardless.

use std::collections::HashSet;

use droply_models::{AiMatch, AiMatchId, InteractionType, User, UserId, UserInteraction};

use super::ranker::RankedExpert;
use crate::accounts::interactions::{
    DAILY_INTERACTIONS, interactions_today, record_within_bounds, utc_day_bounds,
};
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
/// The `view` / `click` interaction is written as a client's would be: not
/// when `viewer` recorded the same one on the expert today (another match
/// of them, or the client itself), nor past [`DAILY_INTERACTIONS`] today,
/// nor on a matched user who is no longer an expert (closed, or their
/// profession cleared); the match's flag is set all the same.
pub fn record_feedback(
    store: &Store,
    viewer: UserId,
    id: AiMatchId,
    feedback: MatchFeedback,
) -> Result<AiMatch> {
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
        // Under a client's bounds: once a day per expert, within the day's
        // cap (past it the flag is still kept; only the interaction is not).
        // Only on an expert, as `record_interaction` asks: one who closed their
        // account or cleared their profession since gets no fresh activity.
        let still_expert = txn
            .get::<User>(row.matched_user_id)?
            .is_some_and(|matched| matched.is_expert());
        if still_expert {
            record_within_bounds(txn, viewer, row.matched_user_id, kind)?;
        }
        txn.update(row)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PageRequest;
    use crate::test_rows::{ann_and_bob, user};

    /// A store where bob, a client, holds `count` stored matches of ann, an
    /// expert: the store, bob, ann and the matches.
    fn matches_of_ann(count: usize) -> (Store, UserId, UserId, Vec<AiMatch>) {
        let (store, ann, bob) = ann_and_bob();
        let rows = store
            .write(|txn| {
                let now = txn.now();
                (0..count)
                    .map(|_| {
                        txn.create(AiMatch {
                            id: AiMatchId::new(0),
                            user_id: bob.id,
                            matched_user_id: ann.id,
                            query: "tax".to_owned(),
                            match_score: 0.5,
                            match_reasons: Vec::new(),
                            created_at: now,
                            is_viewed: false,
                            is_acted_upon: false,
                        })
                    })
                    .collect::<Result<Vec<AiMatch>>>()
            })
            .expect("matches");
        (store, bob.id, ann.id, rows)
    }

    /// The kinds of the interactions on `expert`, oldest first.
    fn kinds_on(store: &Store, expert: UserId) -> Vec<InteractionType> {
        store
            .interactions()
            .by_target(expert, &PageRequest::first(50))
            .expect("interactions")
            .items
            .iter()
            .map(|row| row.interaction_type)
            .collect()
    }

    /// Regression: each match's feedback wrote its interaction whatever the
    /// day held, so two matches of one expert viewed and acted upon in one
    /// day recorded two views and two clicks.
    #[test]
    fn two_matches_of_one_expert_viewed_and_acted_upon_in_a_day_record_each_interaction_once() {
        let (store, bob, ann, rows) = matches_of_ann(2);
        for row in &rows {
            for feedback in [MatchFeedback::Viewed, MatchFeedback::Acted] {
                let marked = record_feedback(&store, bob, row.id, feedback).expect("feedback");
                assert!(marked.is_viewed);
            }
        }
        assert_eq!(
            kinds_on(&store, ann),
            [InteractionType::View, InteractionType::Click],
            "once a day per expert"
        );
        for row in &rows {
            let stored = store.ai_matches().get(row.id).expect("row");
            assert!(
                stored.is_viewed && stored.is_acted_upon,
                "each match marked"
            );
        }
    }

    /// Regression: feedback wrote its interaction past the account's daily
    /// bound of interactions.
    #[test]
    fn at_the_daily_bound_a_match_is_still_marked_viewed_but_adds_no_interaction() {
        let (store, bob, ann, rows) = matches_of_ann(1);
        store
            .write(|txn| {
                let other = txn.create(user("olga", "Data Engineer"))?;
                let now = txn.now();
                for _ in 0..DAILY_INTERACTIONS {
                    txn.create(UserInteraction::new(
                        bob,
                        other.id,
                        InteractionType::View,
                        now,
                    ))?;
                }
                Ok(())
            })
            .expect("a full day of interactions");
        let viewed =
            record_feedback(&store, bob, rows[0].id, MatchFeedback::Viewed).expect("viewed");
        assert!(viewed.is_viewed);
        assert!(store.ai_matches().get(rows[0].id).expect("row").is_viewed);
        assert_eq!(store.count::<UserInteraction>(), DAILY_INTERACTIONS);
        assert!(kinds_on(&store, ann).is_empty());
    }

    /// Regression: feedback on a match of an expert who has since cleared
    /// their profession (or closed their account) wrote fresh activity
    /// about them, which a client's own interaction may not.
    #[test]
    fn feedback_on_a_match_of_an_ex_expert_marks_it_and_records_no_interaction() {
        let (store, bob, ann, rows) = matches_of_ann(1);
        store
            .users()
            .modify(ann, |row| {
                row.profession = String::new();
                Ok(())
            })
            .expect("ann is no longer an expert");
        let acted = record_feedback(&store, bob, rows[0].id, MatchFeedback::Acted).expect("acted");
        assert!(acted.is_viewed && acted.is_acted_upon);
        let stored = store.ai_matches().get(rows[0].id).expect("row");
        assert!(stored.is_viewed && stored.is_acted_upon, "the match marked");
        assert!(kinds_on(&store, ann).is_empty(), "no activity about ann");
        assert_eq!(store.count::<UserInteraction>(), 0);
    }
}

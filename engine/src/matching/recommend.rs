//! Recommendations without a query: **similar** to an expert (nearest profile vectors,
//! re-ranked by quality), **trending** (engagement in the last week, decayed, each user
//! counted once a day per kind of interaction; the last month or quarter when the week
//! was quiet), and **for
//! you** (nearest to the viewer's saved, booked and viewed experts, plus what people
//! who saved the same experts saved; trending when there is no history yet). Experts
//! the viewer already saved, however long ago, are left out of "for you" (the viewer's
//! context holds their newest saves only, so the others are looked up per candidate:
//! `ViewerContext::has_saved`).

use std::collections::{HashMap, HashSet};
use std::sync::PoisonError;
use std::time::Instant;

use droply_models::{UserId, UserInteraction};

use super::fusion::{FusedHit, Fusion, fuse};
use super::ranker::{Context, Matcher, RankedExpert};
use super::signals::{Contribution, Signal};
use super::stats::{Counted, age_in_days, interest_weight};
use super::viewer::ViewerContext;
use crate::store::{Cursor, PageRequest};
use crate::{Error, Result};

/// Candidates considered per recommendation list.
const CANDIDATES: usize = 200;
/// Trending looks back this many days, widening while fewer than
/// [`TRENDING_ENOUGH`] experts had engagement.
const TRENDING_WINDOWS_DAYS: [i64; 3] = [7, 30, 90];
/// Engagement halves every this many days.
const TRENDING_HALF_LIFE_DAYS: f32 = 3.5;
/// Experts with engagement that make a window worth showing.
const TRENDING_ENOUGH: usize = 10;
/// Interactions read for trending at most.
const TRENDING_SCAN: usize = 50_000;
/// How long a trending list is reused, in seconds.
const TRENDING_TTL_SECS: u64 = 60;
/// The most recommendations per request.
pub const MAX_RECOMMENDATIONS: usize = 50;

impl Matcher {
    /// Experts like `expert`: its nearest profile vectors, re-ranked by quality.
    pub fn similar(
        &self,
        expert: UserId,
        limit: usize,
        viewer: Option<UserId>,
    ) -> Result<Vec<RankedExpert>> {
        let limit = check_limit(limit)?;
        let source = self
            .store()
            .users()
            .find(expert)?
            .filter(|user| user.is_expert())
            .ok_or(Error::NotFound {
                entity: "expert",
                id: expert.get(),
            })?;
        let Some(vector) = self.index().expert_vector(source.id) else {
            return Ok(Vec::new()); // not indexed yet
        };
        let neighbours: Vec<(UserId, f32)> = self
            .index()
            .vector_search(&vector, &Default::default(), CANDIDATES + 1)?
            .into_iter()
            .filter(|(id, _)| *id != source.id)
            .collect();
        let fused = fuse(&[], &neighbours, 1.0, Fusion::Normalized);
        let viewer_context = self.viewer_context(viewer)?;
        self.rank_list(fused, limit, &viewer_context, Signal::Similar)
    }

    /// Experts with the most engagement in the last week.
    pub fn trending(&self, limit: usize, viewer: Option<UserId>) -> Result<Vec<RankedExpert>> {
        let limit = check_limit(limit)?;
        let scores = self.trending_scores()?;
        let fused = fuse(&scores, &[], 0.0, Fusion::Normalized);
        let viewer_context = self.viewer_context(viewer)?;
        self.rank_list(fused, limit, &viewer_context, Signal::Trending)
    }

    /// Recommendations for `viewer` from their history; trending without one.
    pub fn for_you(&self, viewer: UserId, limit: usize) -> Result<Vec<RankedExpert>> {
        let limit = check_limit(limit)?;
        let context = ViewerContext::load(self.store(), self.index(), viewer)?;
        if context.seeds.is_empty() && context.co_saved.is_empty() {
            return self.trending(limit, Some(viewer));
        }
        let mut near: HashMap<UserId, f32> = HashMap::new();
        for seed in &context.seeds {
            let hits = self.index().vector_search(
                &seed.vector,
                &Default::default(),
                CANDIDATES / context.seeds.len().clamp(1, 4),
            )?;
            for (id, cosine) in hits {
                let score = cosine * seed.kind.strength();
                let entry = near.entry(id).or_insert(score);
                *entry = entry.max(score);
            }
        }
        let mut vector_list: Vec<(UserId, f32)> = near.into_iter().collect();
        vector_list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let vector_list = self.not_saved(&context, vector_list)?;
        let mut co_list: Vec<(UserId, f32)> = context
            .co_saved
            .iter()
            .map(|(id, n)| (*id, *n as f32))
            .collect();
        co_list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        co_list.truncate(CANDIDATES);
        let co_list = self.not_saved(&context, co_list)?;
        let fused = fuse(&co_list, &vector_list, 0.7, Fusion::Rrf { k: 60.0 });
        self.rank_list(fused, limit, &context, Signal::ForYou)
    }

    /// `candidates` (in order) without the experts the viewer saved.
    fn not_saved(
        &self,
        context: &ViewerContext,
        candidates: Vec<(UserId, f32)>,
    ) -> Result<Vec<(UserId, f32)>> {
        let mut kept = Vec::with_capacity(candidates.len());
        for (id, score) in candidates {
            if !context.has_saved(self.store(), id)? {
                kept.push((id, score));
            }
        }
        Ok(kept)
    }

    fn viewer_context(&self, viewer: Option<UserId>) -> Result<ViewerContext> {
        Ok(match viewer {
            Some(viewer) => ViewerContext {
                viewer: Some(viewer),
                timezone: self.store().users().find(viewer)?.map(|u| u.timezone),
                ..ViewerContext::anonymous()
            },
            None => ViewerContext::anonymous(),
        })
    }

    /// Re-ranks a candidate list with every signal and explains the top `limit`.
    /// The candidates' relevance is credited to `source` (why they are on the list).
    fn rank_list(
        &self,
        fused: Vec<FusedHit<UserId>>,
        limit: usize,
        viewer: &ViewerContext,
        source: Signal,
    ) -> Result<Vec<RankedExpert>> {
        self.forget_changed()?;
        let context = Context {
            query_terms: HashSet::new(),
            viewer,
            budget: None,
            rerank: true,
            now: self.now(),
        };
        let mut ranked = self.rank(fused, limit * 3, &context, &Default::default())?;
        ranked.truncate(limit);
        for hit in &mut ranked {
            credit_relevance(&mut hit.contributions, source);
        }
        self.explain(&mut ranked, viewer.timezone);
        Ok(ranked)
    }

    /// Engagement per expert over the last week, decayed by age, best first.
    fn trending_scores(&self) -> Result<Vec<(UserId, f32)>> {
        let mut cache = self
            .trending
            .entry
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((at, scores)) = cache.as_ref()
            && at.elapsed().as_secs() < TRENDING_TTL_SECS
        {
            return Ok(scores.clone());
        }
        let now = self.now();
        let longest = TRENDING_WINDOWS_DAYS[TRENDING_WINDOWS_DAYS.len() - 1];
        let since = now.plus_days(-longest);
        // (expert, age in days, weight) of every recent interaction that counts, by the
        // track records' rule (`Counted`): on someone else, not dated ahead, each user once
        // a day per kind and expert, a save only while it stands.
        let mut recent: Vec<(UserId, f32, f32)> = Vec::new();
        let mut counted = Counted::new(now);
        let mut after: Option<Cursor> = None;
        let mut read = 0;
        'pages: loop {
            let page = self
                .store()
                .scan::<UserInteraction>(&PageRequest::first(1000).desc().after(after))?;
            for interaction in &page.items {
                read += 1;
                if read > TRENDING_SCAN {
                    break 'pages;
                }
                // Ids follow creation order only roughly (imports), so old rows are skipped,
                // not taken as the end.
                if interaction.created_at < since || !counted.first(interaction) {
                    continue;
                }
                let age_days = age_in_days(now, interaction.created_at);
                recent.push((
                    interaction.target_user_id,
                    age_days,
                    interest_weight(interaction.interaction_type),
                ));
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        // The last week; a quiet week widens to the last month, then the last quarter.
        // Engagement halves every few days whatever the window, so recent beats plentiful.
        let mut scores: HashMap<UserId, f32> = HashMap::new();
        for days in TRENDING_WINDOWS_DAYS {
            scores.clear();
            for &(expert, age, weight) in recent.iter().filter(|r| r.1 <= days as f32) {
                *scores.entry(expert).or_default() +=
                    weight * 0.5f32.powf(age / TRENDING_HALF_LIFE_DAYS);
            }
            if scores.values().filter(|s| **s > 0.0).count() >= TRENDING_ENOUGH {
                break;
            }
        }
        let mut list: Vec<(UserId, f32)> = scores.into_iter().filter(|(_, s)| *s > 0.0).collect();
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        list.truncate(CANDIDATES);
        *cache = Some((Instant::now(), list.clone()));
        Ok(list)
    }
}

/// Replaces the keyword and semantic contributions (there is no query) by one of
/// `source` carrying their summed weight.
fn credit_relevance(contributions: &mut Vec<Contribution>, source: Signal) {
    let weight: f32 = contributions
        .iter()
        .filter(|c| matches!(c.signal, Signal::Keyword | Signal::Semantic))
        .map(|c| c.weight)
        .sum();
    contributions.retain(|c| !matches!(c.signal, Signal::Keyword | Signal::Semantic));
    contributions.insert(0, Contribution::new(source, "", weight));
}

fn check_limit(limit: usize) -> Result<usize> {
    if (1..=MAX_RECOMMENDATIONS).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::Invalid(format!(
            "limit: must be between 1 and {MAX_RECOMMENDATIONS}"
        )))
    }
}

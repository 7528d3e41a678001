//! Step 4 of a request, **arrange**: the ranked candidates re-ordered so that one
//! profession does not fill the page ([`diversify`]; a block of results after the first
//! goes on counting the professions of the blocks above it, [`ProfessionsAbove`]), and
//! a new expert placed on the first page when one is reasonably relevant
//! ([`guarantee_new_expert`]).

use std::collections::HashMap;

use super::RankedExpert;
use crate::matching::ranker::display_score;
use crate::matching::signals::{Contribution, Signal};

/// The first page's size for the new-expert guarantee.
const FIRST_PAGE: usize = 10;
/// Where on the first page a new expert is placed when none made it on merit.
const NEW_EXPERT_SLOT: usize = 4;

/// How many experts of each profession (compared case-insensitively) the blocks of
/// results above the one being arranged placed.
#[derive(Debug, Clone, Default)]
pub(in crate::matching) struct ProfessionsAbove(HashMap<String, u32>);

impl ProfessionsAbove {
    /// Counts `placed` as above whatever is arranged next.
    pub(in crate::matching) fn add<'a>(
        &mut self,
        placed: impl IntoIterator<Item = &'a RankedExpert>,
    ) {
        for hit in placed {
            *self
                .0
                .entry(hit.expert.profession.to_lowercase())
                .or_default() += 1;
        }
    }
}

/// Re-orders `ranked` greedily: each pick loses `penalty` per earlier pick of the same
/// profession, the experts `above` it (placed by the blocks before) counting as
/// earlier picks, and the loss is recorded as a diversity contribution.
///
/// The picks are made over small `(profession, score, place)` entries, and each
/// candidate is moved once, into its final place: a request re-ranks about 50
/// candidates, and moving them at every pick showed in profiles under load.
pub(in crate::matching) fn diversify(
    ranked: &mut Vec<RankedExpert>,
    penalty: f32,
    above: &ProfessionsAbove,
) {
    if penalty <= 0.0 || ranked.is_empty() || (ranked.len() < 2 && above.0.is_empty()) {
        return;
    }
    // Professions as small numbers, compared case-insensitively, computed once.
    let mut kinds: HashMap<String, usize> = HashMap::new();
    let mut remaining: Vec<Candidate> = ranked
        .iter()
        .enumerate()
        .map(|(place, hit)| {
            let next = kinds.len();
            let kind = *kinds
                .entry(hit.expert.profession.to_lowercase())
                .or_insert(next);
            Candidate {
                kind,
                score: hit.score,
                place,
            }
        })
        .collect();
    let mut seen = vec![0u32; kinds.len()];
    for (profession, &kind) in &kinds {
        seen[kind] = above.0.get(profession).copied().unwrap_or(0);
    }
    let mut unpicked: Vec<Option<RankedExpert>> =
        std::mem::take(ranked).into_iter().map(Some).collect();
    ranked.reserve_exact(unpicked.len());
    while !remaining.is_empty() {
        let effective = |c: &Candidate| c.score - penalty * seen[c.kind] as f32;
        // The best effective score; among equals, the one ranked first.
        let best = (0..remaining.len())
            .max_by(|&a, &b| {
                effective(&remaining[a])
                    .total_cmp(&effective(&remaining[b]))
                    .then(b.cmp(&a))
            })
            .unwrap_or(0);
        let Candidate { kind, place, .. } = remaining.remove(best);
        let Some(mut hit) = unpicked[place].take() else {
            continue; // each place is listed once
        };
        let repeats = seen[kind];
        if repeats > 0 {
            let loss = penalty * repeats as f32;
            hit.contributions.push(Contribution::new(
                Signal::Diversity,
                format!("{repeats} {} above", hit.expert.profession),
                -loss,
            ));
            hit.score -= loss;
            hit.match_score = display_score(hit.score);
        }
        seen[kind] += 1;
        ranked.push(hit);
    }
}

/// One candidate while [`diversify`] picks.
struct Candidate {
    /// Its profession's number.
    kind: usize,
    /// Its score before any diversity loss.
    score: f32,
    /// Where it stood in the ranking.
    place: usize,
}

/// Makes sure the first page shows a new expert when one is among the candidates and
/// reasonably relevant: the best such is moved up to [`NEW_EXPERT_SLOT`].
pub(super) fn guarantee_new_expert(ranked: &mut Vec<RankedExpert>) {
    let is_new = |hit: &RankedExpert| {
        hit.contributions
            .iter()
            .any(|c| c.signal == Signal::NewExpert)
    };
    let page = ranked.len().min(FIRST_PAGE);
    if page < FIRST_PAGE || ranked[..page].iter().any(is_new) {
        return;
    }
    let top_relevance = ranked.iter().map(|h| h.fused.score).fold(0.0f32, f32::max);
    let candidate = ranked
        .iter()
        .enumerate()
        .skip(page)
        .find(|(_, hit)| is_new(hit) && hit.fused.score >= 0.5 * top_relevance)
        .map(|(i, _)| i);
    if let Some(i) = candidate {
        let hit = ranked.remove(i);
        ranked.insert(NEW_EXPERT_SLOT.min(ranked.len()), hit);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use droply_models::UserId;

    use super::*;
    use crate::matching::fusion::FusedHit;
    use crate::test_rows::user;

    /// Candidates of a few professions (spelled in varied case), with tied scores.
    fn candidates(count: usize, seed: u64) -> Vec<RankedExpert> {
        let professions = ["Designer", "designer", "Lawyer", "Coach", "Data Scientist"];
        let mut state = seed;
        (0..count)
            .map(|i| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let profession = professions[(state >> 33) as usize % professions.len()];
                // Scores on a coarse grid, so that ties (plain and after a loss) occur.
                let score = ((state >> 40) % 12) as f32 * 0.05;
                let expert = user(&format!("expert{i}"), profession);
                RankedExpert {
                    fused: FusedHit {
                        key: UserId::new(i as u64 + 1),
                        score,
                        text: None,
                        vector: None,
                        text_part: 0.0,
                    },
                    expert: Arc::new(expert),
                    score,
                    match_score: display_score(score),
                    contributions: Vec::new(),
                    reasons: Vec::new(),
                }
            })
            .collect()
    }

    /// The greedy re-ordering as first written: every remaining candidate moved at
    /// each pick. [`diversify`] must order and score exactly as it does.
    fn diversify_by_moving(ranked: &mut Vec<RankedExpert>, penalty: f32) {
        let mut kinds: HashMap<String, usize> = HashMap::new();
        let mut remaining: Vec<(usize, RankedExpert)> = std::mem::take(ranked)
            .into_iter()
            .map(|hit| {
                let next = kinds.len();
                let kind = *kinds
                    .entry(hit.expert.profession.to_lowercase())
                    .or_insert(next);
                (kind, hit)
            })
            .collect();
        let mut seen = vec![0u32; kinds.len()];
        while !remaining.is_empty() {
            let effective =
                |(kind, hit): &(usize, RankedExpert)| hit.score - penalty * seen[*kind] as f32;
            let best = (0..remaining.len())
                .max_by(|&a, &b| {
                    effective(&remaining[a])
                        .total_cmp(&effective(&remaining[b]))
                        .then(b.cmp(&a))
                })
                .unwrap_or(0);
            let (kind, mut hit) = remaining.remove(best);
            let repeats = seen[kind];
            if repeats > 0 {
                let loss = penalty * repeats as f32;
                hit.contributions.push(Contribution::new(
                    Signal::Diversity,
                    format!("{repeats} {} above", hit.expert.profession),
                    -loss,
                ));
                hit.score -= loss;
                hit.match_score = display_score(hit.score);
            }
            seen[kind] += 1;
            ranked.push(hit);
        }
    }

    /// What an arrangement shows: who, in which order, with which scores and reasons.
    fn shown(ranked: &[RankedExpert]) -> Vec<(UserId, u32, u32, Vec<Contribution>)> {
        ranked
            .iter()
            .map(|hit| {
                (
                    hit.fused.key,
                    hit.score.to_bits(),
                    hit.match_score.to_bits(),
                    hit.contributions.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn picks_exactly_as_moving_every_candidate_did() {
        for (count, seed) in [(2, 1), (7, 2), (50, 3), (50, 4), (70, 5), (120, 6)] {
            for penalty in [0.05, 0.1, 0.35] {
                let mut got = candidates(count, seed);
                let mut want = got.clone();
                diversify(&mut got, penalty, &ProfessionsAbove::default());
                diversify_by_moving(&mut want, penalty);
                assert_eq!(shown(&got), shown(&want), "{count} candidates, {penalty}");
            }
        }
    }

    #[test]
    fn a_repeated_profession_gives_way_and_says_why() {
        let mut ranked = candidates(0, 0);
        for (i, (profession, score)) in [("Designer", 0.9), ("designer", 0.85), ("Lawyer", 0.8)]
            .into_iter()
            .enumerate()
        {
            let mut hit = candidates(1, 0).remove(0);
            hit.expert = Arc::new(user(&format!("expert{i}"), profession));
            hit.fused.key = UserId::new(i as u64 + 1);
            hit.score = score;
            ranked.push(hit);
        }
        diversify(&mut ranked, 0.1, &ProfessionsAbove::default());
        let order: Vec<u64> = ranked.iter().map(|hit| hit.fused.key.get()).collect();
        assert_eq!(
            order,
            [1, 3, 2],
            "the second designer falls below the lawyer"
        );
        let loss = &ranked[2].contributions[0];
        assert_eq!(loss.signal, Signal::Diversity);
        assert_eq!(loss.value, "1 designer above");
        assert!((ranked[2].score - 0.75).abs() < 1e-6);
    }

    #[test]
    fn a_block_below_others_counts_their_professions() {
        let mut above = ProfessionsAbove::default();
        let mut first = candidates(0, 0);
        for (i, profession) in ["Designer", "designer"].into_iter().enumerate() {
            let mut hit = candidates(1, 0).remove(0);
            hit.expert = Arc::new(user(&format!("expert{i}"), profession));
            hit.fused.key = UserId::new(i as u64 + 1);
            first.push(hit);
        }
        above.add(&first);
        let mut below = candidates(0, 0);
        for (i, (profession, score)) in [("DESIGNER", 0.9), ("Lawyer", 0.85)]
            .into_iter()
            .enumerate()
        {
            let mut hit = candidates(1, 0).remove(0);
            hit.expert = Arc::new(user(&format!("expert{}", i + 2), profession));
            hit.fused.key = UserId::new(i as u64 + 3);
            hit.score = score;
            below.push(hit);
        }
        diversify(&mut below, 0.1, &above);
        let order: Vec<u64> = below.iter().map(|hit| hit.fused.key.get()).collect();
        assert_eq!(order, [4, 3], "two designers above: the third gives way");
        let loss = &below[1].contributions[0];
        assert_eq!(loss.value, "2 DESIGNER above");
        assert!((below[1].score - 0.7).abs() < 1e-6);
        // Alone below them, it still pays for the two above.
        let mut alone = vec![below.remove(1)];
        alone[0].contributions.clear();
        alone[0].score = 0.9;
        diversify(&mut alone, 0.1, &above);
        assert!((alone[0].score - 0.7).abs() < 1e-6);
    }

    #[test]
    fn no_penalty_or_one_candidate_leaves_the_order_alone() {
        for (count, penalty) in [(10, 0.0), (1, 0.3), (0, 0.3)] {
            let mut got = candidates(count, 9);
            let want = shown(&got);
            diversify(&mut got, penalty, &ProfessionsAbove::default());
            assert_eq!(shown(&got), want);
        }
    }
}

//! Inserting points into the [`Graph`], as hnswlib does: a greedy descent
//! from the entry point to the point's own level, then on each layer from
//! there down a best-first search for the `ef_construction` nearest, of which
//! the heuristic ([`select`]) keeps `m` as the point's links, each linking
//! back (and pruning its own list by the same heuristic when it overflows).
//!
//! Many points go in at once, one per core: a point's links are read and
//! changed under its own lock, never two locks at once. Scores are the int8
//! codes' ([`pair_score`]): a point met costs 6 cache lines to fetch, not 24,
//! and the lines of a point's unseen links are prefetched together.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::{Entry, Graph, Node, level_of};
use crate::vector::codes::{Codes, pair_score};
use crate::vector::near::{Near, Seen};
use crate::vector::prefetch::prefetch;

/// Batches at least this large are inserted on every core.
const PARALLEL_FROM: usize = 64;

/// One thread's scratch space, kept between inserts.
#[derive(Default)]
struct Scratch {
    seen: Seen,
    candidates: BinaryHeap<Near>,
    best: BinaryHeap<Reverse<Near>>,
    /// The ids of one point's links (those not seen yet, in a search).
    links: Vec<u32>,
    /// Those links with their scores.
    scored: Vec<Near>,
    /// What the last layer search found, nearest first.
    found: Vec<Near>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Graph {
    /// Inserts points `len()..count`, whose vectors are in `vectors` (point
    /// `i` at `i * dimension`); a batch of [`PARALLEL_FROM`] or more on every
    /// core. Does nothing when `vectors` holds fewer than `count` points.
    pub fn insert(&mut self, vectors: &[f32], dimension: usize, count: usize) {
        let start = self.nodes.len();
        if count <= start || vectors.len() < count * dimension || count > u32::MAX as usize {
            return;
        }
        let m = self.m;
        self.nodes
            .extend((start..count).map(|point| Node::new(level_of(point, m))));
        self.codes
            .extend(&vectors[start * dimension..count * dimension], dimension);
        let graph = &*self;
        let insert = |point: usize| {
            SCRATCH.with(|scratch| {
                insert_point(graph, point as u32, &mut scratch.borrow_mut());
            });
        };
        if count - start >= PARALLEL_FROM {
            (start..count).into_par_iter().for_each(insert);
        } else {
            (start..count).for_each(insert);
        }
    }

    /// Puts the ids of `point`'s links on `layer` that `seen` marks as new
    /// (all of them, without `seen`) into `into`, read under the point's lock.
    #[inline(always)]
    fn links_into(
        &self,
        point: u32,
        layer: usize,
        mut seen: Option<&mut Seen>,
        into: &mut Vec<u32>,
    ) {
        into.clear();
        let Some(node) = self.nodes.get(point as usize) else {
            return;
        };
        let links = node.lock();
        for link in links.layer(layer).into_iter().flatten() {
            if seen.as_mut().is_none_or(|seen| seen.mark(link.point)) {
                into.push(link.point);
            }
        }
    }
}

/// Links `point` (already given its node) into the graph.
fn insert_point(graph: &Graph, point: u32, scratch: &mut Scratch) {
    let Some(level) = graph.nodes.get(point as usize).map(|node| node.level) else {
        return;
    };
    let entry = {
        let mut entry = graph
            .entry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match *entry {
            Some(entry) => entry,
            None => {
                *entry = Some(Entry { point, level });
                return;
            }
        }
    };
    let codes = &graph.codes;
    let mut current = Near {
        score: pair_score(codes, point, entry.point),
        point: entry.point,
    };
    for layer in (usize::from(level) + 1..=usize::from(entry.level)).rev() {
        current = descend(graph, point, current, layer, scratch);
    }
    for layer in (0..=usize::from(level.min(entry.level))).rev() {
        search_layer(graph, point, current, layer, scratch);
        if let Some(&nearest) = scratch.found.first() {
            current = nearest;
        }
        let chosen = select(codes, &scratch.found, graph.m, point);
        add_links(graph, point, layer, &chosen);
        for near in &chosen {
            add_links(
                graph,
                near.point,
                layer,
                &[Near {
                    score: near.score,
                    point,
                }],
            );
        }
    }
    if level > entry.level {
        let mut entry = graph
            .entry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entry.is_none_or(|top| level > top.level) {
            *entry = Some(Entry { point, level });
        }
    }
}

/// Greedy steps on `layer` from `current` to the nearest point to `query` it
/// leads to.
#[inline(always)]
fn descend(
    graph: &Graph,
    query: u32,
    mut current: Near,
    layer: usize,
    scratch: &mut Scratch,
) -> Near {
    loop {
        graph.links_into(current.point, layer, None, &mut scratch.links);
        let mut moved = false;
        for &point in &scratch.links {
            let score = pair_score(&graph.codes, query, point);
            if score > current.score {
                current = Near { score, point };
                moved = true;
            }
        }
        if !moved {
            return current;
        }
    }
}

/// The `ef_construction` nearest points to point `query` on `layer` that a
/// best-first search from `start` finds, into `scratch.found`, nearest first.
#[inline(always)]
fn search_layer(graph: &Graph, query: u32, start: Near, layer: usize, scratch: &mut Scratch) {
    let ef = graph.ef_construction;
    let Scratch {
        seen,
        candidates,
        best,
        links,
        scored,
        found,
    } = scratch;
    seen.start(graph.nodes.len());
    candidates.clear();
    best.clear();
    seen.mark(start.point);
    candidates.push(start);
    best.push(Reverse(start));
    while let Some(candidate) = candidates.pop() {
        let worst = best.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
        if best.len() >= ef && candidate.score < worst {
            break;
        }
        // The unseen links are gathered under the lock, then all scored
        // before any reaches the heaps: their vectors' loads are independent,
        // so the CPU overlaps them, where a branch on each score would not.
        graph.links_into(candidate.point, layer, Some(seen), links);
        for &point in links.iter() {
            prefetch(graph.codes.lines(point));
        }
        scored.clear();
        for &point in links.iter() {
            scored.push(Near {
                score: pair_score(&graph.codes, query, point),
                point,
            });
        }
        for &near in scored.iter() {
            let worst = best.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
            if best.len() < ef || near.score > worst {
                candidates.push(near);
                best.push(Reverse(near));
                if best.len() > ef {
                    best.pop();
                }
            }
        }
    }
    found.clear();
    found.extend(best.drain().map(|Reverse(near)| near));
    found.sort_unstable_by(|a, b| b.cmp(a));
}

/// hnswlib's heuristic: of `candidates` (nearest the base point first, their
/// scores to it), up to `m` that are each nearer the base than any kept
/// before them; `base` itself is never kept.
#[inline(always)]
fn select(codes: &Codes, candidates: &[Near], m: usize, base: u32) -> Vec<Near> {
    let mut chosen: Vec<Near> = Vec::with_capacity(m);
    for &candidate in candidates {
        if chosen.len() >= m {
            break;
        }
        if candidate.point == base {
            continue;
        }
        if chosen
            .iter()
            .all(|kept| pair_score(codes, candidate.point, kept.point) <= candidate.score)
        {
            chosen.push(candidate);
        }
    }
    chosen
}

/// Adds `new` (scores to `owner`) to `owner`'s links on `layer`; a list grown
/// past its capacity is pruned by [`select`].
#[inline(always)]
fn add_links(graph: &Graph, owner: u32, layer: usize, new: &[Near]) {
    let capacity = graph.capacity(layer);
    let Some(node) = graph.nodes.get(owner as usize) else {
        return;
    };
    let mut links = node.lock();
    let Some(list) = links.layer_mut(layer) else {
        return;
    };
    for &near in new {
        if near.point != owner && !list.iter().any(|link| link.point == near.point) {
            list.push(near);
        }
    }
    if list.len() > capacity {
        list.sort_unstable_by(|a, b| b.cmp(a));
        *list = select(&graph.codes, list, capacity, owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heuristic_skips_a_candidate_nearer_a_kept_link_than_the_point() {
        // Base at the origin direction x; a and b almost the same point (both
        // near x), c off to the side: a is kept, b is nearer a than x, so it
        // is skipped, and c is kept although b scores higher.
        let vectors = [
            [1.0, 0.0, 0.0],    // 0: the base
            [0.9, 0.436, 0.0],  // 1: a
            [0.88, 0.475, 0.0], // 2: b, beside a
            [0.6, -0.8, 0.0],   // 3: c, the other way
        ]
        .concat();
        let codes = Codes::of(&vectors, 3, 4).expect("coded");
        let mut candidates: Vec<Near> = (1..4)
            .map(|point| Near {
                score: pair_score(&codes, 0, point),
                point,
            })
            .collect();
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        let kept: Vec<u32> = select(&codes, &candidates, 3, 0)
            .iter()
            .map(|near| near.point)
            .collect();
        assert_eq!(kept, [1, 3]);
        // At most m, and never the base itself.
        let with_base = [
            Near {
                score: 1.0,
                point: 0,
            },
            candidates[0],
        ];
        let kept = select(&codes, &with_base, 1, 0);
        assert_eq!(kept.iter().map(|near| near.point).collect::<Vec<_>>(), [1]);
    }
}

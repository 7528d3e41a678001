//! The HNSW graph over the vector index's internal ids, built here.
//!
//! Each point has a level drawn from its id (geometric, one point in `m` per
//! level up) and, on each layer up to it, a list of links: up to `2m` on
//! layer 0, `m` above, each with its dot product to the point. `build` inserts
//! points as hnswlib does (many at once on every core, each point's links
//! behind its own lock), choosing links by hnswlib's heuristic: a candidate is
//! kept only when it is nearer the point than any link kept before it, so the
//! links spread in every direction instead of crowding into the nearest
//! cluster. `file` saves and loads the graph.
//!
//! hnsw_rs built the graph before, 3x slower than hnswlib, pruning links by
//! distance alone; snapshots that hold its dump instead of `graph.bin` have
//! their graph rebuilt from the saved vectors when opened.
//!
//! Searches do not walk this graph: they walk a frozen copy of its links
//! (`frozen`), so nothing here sits on the query path.

mod build;
mod file;

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::VectorConfig;
use super::codes::Codes;
use super::near::Near;

pub(crate) use file::GRAPH_FILE;

/// Levels a point may reach above layer 0.
const MAX_LEVEL: u8 = 15;

/// One point: its level, and its links on each layer from 0 up to it.
struct Node {
    level: u8,
    links: Mutex<Lists>,
}

impl Node {
    fn new(level: u8) -> Self {
        Node {
            level,
            links: Mutex::new(Lists::from_layers(vec![Vec::new(); usize::from(level) + 1])),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lists> {
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A point's links on each layer, scored against it. Layer 0's list, the one
/// every insert reads, is held in the node itself: one pointer fewer to
/// chase than a list of lists.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lists {
    bottom: Vec<Near>,
    upper: Vec<Vec<Near>>,
}

impl Lists {
    /// The lists of layers 0, 1, ... in order.
    fn from_layers(layers: Vec<Vec<Near>>) -> Self {
        let mut layers = layers.into_iter();
        Lists {
            bottom: layers.next().unwrap_or_default(),
            upper: layers.collect(),
        }
    }

    /// The list of `layer`, if the point reaches it.
    #[inline(always)]
    pub fn layer(&self, layer: usize) -> Option<&Vec<Near>> {
        match layer.checked_sub(1) {
            None => Some(&self.bottom),
            Some(above) => self.upper.get(above),
        }
    }

    #[inline(always)]
    fn layer_mut(&mut self, layer: usize) -> Option<&mut Vec<Near>> {
        match layer.checked_sub(1) {
            None => Some(&mut self.bottom),
            Some(above) => self.upper.get_mut(above),
        }
    }

    /// Each layer's list, from layer 0 up.
    pub fn iter(&self) -> impl Iterator<Item = &Vec<Near>> {
        std::iter::once(&self.bottom).chain(&self.upper)
    }
}

/// The point searches start from: one on the top layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub point: u32,
    pub level: u8,
}

/// The HNSW graph over internal ids `0..len()`.
pub(crate) struct Graph {
    /// Links per point above layer 0 (twice as many on it).
    m: usize,
    ef_construction: usize,
    nodes: Vec<Node>,
    entry: Mutex<Option<Entry>>,
    /// The points' vectors as int8 codes, which inserts score: a quarter of
    /// the bytes to fetch of each point met.
    codes: Codes,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("points", &self.len())
            .field("entry", &self.entry())
            .finish()
    }
}

impl Graph {
    /// An empty graph.
    pub fn new(config: &VectorConfig) -> Self {
        Graph {
            m: config.m,
            ef_construction: config.ef_construction,
            nodes: Vec::new(),
            entry: Mutex::new(None),
            codes: Codes::default(),
        }
    }

    /// A graph of `nodes` read from a file, with their vectors (point `i` at
    /// `i * dimension`); `None` when `vectors` holds fewer points.
    fn from_nodes(
        config: &VectorConfig,
        nodes: Vec<Node>,
        entry: Option<Entry>,
        vectors: &[f32],
        dimension: usize,
    ) -> Option<Self> {
        let codes = Codes::of(vectors, dimension, nodes.len())?;
        Some(Graph {
            m: config.m,
            ef_construction: config.ef_construction,
            nodes,
            entry: Mutex::new(entry),
            codes,
        })
    }

    /// Points in the graph, tombstones included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The int8 codes of the points' vectors, point `i` at `i`.
    pub fn codes(&self) -> &Codes {
        &self.codes
    }

    /// The point searches start from; `None` while the graph is empty.
    pub fn entry(&self) -> Option<Entry> {
        *self.entry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most links a point keeps on `layer`.
    fn capacity(&self, layer: usize) -> usize {
        if layer == 0 { 2 * self.m } else { self.m }
    }

    /// Calls `visit` with each point, its level and its links on each layer
    /// from 0 up; stops, returning false, as soon as `visit` does.
    pub fn for_each_point(&self, mut visit: impl FnMut(u32, u8, &Lists) -> bool) -> bool {
        for (point, node) in (0u32..).zip(&self.nodes) {
            if !visit(point, node.level, &node.lock()) {
                return false;
            }
        }
        true
    }
}

/// The level of point `point` in a graph of `m` links: level `l` or above
/// with odds `m^-l`, drawn from a hash of the id so that a build is the same
/// every time.
fn level_of(point: usize, m: usize) -> u8 {
    // splitmix64: consecutive ids give independent-looking draws.
    let mut z = (point as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // Uniform in (0, 1].
    let uniform = ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let level = -uniform.ln() / (m.max(2) as f64).ln();
    level.min(f64::from(MAX_LEVEL)) as u8
}

#[cfg(test)]
mod tests;

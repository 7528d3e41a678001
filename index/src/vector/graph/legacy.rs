//! Graphs that hnsw_rs built: snapshots saved before this crate built its own
//! graph hold hnsw_rs's dump (`graph.hnsw.graph` and `graph.hnsw.data`).
//! hnsw_rs reloads the dump and its links are copied into a [`Graph`], so an
//! index saved by an older Droply opens without rebuilding its graph.

use std::path::Path;
use std::sync::Mutex;

use hnsw_rs::prelude::HnswIo;

use super::{Entry, Graph, Lists, MAX_LEVEL, Node};
use crate::vector::VectorConfig;
use crate::vector::distance::UnitDot;
use crate::vector::near::Near;
use crate::{Error, Result};

/// The dump's base name inside a snapshot directory.
pub(crate) const LEGACY_BASENAME: &str = "graph";

/// A point's level and its links on each layer up to it.
type Links = (u8, Vec<Vec<Near>>);

impl Graph {
    /// The graph hnsw_rs dumped in `dir`. hnsw_rs panics on some damaged
    /// files: such a panic is caught and reported as a corrupt index, as is a
    /// dump that does not hold points `0..n` exactly. `vectors` holds the
    /// points' vectors, point `i` at `i * dimension`.
    pub fn import_hnsw_rs(
        dir: &Path,
        config: &VectorConfig,
        vectors: &[f32],
        dimension: usize,
    ) -> Result<Graph> {
        let path = dir.join(format!("{LEGACY_BASENAME}.hnsw.graph"));
        let corrupt = |reason: String| Error::IndexCorrupt {
            path: path.clone(),
            reason,
        };
        if !path.is_file() {
            return Err(corrupt("no hnsw_rs graph".to_owned()));
        }
        let read = std::panic::catch_unwind(|| -> Result<Vec<Option<Links>>, String> {
            let io = HnswIo::new(dir, LEGACY_BASENAME);
            let hnsw = io
                .load_hnsw_with_dist::<f32, UnitDot>(UnitDot)
                .map_err(|err| format!("cannot reload the graph: {err}"))?;
            let count = hnsw.get_nb_point();
            let mut points: Vec<Option<Links>> = vec![None; count];
            for point in hnsw.get_point_indexation() {
                let level = point.get_point_id().0.min(MAX_LEVEL);
                let lists = point
                    .get_neighborhood_id()
                    .into_iter()
                    .take(usize::from(level) + 1)
                    .map(|layer| {
                        layer
                            .into_iter()
                            .filter(|n| n.d_id < count)
                            .map(|n| Near {
                                score: 1.0 - n.distance,
                                point: n.d_id as u32,
                            })
                            .collect()
                    })
                    .collect();
                match points.get_mut(point.get_origin_id()) {
                    Some(slot) => *slot = Some((level, lists)),
                    None => return Err("a point outside the graph".to_owned()),
                }
            }
            Ok(points)
        });
        let points = match read {
            Ok(Ok(points)) => points,
            Ok(Err(reason)) => return Err(corrupt(reason)),
            Err(_) => return Err(corrupt("the graph file is damaged".to_owned())),
        };
        let mut nodes = Vec::with_capacity(points.len());
        let mut entry: Option<Entry> = None;
        for (point, links) in (0u32..).zip(points) {
            let (level, mut lists) =
                links.ok_or_else(|| corrupt("a point missing from the graph".to_owned()))?;
            lists.resize(usize::from(level) + 1, Vec::new());
            if entry.is_none_or(|top| level > top.level) {
                entry = Some(Entry { point, level });
            }
            nodes.push(Node {
                level,
                links: Mutex::new(Lists::from_layers(lists)),
            });
        }
        Graph::from_nodes(config, nodes, entry, vectors, dimension)
            .ok_or_else(|| corrupt("more points than saved vectors".to_owned()))
    }
}

//! The HNSW graph (hnsw_rs), either built in memory or reloaded from a dump.
//!
//! A reloaded `Hnsw` borrows the `HnswIo` that loaded it. [`Graph`] owns both: the
//! loader and the graph borrowing it live in one `self_cell`, so the pair moves and
//! drops together without unsafe code of ours.

use std::path::Path;

use hnsw_rs::api::AnnT;
use hnsw_rs::prelude::{FilterT, Hnsw, HnswIo, Neighbour};

use super::VectorConfig;
use super::distance::UnitDot;
use crate::{Error, Result};

/// hnsw_rs's cap on layers.
const MAX_LAYERS: usize = 16;

type UnitHnsw<'a> = Hnsw<'a, f32, UnitDot>;

self_cell::self_cell!(
    /// A dumped graph reloaded by its loader.
    struct LoadedGraph {
        owner: HnswIo,
        #[not_covariant]
        dependent: UnitHnsw,
    }
);

enum Inner {
    Built(UnitHnsw<'static>),
    Loaded(LoadedGraph),
}

/// The HNSW graph over the vector index's internal ids.
pub(crate) struct Graph {
    inner: Inner,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("points", &self.len())
            .finish()
    }
}

impl Graph {
    /// An empty graph expecting about `capacity` points.
    pub fn new(config: &VectorConfig, capacity: usize) -> Self {
        let mut hnsw = Hnsw::new(
            config.m,
            capacity.max(1024),
            MAX_LAYERS,
            config.ef_construction,
            UnitDot,
        );
        hnsw.set_extend_candidates(config.extend_candidates);
        Graph {
            inner: Inner::Built(hnsw),
        }
    }

    /// Reloads the graph dumped as `basename` in `dir`. hnsw_rs panics on some damaged
    /// files: such a panic is caught and reported as a corrupt index.
    pub fn load(dir: &Path, basename: &str) -> Result<Self> {
        let corrupt = |reason: String| Error::IndexCorrupt {
            path: dir.join(basename),
            reason,
        };
        let io = HnswIo::new(dir, basename);
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            LoadedGraph::try_new(io, |io| io.load_hnsw_with_dist::<f32, UnitDot>(UnitDot))
        }));
        match loaded {
            Ok(Ok(mut graph)) => {
                graph.with_dependent_mut(|_, hnsw| hnsw.set_searching_mode(true));
                Ok(Graph {
                    inner: Inner::Loaded(graph),
                })
            }
            Ok(Err(err)) => Err(corrupt(format!("cannot reload the graph: {err}"))),
            Err(_) => Err(corrupt("the graph file is damaged".to_owned())),
        }
    }

    fn with<R>(&self, f: impl for<'a> FnOnce(&UnitHnsw<'a>) -> R) -> R {
        match &self.inner {
            Inner::Built(hnsw) => f(hnsw),
            Inner::Loaded(loaded) => loaded.with_dependent(|_, hnsw| f(hnsw)),
        }
    }

    fn with_mut<R>(&mut self, f: impl for<'a> FnOnce(&mut UnitHnsw<'a>) -> R) -> R {
        match &mut self.inner {
            Inner::Built(hnsw) => f(hnsw),
            Inner::Loaded(loaded) => loaded.with_dependent_mut(|_, hnsw| f(hnsw)),
        }
    }

    /// Points in the graph, tombstones included.
    pub fn len(&self) -> usize {
        self.with(|hnsw| hnsw.get_nb_point())
    }

    /// Inserts points; many at once go through hnsw_rs's parallel insert.
    pub fn insert(&self, points: &[(&[f32], usize)]) {
        if points.len() >= 64 {
            let batch: Vec<(&[f32], usize)> = points.to_vec();
            self.with(|hnsw| hnsw.parallel_insert_slice(&batch));
        } else {
            self.with(|hnsw| {
                for &point in points {
                    hnsw.insert_slice(point);
                }
            });
        }
    }

    /// Marks the end of a bulk (parallel) insert, before searching.
    pub fn finish_bulk_insert(&mut self) {
        self.with_mut(|hnsw| hnsw.set_searching_mode(true));
    }

    /// The `k` nearest points to `query` among those `filter` accepts.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: Option<&dyn FilterT>,
    ) -> Vec<Neighbour> {
        self.with(|hnsw| hnsw.search_filter(query, k, ef, filter))
    }

    /// Calls `visit` with each point's origin id, its level, and its
    /// neighbours (origin id, distance) on each layer from 0 up; stops,
    /// returning false, as soon as `visit` does. Only while nothing inserts
    /// into the graph (hnsw_rs's point iterator re-takes its read lock).
    pub fn for_each_point(
        &self,
        mut visit: impl FnMut(usize, u8, &[Vec<(usize, f32)>]) -> bool,
    ) -> bool {
        self.with(|hnsw| {
            for point in hnsw.get_point_indexation() {
                let lists: Vec<Vec<(usize, f32)>> = point
                    .get_neighborhood_id()
                    .into_iter()
                    .map(|layer| layer.into_iter().map(|n| (n.d_id, n.distance)).collect())
                    .collect();
                if !visit(point.get_origin_id(), point.get_point_id().0, &lists) {
                    return false;
                }
            }
            true
        })
    }

    /// Dumps the graph as `basename` (`basename.hnsw.graph` and `.hnsw.data`) in `dir`.
    pub fn dump(&self, dir: &Path, basename: &str) -> Result<()> {
        let written = self
            .with(|hnsw| hnsw.file_dump(dir, basename))
            .map_err(|err| Error::Invalid(format!("dumping the graph: {err}")))?;
        if written != basename {
            return Err(Error::Invalid(format!(
                "the graph was dumped as {written}, not {basename}"
            )));
        }
        Ok(())
    }
}

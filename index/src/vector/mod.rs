//! The vector index: unit vectors in an HNSW graph (hnsw_rs), keyed by external ids.
//!
//! [`VectorIndex`] is the entry point. `distance` is the clamped dot-product distance and
//! its vectorised dot product; `graph` owns the hnsw_rs graph, built or reloaded;
//! `frozen` is the search path over a flat copy of its links, walked with the
//! int8 `codes` of the vectors;
//! `exact_scan` is the brute-force search used for small or heavily filtered candidate
//! sets; `wal` and `snapshot` make the index durable (a write-ahead log of changes and
//! periodic snapshots of the points and the graph). Ids are mapped by [`crate::id_map`].

mod codes;
mod config;
mod distance;
mod exact_scan;
mod frozen;
mod graph;
mod snapshot;
#[cfg(test)]
mod test_vectors;
mod vector_index;
mod wal;

pub use config::VectorConfig;
pub use distance::{UnitDot, dot, normalize};
pub use vector_index::{VectorEntry, VectorHit, VectorIndex, VectorStats};

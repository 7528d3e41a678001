//! The vector index: unit vectors in an HNSW graph, keyed by external ids.
//!
//! [`VectorIndex`] is the entry point. `distance` is the clamped dot-product distance and
//! its vectorised dot product; `graph` is the HNSW graph, built here (hnswlib's
//! algorithm, scored with the int8 `codes` of the vectors); `frozen` is the search path over a flat copy of its links,
//! walked with the same codes; `near` is what both walks share and `prefetch` how they
//! ask for the next points early;
//! `exact_scan` is the brute-force search used for small or heavily filtered candidate
//! sets; `wal` and `snapshot` make the index durable (a write-ahead log of changes and
//! periodic snapshots of the points and the graph). Ids are mapped by [`crate::id_map`].

mod codes;
mod config;
mod distance;
mod exact_scan;
mod frozen;
mod graph;
mod near;
mod prefetch;
mod snapshot;
#[cfg(test)]
mod test_vectors;
mod vector_index;
mod wal;

pub use config::VectorConfig;
pub use distance::{dot, has_direction, normalize};
pub use vector_index::{VectorEntry, VectorHit, VectorIndex, VectorStats};

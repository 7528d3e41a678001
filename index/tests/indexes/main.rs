//! Index tests: the vector index (recall against an exact scan, tombstones, save and
//! reload, the write-ahead log) and the expert text index (BM25 ranking, typos, filters,
//! only ids kept, facet counts that stay exact across updates, removals and merges).

mod documents;
mod expert_text;
mod facets;
mod vector_input;
mod vectors;

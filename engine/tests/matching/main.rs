//! Matching-engine tests over a real store and search index (with the bag-of-words
//! stand-in embedder): every filter, facet counts, pagination, each signal's direction,
//! reasons, stored matches with feedback, and recommendations.

#[path = "../store/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

#[path = "../search_index/hash_embedder.rs"]
mod hash_embedder;

mod market;

mod filters;
mod matches;
mod recommendations;
mod signals;

//! Matching-engine tests over a real store and search index (with the bag-of-words
//! stand-in embedder): every filter, facet counts, pagination, each signal's direction,
//! reasons (which never tell another user's counts), stored matches with feedback,
//! recommendations, content searched alone or ranked together with experts, and the
//! per-request budget of stats read from the store.

use droply_test_support::fixtures;

use droply_test_support::hash_embedder;

mod market;

mod budget;
mod content;
mod filters;
mod honest;
mod matches;
mod recommendations;
mod rows;
mod signals;

//! Search-index tests: parity with the store after random writes, deletes, restarts and
//! SIGKILLs; freshness of a profile update; rebuilds on a model or schema mismatch and on
//! a damaged or missing index; published content indexed beside the experts.

use droply_test_support::fixtures;

use droply_test_support::hash_embedder;

mod content;
mod freshness;
mod no_meaning;
mod parity;
mod rebuild;
mod support;

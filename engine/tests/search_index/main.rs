//! Search-index tests: parity with the store after random writes, deletes, restarts and
//! SIGKILLs; freshness of a profile update; rebuilds on a model or schema mismatch and on
//! a damaged or missing index.

#[path = "../store/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

mod freshness;
mod hash_embedder;
mod parity;
mod rebuild;
mod support;

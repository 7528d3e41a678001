//! Store tests: round trips of every entity, relationship queries, unique
//! keys, the change feed, a model-based property test, a crash test and the
//! sweep of expired sign-in sessions.

use droply_test_support::fixtures;

mod change_feed;
mod copy;
mod crash;
mod ids;
mod model_check;
mod postgres_rules;
mod relationships;
mod roundtrip;
mod session_sweep;
mod shared_files;
mod uniques;

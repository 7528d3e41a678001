//! Store tests: round trips of every entity, relationship queries, unique
//! keys, the change feed, a model-based property test and a crash test.

mod change_feed;
mod crash;
mod fixtures;
mod model_check;
mod relationships;
mod roundtrip;
mod uniques;

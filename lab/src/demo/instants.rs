//! Random instants and spans, at whole seconds, for timestamps that read
//! like real activity.

use droply_models::Timestamp;
use rand::Rng;

/// A uniformly random instant in `[from, to)`; `from` when the span is empty.
pub(crate) fn between(rng: &mut impl Rng, from: Timestamp, to: Timestamp) -> Timestamp {
    let span = to.signed_duration_since(from).num_seconds();
    if span <= 0 {
        return from;
    }
    plus_seconds(from, rng.random_range(0..span))
}

/// `at` moved by `seconds`.
pub(crate) fn plus_seconds(at: Timestamp, seconds: i64) -> Timestamp {
    at.saturating_add(chrono::TimeDelta::seconds(seconds))
}

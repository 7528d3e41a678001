//! The trending list, computed at most once a minute and shared by every
//! request: experts with their decayed engagement scores, best first.

use std::sync::Mutex;
use std::time::Instant;

use droply_models::UserId;

/// Experts with their trending scores, best first.
pub(crate) type Scores = Vec<(UserId, f32)>;

/// A cached trending list and when it was computed.
#[derive(Debug, Default)]
pub(crate) struct TrendingCache {
    pub(super) entry: Mutex<Option<(Instant, Scores)>>,
}

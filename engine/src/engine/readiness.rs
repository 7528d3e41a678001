//! Whether the search index has caught up once with the store as it was when the
//! server started. Until it has, `/ready` answers 503 so that no searches are sent to a
//! server whose index is still loading or being rebuilt; once it has, it stays ready (a
//! later write is searchable within a second, and a short lag is not an outage).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::SearchIndex;
use crate::search_index::IndexState;

/// The change the index must reach once, and whether it has.
#[derive(Debug)]
pub(crate) struct SearchReadiness {
    target_seq: u64,
    reached: AtomicBool,
}

impl SearchReadiness {
    /// Ready once the index follows the store and reflects change `target_seq`.
    pub(crate) fn new(target_seq: u64) -> Self {
        SearchReadiness {
            target_seq,
            reached: AtomicBool::new(false),
        }
    }

    /// `Ok` once `index` has caught up; else what it is doing, for people.
    pub(crate) fn check(&self, index: &SearchIndex) -> Result<(), String> {
        if self.reached.load(Ordering::Acquire) {
            return Ok(());
        }
        let status = index.status();
        let at_change = || format!("at change {} of {}", status.applied_seq, self.target_seq);
        let (doing, progress) = match &status.state {
            IndexState::Following if status.applied_seq >= self.target_seq => {
                self.reached.store(true, Ordering::Release);
                return Ok(());
            }
            IndexState::Following => ("catching up", at_change()),
            IndexState::Opening => ("opening", at_change()),
            IndexState::Rebuilding { done, total, .. } => {
                ("being built", format!("{done} of {total} users read"))
            }
            IndexState::Stopped => ("stopped", at_change()),
        };
        Err(format!("the search index is {doing}: {progress}"))
    }
}

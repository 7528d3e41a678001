//! [`Engine::verify`]: whether everything derived agrees with the rows — the
//! store's relationship indexes and unique keys, and the search index against
//! a rebuild. Crash tests and `droply verify` run it after a restart.

use std::time::Duration;

use super::Engine;
use crate::search_index::IndexParity;
use crate::store::IntegrityReport;
use crate::{Error, Result};

/// What [`Engine::verify`] found.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// The store's indexes and unique keys against its rows.
    pub store: IntegrityReport,
    /// The search index against a rebuild, when search is on.
    pub search: Option<IndexParity>,
}

impl VerifyReport {
    /// True when nothing disagrees.
    pub fn is_consistent(&self) -> bool {
        self.store.is_consistent() && self.search.as_ref().is_none_or(IndexParity::is_consistent)
    }
}

impl Engine {
    /// Checks the store, then (with search) waits up to `wait` for the
    /// search index to apply the store's last change and compares it with a
    /// rebuild; `SearchUnavailable` when it does not catch up in time.
    pub fn verify(&self, wait: Duration) -> Result<VerifyReport> {
        let store = self.store().verify_integrity()?;
        let search = match self.search_index() {
            None => None,
            Some(index) => {
                let seq = self.store().last_seq();
                if !index.wait_until_applied(seq, wait) {
                    return Err(Error::SearchUnavailable(format!(
                        "the search index did not reach change {seq} in {wait:?}: {:?}",
                        index.status()
                    )));
                }
                Some(index.parity_with(self.store())?)
            }
        };
        Ok(VerifyReport { store, search })
    }
}

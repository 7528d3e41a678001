//! The fingerprint of the last change the indexes applied, as the store had it: its
//! sequence number, commit time, kind of row, row id and operation. The manifest keeps
//! it so that, on open, a store restored from an older copy and written past the
//! index's position (the same sequence numbers, other changes) is told apart from the
//! store the index followed, and the index rebuilt instead of trusted.

use serde::{Deserialize, Serialize};

use crate::store::{Change, ChangeOp};
use crate::{Result, Store};

/// One change-feed entry, as recorded when the indexes applied it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeMark {
    /// The change's sequence number.
    pub seq: u64,
    /// When it committed, in microseconds since the Unix epoch (UTC).
    pub at_micros: i64,
    /// The tag of the kind of row it touched.
    pub kind: u8,
    /// The raw id of the row it touched.
    pub id: u64,
    /// Whether it deleted the row.
    pub delete: bool,
}

impl ChangeMark {
    /// The mark of `change`.
    pub fn of(change: &Change) -> ChangeMark {
        ChangeMark {
            seq: change.seq,
            at_micros: change.at.as_micros(),
            kind: change.kind as u8,
            id: change.id,
            delete: change.op == ChangeOp::Delete,
        }
    }

    /// The mark of the store's change `seq`; `None` for 0 (an empty store has no
    /// change to mark) or when the feed no longer holds it.
    pub(crate) fn read(store: &Store, seq: u64) -> Result<Option<ChangeMark>> {
        if seq == 0 {
            return Ok(None);
        }
        let found = store.changes_since(seq - 1, 1)?;
        Ok(found
            .first()
            .filter(|change| change.seq == seq)
            .map(ChangeMark::of))
    }

    /// Why indexes that applied this change cannot follow `store`, `None` when they
    /// can. The store must still end at or past it, and its change at that number
    /// must be this one: after a restore from an older copy and new writes, the
    /// number exists but names another change, and the rows the abandoned changes
    /// touched would otherwise stay wrong in the index for good.
    pub(crate) fn mismatch(&self, store: &Store) -> Result<Option<String>> {
        let last = store.last_seq();
        if self.seq > last {
            return Ok(Some(format!(
                "the index applied change {}, the store ends at {last}",
                self.seq
            )));
        }
        match Self::read(store, self.seq)? {
            Some(theirs) if theirs == *self => Ok(None),
            Some(_) => Ok(Some(format!(
                "the store's change {} is not the one the index applied \
                 (the store was restored from an older copy and written since)",
                self.seq
            ))),
            None => match store.oldest_change()? {
                // The feed is contiguous from its oldest entry to the last: a hole
                // where the index's change should be means the store is not the one
                // the index followed.
                Some(oldest) if oldest <= self.seq => Ok(Some(format!(
                    "the change feed lacks change {} though it holds changes from {oldest}",
                    self.seq
                ))),
                // Pruned (`Store::truncate_changes` drops entries every reader has
                // applied): nothing is left to compare, so the sequence numbers alone
                // are checked, as for a manifest without a mark.
                _ => Ok(None),
            },
        }
    }
}

//! The change feed: every committed write gets the next sequence number and an
//! entry naming the row it touched. Derived indexes read the feed from the last
//! sequence number they applied to catch up after a restart, then wait for more.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use droply_models::Timestamp;

use super::key::read_u64;
use super::tree_id::EntityKind;
use super::txn::ChangedRow;
use crate::{Error, Result};

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    /// The row was created or updated; read it from the store for its contents.
    Put,
    /// The row was deleted.
    Delete,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Position in the feed; strictly increasing, starting at 1.
    pub seq: u64,
    /// When the write committed.
    pub at: Timestamp,
    /// The kind of row touched.
    pub kind: EntityKind,
    /// The raw id of the row touched.
    pub id: u64,
    /// What happened to it.
    pub op: ChangeOp,
    /// For a delete, the user the row belonged to ([`super::Record::owner`]),
    /// since the row itself can no longer be read.
    pub owner: Option<u64>,
}

/// An entry without an owner (as all were before owners were kept).
const ENTRY_LEN: usize = 1 + 1 + 8 + 8;
/// An entry with its owner.
const ENTRY_WITH_OWNER_LEN: usize = ENTRY_LEN + 8;

impl Change {
    /// The feed key of this entry.
    pub(crate) fn key(&self) -> [u8; 8] {
        self.seq.to_be_bytes()
    }

    /// Fixed-size encoding: kind, op, id, commit time, then the owner if any.
    pub(crate) fn encode_value(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENTRY_WITH_OWNER_LEN);
        out.push(self.kind as u8);
        out.push(match self.op {
            ChangeOp::Put => 0,
            ChangeOp::Delete => 1,
        });
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.at.as_micros().to_be_bytes());
        if let Some(owner) = self.owner {
            out.extend_from_slice(&owner.to_be_bytes());
        }
        out
    }

    /// Decodes an entry read from the feed tree.
    pub(crate) fn decode(key: &[u8], value: &[u8]) -> Result<Change> {
        let corrupt = || Error::Corrupt("malformed change-feed entry".to_owned());
        let seq = read_u64(key).ok_or_else(corrupt)?;
        let owner = match value.len() {
            ENTRY_LEN => None,
            ENTRY_WITH_OWNER_LEN => Some(read_u64(&value[ENTRY_LEN..]).ok_or_else(corrupt)?),
            _ => return Err(corrupt()),
        };
        let kind = EntityKind::from_tag(value[0]).ok_or_else(corrupt)?;
        let op = match value[1] {
            0 => ChangeOp::Put,
            1 => ChangeOp::Delete,
            _ => return Err(corrupt()),
        };
        let id = read_u64(&value[2..10]).ok_or_else(corrupt)?;
        let micros = read_u64(&value[10..18]).ok_or_else(corrupt)? as i64;
        let at = Timestamp::from_micros(micros).map_err(|_| corrupt())?;
        Ok(Change {
            seq,
            at,
            kind,
            id,
            op,
            owner,
        })
    }
}

/// The feed entries of one commit: one per row changed, numbered on from
/// `last_seq`, all at the commit's instant.
pub(crate) fn entries(last_seq: u64, at: Timestamp, rows: &[ChangedRow]) -> Vec<Change> {
    rows.iter()
        .zip(last_seq + 1..)
        .map(|(row, seq)| Change {
            seq,
            at,
            kind: row.kind,
            id: row.id,
            op: row.op,
            owner: row.owner,
        })
        .collect()
}

/// Lets readers sleep until the feed passes a sequence number.
#[derive(Debug, Default)]
pub(crate) struct FeedSignal {
    last_seq: Mutex<u64>,
    advanced: Condvar,
}

impl FeedSignal {
    pub(crate) fn new(last_seq: u64) -> Self {
        FeedSignal {
            last_seq: Mutex::new(last_seq),
            advanced: Condvar::new(),
        }
    }

    /// Records that the feed now ends at `seq` and wakes waiting readers.
    pub(crate) fn publish(&self, seq: u64) {
        let mut last = self.last_seq.lock().unwrap_or_else(|e| e.into_inner());
        if seq > *last {
            *last = seq;
        }
        self.advanced.notify_all();
    }

    /// Waits until the feed passes `after` or `timeout` elapses; returns the last sequence number.
    pub(crate) fn wait_past(&self, after: u64, timeout: Duration) -> u64 {
        let last = self.last_seq.lock().unwrap_or_else(|e| e.into_inner());
        let (last, _) = self
            .advanced
            .wait_timeout_while(last, timeout, |last| *last <= after)
            .unwrap_or_else(|e| e.into_inner());
        *last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let change = Change {
            seq: 42,
            at: Timestamp::from_micros(1_700_000_000_123_456).expect("in range"),
            kind: EntityKind::Booking,
            id: 7,
            op: ChangeOp::Delete,
            owner: Some(3),
        };
        let decoded = Change::decode(&change.key(), &change.encode_value()).expect("decodes");
        assert_eq!(decoded, change);
        let put = Change {
            op: ChangeOp::Put,
            owner: None,
            ..change
        };
        let value = put.encode_value();
        assert_eq!(
            value.len(),
            ENTRY_LEN,
            "entries without an owner keep the old size"
        );
        assert_eq!(Change::decode(&put.key(), &value).expect("decodes"), put);
    }

    #[test]
    fn truncated_entries_are_corrupt() {
        assert!(Change::decode(&1u64.to_be_bytes(), &[1, 0, 0]).is_err());
    }
}

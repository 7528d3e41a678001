//! The stats cache on disk, so that the first requests after a restart rank from
//! warm stats: `stats.bin` in the search directory holds every cached entry and the
//! change-feed sequence number it reflects, written now and then and at shutdown
//! (a new file synced, then renamed over the old one). On start it is loaded unless
//! the store cannot say what changed since (the store is older than the file, or its
//! feed no longer reaches back); the experts changes touched since are dropped.
//!
//! Layout: `DRPLYST1`, the sequence number and the entry count (u64 each), then per
//! entry the expert id, `as_of` and earliest slot (microseconds, `i64::MIN` for none),
//! clicks, impressions and engagement (f32), completed, no-shows, clients and repeat
//! clients (u32), all little-endian; a CRC32 of everything before it ends the file.

use std::path::Path;

use droply_models::{Timestamp, UserId};

use super::freshness::{Forget, changes_to_forget};
use super::stats::{CachedStats, ExpertStats};
use crate::{Result, Store};

const MAGIC: &[u8; 8] = b"DRPLYST1";
const ENTRY_BYTES: usize = 8 + 8 + 8 + 3 * 4 + 4 * 4;
const NO_SLOT: i64 = i64::MIN;

/// Writes `entries`, which reflect the change feed up to `seq`, to `path`.
pub(crate) fn save(path: &Path, seq: u64, entries: &[(UserId, CachedStats)]) -> Result<()> {
    let mut bytes = Vec::with_capacity(24 + entries.len() * ENTRY_BYTES + 4);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&seq.to_le_bytes());
    bytes.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (id, cached) in entries {
        let stats = &cached.stats;
        bytes.extend_from_slice(&id.get().to_le_bytes());
        bytes.extend_from_slice(&cached.as_of.as_micros().to_le_bytes());
        let slot = stats.earliest_slot.map_or(NO_SLOT, Timestamp::as_micros);
        bytes.extend_from_slice(&slot.to_le_bytes());
        for value in [stats.clicks, stats.impressions, stats.engagement] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        for count in [
            stats.completed,
            stats.no_shows,
            stats.clients,
            stats.repeat_clients,
        ] {
            bytes.extend_from_slice(&count.to_le_bytes());
        }
    }
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    Ok(droply_index::durable_file::write_atomically(path, &bytes)?)
}

/// The entries saved at `path` that still hold for `store`: none when there is no
/// file, it is damaged, or the store cannot say what changed since it was written;
/// otherwise all but those of experts a change touched since.
pub(crate) fn load(path: &Path, store: &Store) -> Result<Vec<(UserId, CachedStats)>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err.into()),
    };
    let Some((seq, entries)) = decode(&bytes) else {
        tracing::warn!(path = %path.display(), "the saved stats are damaged; starting cold");
        return Ok(Vec::new());
    };
    let last = store.last_seq();
    let reaches_back = seq == last
        || store
            .oldest_change()?
            .is_some_and(|oldest| oldest <= seq + 1);
    if seq > last || !reaches_back {
        tracing::info!(
            seq,
            last,
            "the saved stats are too old or too new for the store; starting cold"
        );
        return Ok(Vec::new());
    }
    let (forget, _) = changes_to_forget(store, seq)?;
    Ok(match forget {
        Forget::Nothing => entries,
        Forget::Experts(changed) => entries
            .into_iter()
            .filter(|(id, _)| !changed.contains(id))
            .collect(),
        Forget::Everything => Vec::new(),
    })
}

/// The sequence number and entries in `bytes`, or `None` when they are damaged.
fn decode(bytes: &[u8]) -> Option<(u64, Vec<(UserId, CachedStats)>)> {
    let (body, crc) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().ok()?) {
        return None;
    }
    let header = body.get(..24)?;
    if &header[..8] != MAGIC {
        return None;
    }
    let u64_at = |b: &[u8], at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
    };
    let seq = u64_at(header, 8)?;
    let count = usize::try_from(u64_at(header, 16)?).ok()?;
    let rest = &body[24..];
    if rest.len() != count.checked_mul(ENTRY_BYTES)? {
        return None;
    }
    let entries = rest
        .chunks_exact(ENTRY_BYTES)
        .map(|e| {
            let i64_at = |at| u64_at(e, at).map(|v| v as i64);
            let f32_at = |at: usize| -> Option<f32> {
                Some(f32::from_le_bytes(e.get(at..at + 4)?.try_into().ok()?))
            };
            let u32_at = |at: usize| -> Option<u32> {
                Some(u32::from_le_bytes(e.get(at..at + 4)?.try_into().ok()?))
            };
            let slot = i64_at(16)?;
            let stats = ExpertStats {
                clicks: f32_at(24)?,
                impressions: f32_at(28)?,
                engagement: f32_at(32)?,
                completed: u32_at(36)?,
                no_shows: u32_at(40)?,
                clients: u32_at(44)?,
                repeat_clients: u32_at(48)?,
                earliest_slot: match slot {
                    NO_SLOT => None,
                    micros => Some(Timestamp::from_micros(micros).ok()?),
                },
            };
            let cached = CachedStats {
                as_of: Timestamp::from_micros(i64_at(8)?).ok()?,
                stats,
            };
            Some((UserId::new(u64_at(e, 0)?), cached))
        })
        .collect::<Option<Vec<_>>>()?;
    Some((seq, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, slot: Option<i64>) -> (UserId, CachedStats) {
        let stats = ExpertStats {
            clicks: 1.5,
            impressions: 20.25,
            engagement: 7.0,
            completed: 3,
            no_shows: 1,
            clients: 2,
            repeat_clients: 1,
            earliest_slot: slot.map(|m| Timestamp::from_micros(m).expect("slot")),
        };
        let as_of = Timestamp::from_micros(1_790_000_000_000_000).expect("as of");
        (UserId::new(id), CachedStats { as_of, stats })
    }

    #[test]
    fn entries_round_trip_and_a_flipped_byte_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stats.bin");
        let entries = vec![entry(7, None), entry(9, Some(1_790_003_600_000_000))];
        save(&path, 42, &entries).expect("save");
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(decode(&bytes), Some((42, entries)));
        let mut damaged = bytes.clone();
        damaged[40] ^= 1;
        assert_eq!(decode(&damaged), None);
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None);
    }
}

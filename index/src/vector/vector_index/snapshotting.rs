//! Saving a [`VectorIndex`]: a snapshot of the committed state (the points, then
//! the graph's file, each synced) under a new generation, the state file pointed at
//! it, the log emptied and older snapshots removed; `save_to` moves an index held
//! in memory to a directory.

use std::path::Path;
use std::sync::atomic::Ordering as AtomicOrdering;

use super::{VectorIndex, WAL_FILE, read};
use crate::durable_file::sync_dir;
use crate::vector::snapshot::{SnapshotState, snapshot_dir, snapshot_name, write_points};
use crate::vector::wal::Wal;
use crate::{Error, ExternalId, Result};

impl<K: ExternalId> VectorIndex<K> {
    /// Writes a snapshot into `dir` (created if needed) as the state at `seq`, and keeps
    /// the index there from now on: later changes go to its log.
    pub fn save_to(&self, dir: &Path, seq: u64) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(Error::file(dir))?;
        {
            let mut writer = self.lock_writer();
            if writer.dir.as_deref() != Some(dir) {
                writer.dir = Some(dir.to_owned());
                writer.generation = SnapshotState::read(dir)
                    .map(|s| s.generation())
                    .unwrap_or(0);
                let wal_path = dir.join(WAL_FILE);
                let mut wal = Wal::open(&wal_path)?;
                wal.truncate()?;
                writer.wal = Some(wal);
            }
        }
        self.committed_seq.store(seq, AtomicOrdering::SeqCst);
        self.save()
    }

    /// Writes a snapshot of the committed state and empties the log. Does nothing for an
    /// index held in memory only.
    pub fn save(&self) -> Result<()> {
        let mut writer = self.lock_writer();
        let Some(dir) = writer.dir.clone() else {
            return Ok(());
        };
        let generation = writer.generation + 1;
        let name = snapshot_name(generation);
        let snap = snapshot_dir(&dir, &name);
        if snap.exists() {
            std::fs::remove_dir_all(&snap).map_err(Error::file(&snap))?;
        }
        std::fs::create_dir_all(&snap).map_err(Error::file(&snap))?;
        {
            let points = read(&self.points);
            write_points(&snap, self.dimension, points.ids.slots(), &points.vectors)?;
            read(&self.graph).save(&snap)?;
        }
        sync_dir(&snap)?;
        SnapshotState {
            snapshot: name.clone(),
            seq: self.committed_seq(),
            dimension: self.dimension,
        }
        .write(&dir)?;
        writer.generation = generation;
        if let Some(wal) = writer.wal.as_mut() {
            wal.truncate()?;
        }
        // Older snapshots are no longer referenced.
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let file_name = file_name.to_string_lossy();
                if file_name.starts_with("snap-")
                    && file_name != name.as_str()
                    && let Err(err) = std::fs::remove_dir_all(entry.path())
                {
                    tracing::warn!(%err, path = %entry.path().display(), "could not remove an old vector snapshot");
                }
            }
        }
        Ok(())
    }
}

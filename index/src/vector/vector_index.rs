//! [`VectorIndex`]: unit vectors keyed by external ids, searched through an HNSW graph
//! or by exact scan, updated in place (tombstones), durable through a write-ahead log
//! and snapshots.
//!
//! Concurrency: any number of searches run alongside one writer. A write reserves
//! internal slots, inserts the vectors into the graph without blocking searches, then
//! publishes the slots in one short critical section; until then searches skip them.
//! Compaction (`compaction`: a new graph over the live vectors only) runs beside both: it copies the
//! live vectors, builds the new graph with no lock held while writes go on and note the
//! keys they touch, then, under the writer lock, adds the touched keys' current
//! vectors to the new graph and swaps it in.
//!
//! Searches walk a frozen copy of the graph's links ([`FrozenGraph`]), kept with the
//! points under their lock so the two always agree; slots written since the freeze are
//! scanned exactly beside it, and the writer freezes again once they are more than
//! [`refreeze_after`] (a freeze reads the links of every point: ~1 µs each). Locks
//! are always taken points first, then graph.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Mutex, PoisonError, RwLock};

use super::config::VectorConfig;
use super::distance::unit_vector;
use super::frozen::{FrozenGraph, freeze_or_warn};
use super::graph::{GRAPH_FILE, Graph};
use super::snapshot::{STATE_FILE, SnapshotState, read_points, snapshot_dir};
use super::wal::{Wal, WalRecord};
use crate::id_map::IdMap;
use crate::{Error, ExternalId, Result};

mod allowed_set;
mod compaction;
mod search;
mod snapshotting;
#[cfg(test)]
mod tests;

const WAL_FILE: &str = "wal.log";

/// One vector to insert or replace.
#[derive(Debug, Clone, Copy)]
pub struct VectorEntry<'a, K> {
    /// Whose vector it is.
    pub key: K,
    /// The version of the document it was made from (compared by the caller to skip
    /// re-embedding unchanged documents, and by parity checks).
    pub version: u64,
    /// The vector; normalised on the way in.
    pub vector: &'a [f32],
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorHit<K> {
    /// The matching id.
    pub key: K,
    /// Cosine similarity with the query, -1 to 1 (higher is closer).
    pub score: f32,
}

/// Counts describing the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VectorStats {
    /// Live vectors.
    pub live: usize,
    /// Replaced or deleted vectors still in the graph.
    pub tombstones: usize,
    /// Vector changes in the write-ahead log since the last snapshot.
    pub unsaved_changes: usize,
}

struct Points<K: ExternalId> {
    ids: IdMap<K>,
    /// Slot `i`'s vector at `i * dimension`.
    vectors: Vec<f32>,
    /// The graph's links over slots `0..frozen.len()`, when frozen.
    frozen: Option<FrozenGraph>,
}

/// How many slots written since the last freeze make the writer freeze again:
/// a sixteenth of the frozen ones, at least 1,024 (scanning those exactly costs
/// about what walking the graph does).
fn refreeze_after(frozen: usize) -> usize {
    (frozen / 16).max(1_024)
}

/// What only the writer touches: where the index lives and its log.
struct Writer {
    dir: Option<PathBuf>,
    wal: Option<Wal>,
    generation: u64,
}

/// Unit vectors keyed by `K`, with nearest-neighbour search.
pub struct VectorIndex<K: ExternalId> {
    dimension: usize,
    config: VectorConfig,
    points: RwLock<Points<K>>,
    graph: RwLock<Graph>,
    writer: Mutex<Writer>,
    committed_seq: AtomicU64,
    /// While a compaction runs: the keys written since it copied the live vectors.
    touched: Mutex<Option<HashSet<K>>>,
    /// Whether a compaction is running.
    compacting: AtomicBool,
    /// Whether a finished compaction awaits a snapshot (taken at the next commit).
    compacted_unsaved: AtomicBool,
}

impl<K: ExternalId> std::fmt::Debug for VectorIndex<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dimension", &self.dimension)
            .field("stats", &self.stats())
            .finish()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl<K: ExternalId> VectorIndex<K> {
    /// An empty index held in memory only (see [`VectorIndex::save_to`]).
    pub fn in_memory(dimension: usize, config: VectorConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::assemble(
            dimension,
            config,
            IdMap::new(),
            Vec::new(),
            None,
            0,
        ))
    }

    fn assemble(
        dimension: usize,
        config: VectorConfig,
        ids: IdMap<K>,
        vectors: Vec<f32>,
        graph: Option<Graph>,
        seq: u64,
    ) -> Self {
        let graph = graph.unwrap_or_else(|| Graph::new(&config));
        let frozen = freeze_or_warn(&graph, ids.len(), &vectors, dimension, "open");
        VectorIndex {
            dimension,
            points: RwLock::new(Points {
                ids,
                vectors,
                frozen,
            }),
            graph: RwLock::new(graph),
            writer: Mutex::new(Writer {
                dir: None,
                wal: None,
                generation: 0,
            }),
            committed_seq: AtomicU64::new(seq),
            touched: Mutex::new(None),
            compacting: AtomicBool::new(false),
            compacted_unsaved: AtomicBool::new(false),
            config,
        }
    }

    /// Whether `dir` holds a saved index (it may still turn out damaged on open).
    pub fn exists(dir: &Path) -> bool {
        dir.join(STATE_FILE).is_file()
    }

    /// Opens the index saved in `dir`: its latest snapshot plus the committed changes of
    /// its log. A graph that cannot be reloaded is rebuilt from the saved vectors and
    /// saved at once; damaged points or state are an [`Error::IndexCorrupt`].
    pub fn open(dir: &Path, dimension: usize, config: VectorConfig) -> Result<Self> {
        config.validate()?;
        let state = SnapshotState::read(dir)?;
        if state.dimension != dimension {
            return Err(Error::IndexCorrupt {
                path: dir.to_owned(),
                reason: format!(
                    "vectors of {} values, expected {dimension}",
                    state.dimension
                ),
            });
        }
        let snap = snapshot_dir(dir, &state.snapshot);
        let (slots, vectors) = read_points::<K>(&snap, dimension)?;
        let ids = IdMap::from_slots(slots);
        let graph = match load_graph(&snap, &config, &vectors, dimension) {
            Ok(graph) if graph.len() == ids.len() => Some(graph),
            Ok(graph) => {
                tracing::warn!(dir = %dir.display(), graph = graph.len(), points = ids.len(), "vector graph does not match its points; rebuilding it");
                None
            }
            Err(err) => {
                tracing::warn!(dir = %dir.display(), %err, "vector graph unreadable; rebuilding it from the saved vectors");
                None
            }
        };
        let rebuild_graph = graph.is_none();
        let index = Self::assemble(dimension, config, ids, vectors, graph, state.seq);
        if rebuild_graph {
            index.rebuild_graph_from_points();
        }
        let wal_path = dir.join(WAL_FILE);
        let (records, committed_len) = Wal::read_committed(&wal_path)?;
        Wal::cut(&wal_path, committed_len)?;
        let replayed = index.replay(&records)?;
        let mut wal = Wal::open(&wal_path)?;
        wal.add_replayed(replayed);
        {
            let mut writer = index.lock_writer();
            writer.dir = Some(dir.to_owned());
            writer.wal = Some(wal);
            writer.generation = state.generation();
        }
        if rebuild_graph {
            // Saved now, so that the next open finds the graph rather than
            // waiting for a checkpoint (which a quiet index may not reach for
            // long); the index works without it, so a failure only warns.
            if let Err(err) = index.save() {
                tracing::warn!(dir = %dir.display(), %err, "the rebuilt vector graph could not be saved");
            }
        }
        Ok(index)
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn replay(&self, records: &[WalRecord]) -> Result<usize> {
        let mut changes = 0;
        let mut upserts: Vec<(K, u64, Vec<f32>)> = Vec::new();
        let flush = |upserts: &mut Vec<(K, u64, Vec<f32>)>| -> Result<()> {
            let entries: Vec<VectorEntry<'_, K>> = upserts
                .iter()
                .map(|(key, version, vector)| VectorEntry {
                    key: *key,
                    version: *version,
                    vector,
                })
                .collect();
            self.apply_upserts(&entries)?;
            upserts.clear();
            Ok(())
        };
        for record in records {
            match record {
                WalRecord::Upsert {
                    key,
                    version,
                    vector,
                } => {
                    changes += 1;
                    // Older versions logged vectors that cannot be normalised (NaN,
                    // infinite, all zeros) as they came; such a record is no reason to
                    // refuse to open. It replays as the key's removal: what a rebuild
                    // does with a text that has no vector (not the key's older vector).
                    if vector.len() == self.dimension
                        && let Err(reason) = unit_vector(vector)
                    {
                        tracing::warn!(
                            key = *key,
                            version = *version,
                            reason,
                            "a logged vector that cannot be stored replays as its key's removal"
                        );
                        flush(&mut upserts)?;
                        write(&self.points).ids.remove(K::from_raw(*key));
                        continue;
                    }
                    upserts.push((K::from_raw(*key), *version, vector.clone()));
                }
                WalRecord::Delete { key } => {
                    changes += 1;
                    flush(&mut upserts)?;
                    write(&self.points).ids.remove(K::from_raw(*key));
                }
                WalRecord::Commit { seq } => {
                    flush(&mut upserts)?;
                    self.committed_seq.store(*seq, AtomicOrdering::SeqCst);
                }
            }
        }
        flush(&mut upserts)?;
        Ok(changes)
    }

    /// The length of every vector.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The settings.
    pub fn config(&self) -> &VectorConfig {
        &self.config
    }

    /// The sequence number of the last [`VectorIndex::commit`] (0 before any).
    pub fn committed_seq(&self) -> u64 {
        self.committed_seq.load(AtomicOrdering::SeqCst)
    }

    /// Live vectors, tombstones and unsaved changes.
    pub fn stats(&self) -> VectorStats {
        let points = read(&self.points);
        let unsaved_changes = self
            .writer
            .try_lock()
            .ok()
            .and_then(|w| w.wal.as_ref().map(Wal::changes))
            .unwrap_or(0);
        VectorStats {
            live: points.ids.live(),
            tombstones: points.ids.tombstones(),
            unsaved_changes,
        }
    }

    /// The number of live vectors.
    pub fn len(&self) -> usize {
        read(&self.points).ids.live()
    }

    /// Whether there is no live vector.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The version of `key`'s vector, if it has one.
    pub fn version(&self, key: K) -> Option<u64> {
        read(&self.points).ids.version(key)
    }

    /// Every live id with its version, in no particular order.
    pub fn entries(&self) -> Vec<(K, u64)> {
        read(&self.points)
            .ids
            .live_entries()
            .map(|(_, key, version)| (key, version))
            .collect()
    }

    /// A copy of `key`'s (normalised) vector.
    pub fn vector(&self, key: K) -> Option<Vec<f32>> {
        let points = read(&self.points);
        let internal = points.ids.internal(key)?;
        points
            .vectors
            .get(internal * self.dimension..(internal + 1) * self.dimension)
            .map(<[f32]>::to_vec)
    }

    /// Inserts or replaces vectors. Durable after the next [`VectorIndex::commit`].
    ///
    /// The whole batch is refused, with nothing logged or stored, with an
    /// [`Error::Invalid`] naming the first bad entry when a vector is not
    /// [`VectorIndex::dimension`] long, holds a NaN or infinite value, or cannot be
    /// normalised (all zeros, or values so large that its squared length overflows).
    pub fn upsert(&self, entries: &[VectorEntry<'_, K>]) -> Result<()> {
        let mut writer = self.lock_writer();
        let normalized = self.normalized(entries)?;
        if let Some(wal) = writer.wal.as_mut() {
            let records: Vec<WalRecord> = entries
                .iter()
                .zip(&normalized)
                .map(|(entry, vector)| WalRecord::Upsert {
                    key: entry.key.to_raw(),
                    version: entry.version,
                    vector: vector.clone(),
                })
                .collect();
            wal.append(&records)?;
        }
        self.apply_normalized(entries, &normalized);
        self.note_touched(entries.iter().map(|entry| entry.key));
        drop(writer);
        Ok(())
    }

    fn normalized(&self, entries: &[VectorEntry<'_, K>]) -> Result<Vec<Vec<f32>>> {
        entries
            .iter()
            .enumerate()
            .map(|(position, entry)| {
                if entry.vector.len() != self.dimension {
                    return Err(Error::Invalid(format!(
                        "vector of {} values for {:?}, expected {}",
                        entry.vector.len(),
                        entry.key,
                        self.dimension
                    )));
                }
                unit_vector(entry.vector).map_err(|reason| {
                    Error::Invalid(format!(
                        "the vector of entry {position} ({:?}) {reason}",
                        entry.key
                    ))
                })
            })
            .collect()
    }

    fn apply_upserts(&self, entries: &[VectorEntry<'_, K>]) -> Result<()> {
        let normalized = self.normalized(entries)?;
        self.apply_normalized(entries, &normalized);
        Ok(())
    }

    /// Applies `entries` with their vectors replaced by `normalized` (same order).
    fn apply_normalized(&self, entries: &[VectorEntry<'_, K>], normalized: &[Vec<f32>]) {
        let entries: Vec<VectorEntry<'_, K>> = entries
            .iter()
            .zip(normalized)
            .map(|(entry, vector)| VectorEntry {
                key: entry.key,
                version: entry.version,
                vector,
            })
            .collect();
        self.apply_upserts_unchecked(&entries);
    }

    /// Reserve, insert into the graph, publish. The caller holds the writer lock (or is
    /// still constructing the index) and has checked the vectors.
    fn apply_upserts_unchecked(&self, entries: &[VectorEntry<'_, K>]) {
        // The last entry for a key wins; an identical live vector is kept as is.
        let mut last: std::collections::HashMap<K, usize> = std::collections::HashMap::new();
        for (position, entry) in entries.iter().enumerate() {
            last.insert(entry.key, position);
        }
        let wanted: Vec<&VectorEntry<'_, K>> = {
            let points = read(&self.points);
            entries
                .iter()
                .enumerate()
                .filter(|(position, entry)| {
                    last.get(&entry.key) == Some(position)
                        && !points.ids.internal(entry.key).is_some_and(|internal| {
                            points.ids.slots()[internal].version == entry.version
                                && points
                                    .vectors
                                    .get(internal * self.dimension..(internal + 1) * self.dimension)
                                    == Some(entry.vector)
                        })
                })
                .map(|(_, entry)| entry)
                .collect()
        };
        if wanted.is_empty() {
            return;
        }
        let reserved: Vec<usize> = {
            let mut points = write(&self.points);
            wanted
                .iter()
                .map(|entry| {
                    points.vectors.extend_from_slice(entry.vector);
                    points.ids.reserve(entry.key, entry.version)
                })
                .collect()
        };
        {
            let points = read(&self.points);
            write(&self.graph).insert(&points.vectors, self.dimension, points.ids.len());
        }
        let mut points = write(&self.points);
        for internal in reserved {
            points.ids.publish(internal);
        }
        let len = points.ids.len();
        let frozen = points.frozen.as_ref().map_or(0, FrozenGraph::len);
        drop(points);
        if len - frozen > refreeze_after(frozen) {
            self.refreeze();
        }
    }

    /// Freezes the graph's links over every slot. The caller holds the writer
    /// lock (or is still constructing the index), so the graph holds exactly
    /// the published slots and nothing inserts meanwhile.
    fn refreeze(&self) {
        let (len, frozen) = {
            let points = read(&self.points);
            let len = points.ids.len();
            let frozen = freeze_or_warn(
                &read(&self.graph),
                len,
                &points.vectors,
                self.dimension,
                "refreeze",
            );
            (len, frozen)
        };
        let mut points = write(&self.points);
        if points.ids.len() == len {
            points.frozen = frozen;
        }
    }

    /// Removes vectors (absent keys are ignored). Durable after the next commit.
    pub fn remove(&self, keys: &[K]) -> Result<()> {
        let mut writer = self.lock_writer();
        if let Some(wal) = writer.wal.as_mut() {
            let records: Vec<WalRecord> = keys
                .iter()
                .map(|key| WalRecord::Delete { key: key.to_raw() })
                .collect();
            wal.append(&records)?;
        }
        let mut points = write(&self.points);
        for key in keys {
            points.ids.remove(*key);
        }
        drop(points);
        self.note_touched(keys.iter().copied());
        Ok(())
    }

    /// Makes every change so far durable as the state at sequence number `seq`, then
    /// saves a snapshot when the log has grown past `checkpoint_every` changes or a
    /// compaction finished since the last one. Compacting is the caller's to start
    /// ([`VectorIndex::needs_compaction`], [`VectorIndex::compact`]), on any thread.
    pub fn commit(&self, seq: u64) -> Result<()> {
        let (checkpoint, persistent) = {
            let mut writer = self.lock_writer();
            match writer.wal.as_mut() {
                Some(wal) => {
                    wal.append(&[WalRecord::Commit { seq }])?;
                    wal.sync()?;
                    (wal.changes() >= self.config.checkpoint_every, true)
                }
                None => (false, false),
            }
        };
        self.committed_seq.store(seq, AtomicOrdering::SeqCst);
        let compacted = self.compacted_unsaved.swap(false, AtomicOrdering::SeqCst);
        if persistent && (checkpoint || compacted) {
            self.save()?;
        }
        Ok(())
    }

    fn build_graph(&self, vectors: &[f32], count: usize) -> Graph {
        let mut graph = Graph::new(&self.config);
        graph.insert(vectors, self.dimension, count);
        graph
    }

    fn rebuild_graph_from_points(&self) {
        let graph = {
            let points = read(&self.points);
            self.build_graph(&points.vectors, points.ids.len())
        };
        *write(&self.graph) = graph;
        self.refreeze();
    }
}

/// The graph saved in snapshot directory `snap`, over the saved `vectors`;
/// an empty one when the snapshot has no `graph.bin` (saved empty, or by a
/// version that saved hnsw_rs's dump: the caller rebuilds it when the
/// points say it cannot be empty).
fn load_graph(
    snap: &Path,
    config: &VectorConfig,
    vectors: &[f32],
    dimension: usize,
) -> Result<Graph> {
    if snap.join(GRAPH_FILE).is_file() {
        return Graph::load(snap, config, vectors, dimension);
    }
    Ok(Graph::new(config))
}

//! A saved vector index: `state.json` names the current snapshot directory and the
//! sequence number it holds; the snapshot has `points.bin` (the id map's slots and every
//! slot's vector, with a CRC) and the graph's `graph.bin` (see `graph`). A new snapshot is
//! written beside the old one and becomes current by renaming `state.json`, so a crash
//! leaves one complete snapshot or the other.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::durable_file::write_atomically;
use crate::id_map::Slot;
use crate::{Error, ExternalId, Result};

const MAGIC: &[u8; 8] = b"DRPLYVS1";
/// The file naming the current snapshot.
pub(crate) const STATE_FILE: &str = "state.json";
const POINTS_FILE: &str = "points.bin";

/// The contents of `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SnapshotState {
    /// The snapshot directory's name, e.g. `snap-000003`.
    pub snapshot: String,
    /// The sequence number the snapshot holds.
    pub seq: u64,
    /// The vectors' length.
    pub dimension: usize,
}

impl SnapshotState {
    /// Reads `state.json` in `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|err| Error::IndexCorrupt {
            path: path.clone(),
            reason: format!("no readable state: {err}"),
        })?;
        serde_json::from_str(&text).map_err(|err| Error::IndexCorrupt {
            path,
            reason: err.to_string(),
        })
    }

    /// Writes `state.json` in `dir` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text =
            serde_json::to_vec_pretty(self).map_err(|err| Error::Invalid(err.to_string()))?;
        write_atomically(&dir.join(STATE_FILE), &text)
    }

    /// The generation number in the snapshot's name.
    pub fn generation(&self) -> u64 {
        self.snapshot
            .strip_prefix("snap-")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// The name of the snapshot directory of generation `generation`.
pub(crate) fn snapshot_name(generation: u64) -> String {
    format!("snap-{generation:06}")
}

/// Writes the slots and their vectors (`vectors[i * dimension..]` for slot `i`).
pub(crate) fn write_points<K: ExternalId>(
    dir: &Path,
    dimension: usize,
    slots: &[Slot<K>],
    vectors: &[f32],
) -> Result<()> {
    let path = dir.join(POINTS_FILE);
    let file = File::create(&path).map_err(Error::file(&path))?;
    let mut out = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: crc32fast::Hasher::new(),
    };
    let mut header = Vec::with_capacity(20);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&(dimension as u32).to_le_bytes());
    header.extend_from_slice(&(slots.len() as u64).to_le_bytes());
    out.write(&header).map_err(Error::file(&path))?;
    let mut buf = Vec::with_capacity(17 * 1024);
    for chunk in slots.chunks(1024) {
        buf.clear();
        for slot in chunk {
            buf.extend_from_slice(&slot.key.to_raw().to_le_bytes());
            buf.extend_from_slice(&slot.version.to_le_bytes());
            buf.push(u8::from(slot.live));
        }
        out.write(&buf).map_err(Error::file(&path))?;
    }
    for chunk in vectors.chunks(16 * 1024) {
        buf.clear();
        for value in chunk {
            buf.extend_from_slice(&value.to_le_bytes());
        }
        out.write(&buf).map_err(Error::file(&path))?;
    }
    let crc = out.hasher.clone().finalize();
    let mut file = out.inner;
    file.write_all(&crc.to_le_bytes())
        .map_err(Error::file(&path))?;
    let file = file
        .into_inner()
        .map_err(|err| Error::file(&path)(err.into_error()))?;
    file.sync_all().map_err(Error::file(&path))
}

/// Reads what [`write_points`] wrote, checking magic, dimension and CRC.
pub(crate) fn read_points<K: ExternalId>(
    dir: &Path,
    dimension: usize,
) -> Result<(Vec<Slot<K>>, Vec<f32>)> {
    let path = dir.join(POINTS_FILE);
    let corrupt = |reason: &str| Error::IndexCorrupt {
        path: path.clone(),
        reason: reason.to_owned(),
    };
    let mut bytes = Vec::new();
    File::open(&path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(Error::file(&path))?;
    if bytes.len() < 24 || &bytes[..8] != MAGIC {
        return Err(corrupt("not a vector snapshot"));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err(corrupt("checksum mismatch"));
    }
    let stored_dimension = u32::from_le_bytes([body[8], body[9], body[10], body[11]]) as usize;
    if stored_dimension != dimension {
        return Err(corrupt(&format!(
            "vectors of {stored_dimension} values, expected {dimension}"
        )));
    }
    let mut count_bytes = [0u8; 8];
    count_bytes.copy_from_slice(&body[12..20]);
    let count = u64::from_le_bytes(count_bytes) as usize;
    let slots_end = 20 + count * 17;
    if body.len() != slots_end + count * dimension * 4 {
        return Err(corrupt("wrong length"));
    }
    let read_u64 = |b: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        u64::from_le_bytes(a)
    };
    let slots = body[20..slots_end]
        .chunks_exact(17)
        .map(|b| Slot {
            key: K::from_raw(read_u64(&b[..8])),
            version: read_u64(&b[8..16]),
            live: b[16] == 1,
        })
        .collect();
    let vectors = body[slots_end..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((slots, vectors))
}

/// The directory of snapshot `name` in `dir`.
pub(crate) fn snapshot_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

struct HashingWriter<W: Write> {
    inner: W,
    hasher: crc32fast::Hasher,
}

impl<W: Write> HashingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes)
    }
}

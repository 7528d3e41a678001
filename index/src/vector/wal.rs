//! The vector index's write-ahead log: every upsert and delete since the last snapshot,
//! with commit markers carrying the caller's sequence number. Records are framed with
//! their length and a CRC, so a record torn by a crash is detected and dropped together
//! with everything after it; only changes up to the last complete commit marker replay.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

const UPSERT: u8 = 1;
const DELETE: u8 = 2;
const COMMIT: u8 = 3;

/// One logged change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WalRecord {
    /// `key` now has the vector `vector` made from version `version`.
    Upsert {
        /// Raw external id.
        key: u64,
        /// The document version.
        version: u64,
        /// The unit vector.
        vector: Vec<f32>,
    },
    /// `key` was removed.
    Delete {
        /// Raw external id.
        key: u64,
    },
    /// Everything before this record is the index's state at sequence number `seq`.
    Commit {
        /// The caller's sequence number.
        seq: u64,
    },
}

impl WalRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            WalRecord::Upsert {
                key,
                version,
                vector,
            } => {
                out.push(UPSERT);
                out.extend_from_slice(&key.to_le_bytes());
                out.extend_from_slice(&version.to_le_bytes());
                out.extend_from_slice(&(vector.len() as u32).to_le_bytes());
                for value in vector {
                    out.extend_from_slice(&value.to_le_bytes());
                }
            }
            WalRecord::Delete { key } => {
                out.push(DELETE);
                out.extend_from_slice(&key.to_le_bytes());
            }
            WalRecord::Commit { seq } => {
                out.push(COMMIT);
                out.extend_from_slice(&seq.to_le_bytes());
            }
        }
    }

    fn decode(payload: &[u8]) -> Option<WalRecord> {
        let (&tag, rest) = payload.split_first()?;
        let u64_at = |at: usize| {
            rest.get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
        };
        match tag {
            UPSERT => {
                let key = u64_at(0)?;
                let version = u64_at(8)?;
                let len = u32::from_le_bytes(rest.get(16..20)?.try_into().ok()?) as usize;
                let floats = rest.get(20..)?;
                if floats.len() != len * 4 {
                    return None;
                }
                let vector = floats
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                Some(WalRecord::Upsert {
                    key,
                    version,
                    vector,
                })
            }
            DELETE if rest.len() == 8 => Some(WalRecord::Delete { key: u64_at(0)? }),
            COMMIT if rest.len() == 8 => Some(WalRecord::Commit { seq: u64_at(0)? }),
            _ => None,
        }
    }
}

/// An open log, appended to by the single writer.
#[derive(Debug)]
pub(crate) struct Wal {
    path: PathBuf,
    file: BufWriter<File>,
    /// Vector changes written since the log was last emptied.
    changes: usize,
}

impl Wal {
    /// Opens (or creates) the log at `path` for appending.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(Error::file(path))?;
        Ok(Wal {
            path: path.to_owned(),
            file: BufWriter::new(file),
            changes: 0,
        })
    }

    /// Reads the committed records of the log at `path` (none when it does not exist):
    /// every record up to the last complete commit marker, and the length in bytes of
    /// that committed prefix.
    pub fn read_committed(path: &Path) -> Result<(Vec<WalRecord>, u64)> {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut file) => {
                file.read_to_end(&mut bytes).map_err(Error::file(path))?;
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(err) => return Err(Error::file(path)(err)),
        }
        let mut records = Vec::new();
        let mut committed = 0;
        let mut committed_len = 0;
        let mut at = 0;
        while let Some(header) = bytes.get(at..at + 8) {
            let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let Some(payload) = bytes.get(at + 8..at + 8 + len) else {
                break;
            };
            if crc32fast::hash(payload) != crc {
                break;
            }
            let Some(record) = WalRecord::decode(payload) else {
                break;
            };
            let is_commit = matches!(record, WalRecord::Commit { .. });
            records.push(record);
            at += 8 + len;
            if is_commit {
                committed = records.len();
                committed_len = at;
            }
        }
        if at < bytes.len() {
            tracing::warn!(path = %path.display(), dropped_bytes = bytes.len() - at, "vector log ends in a torn record");
        }
        records.truncate(committed);
        Ok((records, committed_len as u64))
    }

    /// Cuts the log at `path` back to its committed prefix of `len` bytes, so that new
    /// records follow the last commit rather than a torn or uncommitted tail.
    pub fn cut(path: &Path, len: u64) -> Result<()> {
        match OpenOptions::new().write(true).open(path) {
            Ok(file) => {
                file.set_len(len).map_err(Error::file(path))?;
                file.sync_all().map_err(Error::file(path))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(Error::file(path)(err)),
        }
    }

    /// Appends records (buffered; [`Wal::sync`] makes them durable).
    pub fn append(&mut self, records: &[WalRecord]) -> Result<()> {
        let mut payload = Vec::new();
        for record in records {
            payload.clear();
            record.encode(&mut payload);
            let mut frame = Vec::with_capacity(payload.len() + 8);
            frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
            frame.extend_from_slice(&payload);
            self.file
                .write_all(&frame)
                .map_err(Error::file(&self.path))?;
            if !matches!(record, WalRecord::Commit { .. }) {
                self.changes += 1;
            }
        }
        Ok(())
    }

    /// Writes buffered records through to disk.
    pub fn sync(&mut self) -> Result<()> {
        self.file.flush().map_err(Error::file(&self.path))?;
        self.file
            .get_ref()
            .sync_data()
            .map_err(Error::file(&self.path))
    }

    /// Vector changes written since the log was last emptied (or opened).
    pub fn changes(&self) -> usize {
        self.changes
    }

    /// Counts replayed changes as part of the log.
    pub fn add_replayed(&mut self, changes: usize) {
        self.changes += changes;
    }

    /// Empties the log (after a snapshot holds everything in it).
    pub fn truncate(&mut self) -> Result<()> {
        self.file.flush().map_err(Error::file(&self.path))?;
        let file = self.file.get_ref();
        file.set_len(0).map_err(Error::file(&self.path))?;
        file.sync_all().map_err(Error::file(&self.path))?;
        self.changes = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_committed_records_replay_and_a_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wal.log");
        let mut wal = Wal::open(&path).expect("open");
        let upsert = WalRecord::Upsert {
            key: 1,
            version: 9,
            vector: vec![0.6, 0.8],
        };
        wal.append(&[
            upsert.clone(),
            WalRecord::Commit { seq: 4 },
            WalRecord::Delete { key: 1 },
        ])
        .expect("append");
        wal.sync().expect("sync");
        let (records, len) = Wal::read_committed(&path).expect("read");
        assert_eq!(records, vec![upsert.clone(), WalRecord::Commit { seq: 4 }]);
        Wal::cut(&path, len).expect("cut");
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), len);
        // A torn record after the commit changes nothing.
        let mut bytes = std::fs::read(&path).expect("bytes");
        bytes.extend_from_slice(&[40, 0, 0, 0, 1, 2]);
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(Wal::read_committed(&path).expect("read").0.len(), 2);
    }
}

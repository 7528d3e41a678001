//! The data directory's lock. Every command that opens a data directory
//! first takes an exclusive lock on `<data-dir>/.lock`, without waiting,
//! and holds it until it ends; the operating system lets go of it when the
//! process ends however it ends, so a killed `serve` leaves no stale lock.
//!
//! Without it, a second process on the directory of a running node whose
//! store is not in the data directory (PostgreSQL, or sled kept elsewhere,
//! so sled's own lock did not stop it): `verify`, `reindex` or another
//! `serve` took the node's locked search index for a damaged one and
//! rebuilt it, removing the live one, and emptied its `content/tmp/` under
//! its uploads. Now the second process is refused before it touches
//! anything.

use std::fs::{File, OpenOptions, TryLockError};

use droply_engine::DataDir;

use crate::{Error, Result};

/// A data directory this process holds; let go when dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Creates `data_dir` when missing and takes its lock; an
    /// [`Error::Config`] saying so when another process holds it.
    pub fn take(data_dir: &DataDir) -> Result<DataDirLock> {
        std::fs::create_dir_all(data_dir.path())?;
        let path = data_dir.lock_file();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(Error::Config(format!(
                "the data dir {} is in use by another droply process (it holds {}); \
                 stop that process first, or give this one a data dir of its own",
                data_dir.path().display(),
                path.display()
            ))),
            Err(TryLockError::Error(err)) => Err(Error::Config(format!(
                "cannot lock the data dir {} ({}): {err}",
                data_dir.path().display(),
                path.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_data_dir_is_refused_until_let_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = DataDir::new(dir.path().join("data"));
        let first = DataDirLock::take(&layout).expect("the first holder");
        let refused = DataDirLock::take(&layout).expect_err("a second holder");
        assert!(
            refused
                .to_string()
                .contains("in use by another droply process"),
            "{refused}"
        );
        drop(first);
        DataDirLock::take(&layout).expect("free again");
    }
}

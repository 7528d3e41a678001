//! Writing files so that a crash leaves either their old contents or their new ones:
//! the vector index's `state.json`, and in the engine the search manifest and the
//! matcher's stats snapshot. One place for the order that makes it so: write and sync
//! the file, rename it over the old one, sync the directory.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `bytes` to `path` through `path` + `.tmp`: written and synced, renamed over
/// `path`, and the rename synced, so a crash leaves the old file or the new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = PathBuf::from(path).into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    write_synced(&tmp, bytes)?;
    std::fs::rename(&tmp, path).map_err(Error::file(path))?;
    match directory_of(path) {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

/// The directory holding `path`: a bare file name's parent is "", the
/// current directory (opening "" fails, after the rename had succeeded).
fn directory_of(path: &Path) -> Option<&Path> {
    match path.parent() {
        Some(dir) if dir.as_os_str().is_empty() => Some(Path::new(".")),
        parent => parent,
    }
}

/// Writes `bytes` to `path` and syncs it.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = File::create(path).map_err(Error::file(path))?;
    file.write_all(bytes).map_err(Error::file(path))?;
    file.sync_all().map_err(Error::file(path))
}

/// Syncs a directory so that renames in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::file(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("manifest.json");
        write_atomically(&path, b"old").expect("write");
        write_atomically(&path, b"new").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        assert!(!dir.path().join("manifest.json.tmp").exists());
    }

    /// Regression: a bare file name's rename was synced through its parent
    /// "", which cannot be opened: the write happened and was reported failed.
    #[test]
    fn a_bare_file_names_directory_is_the_current_one() {
        assert_eq!(
            directory_of(Path::new("manifest.json")),
            Some(Path::new("."))
        );
        assert_eq!(
            directory_of(Path::new("search/manifest.json")),
            Some(Path::new("search"))
        );
        assert_eq!(directory_of(Path::new("/")), None);
        sync_dir(directory_of(Path::new("manifest.json")).expect("a directory"))
            .expect("the current directory syncs");
    }
}

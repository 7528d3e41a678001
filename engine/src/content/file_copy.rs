//! Content files for `droply migrate`: a store copied from sled into
//! PostgreSQL takes the files its rows point at along, from the data
//! directory into the database; one copied back takes them out into the
//! data directory. Every file is checked against the size and SHA-256 its
//! row records, and a sled store's files are checked before any row is
//! copied, so a copy never starts that could not finish.

use std::io::Read;
use std::path::Path;

use droply_models::{Content, FileMeta};
use sha2::{Digest, Sha256};

use super::files::ContentFiles;
use crate::store::Store;
use crate::{Error, Result};

/// Every file a content row of `store` points at, with what it records.
fn recorded_files(store: &Store) -> Result<Vec<(String, FileMeta)>> {
    let mut files = Vec::new();
    for item in store.iter::<Content>() {
        let content = item?;
        let pairs = [
            (Some(content.file_path), content.file_meta),
            (content.preview_path, content.preview_meta),
        ];
        files.extend(
            pairs
                .into_iter()
                .filter_map(|(path, meta)| match (path, meta) {
                    (Some(path), Some(meta)) if !path.is_empty() => Some((path, meta)),
                    _ => None,
                }),
        );
    }
    Ok(files)
}

/// Before copying `from` into `to`: when the copy moves files from the
/// data directory into the database, every file is there and whole.
pub fn check_files_to_copy(from: &Store, to: &Store, data_dir: &Path) -> Result<usize> {
    if from.shared_files().is_some() || to.shared_files().is_none() {
        return Ok(0);
    }
    let files = ContentFiles::open(data_dir, from)?;
    let recorded = recorded_files(from)?;
    for (stored, meta) in &recorded {
        check(&files, stored, meta)?;
    }
    Ok(recorded.len())
}

/// After copying the rows of `from` into `to`: copies the files their
/// content rows point at between `data_dir` and the database (whichever
/// way the rows went); how many.
pub fn copy_files(from: &Store, to: &Store, data_dir: &Path) -> Result<usize> {
    let recorded = recorded_files(from)?;
    match (from.shared_files(), to.shared_files()) {
        (None, Some(shared)) => {
            let files = ContentFiles::open(data_dir, from)?;
            for (stored, meta) in &recorded {
                let mut file = files.open_file(stored)?;
                shared.put(stored, &mut file, meta.size, &meta.sha256)?;
            }
        }
        (Some(_), None) => {
            // Opening a file of the shared store fetches it into the data dir.
            let files = ContentFiles::open(data_dir, from)?;
            for (stored, meta) in &recorded {
                check(&files, stored, meta)?;
            }
        }
        _ => return Ok(0),
    }
    Ok(recorded.len())
}

/// The file at `stored` has the size and hash `meta` records.
fn check(files: &ContentFiles, stored: &str, meta: &FileMeta) -> Result<()> {
    let mut file = files.open_file(stored).map_err(|err| {
        Error::Invalid(format!("the content file {stored} cannot be read: {err}"))
    })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    if size != meta.size || hex::encode(hasher.finalize()) != meta.sha256 {
        return Err(Error::Corrupt(format!(
            "the content file {stored} is not what its row records ({size} bytes)"
        )));
    }
    Ok(())
}

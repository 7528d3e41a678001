//! Where content files live: `<data-dir>/content/<content id>/`, each file
//! named by the engine (`file-<hash prefix>-<random>.<extension>`), never by
//! anything the client sent. An upload streams into `content/tmp/` while
//! it is hashed, measured against its limit and typed from its first bytes;
//! only a complete, allowed file is synced and renamed into place, and only
//! then does a row point at it. A failed upload deletes its partial file;
//! what a crash leaves behind (partials, a file renamed but never recorded)
//! is swept when the engine opens.
//!
//! When several nodes share the store (PostgreSQL), a kept file is also
//! stored in the database ([`crate::store::SharedFiles`]) before its row
//! points at it, and a node asked for a file it does not have fetches it
//! from there into its own `content/` (a cache: the database's copy is the
//! one of record). Shared files no row points at are swept after an hour,
//! so an upload another node is still recording is left alone.
//!
//! A node's own files no row names (its cached copy of a file another node
//! deleted or replaced, or its own upload whose row was never written) are
//! swept by `local_sweep`: when the engine opens, and by a job on every
//! node once they are an hour old.

mod local_sweep;

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use droply_models::{Content, ContentId, FileMeta};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::sniff::{FileType, SNIFF_BYTES, sniff};
use crate::store::Store;
use crate::{Error, Result};

/// The directory under the data directory that holds content files.
pub const CONTENT_DIR: &str = "content";

/// Which of a content item's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// What buyers download.
    File,
    /// The free preview.
    Preview,
}

impl FileRole {
    fn name(self) -> &'static str {
        match self {
            FileRole::File => "file",
            FileRole::Preview => "preview",
        }
    }
}

/// A complete upload waiting in `tmp/`; deleted when dropped unless kept.
#[derive(Debug)]
pub struct Received {
    temp: PathBuf,
    kept: bool,
    /// What the bytes are.
    pub file_type: FileType,
    /// Its size and hash.
    pub meta: FileMeta,
}

impl Drop for Received {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// How long a shared file no row points at is kept: an upload another
/// node stored but has not recorded yet must not be swept.
const SHARED_ORPHAN_GRACE_MINUTES: i64 = 60;

/// The content file directory.
#[derive(Debug, Clone)]
pub struct ContentFiles {
    data_dir: PathBuf,
    /// The store; when it is shared, it keeps the files of record.
    store: Store,
}

impl ContentFiles {
    /// How old a local file no row names must be before the periodic sweep
    /// deletes it (the shared files' grace): an upload this node wrote but
    /// has not recorded yet is younger.
    pub const LOCAL_ORPHAN_GRACE: Duration =
        Duration::from_secs(SHARED_ORPHAN_GRACE_MINUTES.unsigned_abs() * 60);

    /// The content files of `data_dir` (and of `store`, when it is shared);
    /// creates `content/tmp/` and empties it (what is there is what an
    /// interrupted upload left).
    pub fn open(data_dir: &Path, store: &Store) -> Result<ContentFiles> {
        let files = ContentFiles {
            data_dir: data_dir.to_owned(),
            store: store.clone(),
        };
        let tmp = files.tmp_dir();
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        Ok(files)
    }

    fn root(&self) -> PathBuf {
        self.data_dir.join(CONTENT_DIR)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root().join("tmp")
    }

    /// Streams `body` into a temporary file: at most `limit` bytes
    /// ([`Error::FileTooLarge`] past it), of an allowed type that `accept`
    /// agrees to ([`Error::UnsupportedFile`] otherwise). Nothing is left
    /// behind on any error.
    pub fn receive(
        &self,
        body: &mut dyn Read,
        limit: u64,
        accept: &dyn Fn(FileType) -> Result<()>,
    ) -> Result<Received> {
        let temp = self.tmp_dir().join(format!("{}.part", random_name()));
        let mut out = File::create(&temp)?;
        let mut received = Received {
            temp,
            kept: false,
            file_type: super::sniff::ALLOWED[0],
            meta: FileMeta {
                media_type: String::new(),
                size: 0,
                sha256: String::new(),
            },
        };
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        let mut typed = None;
        let mut size: u64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    return Err(Error::Invalid(format!("the upload was interrupted: {err}")));
                }
            };
            let chunk = &buf[..n];
            size += n as u64;
            if size > limit {
                return Err(Error::FileTooLarge { limit });
            }
            if typed.is_none() {
                let want = SNIFF_BYTES - head.len();
                head.extend_from_slice(&chunk[..want.min(n)]);
                if head.len() == SNIFF_BYTES {
                    typed = Some(check_type(&head, accept)?);
                }
            }
            hasher.update(chunk);
            out.write_all(chunk)?;
        }
        let file_type = match typed {
            Some(file_type) => file_type,
            None => check_type(&head, accept)?,
        };
        out.sync_all()?;
        received.file_type = file_type;
        received.meta = FileMeta {
            media_type: file_type.media_type.to_owned(),
            size,
            sha256: hex::encode(hasher.finalize()),
        };
        Ok(received)
    }

    /// Moves `received` into `content`'s directory as its `role` file; the
    /// path to record (relative to the data directory).
    pub fn keep(
        &self,
        mut received: Received,
        content: ContentId,
        role: FileRole,
    ) -> Result<String> {
        let dir = self.root().join(content.to_string());
        fs::create_dir_all(&dir)?;
        let name = format!(
            "{}-{}-{}.{}",
            role.name(),
            &received.meta.sha256[..16],
            random_name(),
            received.file_type.extension
        );
        let path = dir.join(&name);
        fs::rename(&received.temp, &path)?;
        received.kept = true;
        File::open(&dir)?.sync_all()?;
        let stored = format!("{CONTENT_DIR}/{content}/{name}");
        if let Some(shared) = self.store.shared_files() {
            let put = File::open(&path).map_err(Error::from).and_then(|mut file| {
                shared.put(
                    &stored,
                    &mut file,
                    received.meta.size,
                    &received.meta.sha256,
                )
            });
            if let Err(err) = put {
                let _ = fs::remove_file(&path);
                return Err(err);
            }
        }
        Ok(stored)
    }

    /// Writes `bytes` as the file at `stored` (a path of this module's
    /// form, for rows made elsewhere: the demo's), here and in the shared
    /// store.
    pub fn place(&self, stored: &str, bytes: &[u8]) -> Result<()> {
        let path = self.resolve(stored)?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut file = File::create(&path)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if let Some(shared) = self.store.shared_files() {
            let sha256 = hex::encode(Sha256::digest(bytes));
            shared.put(stored, &mut &bytes[..], bytes.len() as u64, &sha256)?;
        }
        Ok(())
    }

    /// The file at `stored` (a path this module made), opened for reading;
    /// fetched from the shared store first when this node has no copy.
    pub fn open_file(&self, stored: &str) -> Result<File> {
        let path = self.resolve(stored)?;
        match File::open(&path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let Some(shared) = self.store.shared_files() else {
                    return Err(err.into());
                };
                let temp = self.tmp_dir().join(format!("{}.fetch", random_name()));
                let mut out = File::create(&temp)?;
                let fetched = shared.fetch(stored, &mut out).and_then(|found| {
                    out.sync_all()?;
                    Ok(found)
                });
                if !matches!(fetched, Ok(true)) {
                    let _ = fs::remove_file(&temp);
                    fetched?;
                    return Err(err.into());
                }
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir)?;
                }
                fs::rename(&temp, &path)?;
                Ok(File::open(&path)?)
            }
            other => Ok(other?),
        }
    }

    /// Deletes the file at `stored` (here and in the shared store); a file
    /// already gone is fine.
    pub fn remove(&self, stored: &str) {
        let Ok(path) = self.resolve(stored) else {
            return;
        };
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "a content file could not be deleted")
            }
        }
        if let Some(shared) = self.store.shared_files()
            && let Err(err) = shared.delete(stored)
        {
            tracing::warn!(path = %stored, %err, "a shared content file could not be deleted");
        }
    }

    /// The absolute path of `stored`, which must be a relative path under
    /// `content/` without `..` or other escapes.
    fn resolve(&self, stored: &str) -> Result<PathBuf> {
        let path = Path::new(stored);
        let safe = path.starts_with(CONTENT_DIR)
            && path.components().all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(Error::Corrupt(format!(
                "content file path {stored:?} is not ours"
            )));
        }
        Ok(self.data_dir.join(path))
    }

    /// Deletes files under `content/` that no content row points at (an
    /// upload renamed into place whose row was never written, or a replaced
    /// file a crash kept from being deleted), whatever their age: it runs
    /// when the engine opens, with no upload of this node in flight; and
    /// shared files no row has pointed at for an hour. Returns how many.
    pub fn sweep_orphans(&self) -> Result<usize> {
        let store = &self.store;
        let mut removed = 0;
        if let Some(shared) = store.shared_files() {
            let known = recorded_paths(store)?;
            let cutoff = droply_models::Timestamp::now().plus_minutes(-SHARED_ORPHAN_GRACE_MINUTES);
            for stored in shared.stored_before(cutoff)? {
                if !known.contains(&stored) {
                    shared.delete(&stored)?;
                    removed += 1;
                }
            }
        }
        Ok(removed + self.sweep_local_orphans(Duration::ZERO)?)
    }

    /// The guard before a data directory is taken for `store`'s: whether
    /// the files under `data_dir`'s `content/` may be `store`'s, that is
    /// whether it holds none or a content row of `store` names one of them.
    /// Files no row names belong to another store (the directory was opened
    /// with the wrong one), and [`ContentFiles::sweep_orphans`] would delete
    /// them all. Reads only; a missing `content/` holds none.
    pub fn may_belong_to(data_dir: &Path, store: &Store) -> Result<bool> {
        let local = local_files(&data_dir.join(CONTENT_DIR))?;
        if local.is_empty() {
            return Ok(true);
        }
        let known = recorded_paths(store)?;
        Ok(local.iter().any(|(stored, _)| known.contains(stored)))
    }
}

/// The paths `store`'s content rows record, files and previews.
fn recorded_paths(store: &Store) -> Result<HashSet<String>> {
    let mut known = HashSet::new();
    for item in store.iter::<Content>() {
        let content = item?;
        known.extend(
            [Some(content.file_path), content.preview_path]
                .into_iter()
                .flatten()
                .filter(|path| !path.is_empty()),
        );
    }
    Ok(known)
}

/// Every file in the content directories under `root` (a data directory's
/// `content/`; `tmp/` left out): the path a row would record, and where it
/// is. A missing `root` holds none.
fn local_files(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let dirs = match fs::read_dir(root) {
        Ok(dirs) => dirs,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err.into()),
    };
    let mut files = Vec::new();
    for dir in dirs {
        let dir = dir?;
        if dir.file_name() == "tmp" || !dir.file_type()?.is_dir() {
            continue;
        }
        let name = dir.file_name().to_string_lossy().into_owned();
        for file in fs::read_dir(dir.path())? {
            let file = file?;
            let stored = format!(
                "{CONTENT_DIR}/{name}/{}",
                file.file_name().to_string_lossy()
            );
            files.push((stored, file.path()));
        }
    }
    Ok(files)
}

/// The allowed type `head` shows, if `accept` takes it.
fn check_type(head: &[u8], accept: &dyn Fn(FileType) -> Result<()>) -> Result<FileType> {
    let file_type = sniff(head).ok_or_else(|| {
        Error::UnsupportedFile(
            "the file is not of an allowed type (PDF, PNG, JPEG, GIF, WebP, MP3, AAC, M4A, Ogg, FLAC, WAV, MP4, QuickTime, WebM, Matroska, ZIP)"
                .to_owned(),
        )
    })?;
    accept(file_type)?;
    Ok(file_type)
}

/// 16 random hex digits.
fn random_name() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: FileType) -> Result<()> {
        Ok(())
    }

    #[test]
    fn a_file_is_typed_hashed_and_kept_and_a_bad_one_leaves_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_temporary().expect("store");
        let files = ContentFiles::open(dir.path(), &store).expect("open");
        let mut pdf = b"%PDF-1.7\n".to_vec();
        pdf.extend(std::iter::repeat_n(b'x', 200_000));
        let got = files
            .receive(&mut pdf.as_slice(), 1 << 20, &any)
            .expect("a pdf");
        assert_eq!(got.meta.media_type, "application/pdf");
        assert_eq!(got.meta.size, pdf.len() as u64);
        assert_eq!(got.meta.sha256, hex::encode(Sha256::digest(&pdf)));
        let stored = files
            .keep(got, ContentId::new(7), FileRole::File)
            .expect("keep");
        assert!(stored.starts_with("content/7/file-") && stored.ends_with(".pdf"));
        let mut back = Vec::new();
        files
            .open_file(&stored)
            .expect("open")
            .read_to_end(&mut back)
            .expect("read");
        assert_eq!(back, pdf);

        let too_big = files.receive(&mut pdf.as_slice(), 1000, &any);
        assert!(matches!(too_big, Err(Error::FileTooLarge { limit: 1000 })));
        let script = b"#!/bin/sh\necho hi\n".repeat(10);
        let refused = files.receive(&mut script.as_slice(), 1 << 20, &any);
        assert!(matches!(refused, Err(Error::UnsupportedFile(_))));
        assert_eq!(
            fs::read_dir(files.tmp_dir()).expect("tmp").count(),
            0,
            "no partial left"
        );
        assert!(files.open_file("content/../store/db").is_err());
        assert!(files.open_file("/etc/passwd").is_err());
    }

    #[test]
    fn what_a_crash_left_is_swept_and_recorded_files_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_temporary().expect("store");
        let files = ContentFiles::open(dir.path(), &store).expect("open");
        let creator = store
            .users()
            .create(crate::test_rows::user("ann", "Writer"))
            .expect("ann");
        let kept = store
            .write(|txn| {
                crate::content::create(
                    txn,
                    creator.id,
                    crate::content::NewContent {
                        title: "Guide".into(),
                        description: String::new(),
                        content_type: droply_models::ContentType::Document,
                        price: droply_models::Money::zero(droply_models::Currency::EUR),
                        category_id: None,
                    },
                )
            })
            .expect("content");
        let pdf = b"%PDF-1.7 recorded".to_vec();
        let got = files
            .receive(&mut pdf.as_slice(), 1 << 20, &any)
            .expect("pdf");
        let meta = got.meta.clone();
        let recorded = files.keep(got, kept.id, FileRole::File).expect("keep");
        store
            .contents()
            .modify(kept.id, |row| {
                row.file_path = recorded.clone();
                row.file_size = meta.size;
                row.file_meta = Some(meta.clone());
                Ok(())
            })
            .expect("recorded");
        // Renamed into place but never recorded, and a partial in tmp/.
        let orphan = files
            .receive(&mut b"%PDF-1.7 orphan".as_slice(), 1 << 20, &any)
            .expect("pdf");
        let orphan = files
            .keep(orphan, ContentId::new(99), FileRole::File)
            .expect("keep");
        fs::write(files.tmp_dir().join("cut.part"), b"%PDF-1.7 cut short").expect("partial");
        // A row of this store names a file here; no row of another store does.
        assert!(ContentFiles::may_belong_to(dir.path(), &store).expect("this store"));
        let other = Store::open_temporary().expect("another store");
        assert!(!ContentFiles::may_belong_to(dir.path(), &other).expect("another store"));
        let empty = tempfile::tempdir().expect("empty");
        assert!(ContentFiles::may_belong_to(empty.path(), &other).expect("no content/"));
        assert_eq!(files.sweep_orphans().expect("sweep"), 1);
        let reopened = ContentFiles::open(dir.path(), &store).expect("reopen");
        assert_eq!(fs::read_dir(reopened.tmp_dir()).expect("tmp").count(), 0);
        assert!(reopened.open_file(&orphan).is_err(), "the orphan is gone");
        assert!(
            reopened.open_file(&recorded).is_ok(),
            "the recorded file stays"
        );
    }
}

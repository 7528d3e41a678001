//! The sweep of this node's own content files that no content row names:
//! an upload renamed into place whose row was never written, a replaced
//! file a crash kept from being deleted, and, when several nodes share a
//! store, the copy this node cached of a file another node deleted or
//! replaced (that node deletes only its own copy and the shared one). One
//! rule for the sweep when the engine opens (no grace: no upload of this
//! node is in flight then) and the periodic job on every node (a grace by
//! the file's modification time, so an upload this node wrote but has not
//! recorded yet is kept). Files are `content/<content id>/<name>`, so each
//! directory is first checked against its one row, read by id, and only
//! the files that row does not name are checked against every row, read a
//! chunk at a time (and not at all when there are none): the rows are never
//! all loaded at once.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use droply_models::{Content, ContentId};

use super::{CONTENT_DIR, ContentFiles};
use crate::Result;

impl ContentFiles {
    /// Deletes the files under this node's `content/` (`tmp/` left out)
    /// that no content row names and that were last written at least
    /// `grace` ago; how many. A file another call deleted meanwhile is
    /// skipped.
    pub fn sweep_local_orphans(&self, grace: Duration) -> Result<usize> {
        let mut unnamed = HashMap::new();
        let dirs = match fs::read_dir(self.root()) {
            Ok(dirs) => dirs,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(err) => return Err(err.into()),
        };
        for dir in dirs {
            let dir = dir?;
            if dir.file_name() == "tmp" || !dir.file_type()?.is_dir() {
                continue;
            }
            let name = dir.file_name().to_string_lossy().into_owned();
            let named = self.named_in(&name)?;
            let files = match fs::read_dir(dir.path()) {
                Ok(files) => files,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(err.into()),
            };
            for file in files {
                let file = file?;
                let stored = format!(
                    "{CONTENT_DIR}/{name}/{}",
                    file.file_name().to_string_lossy()
                );
                if named.contains(&stored)
                    || !file.file_type()?.is_file()
                    || written_within(&file.path(), grace)?
                {
                    continue;
                }
                unnamed.insert(stored, file.path());
            }
        }
        if unnamed.is_empty() {
            return Ok(0);
        }
        // A row may name a file outside its own directory (one imported
        // from elsewhere): the rows are read once more, a chunk at a time,
        // and only files none of them names go.
        for item in self.store.iter::<Content>() {
            let content = item?;
            unnamed.remove(&content.file_path);
            if let Some(preview) = &content.preview_path {
                unnamed.remove(preview);
            }
            if unnamed.is_empty() {
                return Ok(0);
            }
        }
        let mut removed = 0;
        for path in unnamed.into_values() {
            match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(removed)
    }

    /// The paths the content row of directory `dir` (named by its content
    /// id) records, file and preview; none when no row has that id or the
    /// name is no id.
    fn named_in(&self, dir: &str) -> Result<Vec<String>> {
        let Ok(id) = dir.parse::<ContentId>() else {
            return Ok(Vec::new());
        };
        let Some(content) = self.store.get::<Content>(id)? else {
            return Ok(Vec::new());
        };
        Ok([Some(content.file_path), content.preview_path]
            .into_iter()
            .flatten()
            .filter(|path| !path.is_empty())
            .collect())
    }
}

/// Whether the file at `path` was last written less than `grace` ago (or
/// is gone already, so there is nothing to delete). A file dated in the
/// future (the clock stepped back) counts as young.
fn written_within(path: &Path, grace: Duration) -> Result<bool> {
    if grace.is_zero() {
        return Ok(false);
    }
    let modified = match fs::metadata(path) {
        Ok(meta) => meta.modified()?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(err) => return Err(err.into()),
    };
    Ok(match SystemTime::now().duration_since(modified) {
        Ok(age) => age < grace,
        Err(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;

    use droply_models::FileMeta;

    use super::*;
    use crate::content::{FileRole, FileType};
    use crate::store::Store;

    fn any(_: FileType) -> Result<()> {
        Ok(())
    }

    /// Keeps `body` as a file of content `id` that no row names yet; where
    /// and what it is.
    fn keep(files: &ContentFiles, id: ContentId, body: &[u8]) -> (String, FileMeta) {
        let mut body = body;
        let received = files.receive(&mut body, 1 << 20, &any).expect("pdf");
        let meta = received.meta.clone();
        (
            files.keep(received, id, FileRole::File).expect("keep"),
            meta,
        )
    }

    /// Dates the file at `stored` under `data_dir` `age` back.
    fn written_ago(data_dir: &Path, stored: &str, age: Duration) {
        OpenOptions::new()
            .write(true)
            .open(data_dir.join(stored))
            .expect("open")
            .set_modified(SystemTime::now() - age)
            .expect("set mtime");
    }

    #[test]
    fn a_local_file_no_row_names_is_swept_past_the_grace_and_named_or_fresh_ones_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_temporary().expect("store");
        let files = ContentFiles::open(dir.path(), &store).expect("open");
        let creator = store
            .users()
            .create(crate::test_rows::user("ann", "Writer"))
            .expect("ann");
        let content = store
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
        let (named, meta) = keep(&files, content.id, b"%PDF-1.7 named");
        // A row may name a file in another item's directory (imported).
        let (elsewhere, preview_meta) = keep(&files, ContentId::new(77), b"%PDF-1.7 preview");
        store
            .contents()
            .modify(content.id, |row| {
                row.file_path = named.clone();
                row.file_size = meta.size;
                row.file_meta = Some(meta);
                row.preview_available = true;
                row.preview_path = Some(elsewhere.clone());
                row.preview_meta = Some(preview_meta);
                Ok(())
            })
            .expect("recorded");
        // The file it replaced (its row names another now), the copy of a
        // deleted item's file (no row has its id), and an upload of this
        // node not recorded yet (written a minute ago).
        let (replaced, _) = keep(&files, content.id, b"%PDF-1.7 replaced");
        let (deleted, _) = keep(&files, ContentId::new(99), b"%PDF-1.7 deleted");
        let (fresh, _) = keep(&files, ContentId::new(98), b"%PDF-1.7 fresh");
        let old = ContentFiles::LOCAL_ORPHAN_GRACE + Duration::from_secs(60);
        for stored in [&named, &elsewhere, &replaced, &deleted] {
            written_ago(dir.path(), stored, old);
        }
        written_ago(dir.path(), &fresh, Duration::from_secs(60));
        fs::write(files.tmp_dir().join("busy.part"), b"%PDF-1.7 uploading").expect("partial");
        written_ago(dir.path(), "content/tmp/busy.part", old);

        let swept = files
            .sweep_local_orphans(ContentFiles::LOCAL_ORPHAN_GRACE)
            .expect("sweep");
        assert_eq!(swept, 2, "the replaced and the deleted item's files");
        let here = |stored: &str| dir.path().join(stored).exists();
        assert!(!here(&replaced), "the replaced file is gone");
        assert!(!here(&deleted), "the deleted item's file is gone");
        assert!(here(&named), "the file its row names stays, however old");
        assert!(
            here(&elsewhere),
            "so does one it names in another directory"
        );
        assert!(here(&fresh), "an upload younger than the grace stays");
        assert!(here("content/tmp/busy.part"), "tmp/ is not swept");

        // With no grace (the sweep when the engine opens) the young one goes too.
        assert_eq!(files.sweep_local_orphans(Duration::ZERO).expect("sweep"), 1);
        assert!(!here(&fresh));
        assert!(here(&named) && here(&elsewhere));
    }
}

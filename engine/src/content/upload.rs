//! Giving content its file or preview: checked against the creator and the
//! content before a byte is read, streamed to a temporary file (limit,
//! type, hash), moved into place, and only then recorded on the row in one
//! transaction; the file it replaces is deleted after that commits. If the
//! row cannot be written (the content was archived or deleted meanwhile),
//! the new file is deleted and the row still points at the old one.

use std::io::Read;

use droply_models::{Content, ContentId, ContentStatus, UserId};

use super::ContentConfig;
use super::files::{ContentFiles, FileRole};
use super::lifecycle::owned;
use super::sniff::{fits_content, fits_preview};
use crate::store::Store;
use crate::{Error, Result};

/// Streams `body` as content `id`'s `role` file for `creator`.
/// `declared` is the length the client announced, if any (refused at once
/// when over the limit).
pub fn upload(
    store: &Store,
    files: &ContentFiles,
    config: &ContentConfig,
    (id, creator, role): (ContentId, UserId, FileRole),
    declared: Option<u64>,
    body: &mut dyn Read,
) -> Result<Content> {
    let content = owned(store, id, creator)?;
    check_changeable(&content)?;
    let limit = match role {
        FileRole::File => config.max_file_bytes,
        FileRole::Preview => config.max_preview_bytes,
    };
    if declared.is_some_and(|len| len > limit) {
        return Err(Error::FileTooLarge { limit });
    }
    let kind = content.content_type;
    let accept = move |file_type| {
        let fits = match role {
            FileRole::File => fits_content(kind, file_type),
            FileRole::Preview => fits_preview(file_type),
        };
        if fits {
            Ok(())
        } else {
            Err(Error::UnsupportedFile(format!(
                "a {} file cannot be the {} of {} content",
                file_type.media_type,
                match role {
                    FileRole::File => "file",
                    FileRole::Preview => "preview",
                },
                kind.as_str()
            )))
        }
    };
    let received = files.receive(body, limit, &accept)?;
    let meta = received.meta.clone();
    let stored = files.keep(received, id, role)?;
    let written = store.write(|txn| {
        let mut content = owned(txn, id, creator)?;
        check_changeable(&content)?;
        let replaced = match role {
            FileRole::File => {
                content.file_size = meta.size;
                content.file_meta = Some(meta.clone());
                Some(std::mem::replace(&mut content.file_path, stored.clone()))
                    .filter(|old| !old.is_empty())
            }
            FileRole::Preview => {
                content.preview_available = true;
                content.preview_meta = Some(meta.clone());
                content.preview_path.replace(stored.clone())
            }
        };
        content.updated_at = txn.now();
        Ok((txn.update(content)?, replaced))
    });
    match written {
        Ok((content, replaced)) => {
            if let Some(old) = replaced {
                files.remove(&old);
            }
            Ok(content)
        }
        Err(err) => {
            // A write reported failed may have committed (the connection
            // dropped after PostgreSQL committed, or sled's flush failed
            // after the commit): the file goes only when the row, read
            // again, does not name it. Left unsure, the orphan sweep has it.
            let named = store.get::<Content>(id).map(|row| {
                row.is_some_and(|row| {
                    row.file_path == stored || row.preview_path.as_deref() == Some(stored.as_str())
                })
            });
            if matches!(named, Ok(false)) {
                files.remove(&stored);
            }
            Err(err)
        }
    }
}

/// Archived content keeps the files its buyers bought.
fn check_changeable(content: &Content) -> Result<()> {
    if content.status == ContentStatus::Archived {
        return Err(Error::InvalidState(
            "archived content keeps its files".to_owned(),
        ));
    }
    Ok(())
}

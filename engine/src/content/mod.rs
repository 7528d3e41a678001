//! Content for sale beside sessions: guides, recordings, templates. A
//! creator makes a draft (`lifecycle`), gives it a file and a preview
//! (`upload`, streamed into `files`, typed by `sniff`), publishes it;
//! people find it, view it (counted once a day per viewer by `views`), buy
//! it through the payments path (`purchases`) and download it. `reads` lets
//! the same rules read from a transaction or straight from the store.
//! `file_copy` carries the files along when `droply migrate` moves a store
//! between sled and PostgreSQL.

mod file_copy;
mod files;
mod lifecycle;
mod purchases;
mod reads;
mod sniff;
mod upload;
mod views;

pub use file_copy::{check_files_to_copy, copy_files};
pub use files::{CONTENT_DIR, ContentFiles, FileRole};
pub use lifecycle::{
    ContentEdit, MAX_CONTENT_PER_CREATOR, NewContent, StatusChange, change_status, create, delete,
    edit, owned, visible,
};
pub use purchases::{begin_purchase, holds, refund_purchase};
pub use reads::ContentReads;
pub use sniff::{ALLOWED, FileType, by_media_type, sniff};
pub use upload::upload;
pub use views::{CountedView, CountedViewId, ViewCounter, Viewer, sweep_counted_views};

pub(crate) use purchases::give_up_open_purchases_of_buyer;

/// The limits of content files and view counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentConfig {
    /// The largest file, in bytes (default 100 MiB).
    pub max_file_bytes: u64,
    /// The largest preview, in bytes (default 5 MiB).
    pub max_preview_bytes: u64,
    /// Views counted today kept at most, one store row per (content,
    /// viewer) pair a day; past that, views are not counted.
    pub daily_viewers: usize,
}

impl Default for ContentConfig {
    fn default() -> Self {
        ContentConfig {
            max_file_bytes: 100 * 1024 * 1024,
            max_preview_bytes: 5 * 1024 * 1024,
            daily_viewers: 1_000_000,
        }
    }
}

//! The data directory's store marker: `<data-dir>/store-instance` holds the
//! instance key ([`Store::instance_key`]) of the store the directory
//! belongs to. Everything in a data directory is one store's: the search
//! index follows its rows, and the engine's start deletes the files under
//! `content/` that its rows do not name. Opened with another store (a
//! mistyped or missing `--store`, which makes a fresh, empty sled store),
//! that sweep deleted every creator file.
//!
//! The rule, the same for every command that opens a data directory with a
//! store (checked once the directory's lock is held):
//!
//! - A marker naming this store: go on.
//! - A marker naming another store: refused, before anything in the
//!   directory is written (without `--store`, before a new sled store is
//!   made in it).
//! - No marker: a directory from before markers (it can only have been
//!   used with its own store) or a new one. `verify`, which only reads and
//!   never sweeps, writes nothing and goes on. Any other command adopts it,
//!   writing this store's key, when its `content/` holds no file or when a
//!   content row of this store names one of its files; otherwise the
//!   files are another store's and the first sweep would delete them all,
//!   so it is refused, and the error says how to go on. Adopting before
//!   the engine opens means the sweep only ever runs in a directory that
//!   names its store.

use std::fs::{self, File};
use std::io::Write;

use droply_engine::content::{CONTENT_DIR, ContentFiles};
use droply_engine::{DataDir, Store};

use crate::{Error, Result};

/// What a command does in a data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// It writes rows, indexes or files: an unmarked directory is adopted.
    Write,
    /// It only reads (`verify`): an unmarked directory stays unmarked.
    ReadOnly,
    /// It writes only what derives from the store (`reindex`): as `Write`,
    /// but the store must exist already (a mistyped path makes none).
    Derived,
}

/// Refuses to make a new sled store in `data_dir` (no `--store` given, and
/// no `store/` in it) when its marker names a store: that one is kept
/// elsewhere, and a fresh one here would be taken for it.
pub fn check_before_new_store(data_dir: &DataDir) -> Result<()> {
    match read(data_dir)? {
        Some(marked) => Err(Error::Config(format!(
            "the data dir {} belongs to another store: its marker {} names store {marked:?}, \
             which is not in the data dir; pass that store with --store",
            data_dir.path().display(),
            data_dir.store_marker().display()
        ))),
        None => Ok(()),
    }
}

/// Checks that `data_dir` is `store`'s, as the module's rule says, and
/// adopts an unmarked one for a command that writes.
pub fn claim(data_dir: &DataDir, store: &Store, access: Access) -> Result<()> {
    let marked = read(data_dir)?;
    if marked.is_none() && access == Access::ReadOnly {
        return Ok(());
    }
    let key = store.instance_key()?;
    match marked {
        Some(marked) if marked.eq_ignore_ascii_case(&key) => Ok(()),
        Some(marked) => Err(Error::Config(format!(
            "the data dir {} belongs to another store: its marker {} names store {marked:?}, \
             and {} is store {key:?}; pass the data dir's own store with --store, \
             or give this store a data dir of its own",
            data_dir.path().display(),
            data_dir.store_marker().display(),
            store.describe()
        ))),
        None => adopt(data_dir, store, &key),
    }
}

/// Writes `key` as the marker of the unmarked `data_dir`, unless its
/// content files are evidently another store's.
fn adopt(data_dir: &DataDir, store: &Store, key: &str) -> Result<()> {
    if !ContentFiles::may_belong_to(data_dir.path(), store)? {
        return Err(Error::Config(format!(
            "the data dir {} has content files but no store marker, and no content row of {} \
             names any of them: it looks like another store's data dir, whose files opening it \
             with this store would delete. Pass that store with --store; or, if the files under \
             {} are strays, move them aside",
            data_dir.path().display(),
            store.describe(),
            data_dir.path().join(CONTENT_DIR).display()
        )));
    }
    let path = data_dir.store_marker();
    let temp = path.with_extension("tmp");
    let mut file = File::create(&temp)?;
    file.write_all(format!("{key}\n").as_bytes())?;
    file.sync_all()?;
    fs::rename(&temp, &path)?;
    tracing::info!(
        data_dir = %data_dir.path().display(),
        store = %store.describe(),
        "the data dir now names its store"
    );
    Ok(())
}

/// The key `data_dir`'s marker names, if it has one.
fn read(data_dir: &DataDir) -> Result<Option<String>> {
    let path = data_dir.store_marker();
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::Config(format!(
            "cannot read the store marker {}: {err}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_data_dir_is_adopted_and_then_refused_to_another_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = DataDir::new(dir.path());
        let store = Store::open_temporary().expect("store");
        let other = Store::open_temporary().expect("other");
        claim(&layout, &other, Access::ReadOnly).expect("verify marks nothing");
        assert!(!layout.store_marker().exists());
        claim(&layout, &store, Access::Write).expect("adopted");
        let written = fs::read_to_string(layout.store_marker()).expect("marker");
        assert_eq!(written.trim(), store.instance_key().expect("key"));
        claim(&layout, &store, Access::Write).expect("its own store");
        for access in [Access::Write, Access::ReadOnly] {
            let refused = claim(&layout, &other, access).expect_err("another store");
            assert!(
                refused.to_string().contains("belongs to another store"),
                "{refused}"
            );
        }
        let refused = check_before_new_store(&layout).expect_err("a new sled store");
        assert!(refused.to_string().contains("belongs to another store"));
    }

    #[test]
    fn an_unmarked_data_dir_of_another_store_is_not_adopted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = DataDir::new(dir.path());
        let creator = dir.path().join(CONTENT_DIR).join("7");
        fs::create_dir_all(&creator).expect("content/7");
        fs::write(creator.join("a.pdf"), b"%PDF-1.7 a creator's").expect("file");
        let fresh = Store::open_temporary().expect("fresh");
        let refused = claim(&layout, &fresh, Access::Write).expect_err("stray files");
        assert!(refused.to_string().contains("no store marker"), "{refused}");
        assert!(!layout.store_marker().exists());
        claim(&layout, &fresh, Access::ReadOnly).expect("verify reads on");
        assert!(creator.join("a.pdf").exists());
    }
}

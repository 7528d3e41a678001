//! The data directory shared by every command: where the store, the indexes
//! and the model files live. Flag `--data-dir`, or `DROPLY_DATA_DIR`, or
//! `./droply-data`; and `--store` (`DROPLY_STORE`), which moves the store
//! elsewhere: another sled directory or a PostgreSQL database.
//!
//! Opening one is the same for every command ([`DataDirArgs::open_store`]):
//! take its lock ([`DataDirLock`]: one process at a time), open the store,
//! and check that the directory is that store's ([`store_marker`]) and that
//! the store is no copy `droply migrate` left unfinished, all before
//! anything in it is changed.

use std::path::PathBuf;

use clap::Args;
use droply_engine::records::refuse_unfinished_migration;
use droply_engine::store::StoreLocation;
use droply_engine::{DataDir, Engine, Store};

use super::dir_lock::DataDirLock;
use super::secret_values::store_location;
use super::store_marker::{self, Access};
use crate::{Error, Result};

/// The `--data-dir` and `--store` options.
#[derive(Debug, Clone, Args)]
pub struct DataDirArgs {
    /// The data directory (store, indexes, model files).
    #[arg(long, env = "DROPLY_DATA_DIR", default_value = "droply-data")]
    pub data_dir: PathBuf,
    /// Where the store is: `sled:DIR`, or a `postgres://` URL that several
    /// nodes share (each keeps its own search index in the data directory).
    /// Default: sled in the data directory's `store/`.
    #[arg(long, env = "DROPLY_STORE", hide_env_values = true, value_parser = store_location())]
    pub store: Option<StoreLocation>,
}

impl DataDirArgs {
    /// The data directory and its layout.
    pub fn layout(&self) -> DataDir {
        DataDir::new(&self.data_dir)
    }

    /// Takes the data directory for this process (creating it if needed)
    /// and opens the store: the one `--store` names, else sled in the data
    /// directory. Refused when another process holds the directory, or when
    /// it belongs to another store ([`store_marker`]'s rule, under
    /// `access`). Keep the lock until the command ends (bound first, it is
    /// let go after the store). A command that only reads, with no
    /// `--store`, is refused a data directory that does not exist (a
    /// mistyped one), before anything is created.
    pub fn open_store(&self, access: Access) -> Result<(DataDirLock, Store)> {
        let layout = self.layout();
        if matches!(access, Access::ReadOnly) && self.store.is_none() && !layout.path().exists() {
            return Err(Error::Config(format!(
                "the data dir {} does not exist (a command that only reads makes none)",
                layout.path().display()
            )));
        }
        if matches!(access, Access::Derived) {
            // A command that derives from a store makes none: a mistyped path
            // would be an empty store, indexed and reported done.
            let missing = match &self.store {
                None => (!layout.store().exists()).then(|| layout.path().to_path_buf()),
                Some(StoreLocation::Sled(dir)) => (!dir.exists()).then(|| dir.clone()),
                Some(StoreLocation::Postgres(_)) => None,
            };
            if let Some(place) = missing {
                return Err(Error::Config(format!(
                    "{} holds no store (a command that derives from one makes none)",
                    place.display()
                )));
            }
        }
        let lock = DataDirLock::take(&layout)?;
        let store = match &self.store {
            Some(location) => Store::open_at(location)?,
            None => {
                if !layout.store().exists() {
                    store_marker::check_before_new_store(&layout)?;
                }
                Engine::open_store(&layout)?
            }
        };
        // A copy `droply migrate` never finished may miss rows or files.
        refuse_unfinished_migration(&store)?;
        store_marker::claim(&layout, &store, access)?;
        Ok((lock, store))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        data: DataDirArgs,
    }

    fn data_dir(args: &[&str]) -> DataDirArgs {
        let mut argv = vec!["droply"];
        argv.extend_from_slice(args);
        Flags::try_parse_from(argv).expect("flags").data
    }

    /// Regression: a second process on a data directory in use (its store
    /// elsewhere) rebuilt the live search index and emptied `content/tmp/`.
    #[test]
    fn a_data_dir_is_opened_by_one_holder_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let store = format!("sled:{}", dir.path().join("store").display());
        let args = data_dir(&["--data-dir", &data.display().to_string(), "--store", &store]);
        let (lock, first) = args.open_store(Access::Write).expect("the first");
        let upload = data.join("content").join("tmp").join("upload.part");
        std::fs::create_dir_all(upload.parent().expect("tmp")).expect("tmp");
        std::fs::write(&upload, b"%PDF-1.7 half").expect("an upload under way");
        for access in [Access::Write, Access::ReadOnly] {
            let refused = args.open_store(access).expect_err("a second holder");
            assert!(
                refused
                    .to_string()
                    .contains("in use by another droply process"),
                "{refused}"
            );
        }
        assert!(upload.exists(), "the first holder's files stay");
        drop((lock, first));
        args.open_store(Access::ReadOnly).expect("free again");
    }

    /// Regression: `verify` with a missing `--store` on a PostgreSQL node's
    /// data directory made a fresh sled store in it, and the engine's start
    /// then deleted every content file.
    #[test]
    fn no_new_store_is_made_in_a_data_dir_of_another() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = DataDir::new(dir.path());
        std::fs::write(layout.store_marker(), "00112233445566778899aabbccddeeff\n")
            .expect("marker");
        let args = data_dir(&["--data-dir", &dir.path().display().to_string()]);
        let refused = args
            .open_store(Access::ReadOnly)
            .expect_err("another store's");
        assert!(
            refused.to_string().contains("belongs to another store"),
            "{refused}"
        );
        assert!(!layout.store().exists(), "no sled store made");
    }

    /// Regression: `verify --data-dir /tmp/typo` made a fresh, empty store
    /// there and reported it consistent.
    #[test]
    fn a_missing_data_dir_is_refused_to_a_reader() {
        let dir = tempfile::tempdir().expect("tempdir");
        let typo = dir.path().join("typo");
        let args = data_dir(&["--data-dir", &typo.display().to_string()]);
        let refused = args
            .open_store(Access::ReadOnly)
            .expect_err("a missing data dir");
        assert!(
            refused.to_string().contains(&typo.display().to_string()),
            "{refused}"
        );
        assert!(!typo.exists(), "the data dir was made");
    }

    /// Regression: `reindex --data-dir /srv/droply-dta` (a typo) made a
    /// fresh, empty store there, indexed its 0 experts and exited 0.
    #[test]
    fn a_data_dir_without_a_store_is_refused_to_a_reindex() {
        let dir = tempfile::tempdir().expect("tempdir");
        let typo = dir.path().join("typo");
        let args = data_dir(&["--data-dir", &typo.display().to_string()]);
        let refused = args
            .open_store(Access::Derived)
            .expect_err("no store to derive from");
        assert!(
            refused.to_string().contains(&typo.display().to_string()),
            "{refused}"
        );
        assert!(!typo.exists(), "the data dir was made");
        // A data dir with its store is opened as for a write.
        let real = dir.path().join("real");
        let args = data_dir(&["--data-dir", &real.display().to_string()]);
        drop(args.open_store(Access::Write).expect("made by a writer"));
        drop(
            args.open_store(Access::Derived)
                .expect("its store is there"),
        );
        // Found by the review: the same through `--store` (a sled path).
        let store_typo = dir.path().join("store-typo");
        let args = data_dir(&[
            "--data-dir",
            &real.display().to_string(),
            "--store",
            &format!("sled:{}", store_typo.display()),
        ]);
        let refused = args
            .open_store(Access::Derived)
            .expect_err("no store at --store");
        assert!(
            refused
                .to_string()
                .contains(&store_typo.display().to_string()),
            "{refused}"
        );
        assert!(!store_typo.exists(), "a store was made at --store");
    }

    /// Regression: a store that a `droply migrate` cut short left behind
    /// (rows or content files missing) was served as if whole.
    #[test]
    fn a_store_a_migration_left_unfinished_is_refused_with_the_way_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("target");
        {
            let from = Store::open_temporary().expect("source");
            let to = Store::open(&target).expect("target");
            // Started, never finished: a crash in the middle.
            let _cut_short = droply_engine::records::StoreCopy::start(&from, &to).expect("started");
        }
        let data = dir.path().join("data");
        let store = format!("sled:{}", target.display());
        let args = data_dir(&["--data-dir", &data.display().to_string(), "--store", &store]);
        for access in [Access::Write, Access::ReadOnly] {
            let refused = args.open_store(access).expect_err("an unfinished copy");
            let message = refused.to_string();
            assert!(message.contains("never finished"), "{message}");
            assert!(
                message.contains("delete the sled directory") && message.contains("migrate"),
                "{message}"
            );
        }
    }
}

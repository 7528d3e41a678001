//! The data directory shared by every command: where the store, the indexes
//! and the model files live. Flag `--data-dir`, or `DROPLY_DATA_DIR`, or
//! `./droply-data`; and `--store` (`DROPLY_STORE`), which moves the store
//! elsewhere: another sled directory or a PostgreSQL database.

use std::path::PathBuf;

use clap::Args;
use droply_engine::store::StoreLocation;
use droply_engine::{DataDir, Engine, Store};

use crate::Result;

/// The `--data-dir` and `--store` options.
#[derive(Debug, Clone, Args)]
pub struct DataDirArgs {
    /// The data directory (store, indexes, model files).
    #[arg(long, env = "DROPLY_DATA_DIR", default_value = "droply-data")]
    pub data_dir: PathBuf,
    /// Where the store is: `sled:DIR`, or a `postgres://` URL that several
    /// nodes share (each keeps its own search index in the data directory).
    /// Default: sled in the data directory's `store/`.
    #[arg(long, env = "DROPLY_STORE", hide_env_values = true)]
    pub store: Option<StoreLocation>,
}

impl DataDirArgs {
    /// The data directory and its layout.
    pub fn layout(&self) -> DataDir {
        DataDir::new(&self.data_dir)
    }

    /// Creates the data directory if needed and opens the store: the one
    /// `--store` names, else sled in the data directory.
    pub fn open_store(&self) -> Result<Store> {
        match &self.store {
            Some(location) => {
                std::fs::create_dir_all(&self.data_dir)?;
                Ok(Store::open_at(location)?)
            }
            None => Ok(Engine::open_store(&self.layout())?),
        }
    }
}

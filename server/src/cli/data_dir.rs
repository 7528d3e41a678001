//! The data directory shared by every command: where the store, the indexes
//! and the model files live. Flag `--data-dir`, or `DROPLY_DATA_DIR`, or
//! `./droply-data`.

use std::path::PathBuf;

use clap::Args;
use droply_engine::{DataDir, Engine, Store};

use crate::Result;

/// The `--data-dir` option.
#[derive(Debug, Clone, Args)]
pub struct DataDirArgs {
    /// The data directory (store, indexes, model files).
    #[arg(long, env = "DROPLY_DATA_DIR", default_value = "droply-data")]
    pub data_dir: PathBuf,
}

impl DataDirArgs {
    /// The data directory and its layout.
    pub fn layout(&self) -> DataDir {
        DataDir::new(&self.data_dir)
    }

    /// Creates the data directory if needed and opens the store in it.
    pub fn open_store(&self) -> Result<Store> {
        Ok(Engine::open_store(&self.layout())?)
    }
}

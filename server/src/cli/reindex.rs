//! `droply reindex`: rebuilds the search indexes (text and vectors) of a data directory
//! from its store, with a progress bar on stderr. Refused while the service (or any
//! other `droply` process) holds the data directory.

use std::path::PathBuf;

use clap::Args;
use droply_engine::SearchIndex;
use droply_engine::embedding::Precision;
use droply_engine::search_index::SearchIndexConfig;
use indicatif::{ProgressBar, ProgressStyle};

use super::data_dir::DataDirArgs;
use super::model::{load_embedder, model_dir};
use super::store_marker::Access;
use crate::Result;

/// Arguments of `droply reindex`.
#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Where the store and the indexes live.
    #[command(flatten)]
    pub data: DataDirArgs,
    /// Directory of the model files, fetched there if missing
    /// [default: <data-dir>/models/all-MiniLM-L6-v2].
    #[arg(long, env = "DROPLY_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// The arithmetic of the embedding batches: `f32`, or `int8` (faster, for bulk
    /// indexing; its vectors stay within cosine 0.995 of the f32 ones).
    #[arg(long, default_value_t = Precision::F32)]
    pub precision: Precision,
}

/// Runs `droply reindex`.
pub fn run(args: ReindexArgs) -> Result<()> {
    let (_data_dir_lock, store) = args.data.open_store(Access::Derived)?;
    let dir = model_dir(args.model_dir.as_deref(), &args.data.data_dir);
    let embedder = load_embedder(&dir, args.precision)?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} indexing [{bar:40}] {pos}/{len} users ({per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let status = SearchIndex::reindex(
        &args.data.data_dir,
        &store,
        &embedder,
        &SearchIndexConfig::default(),
        &|p| {
            bar.set_length(p.total);
            bar.set_position(p.done);
        },
    )?;
    bar.finish_and_clear();
    println!(
        "indexed {} experts ({} vectors) up to change {} in {:.1} s",
        status.text_documents,
        status.vectors,
        status.applied_seq,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

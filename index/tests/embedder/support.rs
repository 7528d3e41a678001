//! Shared test setup: where `shared/` and the model are, and the one loaded embedder.

use std::path::PathBuf;
use std::sync::OnceLock;

use droply_index::Embedder;
use droply_index::embedder::Precision;

/// This package's directory: as cargo says when it runs the test, else as it was at
/// build time (a shared target directory may hold a binary built from another clone).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The shared data directory: `$DROPLY_SHARED_DIR`, else `shared/` beside the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("DROPLY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../shared"))
}

/// The golden reference file: the shared one when this checkout sits beside `shared/`,
/// else the copy kept in `data/fixtures` (a clone anywhere else still runs the test).
pub fn golden_file() -> PathBuf {
    let shared = shared_dir().join("golden/minilm_reference.json");
    if shared.is_file() {
        shared
    } else {
        golden_copy()
    }
}

/// The copy of the golden file kept in the repository.
pub fn golden_copy() -> PathBuf {
    manifest_dir().join("../data/fixtures/minilm_reference.json")
}

/// The model directory the tests use: `$DROPLY_MODEL_DIR`, else the model directory of
/// `$DROPLY_DATA_DIR`, else `droply-data/` at the workspace root.
pub fn model_dir() -> PathBuf {
    if std::env::var_os("DROPLY_MODEL_DIR").is_some()
        || std::env::var_os("DROPLY_DATA_DIR").is_some()
    {
        return droply_index::embedder::default_model_dir();
    }
    let workspace = manifest_dir().join("..");
    droply_index::embedder::model_dir_in(&workspace.join("droply-data"))
}

/// The embedder, loaded once through the automatic fetch path; a model that cannot be had
/// fails the test, it never skips it.
pub fn embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| match Embedder::load(&model_dir()) {
        Ok(embedder) => embedder,
        Err(err) => panic!("the sentence model is needed by these tests: {err}"),
    })
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// The embedder with [`Precision::Int8`] batches, loaded once.
pub fn int8_embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| {
        match Embedder::load(&model_dir()).and_then(|e| e.with_precision(Precision::Int8)) {
            Ok(embedder) => embedder,
            Err(err) => panic!("the sentence model is needed by these tests: {err}"),
        }
    })
}

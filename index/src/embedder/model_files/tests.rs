//! Tests of the model files' checks and fetching that need no real model: the weights are
//! a few bytes pinned by their own sha256, the tokenizer a two-word one, and the source a
//! fake Hugging Face cache.

use std::fs;
use std::path::Path;

use super::*;

/// A tokenizer that the tokenizers crate loads: a two-word WordLevel model.
const GOOD_TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,"decoder":null,"model":{"type":"WordLevel","vocab":{"[UNK]":0,"hello":1},"unk_token":"[UNK]"}}"#;

/// all-MiniLM-L6-v2's configuration, the fields the embedder reads.
const GOOD_CONFIG: &str = r#"{"hidden_size":384,"num_attention_heads":12,"num_hidden_layers":6,"intermediate_size":1536,"max_position_embeddings":512,"vocab_size":30522,"layer_norm_eps":1e-12,"hidden_act":"gelu"}"#;

const FAKE_WEIGHTS: &[u8] = b"weights pinned by these tests";

/// The sha256 the tests pin for [`FAKE_WEIGHTS`].
fn fake_sha256(dir: &Path) -> String {
    let path = dir.join("pinned-weights");
    fs::write(&path, FAKE_WEIGHTS).expect("write");
    sha256_file(&path).expect("sha256")
}

fn write_files(dir: &Path, tokenizer: &str, config: &str) {
    fs::create_dir_all(dir).expect("mkdir");
    fs::write(dir.join(WEIGHTS_FILE), FAKE_WEIGHTS).expect("write");
    fs::write(dir.join(TOKENIZER_FILE), tokenizer).expect("write");
    fs::write(dir.join(CONFIG_FILE), config).expect("write");
}

/// A truncated copy, as an interrupted download leaves.
fn truncated(text: &str) -> &str {
    &text[..text.len() / 2]
}

fn hf_snapshot(cache: &Path, name: &str) -> std::path::PathBuf {
    cache
        .join("models--sentence-transformers--all-MiniLM-L6-v2/snapshots")
        .join(name)
}

#[test]
fn good_files_pass_verify() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sha = fake_sha256(tmp.path());
    let dir = tmp.path().join("model");
    write_files(&dir, GOOD_TOKENIZER, GOOD_CONFIG);
    verify_pinned(&dir, &sha).expect("the files load");
}

/// Regression: only the weights were checked, so a truncated tokenizer passed
/// `droply model fetch` and `serve` failed later.
#[test]
fn a_truncated_tokenizer_fails_verify_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sha = fake_sha256(tmp.path());
    let dir = tmp.path().join("model");
    write_files(&dir, truncated(GOOD_TOKENIZER), GOOD_CONFIG);
    let err = verify_pinned(&dir, &sha).expect_err("a truncated tokenizer must fail");
    assert!(err.to_string().contains(TOKENIZER_FILE), "{err}");
}

/// Regression: a truncated or foreign `config.json` passed verification too.
#[test]
fn a_bad_config_fails_verify_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sha = fake_sha256(tmp.path());
    let dir = tmp.path().join("model");
    let relu = GOOD_CONFIG.replace("\"gelu\"", "\"relu\"");
    for config in [truncated(GOOD_CONFIG), "{}", relu.as_str()] {
        write_files(&dir, GOOD_TOKENIZER, config);
        let err = verify_pinned(&dir, &sha).expect_err("a bad config must fail");
        assert!(err.to_string().contains(CONFIG_FILE), "{config}: {err}");
    }
}

/// Regression: `ensure_model` took any directory holding the three files, so a truncated
/// tokenizer was reported ready and never repaired.
#[test]
fn a_truncated_tokenizer_in_the_model_dir_is_replaced_from_the_source() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sha = fake_sha256(tmp.path());
    let dir = tmp.path().join("model");
    write_files(&dir, truncated(GOOD_TOKENIZER), GOOD_CONFIG);
    let cache = tmp.path().join("hub");
    write_files(&hf_snapshot(&cache, "abc"), GOOD_TOKENIZER, GOOD_CONFIG);
    let sources = ModelSources {
        hf_hub_cache: Some(cache),
        python: None,
    };
    ensure_model_pinned(&dir, &sources, &sha).expect("repaired from the cache");
    assert_eq!(
        fs::read_to_string(dir.join(TOKENIZER_FILE)).expect("read"),
        GOOD_TOKENIZER
    );
    verify_pinned(&dir, &sha).expect("the repaired directory passes");
    // Without any source, the damaged file is an error, not "ready".
    fs::write(dir.join(TOKENIZER_FILE), truncated(GOOD_TOKENIZER)).expect("write");
    let err = ensure_model_pinned(&dir, &ModelSources::none(), &sha).expect_err("damaged");
    assert!(err.to_string().contains(TOKENIZER_FILE), "{err}");
}

/// Regression: only the first snapshot of the Hugging Face cache was tried.
#[test]
fn a_hugging_face_snapshot_whose_files_fail_is_passed_over_for_the_next() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sha = fake_sha256(tmp.path());
    let cache = tmp.path().join("hub");
    write_files(
        &hf_snapshot(&cache, "a-damaged"),
        truncated(GOOD_TOKENIZER),
        GOOD_CONFIG,
    );
    write_files(&hf_snapshot(&cache, "b-good"), GOOD_TOKENIZER, GOOD_CONFIG);
    let sources = ModelSources {
        hf_hub_cache: Some(cache),
        python: None,
    };
    let dir = tmp.path().join("model");
    ensure_model_pinned(&dir, &sources, &sha).expect("the second snapshot works");
    assert_eq!(
        fs::read_to_string(dir.join(TOKENIZER_FILE)).expect("read"),
        GOOD_TOKENIZER
    );
    // The failed staging directory was removed.
    let staging: Vec<_> = fs::read_dir(&dir)
        .expect("read dir")
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_PREFIX)
        })
        .collect();
    assert!(staging.is_empty(), "left behind: {staging:?}");
}

/// Regression: an interrupted `droply model fetch` left its staging directory (the size
/// of the model) behind for good.
#[test]
fn staging_directories_of_dead_processes_are_removed_and_our_own_kept() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dead = tmp.path().join(format!(".fetch-{NO_PID}-1"));
    fs::create_dir(&dead).expect("mkdir");
    fs::write(dead.join("junk"), b"half a model").expect("write");
    // Young, it could be another container's fetch under way: kept.
    let young = tmp.path().join(format!(".fetch-{NO_PID}-3"));
    fs::create_dir(&young).expect("mkdir");
    age(&dead);
    let own = tmp.path().join(format!(".fetch-{}-2", std::process::id()));
    fs::create_dir(&own).expect("mkdir");
    age(&own);
    let other = tmp.path().join("keep-me");
    fs::create_dir(&other).expect("mkdir");
    remove_stale_staging(tmp.path());
    assert!(!dead.exists(), "a dead process's staging directory is left");
    assert!(own.exists(), "this process's staging directory was removed");
    assert!(young.exists(), "a young staging directory was removed");
    assert!(
        other.exists(),
        "a directory that is not staging was removed"
    );
}

#[test]
fn ensure_model_removes_stale_staging_before_anything_else() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dead = tmp.path().join(format!(".fetch-{NO_PID}-1"));
    fs::create_dir(&dead).expect("mkdir");
    fs::write(dead.join("junk"), b"half a model").expect("write");
    age(&dead);
    // No source: the call fails, the leftover goes anyway.
    let _ = ensure_model(tmp.path(), &ModelSources::none());
    assert!(!dead.exists());
}

/// A process id no process has (`/proc/4294967295` cannot exist).
const NO_PID: u32 = u32::MAX;

/// Makes the directory `dir` two hours old.
fn age(dir: &Path) {
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    fs::File::open(dir)
        .and_then(|file| file.set_modified(then))
        .expect("age the directory");
}

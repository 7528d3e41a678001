//! What the `droply` binary refuses before it changes anything in a data
//! directory: one another process holds (its `.lock`), one another store's
//! marker names, an unmarked one whose content files no row of the store
//! names, a port in use; and a mistyped store, refused without repeating
//! its password. Every run is `--no-search` or fails before search starts,
//! so no sentence model is needed.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A marker naming a store none of these tests opens.
const ANOTHER_STORE: &str = "00112233445566778899aabbccddeeff\n";

/// Runs `droply <args>` with `envs` and no store or data directory from
/// the environment.
fn droply(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droply"))
        .args(args)
        .env_remove("DROPLY_STORE")
        .env_remove("DROPLY_DATA_DIR")
        .env_remove("DROPLY_ADDR")
        .envs(envs.iter().copied())
        .output()
        .expect("run droply")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that `output` failed and said `said` on stderr.
fn refused(output: &Output, said: &str) {
    let err = stderr(output);
    assert!(!output.status.success(), "{output:?}");
    assert!(err.contains(said), "{said:?} not in {err}");
}

/// A data directory (under `dir`) holding one creator's file,
/// `content/7/a.pdf`: the directory and the file.
fn data_dir_with_a_creator_file(dir: &Path) -> (PathBuf, PathBuf) {
    let data = dir.join("data");
    let file = data.join("content").join("7").join("a.pdf");
    fs::create_dir_all(file.parent().expect("content/7")).expect("content/7");
    fs::write(&file, b"%PDF-1.7 a creator's guide").expect("file");
    (data, file)
}

/// An empty rows file for `droply import`, outside any data directory.
/// The commands a data dir is opened by here: `verify` without and with
/// `--store`, and `import` of `rows`.
fn commands_on<'a>(data: &'a str, rows: &'a str, store: &'a str) -> [Vec<&'a str>; 3] {
    [
        vec!["verify", "--no-search", "--data-dir", data],
        vec![
            "verify",
            "--no-search",
            "--data-dir",
            data,
            "--store",
            store,
        ],
        vec!["import", rows, "--data-dir", data, "--store", store],
    ]
}

fn no_rows(dir: &Path) -> String {
    let rows = dir.join("rows.jsonl");
    fs::write(&rows, "").expect("rows");
    rows.display().to_string()
}

fn sled_in(dir: &Path, name: &str) -> String {
    format!("sled:{}", dir.join(name).display())
}

/// Regression: a second process on the data directory of a running node
/// (its store elsewhere) took the node's locked search index for a damaged
/// one and rebuilt it, emptied its `content/tmp/` and swept its files.
#[test]
fn a_data_dir_another_process_holds_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, file) = data_dir_with_a_creator_file(dir.path());
    let upload = data.join("content").join("tmp").join("upload.part");
    fs::create_dir_all(upload.parent().expect("tmp")).expect("tmp");
    fs::write(&upload, b"%PDF-1.7 half an upload").expect("upload");
    // This process holds the lock, as a running node does.
    let node = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data.join(".lock"))
        .expect("lock file");
    node.try_lock().expect("the node's lock");
    let data_arg = data.display().to_string();
    let rows = no_rows(dir.path());
    let store = sled_in(dir.path(), "store");
    for args in commands_on(&data_arg, &rows, &store) {
        refused(&droply(&args, &[]), "in use by another droply process");
    }
    assert!(file.exists(), "the node's content file stays");
    assert!(upload.exists(), "the node's upload stays");
    assert!(!data.join("store").exists(), "no store made");
    assert!(!data.join("store-instance").exists(), "no marker written");
    drop(node);
    let output = droply(&["verify", "--no-search", "--data-dir", &data_arg], &[]);
    assert!(output.status.success(), "{output:?}");
}

/// Regression: `droply verify` with a wrong or missing `--store` made a
/// fresh, empty store and the engine's start deleted every creator file.
#[test]
fn a_data_dir_another_store_names_is_refused_and_its_files_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, file) = data_dir_with_a_creator_file(dir.path());
    fs::write(data.join("store-instance"), ANOTHER_STORE).expect("marker");
    let data_arg = data.display().to_string();
    let rows = no_rows(dir.path());
    let store = sled_in(dir.path(), "elsewhere");
    for args in commands_on(&data_arg, &rows, &store) {
        refused(&droply(&args, &[]), "belongs to another store");
    }
    assert!(file.exists(), "the creator's file stays");
    assert!(!data.join("store").exists(), "no sled store made in it");
    assert_eq!(
        fs::read_to_string(data.join("store-instance")).expect("marker"),
        ANOTHER_STORE
    );
}

/// A data directory from before markers: `verify` reads it and sweeps
/// nothing; a command that writes adopts it only when its files can be
/// the store's, and a marked one is its store's alone.
#[test]
fn an_unmarked_data_dir_is_adopted_only_by_its_own_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, file) = data_dir_with_a_creator_file(dir.path());
    let data_arg = data.display().to_string();
    let rows = no_rows(dir.path());
    let fresh = sled_in(dir.path(), "fresh");
    let output = droply(
        &[
            "verify",
            "--no-search",
            "--data-dir",
            &data_arg,
            "--store",
            &fresh,
        ],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(file.exists(), "verify swept a creator's file");
    assert!(
        !data.join("store-instance").exists(),
        "verify marks nothing"
    );
    refused(
        &droply(
            &["import", &rows, "--data-dir", &data_arg, "--store", &fresh],
            &[],
        ),
        "no store marker",
    );
    assert!(file.exists(), "the creator's file stays");

    // A new data directory is adopted by the first store that writes in it.
    let new = dir.path().join("new");
    let new_arg = new.display().to_string();
    let ours = sled_in(dir.path(), "ours");
    let output = droply(
        &["import", &rows, "--data-dir", &new_arg, "--store", &ours],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(new.join("store-instance").exists(), "marked for its store");
    refused(
        &droply(
            &[
                "verify",
                "--no-search",
                "--data-dir",
                &new_arg,
                "--store",
                &fresh,
            ],
            &[],
        ),
        "belongs to another store",
    );
    let output = droply(
        &[
            "verify",
            "--no-search",
            "--data-dir",
            &new_arg,
            "--store",
            &ours,
        ],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
}

/// Regression: clap's error repeated a mistyped store
/// (`invalid value 'postgress://droply:s3cret@db/d'`), password and all.
#[test]
fn a_mistyped_store_is_refused_without_its_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    let bad = "postgress://droply:s3cret@db/d";
    let sled = sled_in(dir.path(), "store");
    for output in [
        droply(
            &[
                "verify",
                "--no-search",
                "--data-dir",
                &data_arg,
                "--store",
                bad,
            ],
            &[],
        ),
        droply(
            &["verify", "--no-search", "--data-dir", &data_arg],
            &[("DROPLY_STORE", bad)],
        ),
        droply(
            &[
                "migrate",
                "--from",
                bad,
                "--to",
                &sled,
                "--data-dir",
                &data_arg,
            ],
            &[],
        ),
        droply(
            &[
                "migrate",
                "--from",
                &sled,
                "--to",
                bad,
                "--data-dir",
                &data_arg,
            ],
            &[],
        ),
    ] {
        refused(&output, "`postgress://` is not a store");
        assert!(!stderr(&output).contains("s3cret"), "{}", stderr(&output));
    }
    assert!(!data.exists(), "refused before the data dir is made");
}

/// `serve` binds its address before it opens the data directory: a port in
/// use fails without touching it.
#[test]
fn serve_on_a_port_in_use_fails_before_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("addr").to_string();
    let output = droply(
        &[
            "serve",
            "--addr",
            &addr,
            "--data-dir",
            &data.display().to_string(),
        ],
        &[],
    );
    refused(&output, "cannot listen on");
    assert!(!data.exists(), "the data dir was touched");
}

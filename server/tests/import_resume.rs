//! `droply import` after an import was cut short: the store holds the
//! batches it committed and the marker counting them, as a kill -9 between
//! two batches leaves it (made here through the engine, whose input breaks
//! off in the third batch). Another file is refused, naming the unfinished
//! import and how to go on; the same file, run again, skips the committed
//! rows and finishes, every row once. A completed import run again is
//! recognised and writes nothing, while another file whose rows are there
//! already is refused on them.

use std::fs;
use std::io::{BufReader, Cursor, Read};
use std::process::{Command, Output};

use droply_engine::Store;
use droply_engine::import::{BATCH_ROWS, import_lines, unfinished_import};
use droply_engine::payments::ledger::LedgerEntry;
use droply_lab::demo::{DemoConfig, try_generate};
use droply_models::{Booking, ContentPurchase, Favorite, User, UserInteraction};

/// Runs `droply <args>` with no store or data directory from the environment.
fn droply(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_droply"))
        .args(args)
        .env_remove("DROPLY_STORE")
        .env_remove("DROPLY_DATA_DIR")
        .output()
        .expect("run droply")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A reader that fails: the input breaking off.
struct BrokenOff;

impl Read for BrokenOff {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("the input broke off"))
    }
}

/// The byte offset just past the first `lines` lines of `jsonl`.
fn end_of_line(jsonl: &[u8], lines: usize) -> usize {
    jsonl
        .split_inclusive(|byte| *byte == b'\n')
        .take(lines)
        .map(<[u8]>::len)
        .sum()
}

fn count<R: droply_engine::store::Record>(store: &Store) -> usize {
    store.try_count::<R>().expect("count")
}

/// Regression: a `droply import` killed midway left a half-loaded store,
/// and running it again failed on the first committed row ("already
/// exists"), while any other file went in on top of the half.
#[test]
fn an_import_cut_short_is_finished_by_running_it_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let market = try_generate(&DemoConfig {
        experts: 300,
        clients: 10,
        ..DemoConfig::default()
    })
    .expect("demo");
    let mut jsonl = Vec::new();
    let lines = market.write_jsonl(&mut jsonl).expect("jsonl") as usize;
    assert!(lines > 2 * BATCH_ROWS + 20, "{lines} demo rows");
    let rows_file = dir.path().join("demo.jsonl");
    fs::write(&rows_file, &jsonl).expect("rows file");
    let rows_arg = rows_file.display().to_string();
    let data_arg = data.display().to_string();

    // What a kill in the third batch leaves.
    {
        let store = Store::open(data.join("store")).expect("store");
        let cut = end_of_line(&jsonl, 2 * BATCH_ROWS + 20);
        let input = BufReader::new(Cursor::new(jsonl[..cut].to_vec()).chain(BrokenOff));
        import_lines(&store, &rows_arg, input, |_| {}).expect_err("the input broke off");
        let unfinished = unfinished_import(&store)
            .expect("read")
            .expect("unfinished");
        assert_eq!(unfinished.rows_done, 2 * BATCH_ROWS as u64);
    }

    // Another file (the same without its first row) does not continue it.
    let other = dir.path().join("other.jsonl");
    fs::write(&other, &jsonl[end_of_line(&jsonl, 1)..]).expect("other file");
    let refused = droply(&[
        "import",
        &other.display().to_string(),
        "--data-dir",
        &data_arg,
    ]);
    let err = text(&refused.stderr);
    assert!(!refused.status.success(), "{refused:?}");
    for said in [
        "unfinished import",
        rows_arg.as_str(),
        "--abandon-unfinished",
    ] {
        assert!(err.contains(said), "{said:?} not in {err}");
    }

    let resumed = droply(&["import", &rows_arg, "--data-dir", &data_arg]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let said = text(&resumed.stdout);
    assert!(
        said.contains(&format!(
            "its first {} rows were committed before",
            2 * BATCH_ROWS
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("imported {} rows", lines - 2 * BATCH_ROWS)),
        "{said}"
    );

    // Nothing is left to abandon; `--abandon-unfinished` needs no file.
    let abandon = droply(&["import", "--abandon-unfinished", "--data-dir", &data_arg]);
    assert!(abandon.status.success(), "{}", text(&abandon.stderr));
    assert!(
        text(&abandon.stdout).contains("no unfinished import to abandon"),
        "{abandon:?}"
    );

    let store = Store::open(data.join("store")).expect("reopen");
    assert_eq!(unfinished_import(&store).expect("read"), None, "complete");
    assert_eq!(count::<User>(&store), market.users.len());
    assert_eq!(count::<Favorite>(&store), market.favorites.len());
    assert_eq!(count::<UserInteraction>(&store), market.interactions.len());
    assert_eq!(count::<Booking>(&store), market.bookings.len());
    assert_eq!(
        count::<ContentPurchase>(&store),
        market.content_purchases.len()
    );
    let report = store.verify_integrity().expect("check");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

/// Rows per kind that an import writes, and its ledger rows, in the store
/// under `data` (opened and closed again, so `droply` can open it next).
fn counts(data: &std::path::Path) -> [usize; 6] {
    let store = Store::open(data.join("store")).expect("store");
    [
        count::<User>(&store),
        count::<Favorite>(&store),
        count::<UserInteraction>(&store),
        count::<Booking>(&store),
        count::<ContentPurchase>(&store),
        count::<LedgerEntry>(&store),
    ]
}

/// Regression: running a completed `droply import` again with the same file
/// failed on its first row ("already exists"). It is reported as imported
/// already and writes nothing (a copy of the file under another name too);
/// a different file whose rows are in the store is still refused on them.
#[test]
fn a_completed_import_run_again_is_already_imported_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let market = try_generate(&DemoConfig {
        experts: 300,
        clients: 10,
        ..DemoConfig::default()
    })
    .expect("demo");
    let mut jsonl = Vec::new();
    let lines = market.write_jsonl(&mut jsonl).expect("jsonl") as usize;
    let rows_file = dir.path().join("demo.jsonl");
    fs::write(&rows_file, &jsonl).expect("rows file");
    let rows_arg = rows_file.display().to_string();
    let data_arg = data.display().to_string();

    let first = droply(&["import", &rows_arg, "--data-dir", &data_arg]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let said = text(&first.stdout);
    assert!(said.contains(&format!("imported {lines} rows")), "{said}");
    let imported = counts(&data);
    assert_eq!(imported[0], market.users.len());

    let copy = dir.path().join("copy.jsonl");
    fs::write(&copy, &jsonl).expect("copy file");
    for file in [rows_arg.clone(), copy.display().to_string()] {
        let again = droply(&["import", &file, "--data-dir", &data_arg]);
        assert!(again.status.success(), "{}", text(&again.stderr));
        let said = text(&again.stdout);
        assert!(said.contains("already imported, nothing to do"), "{said}");
        assert!(said.contains(&rows_arg), "{said}");
        assert_eq!(counts(&data), imported, "nothing written by {file}");
    }

    // Another file (the same without its first row) overlaps the store's rows.
    let other = dir.path().join("other.jsonl");
    fs::write(&other, &jsonl[end_of_line(&jsonl, 1)..]).expect("other file");
    let refused = droply(&[
        "import",
        &other.display().to_string(),
        "--data-dir",
        &data_arg,
    ]);
    assert!(!refused.status.success(), "{refused:?}");
    let err = text(&refused.stderr);
    assert!(
        err.contains("line 1") && err.contains("already exists"),
        "{err}"
    );
    assert_eq!(counts(&data), imported, "nothing written by the other file");

    let store = Store::open(data.join("store")).expect("reopen");
    assert_eq!(unfinished_import(&store).expect("read"), None);
    let report = store.verify_integrity().expect("check");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

//! `droply migrate`: a sled store copied into PostgreSQL through the command
//! line, rows and relations intact; copying into a store that already holds
//! rows is refused; content files go along into the database and back out;
//! the store's secret key and import marker go along too.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};

use clap::Parser;
use droply_engine::accounts::{LoginThrottle, LoginThrottleConfig};
use droply_engine::content::{ContentFiles, FileRole, NewContent};
use droply_engine::import::{BATCH_ROWS, ImportRow, import_lines, unfinished_import};
use droply_engine::{Engine, EngineConfig, Error, Store};
use droply_models::{ContentType, Currency, Money, UserId};
use droply_server::cli::{Cli, run};
use droply_test_support::fixtures::{full_booking, full_user};
use droply_test_support::postgres::fresh_database;

/// `droply migrate --from FROM --to TO --data-dir DATA_DIR`.
fn migrate_with_files(from: &str, to: &str, data_dir: &str) -> droply_server::Result<()> {
    run(Cli::parse_from([
        "droply",
        "migrate",
        "--from",
        from,
        "--to",
        to,
        "--data-dir",
        data_dir,
    ]))
}

/// `droply migrate --from FROM --to TO` with a data directory of its own
/// (the default, `./droply-data`, would be left in the source tree).
fn migrate(from: &str, to: &str) -> droply_server::Result<()> {
    let data = tempfile::tempdir().expect("tempdir");
    migrate_with_files(from, to, &data.path().display().to_string())
}

#[test]
fn migrate_copies_a_sled_store_into_postgres_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sled_dir = dir.path().join("store");
    let (ann, booking) = {
        let store = Store::open(&sled_dir).expect("sled");
        let ann = store.users().create(full_user("ann")).expect("ann");
        let bea = store.users().create(full_user("bea")).expect("bea");
        let booking = store
            .bookings()
            .create(full_booking(bea.id, ann.id, "2026-10-05T09:00:00Z"))
            .expect("booking");
        (ann, booking)
    };
    let url = fresh_database();
    let from = format!("sled:{}", sled_dir.display());
    migrate(&from, &url).expect("migrate");

    let copy = Store::open_postgres(&url).expect("the copy");
    assert_eq!(copy.users().get(ann.id).expect("ann"), ann);
    assert_eq!(copy.bookings().get(booking.id).expect("booking"), booking);
    let listed = copy
        .bookings()
        .by_provider(ann.id, &Default::default())
        .expect("by provider");
    assert_eq!(listed.items, vec![booking]);
    assert!(copy.verify_integrity().expect("check").is_consistent());

    let err = migrate(&from, &url).expect_err("the copy holds rows now");
    assert!(err.to_string().contains("already holds"), "{err}");
    assert_eq!(copy.users().count(), 2, "nothing copied twice");
}

/// A sled store in `data_dir` holding a guide whose file is `file`; the
/// path its row records.
fn guide_with_a_file(data_dir: &std::path::Path, file: &[u8]) -> String {
    let engine = Engine::open(EngineConfig::new(data_dir)).expect("engine");
    let ann = engine
        .store()
        .users()
        .create(full_user("ann"))
        .expect("ann");
    let new = NewContent {
        title: "Guide".into(),
        description: String::new(),
        content_type: ContentType::Document,
        price: Money::zero(Currency::EUR),
        category_id: None,
    };
    let content = engine.create_content(ann.id, new).expect("content");
    let uploaded = engine
        .upload_content((content.id, ann.id, FileRole::File), None, &mut &file[..])
        .expect("upload");
    engine.shutdown().expect("shutdown");
    uploaded.file_path
}

#[test]
fn content_files_go_into_postgres_and_back_out() {
    let data = tempfile::tempdir().expect("tempdir");
    let file = crate::content::pdf(2 << 20);
    let stored = guide_with_a_file(data.path(), &file);
    let url = fresh_database();
    let sled = format!("sled:{}", data.path().join("store").display());
    let data_dir = data.path().display().to_string();
    migrate_with_files(&sled, &url, &data_dir).expect("into PostgreSQL");
    // A node with a data directory of its own serves the file from the database.
    let node = tempfile::tempdir().expect("node");
    let shared = Store::open_postgres(&url).expect("shared");
    let read = |files: &ContentFiles| {
        let mut back = Vec::new();
        files
            .open_file(&stored)
            .expect("open")
            .read_to_end(&mut back)
            .expect("read");
        back
    };
    assert_eq!(
        read(&ContentFiles::open(node.path(), &shared).expect("files")),
        file
    );

    // And back out into a new sled store and data directory.
    let back = tempfile::tempdir().expect("back");
    let sled_back = format!("sled:{}", back.path().join("store").display());
    let back_dir = back.path().display().to_string();
    migrate_with_files(&url, &sled_back, &back_dir).expect("back out");
    let sled_store = Store::open(back.path().join("store")).expect("sled copy");
    assert!(
        back.path().join(&stored).exists(),
        "the file is in the data dir"
    );
    assert_eq!(
        read(&ContentFiles::open(back.path(), &sled_store).expect("files")),
        file
    );
}

#[test]
fn a_missing_content_file_stops_the_copy_before_any_row() {
    let data = tempfile::tempdir().expect("tempdir");
    let stored = guide_with_a_file(data.path(), &crate::content::pdf(1000));
    std::fs::remove_file(data.path().join(&stored)).expect("lose the file");
    let url = fresh_database();
    let sled = format!("sled:{}", data.path().join("store").display());
    let data_dir = data.path().display().to_string();
    let err = migrate_with_files(&sled, &url, &data_dir).expect_err("a file is missing");
    assert!(err.to_string().contains(&stored), "{err}");
    assert_eq!(
        Store::open_postgres(&url).expect("target").users().count(),
        0
    );
}

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
const EMAIL: &str = "ann@example.com";

/// A throttle over `store` that refuses a pair's second attempt.
fn strict_throttle(store: &Store) -> LoginThrottle {
    let config = LoginThrottleConfig {
        max_failures: 1,
        ..LoginThrottleConfig::default()
    };
    LoginThrottle::new(config, store.clone())
}

/// An import file of `users` users, ids 1 up.
fn users_file(users: usize) -> String {
    (1..=users as u64)
        .map(|id| {
            let mut user = full_user(&format!("user{id:04}"));
            user.id = UserId::new(id);
            serde_json::to_string(&ImportRow::User(user)).expect("json")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Regression: `droply migrate` left the store's secret key and its import
/// marker behind. The copy made a key of its own, so a sign-in throttled
/// before the copy got fresh attempts in it (its row keyed under the old
/// key), and an import cut short before the copy could not be finished
/// against it (its rerun failed on the rows already there).
#[test]
fn migrate_carries_the_secret_key_and_an_unfinished_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sled_dir = dir.path().join("store");
    let text = users_file(BATCH_ROWS + 1);
    let unfinished = {
        let store = Store::open(&sled_dir).expect("sled");
        let broken = format!("{text}\n{{\"kind\": \"user\", \"row\": ");
        let broke = import_lines(&store, "users.jsonl", broken.as_bytes(), |_| {})
            .expect_err("the last line is broken");
        assert!(matches!(broke, Error::Invalid(_)), "{broke}");
        let _failed = strict_throttle(&store)
            .begin(Some(CLIENT), EMAIL)
            .expect("the first attempt");
        unfinished_import(&store)
            .expect("read")
            .expect("unfinished")
    };
    let url = fresh_database();
    {
        // The target made a key of its own: a sign-in it has forgotten.
        let target = Store::open_postgres(&url).expect("target");
        let throttle = strict_throttle(&target);
        let attempt = throttle.begin(Some(CLIENT), EMAIL).expect("an attempt");
        throttle.succeeded(attempt);
    }
    migrate(&format!("sled:{}", sled_dir.display()), &url).expect("migrate");

    let copy = Store::open_postgres(&url).expect("the copy");
    let again = strict_throttle(&copy).begin(Some(CLIENT), EMAIL);
    assert!(
        matches!(again, Err(Error::TooManyAttempts { .. })),
        "the attempt made before the copy is not found in it: {again:?}"
    );
    assert_eq!(unfinished_import(&copy).expect("read"), Some(unfinished));
    let stats = import_lines(&copy, "users.jsonl", text.as_bytes(), |_| {}).expect("resumed");
    assert_eq!((stats.skipped, stats.rows), (BATCH_ROWS as u64, 1));
}

/// Regression: the copy's change feed is numbered anew, yet the data
/// directory's search index manifest was left, so the next `serve` could
/// trust an index that followed the source's feed. Migrate removes it (the
/// next `serve` rebuilds) and leaves no in-progress marker on a copy that
/// finished.
#[test]
fn migrate_removes_the_search_index_manifest_and_finishes_the_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (from_dir, to_dir) = (dir.path().join("from"), dir.path().join("to"));
    {
        let store = Store::open(&from_dir).expect("sled");
        store.users().create(full_user("ann")).expect("ann");
    }
    let data = dir.path().join("data");
    let search = droply_engine::DataDir::new(&data).search();
    std::fs::create_dir_all(&search).expect("search dir");
    let manifest = search.join("manifest.json");
    std::fs::write(&manifest, b"{}").expect("a manifest");
    migrate_with_files(
        &format!("sled:{}", from_dir.display()),
        &format!("sled:{}", to_dir.display()),
        &data.display().to_string(),
    )
    .expect("migrate");
    assert!(!manifest.exists(), "the manifest was kept");
    let copy = Store::open(&to_dir).expect("the copy");
    assert_eq!(copy.users().count(), 1);
    droply_engine::records::refuse_unfinished_migration(&copy).expect("finished");
}

//! Resumable imports, on sled and on PostgreSQL. An import cut short after
//! some batches (its input breaks off, or a batch fails, leaving the store
//! as a kill -9 there would) is taken up by a rerun of the same input,
//! which skips the rows committed and ends with the store one uninterrupted
//! import makes, no row twice; an import whose rows all went in but whose
//! follow-up never finished is finished by the rerun; and an input that
//! does not continue an unfinished import is refused, naming it, until that
//! one is finished or abandoned.

use std::io::{BufRead, BufReader, Cursor, Read};

use droply_engine::import::{
    BATCH_ROWS, ImportRow, abandon_unfinished_import, already_imported, complete_import,
    import_lines, import_rows_resumable, unfinished_import,
};
use droply_engine::records::copy_store;
use droply_engine::{Error, Store};
use droply_models::{
    Favorite, FavoriteId, InteractionId, InteractionType, User, UserId, UserInteraction,
};
use droply_test_support::fixtures::{StorePlace, eur, favorite, full_user, interaction};

/// Users in [`market`].
const USERS: u64 = 600;
/// Views in [`market`].
const VIEWS: u64 = 300;
/// Rows in [`market`]: three batches, the last one short.
const ROWS: u64 = USERS + (USERS - 1) + (VIEWS - 1);

/// An import's rows: `USERS` users named `{name}0`, `{name}1`, ... from id
/// `first` (every 50th with earnings, which get opening ledger rows), each
/// but the first saving the first, and the next `VIEWS - 1` viewing it.
fn market(name: &str, first: u64) -> Vec<ImportRow> {
    let id = |i: u64| UserId::new(first + i);
    let mut rows = Vec::new();
    for i in 0..USERS {
        let mut user = full_user(&format!("{name}{i}"));
        user.id = id(i);
        if i % 50 == 7 {
            user.total_earnings = eur(5_000);
        }
        rows.push(ImportRow::User(user));
    }
    for i in 1..USERS {
        let mut saved: Favorite = favorite(id(i), id(0), "2026-10-03T10:00:00Z");
        saved.id = FavoriteId::new(100_000 + first + i);
        rows.push(ImportRow::Favorite(saved));
    }
    for i in 1..VIEWS {
        let mut view: UserInteraction =
            interaction(id(i), id(0), InteractionType::View, "2026-10-04T10:00:00Z");
        view.id = InteractionId::new(200_000 + first + i);
        rows.push(ImportRow::Interaction(view));
    }
    assert_eq!(rows.len() as u64, ROWS);
    assert!(ROWS > 2 * BATCH_ROWS as u64 && ROWS < 3 * BATCH_ROWS as u64);
    rows
}

/// `rows` as an import file's text.
fn lines_of(rows: &[ImportRow]) -> String {
    rows.iter()
        .map(|row| serde_json::to_string(row).expect("json"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A reader that fails: the input breaking off.
struct BrokenOff;

impl Read for BrokenOff {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("the input broke off"))
    }
}

/// The first `lines` lines of `text`, then a read error, as when the
/// importing process is killed while reading past them.
fn broken_after(text: &str, lines: usize) -> impl BufRead {
    let cut: usize = text.split_inclusive('\n').take(lines).map(str::len).sum();
    BufReader::new(Cursor::new(text.as_bytes()[..cut].to_vec()).chain(BrokenOff))
}

/// Rows per entity, every entity the store keeps (counted by a copy).
fn entity_counts(store: &Store) -> Vec<(&'static str, usize)> {
    let copy = Store::open_temporary().expect("a store to count into");
    copy_store(store, &copy).expect("copy").rows
}

fn users(store: &Store) -> usize {
    store.try_count::<User>().expect("count users")
}

/// Every entity counts the same in `store` as in `whole` (no row twice, none
/// missing), the imported rows are equal, and the store is consistent.
fn assert_same_store(store: &Store, whole: &Store) {
    assert_eq!(entity_counts(store), entity_counts(whole));
    let all = |store: &Store| -> Vec<User> {
        store.iter::<User>().map(|row| row.expect("user")).collect()
    };
    assert_eq!(all(store), all(whole));
    let saves = |store: &Store| -> Vec<Favorite> {
        store
            .iter::<Favorite>()
            .map(|row| row.expect("favorite"))
            .collect()
    };
    assert_eq!(saves(store), saves(whole));
    let report = store.verify_integrity().expect("check");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

/// The store `text` makes in one uninterrupted import, at `whole_place`.
fn imported_in_one_go(whole_place: &StorePlace, text: &str) -> Store {
    let whole = whole_place.open();
    let stats = import_lines(&whole, "rows.jsonl", text.as_bytes(), |_| {}).expect("one go");
    assert_eq!((stats.rows, stats.skipped), (ROWS, 0));
    complete_import(&whole, &stats).expect("complete");
    whole
}

/// Regression: an import killed midway left its committed batches, and a
/// rerun failed on the first of them ("user 1 already exists").
fn a_file_import_cut_short_resumes_to_what_one_import_makes(place: &StorePlace) {
    let text = lines_of(&market("ann", 1));
    let store = place.open();
    let broke = import_lines(&store, "rows.jsonl", broken_after(&text, 1_100), |_| {})
        .expect_err("the input broke off");
    assert!(matches!(broke, Error::Io(_)), "{broke}");
    let unfinished = unfinished_import(&store)
        .expect("read")
        .expect("unfinished");
    assert_eq!(unfinished.source, "rows.jsonl");
    assert_eq!(
        (unfinished.rows_done, unfinished.batches_done),
        (2 * BATCH_ROWS as u64, 2)
    );
    assert!(!unfinished.complete);
    assert_eq!(users(&store), USERS as usize, "two whole batches, no more");
    assert_eq!(store.try_count::<Favorite>().expect("count"), 400);
    drop(store);

    // As after a restart.
    let store = place.open();
    let mut reported = Vec::new();
    let stats = import_lines(&store, "rows.jsonl", text.as_bytes(), |bytes| {
        reported.push(bytes)
    })
    .expect("resumed");
    assert_eq!(stats.skipped, 2 * BATCH_ROWS as u64);
    assert_eq!(stats.rows, ROWS - 2 * BATCH_ROWS as u64);
    assert_eq!(reported.last().copied(), Some(text.len() as u64 + 1));
    assert_eq!(
        unfinished_import(&store)
            .expect("read")
            .map(|progress| progress.rows_done),
        Some(ROWS),
        "unfinished until the caller completes it"
    );
    complete_import(&store, &stats).expect("complete");
    assert_eq!(unfinished_import(&store).expect("read"), None);

    let whole_place = StorePlace::new(place.backend);
    let whole = imported_in_one_go(&whole_place, &text);
    assert_same_store(&store, &whole);
}

/// An import whose every row went in but whose follow-up was cut short
/// (killed before it was marked complete) is finished by a rerun that
/// writes no row twice; once complete, the same file is recognised as
/// imported ([`already_imported`], what `droply import` asks first), and an
/// import of it regardless is a new import, refused as it was (its rows are
/// there).
fn an_import_cut_short_after_its_last_batch_is_finished_by_a_rerun(place: &StorePlace) {
    let text = lines_of(&market("ann", 1));
    let store = place.open();
    let first = import_lines(&store, "rows.jsonl", text.as_bytes(), |_| {}).expect("rows");
    assert_eq!(first.rows, ROWS);
    let counts = entity_counts(&store);
    drop(store);

    let store = place.open();
    let rerun = import_lines(&store, "rows.jsonl", text.as_bytes(), |_| {}).expect("rerun");
    assert_eq!((rerun.rows, rerun.skipped), (0, ROWS));
    assert_eq!(
        entity_counts(&store),
        counts,
        "no row twice, no opening twice"
    );
    complete_import(&store, &rerun).expect("complete");
    let done = already_imported(&store, text.as_bytes())
        .expect("check")
        .expect("the same file is imported already");
    assert_eq!((done.source.as_str(), done.rows), ("rows.jsonl", ROWS));

    let again = import_lines(&store, "rows.jsonl", text.as_bytes(), |_| {})
        .expect_err("a complete import's rows are there");
    assert!(again.to_string().contains("already exists"), "{again}");
    assert_eq!(unfinished_import(&store).expect("read"), None);

    let whole_place = StorePlace::new(place.backend);
    let whole = imported_in_one_go(&whole_place, &text);
    assert_same_store(&store, &whole);
}

/// Rows in memory (the demo marketplace) resume the same way; a batch that
/// fails leaves neither its rows nor a moved marker.
fn rows_in_memory_cut_short_resume_to_what_one_import_makes(place: &StorePlace) {
    let rows = market("ann", 1);
    let store = place.open();
    let mut cut = rows[..2 * BATCH_ROWS + 30].to_vec();
    cut.push(rows[3].clone());
    let failed = import_rows_resumable(&store, "the demo", cut, |_| {})
        .expect_err("a row already in fails its batch");
    assert!(failed.to_string().contains("already exists"), "{failed}");
    let unfinished = unfinished_import(&store)
        .expect("read")
        .expect("unfinished");
    assert_eq!(unfinished.rows_done, 2 * BATCH_ROWS as u64);
    assert_eq!(store.try_count::<Favorite>().expect("count"), 400);
    drop(store);

    let store = place.open();
    let stats = import_rows_resumable(&store, "the demo", rows.clone(), |_| {}).expect("resumed");
    assert_eq!(
        (stats.skipped, stats.rows),
        (2 * BATCH_ROWS as u64, ROWS - 2 * BATCH_ROWS as u64)
    );
    complete_import(&store, &stats).expect("complete");

    let whole_place = StorePlace::new(place.backend);
    let whole = whole_place.open();
    let one_go = import_rows_resumable(&whole, "the demo", rows, |_| {}).expect("one go");
    complete_import(&whole, &one_go).expect("complete");
    assert_same_store(&store, &whole);
}

/// Regression: with an import unfinished, another file went in on top of
/// it. It is refused, naming the unfinished import and what to do, and
/// writes nothing; abandoned, the unfinished import's rows stay and the
/// other goes in.
fn a_different_input_is_refused_while_an_import_is_unfinished(place: &StorePlace) {
    let ann = lines_of(&market("ann", 1));
    let bob = lines_of(&market("bob", 10_000));
    let store = place.open();
    import_lines(&store, "ann.jsonl", broken_after(&ann, 700), |_| {}).expect_err("broke off");
    let before = users(&store);
    assert_eq!(before, BATCH_ROWS);

    let refused =
        import_lines(&store, "bob.jsonl", bob.as_bytes(), |_| {}).expect_err("another input");
    assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
    let message = refused.to_string();
    for said in [
        "unfinished import",
        "ann.jsonl",
        "500 rows committed",
        "bob.jsonl",
        "--abandon-unfinished",
    ] {
        assert!(message.contains(said), "{said:?} not in {message}");
    }
    assert_eq!(users(&store), before, "nothing written");

    // An input that ends before the committed rows does not continue it.
    let head = ann.lines().take(100).collect::<Vec<_>>().join("\n");
    let short = import_lines(&store, "head.jsonl", head.as_bytes(), |_| {})
        .expect_err("fewer rows than committed");
    assert!(short.to_string().contains("only 100 rows"), "{short}");
    // Rows in memory are held to the same rule.
    let refused = import_rows_resumable(&store, "bob's rows", market("bob", 10_000), |_| {})
        .expect_err("other rows");
    assert!(refused.to_string().contains("ann.jsonl"), "{refused}");
    assert_eq!(users(&store), before, "nothing written");
    assert_eq!(
        unfinished_import(&store)
            .expect("read")
            .map(|p| p.rows_done),
        Some(BATCH_ROWS as u64)
    );

    let abandoned = abandon_unfinished_import(&store)
        .expect("abandon")
        .expect("there was one");
    assert_eq!(abandoned.source, "ann.jsonl");
    assert_eq!(unfinished_import(&store).expect("read"), None);
    let stats = import_lines(&store, "bob.jsonl", bob.as_bytes(), |_| {}).expect("bob");
    complete_import(&store, &stats).expect("complete");
    assert_eq!(users(&store), before + USERS as usize);
}

droply_test_support::on_both_backends!(
    a_file_import_cut_short_resumes_to_what_one_import_makes,
    an_import_cut_short_after_its_last_batch_is_finished_by_a_rerun,
    rows_in_memory_cut_short_resume_to_what_one_import_makes,
    a_different_input_is_refused_while_an_import_is_unfinished,
);

//! `droply import`: JSON lines in, rows in the store, relations intact; a bad
//! line is refused with its line number.

use clap::Parser;
use droply_engine::Store;
use droply_engine::import::ImportRow;
use droply_models::{Favorite, FavoriteId, Timestamp, UserId};
use droply_server::cli::{Cli, run};

use crate::app::spawn_app_on;
use crate::experts::secretive_expert;

fn import(file: &std::path::Path, data_dir: &std::path::Path) -> droply_server::Result<()> {
    let cli = Cli::parse_from([
        "droply",
        "import",
        &file.display().to_string(),
        "--data-dir",
        &data_dir.display().to_string(),
    ]);
    run(cli)
}

#[test]
fn import_loads_rows_under_their_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ann = secretive_expert("ann");
    ann.id = UserId::new(10);
    let mut bea = secretive_expert("bea");
    bea.id = UserId::new(11);
    let fav = Favorite {
        id: FavoriteId::new(12),
        user_id: ann.id,
        favorited_user_id: bea.id,
        created_at: Timestamp::parse_rfc3339("2026-10-02T00:00:00Z").expect("instant"),
    };
    let lines: Vec<String> = [
        ImportRow::User(ann.clone()),
        ImportRow::User(bea.clone()),
        ImportRow::Favorite(fav.clone()),
    ]
    .iter()
    .map(|row| serde_json::to_string(row).expect("json"))
    .collect();
    let file = dir.path().join("rows.jsonl");
    std::fs::write(&file, lines.join("\n")).expect("write");
    import(&file, dir.path()).expect("import");

    let store = Store::open(dir.path().join("store")).expect("open");
    assert_eq!(store.users().get(ann.id).expect("ann"), ann);
    assert_eq!(
        store.favorites().find_pair(ann.id, bea.id).expect("pair"),
        Some(fav)
    );
    assert!(store.verify_integrity().expect("check").is_consistent());
    // New rows get ids after the imported ones.
    let carl = store
        .users()
        .create(secretive_expert("carl"))
        .expect("carl");
    assert!(carl.id.get() > 12);
    let app = spawn_app_on(store, dir);
    assert_eq!(
        app.get(&format!("/v1/experts/{}", bea.id)).body["username"],
        "bea"
    );
}

#[test]
fn a_bad_line_is_refused_with_its_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = serde_json::to_string(&ImportRow::User(secretive_expert("ann"))).expect("json");
    let file = dir.path().join("rows.jsonl");
    std::fs::write(
        &file,
        format!("{good}\n{{\"kind\": \"user\", \"row\": {{\"id\": \"x\"}}}}\n"),
    )
    .expect("write");
    let err = import(&file, dir.path()).expect_err("bad line");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn a_row_that_breaks_a_rule_is_refused_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ann = secretive_expert("ann");
    ann.id = UserId::new(1);
    let ann = serde_json::to_string(&ImportRow::User(ann)).expect("json");
    let mut twin = secretive_expert("ann");
    twin.id = UserId::new(77);
    let twin = serde_json::to_string(&ImportRow::User(twin)).expect("json");
    let file = dir.path().join("rows.jsonl");
    std::fs::write(&file, format!("{ann}\n\n{twin}\n")).expect("write");
    let err = import(&file, dir.path()).expect_err("duplicate username");
    assert!(err.to_string().contains("line 3"), "{err}");
}

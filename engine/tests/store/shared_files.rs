//! Content files on a shared store: a file one node keeps is served by
//! another that never saw it (fetched from PostgreSQL into its own cache),
//! a removed file is gone for every node (the copy another node cached
//! included, once its sweep runs), and a shared file no row points at is
//! swept only after its grace hour.

use std::io::Read;
use std::time::Duration;

use droply_engine::Error;
use droply_engine::content::{ContentFiles, FileRole};
use droply_engine::store::StoreLocation;
use droply_models::ContentId;

use crate::fixtures::*;

fn any(_: droply_engine::content::FileType) -> droply_engine::Result<()> {
    Ok(())
}

fn read_all(files: &ContentFiles, stored: &str) -> Vec<u8> {
    let mut back = Vec::new();
    files
        .open_file(stored)
        .expect("open")
        .read_to_end(&mut back)
        .expect("read");
    back
}

#[test]
fn a_file_kept_by_one_node_is_served_by_another_and_removed_for_all() {
    let place = StorePlace::new(Backend::Postgres);
    let (store_a, store_b) = (place.open(), place.open());
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let node_a = ContentFiles::open(dir_a.path(), &store_a).expect("node a");
    let node_b = ContentFiles::open(dir_b.path(), &store_b).expect("node b");
    // Three chunks and a bit: the file is stored and read back in pieces.
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..3 * (1 << 20) + 12_345).map(|i| (i % 251) as u8));
    let received = node_a
        .receive(&mut pdf.as_slice(), 16 << 20, &any)
        .expect("received");
    let stored = node_a
        .keep(received, ContentId::new(7), FileRole::File)
        .expect("kept");
    assert_eq!(read_all(&node_b, &stored), pdf, "node b fetched it whole");
    assert!(
        dir_b.path().join(&stored).exists(),
        "and keeps a copy as its cache"
    );
    assert_eq!(read_all(&node_b, &stored), pdf, "served from the cache");

    node_a.remove(&stored);
    let dir_c = tempfile::tempdir().expect("c");
    let node_c = ContentFiles::open(dir_c.path(), &place.open()).expect("node c");
    match node_c.open_file(&stored) {
        Err(Error::Io(err)) => assert_eq!(err.kind(), std::io::ErrorKind::NotFound),
        other => panic!("a removed file is gone for every node: {other:?}"),
    }
    assert!(
        std::fs::read_dir(dir_c.path().join("content/tmp"))
            .expect("tmp")
            .next()
            .is_none(),
        "a failed fetch leaves nothing behind"
    );
}

#[test]
fn shared_files_no_row_points_at_are_swept_after_an_hour() {
    let place = StorePlace::new(Backend::Postgres);
    let store = place.open();
    let dir = tempfile::tempdir().expect("dir");
    let files = ContentFiles::open(dir.path(), &store).expect("files");
    let keep = |id: u64| {
        let received = files
            .receive(&mut b"%PDF-1.7 unrecorded".as_slice(), 1 << 20, &any)
            .expect("received");
        files
            .keep(received, ContentId::new(id), FileRole::File)
            .expect("kept")
    };
    let (fresh, stale) = (keep(1), keep(2));
    let StoreLocation::Postgres(url) = &place.location else {
        unreachable!("a PostgreSQL place")
    };
    let mut sql = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    sql.execute(
        "UPDATE shared_file SET stored_at = now() - interval '2 hours' WHERE path = $1",
        &[&stale],
    )
    .expect("backdate");
    // No content row points at either: the fresh one may be an upload
    // another node is recording, so only the stale one goes (with this
    // node's two local copies).
    assert_eq!(files.sweep_orphans().expect("sweep"), 3);
    let left: Vec<String> = sql
        .query("SELECT path FROM shared_file ORDER BY path", &[])
        .expect("left")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(left, vec![fresh.clone()]);
    let other = tempfile::tempdir().expect("other");
    let node = ContentFiles::open(other.path(), &place.open()).expect("node");
    assert_eq!(read_all(&node, &fresh), b"%PDF-1.7 unrecorded");
    assert!(node.open_file(&stale).is_err());
}

#[test]
fn a_file_deleted_on_one_node_is_swept_from_the_cache_of_another_that_served_it() {
    let place = StorePlace::new(Backend::Postgres);
    let (store_a, store_b) = (place.open(), place.open());
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let node_a = ContentFiles::open(dir_a.path(), &store_a).expect("node a");
    let node_b = ContentFiles::open(dir_b.path(), &store_b).expect("node b");
    let (_, creator) = two_users(&store_a);
    let mut row = content(creator.id, "2026-10-01T00:00:00Z");
    row.preview_available = false;
    row.preview_path = None;
    row.preview_meta = None;
    let row = store_a.contents().create(row).expect("content");
    let pdf = b"%PDF-1.7 a guide".to_vec();
    let received = node_a
        .receive(&mut pdf.as_slice(), 1 << 20, &any)
        .expect("received");
    let meta = received.meta.clone();
    let stored = node_a.keep(received, row.id, FileRole::File).expect("kept");
    store_a
        .contents()
        .modify(row.id, |row| {
            row.file_path = stored.clone();
            row.file_size = meta.size;
            row.file_meta = Some(meta);
            Ok(())
        })
        .expect("recorded");
    assert_eq!(read_all(&node_b, &stored), pdf, "downloaded from node b");
    let cached = dir_b.path().join(&stored);
    assert!(cached.exists(), "node b keeps a copy");
    assert_eq!(
        node_b.sweep_local_orphans(Duration::ZERO).expect("sweep"),
        0,
        "a file its row names stays"
    );
    assert!(cached.exists());

    // What deleting the content does on node a: the row, then its files
    // (node a's copy and the shared one; node b's is not node a's to reach).
    store_a.contents().delete(row.id).expect("deleted");
    node_a.remove(&stored);
    assert!(!dir_a.path().join(&stored).exists());
    assert!(cached.exists(), "until node b sweeps, its copy stays");
    assert_eq!(
        node_b
            .sweep_local_orphans(ContentFiles::LOCAL_ORPHAN_GRACE)
            .expect("sweep"),
        0,
        "a copy written within the grace is kept (it may be an upload)"
    );
    assert_eq!(
        node_b.sweep_local_orphans(Duration::ZERO).expect("sweep"),
        1
    );
    assert!(
        !cached.exists(),
        "node b's copy of the deleted file is gone"
    );
}

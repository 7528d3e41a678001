//! The change feed numbers every write, can be read from any point, survives
//! a reopen and wakes readers waiting for the next write.

use std::time::Duration;

use droply_engine::store::{ChangeOp, EntityKind};

use crate::fixtures::*;

fn every_write_gets_the_next_sequence_number(place: &StorePlace) {
    let (client, expert, fav) = {
        let store = place.open();
        assert_eq!(store.last_seq(), 0);
        let (client, expert) = two_users(&store);
        let fav = store
            .favorites()
            .create(favorite(client.id, expert.id, "2026-10-01T00:00:00Z"))
            .expect("fav");
        store.favorites().delete(fav.id).expect("delete");
        (client, expert, fav)
    };
    let store = place.open();
    assert_eq!(store.last_seq(), 4);
    let changes = store.changes_since(0, 100).expect("feed");
    let summary: Vec<_> = changes
        .iter()
        .map(|c| (c.seq, c.kind, c.id, c.op))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, EntityKind::User, client.id.get(), ChangeOp::Put),
            (2, EntityKind::User, expert.id.get(), ChangeOp::Put),
            (3, EntityKind::Favorite, fav.id.get(), ChangeOp::Put),
            (4, EntityKind::Favorite, fav.id.get(), ChangeOp::Delete),
        ]
    );
    let tail = store.changes_since(2, 1).expect("feed");
    assert_eq!(tail.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![3]);
    // Numbering continues after a reopen.
    store.users().create(full_user("third")).expect("third");
    assert_eq!(store.last_seq(), 5);
}

fn one_transaction_gets_one_entry_per_row(place: &StorePlace) {
    let store = place.open();
    store
        .write(|txn| {
            txn.create(full_user("ann"))?;
            txn.create(full_user("bob"))
        })
        .expect("write");
    let changes = store.changes_since(0, 10).expect("feed");
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].at, changes[1].at, "one commit instant");
}

fn readers_wake_when_a_write_lands(place: &StorePlace) {
    let store = place.open();
    let writer = store.clone();
    let handle = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        writer.users().create(full_user("late")).expect("write");
    });
    let seq = store.wait_for_changes(0, Duration::from_secs(10));
    assert_eq!(seq, 1);
    handle.join().expect("writer");
    assert_eq!(
        store.wait_for_changes(1, Duration::from_millis(10)),
        1,
        "times out without news"
    );
}

fn truncating_the_feed_keeps_later_entries(place: &StorePlace) {
    let store = place.open();
    for name in ["ann", "bob", "cyd"] {
        store.users().create(full_user(name)).expect("user");
    }
    assert_eq!(store.truncate_changes(2).expect("truncate"), 2);
    assert_eq!(store.oldest_change().expect("oldest"), Some(3));
    assert_eq!(store.changes_since(0, 10).expect("feed").len(), 1);
}

droply_test_support::on_both_backends!(
    every_write_gets_the_next_sequence_number,
    one_transaction_gets_one_entry_per_row,
    readers_wake_when_a_write_lands,
    truncating_the_feed_keeps_later_entries,
);

//! Tests of the write clock: a transaction runs after the last commit
//! whatever the wall clock says (stepped back, or another node's behind),
//! on both backends, across a reopen and past a backdated import.

use std::cell::Cell;

use droply_models::Timestamp;

use super::Txn;
use crate::Store;
use crate::accounts::{LoginAttempts, LoginAttemptsId};
use crate::records::on_both_backends;

thread_local! {
    /// How far this thread's wall clock runs ahead, in microseconds.
    pub(super) static WALL_CLOCK_AHEAD_MICROS: Cell<i64> = const { Cell::new(0) };
}

/// A clock step back (or a node behind another), in microseconds: two
/// minutes, within what the write clock follows (`MAX_CLOCK_LEAD_MICROS`).
const STEP: i64 = 120_000_000;

/// Runs `body` with this thread's wall clock `micros` ahead, then sets
/// it right again: the instant it is set back plays an NTP step back
/// (or a node whose clock runs behind the one that wrote before).
fn with_wall_clock_ahead<T>(micros: i64, body: impl FnOnce() -> T) -> T {
    WALL_CLOCK_AHEAD_MICROS.set(micros);
    let out = body();
    WALL_CLOCK_AHEAD_MICROS.set(0);
    out
}

fn at(micros: i64) -> Timestamp {
    Timestamp::from_micros(micros).expect("in range")
}

fn attempts(n: u8) -> LoginAttempts {
    let now = Timestamp::now();
    LoginAttempts {
        id: LoginAttemptsId::new(0),
        pair_key: format!("{n:064x}"),
        attempts: vec![now],
        expires_at: now.plus_minutes(15),
    }
}

/// Writes one row through `store`; returns the instant it ran at.
fn write_a_row(store: &Store, n: u8) -> Timestamp {
    store
        .write(|txn| {
            txn.create(attempts(n))?;
            Ok(txn.now())
        })
        .expect("a write")
}

/// A second handle of `store`: for PostgreSQL, another node (a `Store`
/// opened on the same database); for sled, which one process opens, a
/// clone.
fn another_node(store: &Store, url: Option<&str>) -> Store {
    match url {
        Some(url) => Store::open_postgres(url).expect("a second node"),
        None => store.clone(),
    }
}

#[test]
fn the_write_clock_runs_past_the_last_commit_when_the_wall_clock_is_behind_it() {
    let floor = at(1_800_000_000_000_000);
    assert_eq!(
        Txn::now_after(Some(floor), at(1_799_999_900_000_000)),
        at(1_800_000_000_000_001),
        "a wall clock behind the last commit: one microsecond after it"
    );
    assert_eq!(
        Txn::now_after(Some(floor), floor),
        at(1_800_000_000_000_001),
        "never the last commit's own instant"
    );
    assert_eq!(
        Txn::now_after(Some(floor), at(1_800_000_000_500_000)),
        at(1_800_000_000_500_000),
        "a wall clock ahead of it is kept"
    );
    assert_eq!(
        Txn::now_after(None, at(1_700_000_000_000_000)),
        at(1_700_000_000_000_000),
        "no commit known: the wall clock"
    );
}

/// Found by the review: one commit from a node whose clock ran far ahead
/// (hours, a year) set every later write's `now` there, and the rules that
/// read it (holds, sign-ins, seats) with it, until the wall clock caught up.
/// A floor more than five minutes ahead is not followed.
#[test]
fn a_last_commit_far_ahead_of_the_wall_clock_is_not_followed() {
    let wall = at(1_800_000_000_000_000);
    let lead = super::MAX_CLOCK_LEAD_MICROS;
    assert_eq!(
        Txn::now_after(Some(at(wall.as_micros() + lead)), wall),
        at(wall.as_micros() + lead + 1),
        "up to the lead, followed"
    );
    assert_eq!(
        Txn::now_after(Some(at(wall.as_micros() + lead + 1)), wall),
        wall,
        "past it, the wall clock"
    );
    assert_eq!(
        Txn::now_after(Some(at(wall.as_micros() + 3_600_000_000)), wall),
        wall,
        "an hour ahead: a broken clock"
    );
}

/// Regression: a transaction ran at the node's wall clock, so after the
/// clock stepped back (or on a node whose clock runs behind another's
/// sharing the PostgreSQL database) a new row was stamped before one
/// already committed, and a client paging oldest first past that one
/// never saw it. The next write runs one microsecond after the last
/// commit, on the same node or another.
fn a_write_after_the_clock_steps_back_is_stamped_after_the_last_commit(
    store: &Store,
    url: Option<&str>,
) {
    let seen = store.last_seq();
    let ahead = with_wall_clock_ahead(STEP, || write_a_row(store, 1));
    assert!(
        ahead > Timestamp::now(),
        "the first write ran two minutes ahead"
    );
    let next = write_a_row(store, 2);
    assert_eq!(
        next,
        at(ahead.as_micros() + 1),
        "the same node, its clock stepped back"
    );
    let other = another_node(store, url);
    let after = write_a_row(&other, 3);
    assert_eq!(
        after,
        at(next.as_micros() + 1),
        "another node, its clock two minutes behind"
    );
    let feed = store.changes_since(seen, 100).expect("the feed");
    let stamps: Vec<Timestamp> = feed.iter().map(|change| change.at).collect();
    assert_eq!(stamps, vec![ahead, next, after], "the feed in commit order");
}

/// A backdated import stamps its rows in the past but commits at the
/// store's own instant: the write after it is still not stamped before
/// the writes committed before it.
fn a_backdated_import_does_not_move_the_write_clock_back(store: &Store, url: Option<&str>) {
    let ahead = with_wall_clock_ahead(STEP, || write_a_row(store, 1));
    let long_ago = at(1_600_000_000_000_000);
    let imported = store
        .write(|txn| {
            txn.backdate(long_ago);
            txn.create(attempts(2))?;
            Ok((txn.now(), txn.committed_at()))
        })
        .expect("an import");
    assert_eq!(imported.0, long_ago, "the import's rows carry the past");
    assert_eq!(imported.1, at(ahead.as_micros() + 1), "its commit does not");
    let other = another_node(store, url);
    let next = write_a_row(&other, 3);
    assert_eq!(next, at(ahead.as_micros() + 2));
}

/// The instant of the last commit outlives the process: a sled store
/// reopened with its clock stepped back resumes after its newest feed
/// entry.
#[test]
fn a_reopened_sled_store_writes_after_its_last_commit_even_with_the_clock_stepped_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let ahead = {
        let store = Store::open(&path).expect("open");
        with_wall_clock_ahead(STEP, || write_a_row(&store, 1))
    };
    let store = Store::open(&path).expect("reopen");
    let next = write_a_row(&store, 2);
    assert!(next > ahead, "{next} after {ahead}");
    assert!(
        next.as_micros() - ahead.as_micros() < 1_000_000,
        "just after it, not at the wall clock"
    );
}

/// Found by the review: where an upgrade met two users holding one Stripe
/// account it keyed the account to the first, but the second letting the
/// value go (a new account, none, or the row deleted) removed the key the
/// first held: the first's bank payout events were no longer found.
#[test]
fn a_row_letting_go_of_a_unique_value_another_row_holds_leaves_that_rows_key() {
    use crate::store::{Record, RecordId, UniqueName};
    use crate::test_rows::user;

    let store = Store::open_temporary().expect("store");
    let mut ann = user("ann", "Tax Advisor");
    ann.stripe_account_id = Some("acct_ann".to_owned());
    let ann = store.users().create(ann).expect("ann");
    let mut bob = store.users().create(user("bob", "")).expect("bob");
    // What an upgrade can leave: bob holds ann's account, keyed to ann.
    bob.stripe_account_id = ann.stripe_account_id.clone();
    store
        .sled_tree(droply_models::User::KIND.tree())
        .insert(bob.id.raw().to_be_bytes(), bob.encode().expect("encode"))
        .expect("bob's row");
    let holder = || {
        store
            .lookup_unique(UniqueName::StripeAccount, b"acct_ann")
            .expect("lookup")
    };
    store
        .users()
        .modify(bob.id, |u| {
            u.stripe_account_id = None;
            Ok(())
        })
        .expect("bob lets it go");
    assert_eq!(holder(), Some(ann.id.raw()), "ann keeps her key");
    store
        .write(|txn| txn.delete::<droply_models::User>(bob.id))
        .expect("bob deleted");
    assert_eq!(holder(), Some(ann.id.raw()), "still hers");
}

on_both_backends!(
    a_write_after_the_clock_steps_back_is_stamped_after_the_last_commit,
    a_backdated_import_does_not_move_the_write_clock_back,
);

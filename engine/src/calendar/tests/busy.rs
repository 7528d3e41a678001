//! Busy times against the Google fake: past the synced window an expert
//! is busy (and the window's end moves by whole days), and busy times read
//! with a grant the expert let go of during the call are not kept.

use std::time::Duration;

use droply_test_support::google_fake::GoogleFake;

use super::{ann_connected, assert_connected, assert_synced, consent, one_at_a_time};
use crate::Store;
use crate::calendar::{BusyTimes, busy_of};

/// Regression: busy times were read 90 days ahead, but slots and bookings
/// had no bound: a session 100 days out was offered and booked over an
/// event Google was never asked about.
#[test]
fn past_the_synced_window_an_expert_is_busy() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, _, sync) = ann_connected(&fake);
    let now = droply_models::Timestamp::now();
    sync.sync_all(&store, now).expect("sync");
    let busy = busy_of(&store, ann.id).expect("busy");
    let busy_at = |days: i64| {
        let at = now.plus_days(days);
        busy.iter().any(|span| span.start <= at && at < span.end)
    };
    assert!(!busy_at(10), "{busy:?}");
    assert!(!busy_at(88), "{busy:?}");
    assert!(busy_at(91), "{busy:?}");
    assert!(busy_at(100), "{busy:?}");
    assert!(busy_at(3_000), "{busy:?}");
    // A sync later the same day writes the same row.
    let before = store.get::<BusyTimes>(ann.id).expect("read");
    let window_day = |at: droply_models::Timestamp| at.plus_days(90).utc_day();
    let later = if window_day(now.plus_minutes(1)) == window_day(now) {
        now.plus_minutes(1)
    } else {
        now.plus_minutes(-1)
    };
    sync.sync_all(&store, later).expect("sync");
    let after = store.get::<BusyTimes>(ann.id).expect("read");
    assert_eq!(
        before.map(|b| b.spans),
        after.map(|b| b.spans),
        "the window's end moves by whole days"
    );
}

/// Regression: busy times Google read with a grant the expert let go of
/// while the call was under way (a disconnect, then a new connection) were
/// written as the new connection's: the write checked only that a
/// connection was there, where a broken grant's refresh already checked
/// that it was the same grant.
#[test]
fn busy_times_read_with_a_grant_let_go_of_during_the_call_are_not_kept() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, _, sync) = ann_connected(&fake);
    let now = droply_models::Timestamp::now();
    let old_start = now.plus_days(10);
    fake.set_busy(&[(
        old_start.to_rfc3339().as_str(),
        old_start.plus_minutes(120).to_rfc3339().as_str(),
    )]);
    let busy_then = |store: &Store| {
        busy_of(store, ann.id)
            .expect("busy")
            .iter()
            .any(|span| span.start <= old_start && old_start < span.end)
    };
    let release = fake.hold_next_free_busy();
    let (reached, report) = std::thread::scope(|scope| {
        let pass = scope.spawn(|| sync.sync_all(&store, now));
        let started = std::time::Instant::now();
        while fake.count("freebusy-held") == 0 && started.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let reached = fake.count("freebusy-held") == 1;
        // Google has read the old grant's calendar; before its answer
        // arrives, the expert disconnects and connects again.
        sync.disconnect(&store, ann.id).expect("disconnect");
        let url = sync.connect_url(&store, ann.id).expect("consent url");
        consent(&fake, &sync, &store, ann.id, &url);
        fake.set_busy(&[]);
        let _ = release.send(());
        (reached, pass.join().expect("the pass").expect("sync"))
    });
    assert!(reached, "the pass reached FreeBusy");
    assert_eq!(report.synced, 0, "{report:?}");
    assert!(
        !busy_then(&store),
        "the old grant's busy times are not the new connection's"
    );
    assert_connected(&store, ann.id);

    // The new grant's own read is kept.
    assert_synced(&sync, &store, droply_models::Timestamp::now());
    assert!(!busy_then(&store));
    assert!(
        store.get::<BusyTimes>(ann.id).expect("read").is_some(),
        "the new read is stored"
    );
}

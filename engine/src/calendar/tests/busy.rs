//! Busy times against the Google fake: past the synced window an expert
//! is busy (and the window's end moves by whole days), so is what lies past
//! the last span kept under the cap, busy times read with a grant the
//! expert let go of during the call are not kept, and those read after a
//! refresh that rotated the refresh token are (a 401 after it refreshes
//! with the new one, and a pass refused with the token another pass
//! rotated away breaks nothing).

use std::time::Duration;

use droply_test_support::google_fake::GoogleFake;

use super::{ann_connected, assert_connected, assert_synced, consent, one_at_a_time};
use crate::Store;
use crate::calendar::{BusyTimes, CalendarConnection, MAX_BUSY_INTERVALS, busy_of};

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

/// Regression: a calendar with more busy spans in the window than the cap
/// kept the earliest and stored the rest as free: past the last span kept,
/// only the window's end counted as busy, so slots were offered and booked
/// over the busy times left out.
#[test]
fn busy_spans_past_the_cap_stay_busy_not_free() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, _, sync) = ann_connected(&fake);
    let now = droply_models::Timestamp::now();
    let base = now.plus_days(1);
    // One-minute spans a minute apart: one more than the cap.
    let count = i64::try_from(MAX_BUSY_INTERVALS).expect("fits") + 1;
    let spans: Vec<(String, String)> = (0..count)
        .map(|i| {
            (
                base.plus_minutes(2 * i).to_rfc3339(),
                base.plus_minutes(2 * i + 1).to_rfc3339(),
            )
        })
        .collect();
    let spans: Vec<(&str, &str)> = spans
        .iter()
        .map(|(start, end)| (start.as_str(), end.as_str()))
        .collect();
    fake.set_busy(&spans);
    assert_synced(&sync, &store, now);
    let busy = busy_of(&store, ann.id).expect("busy");
    assert!(busy.len() <= MAX_BUSY_INTERVALS, "{}", busy.len());
    let half_a_minute = chrono::TimeDelta::seconds(30);
    let covered =
        |at: droply_models::Timestamp| busy.iter().any(|span| span.start <= at && at < span.end);
    assert!(
        covered(base.saturating_add(half_a_minute)),
        "the first span"
    );
    assert!(
        !covered(base.plus_minutes(1).saturating_add(half_a_minute)),
        "the gap after it is free"
    );
    let last = base.plus_minutes(2 * (count - 1));
    assert!(
        covered(last.saturating_add(half_a_minute)),
        "span {count}, past the cap, is busy"
    );
}

/// `expert`'s connection row.
fn connection_of(store: &Store, expert: droply_models::UserId) -> CalendarConnection {
    store
        .get::<CalendarConnection>(expert)
        .expect("read")
        .expect("connection")
}

/// [`ann_connected`] with an access token that has expired by the first
/// sync, and a fake that rotates refresh tokens, with a busy hour ten days
/// out: the store, ann, the sync, and the start of the busy hour.
fn ann_due_a_rotating_refresh(
    fake: &GoogleFake,
) -> (
    Store,
    droply_models::User,
    crate::calendar::CalendarSync,
    droply_models::Timestamp,
) {
    fake.set_expires_in(60);
    let (store, ann, _, sync) = ann_connected(fake);
    fake.set_expires_in(3_600);
    fake.rotate_refresh_tokens();
    let busy_start = droply_models::Timestamp::now().plus_days(10);
    fake.set_busy(&[(
        busy_start.to_rfc3339().as_str(),
        busy_start.plus_minutes(60).to_rfc3339().as_str(),
    )]);
    (store, ann, sync, busy_start)
}

/// Regression: a refresh whose answer held a new refresh token stored it
/// (sealed afresh), and the write of the busy times read with it took the
/// changed sealed bytes for another grant: nothing was stored,
/// `last_sync_at` stood still, and the pass counted no calendar synced.
#[test]
fn busy_times_read_after_a_refresh_that_rotated_the_refresh_token_are_kept() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, sync, busy_start) = ann_due_a_rotating_refresh(&fake);
    let before = connection_of(&store, ann.id);
    let report = sync
        .sync_all(&store, droply_models::Timestamp::now())
        .expect("sync");
    assert_eq!(
        (report.refreshed, report.synced, report.broken),
        (1, 1, 0),
        "{report:?}"
    );
    let busy = busy_of(&store, ann.id).expect("busy");
    assert!(
        busy.iter()
            .any(|span| span.start <= busy_start && busy_start < span.end),
        "{busy:?}"
    );
    let after = connection_of(&store, ann.id);
    assert!(after.last_sync_at.is_some(), "{after:?}");
    assert_ne!(
        after.refresh_token, before.refresh_token,
        "the new one kept"
    );
    assert_connected(&store, ann.id);
    // The stored token is the new one: the next refresh works.
    let later = droply_models::Timestamp::now().plus_minutes(120);
    let report = sync.sync_all(&store, later).expect("sync");
    assert_eq!((report.refreshed, report.broken), (1, 0), "{report:?}");
}

/// Regression: Google refusing the access token just refreshed (401) made
/// the retry refresh again with the refresh token read before that
/// refresh, which Google had replaced: it answered `invalid_grant`, the
/// pass counted the connection broken and read no busy times.
#[test]
fn a_401_after_a_rotating_refresh_refreshes_with_the_new_refresh_token() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, sync, busy_start) = ann_due_a_rotating_refresh(&fake);
    fake.refuse_next_api_calls(1);
    let report = sync
        .sync_all(&store, droply_models::Timestamp::now())
        .expect("sync");
    assert_eq!(fake.count("refused"), 1);
    assert_eq!(
        (report.refreshed, report.synced, report.broken),
        (2, 1, 0),
        "{report:?}"
    );
    assert!(
        busy_of(&store, ann.id)
            .expect("busy")
            .iter()
            .any(|span| span.start <= busy_start && busy_start < span.end)
    );
    assert_connected(&store, ann.id);
}

/// Regression: two passes overlapping (a lease handover) both read the
/// first refresh token; the first refreshed and stored the one Google
/// rotated to, and the second, refused with the retired one
/// (`invalid_grant`), marked the healthy connection broken.
#[test]
fn a_pass_refused_with_a_refresh_token_another_pass_rotated_breaks_nothing() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, sync, _) = ann_due_a_rotating_refresh(&fake);
    let release = fake.hold_next_refresh();
    let now = droply_models::Timestamp::now();
    std::thread::scope(|scope| {
        let late = scope.spawn(|| sync.sync_all(&store, now));
        let started = std::time::Instant::now();
        while fake.count("refresh-held") == 0 {
            assert!(started.elapsed() < Duration::from_secs(15));
            std::thread::sleep(Duration::from_millis(10));
        }
        let first = sync.sync_all(&store, now).expect("sync");
        assert_eq!((first.refreshed, first.synced), (1, 1), "{first:?}");
        release.send(()).expect("the refresh waits");
        let late = late.join().expect("sync thread").expect("sync");
        assert_eq!(late.broken, 0, "nothing was broken: {late:?}");
    });
    assert_connected(&store, ann.id);
    // The token stored is the one rotated to: a refresh later works.
    let later = droply_models::Timestamp::now().plus_minutes(120);
    let report = sync.sync_all(&store, later).expect("sync");
    assert_eq!((report.refreshed, report.broken), (1, 0), "{report:?}");
}

//! The calendar use cases end to end against the Google fake: with the
//! engine's log captured at TRACE, connecting, a refresh, a sync, a broken
//! grant and disconnecting never put a token, the client secret or the key
//! in a log line or in `Debug` output; a failed event operation stays
//! in the outbox and is sent again once its backoff has passed; and a
//! revocation Google did not take at a disconnect is sent again by the
//! sync, given up after its attempts or age, sent before the expert
//! consents again, and never sent once they are connected again; and busy
//! times read with a grant let go of during the call are not kept.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use droply_models::UserId;
use droply_test_support::google_fake::{CLIENT_ID, CLIENT_SECRET, GoogleFake};

use super::{
    CalendarConfig, CalendarConnection, CalendarOp, CalendarSync, GoogleConfig, LinkState,
    PendingRevocation, SecretKey, booking_changed,
};
use crate::test_rows::{ann_and_bob, user};
use crate::video::RetryPolicy;
use crate::{Engine, EngineConfig, Store};

/// Held by each test here: a test capturing the log must not share the
/// engine's log call sites with another running at the same time (tracing
/// caches per call site whether anyone listens).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// This test's turn at [`ONE_AT_A_TIME`], held until the guard drops (a
/// test that panicked before does not stop the others).
fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// A subscriber that writes every event, TRACE included, without
    /// colours into this buffer.
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish()
    }

    /// What was written so far, as text.
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("log").clone()).expect("utf-8")
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_token_secret_or_key_reaches_the_log_or_debug_output() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let key_hex = "5a".repeat(32);
    let config = EngineConfig {
        calendar: CalendarConfig {
            google: Some(GoogleConfig {
                auth_url: fake.auth_url(),
                token_url: fake.token_url(),
                revoke_url: fake.revoke_url(),
                api_base: fake.base_url(),
                ..GoogleConfig::new(CLIENT_ID, CLIENT_SECRET.into())
            }),
            secret_key: Some(SecretKey::parse(&key_hex).expect("key")),
            ..CalendarConfig::default()
        },
        ..EngineConfig::new("unused")
    };
    let captured = Captured::default();
    let subscriber = captured.subscriber();
    let debug = tracing::subscriber::with_default(subscriber, || {
        let store = Store::open_temporary().expect("store");
        let ann: UserId = store
            .users()
            .create(user("ann", "Tax Advisor"))
            .expect("ann")
            .id;
        let engine = Engine::over(store, config).expect("engine");
        fake.set_expires_in(60);
        let url = engine.google_connect_url(ann).expect("consent url");
        let (code, state) = fake.authorize(&url);
        engine
            .google_callback(&code, &state, ann)
            .expect("connected");
        let report = engine.sync_calendars().expect("sync");
        assert_eq!((report.refreshed, report.synced), (1, 1), "{report:?}");
        let row = engine
            .store()
            .get::<super::CalendarConnection>(ann)
            .expect("read")
            .expect("row");
        fake.fail_next_refresh();
        fake.set_expires_in(60);
        // The refreshed token lives a minute too: the next sync refreshes
        // again, and Google answers invalid_grant.
        let report = engine.sync_calendars().expect("sync");
        assert_eq!(report.broken, 1, "{report:?}");
        engine.google_disconnect(ann).expect("disconnect");
        let debug = format!("{engine:?} {row:?}");
        engine.shutdown().expect("shutdown");
        debug
    });
    let log = captured.text();
    assert!(log.contains("Google calendar connected"), "{log}");
    assert!(log.contains("invalid_grant"), "{log}");
    let mut secrets = fake.issued_tokens();
    assert!(secrets.len() >= 3, "{secrets:?}");
    secrets.push(CLIENT_SECRET.to_owned());
    secrets.push(key_hex);
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "the log holds a secret: {log}"
        );
        assert!(
            !debug.contains(secret.as_str()),
            "Debug shows a secret: {debug}"
        );
    }
}

fn google_on(fake: &GoogleFake) -> CalendarConfig {
    CalendarConfig {
        google: Some(GoogleConfig {
            auth_url: fake.auth_url(),
            token_url: fake.token_url(),
            revoke_url: fake.revoke_url(),
            api_base: fake.base_url(),
            ..GoogleConfig::new(CLIENT_ID, CLIENT_SECRET.into())
        }),
        secret_key: Some(SecretKey::from_bytes([9; 32])),
        ..CalendarConfig::default()
    }
}

/// A temporary store with ann (an expert) and bob, and a sync against
/// `fake` with ann's calendar connected through its consent flow.
fn ann_connected(
    fake: &GoogleFake,
) -> (
    Store,
    droply_models::User,
    droply_models::User,
    CalendarSync,
) {
    let (store, ann, bob) = ann_and_bob();
    let sync = CalendarSync::new(google_on(fake)).expect("sync");
    let url = sync.connect_url(&store, ann.id).expect("consent url");
    consent(fake, &sync, &store, ann.id, &url);
    (store, ann, bob, sync)
}

/// `expert` consents at `url` on `fake`, and `sync` completes the
/// connection.
fn consent(fake: &GoogleFake, sync: &CalendarSync, store: &Store, expert: UserId, url: &str) {
    let (code, state) = fake.authorize(url);
    sync.complete(store, &code, &state, expert)
        .expect("connected");
}

/// A sync at `at` reads one calendar and finds no grant broken.
fn assert_synced(sync: &CalendarSync, store: &Store, at: droply_models::Timestamp) {
    let report = sync.sync_all(store, at).expect("sync");
    assert_eq!((report.synced, report.broken), (1, 0), "{report:?}");
}

/// `expert`'s calendar connection is there and connected.
fn assert_connected(store: &Store, expert: UserId) {
    let row = store
        .get::<CalendarConnection>(expert)
        .expect("read")
        .expect("connected");
    assert_eq!(row.state, LinkState::Connected);
}

/// [`ann_connected`] with a confirmed session of bob's whose event is in
/// her calendar: the store, the booking and the sync.
fn one_event_synced(fake: &GoogleFake) -> (Store, droply_models::Booking, CalendarSync) {
    let (store, ann, bob, sync) = ann_connected(fake);
    let mut first = crate::test_rows::booking(bob.id, ann.id);
    first.status = droply_models::BookingStatus::Confirmed;
    let first = store.bookings().create(first).expect("booking");
    store
        .write(|txn| booking_changed(txn, None, &first))
        .expect("queued");
    sync.sync_all(&store, droply_models::Timestamp::now())
        .expect("sync");
    (store, first, sync)
}

#[test]
fn a_failed_event_stays_in_the_outbox_and_is_sent_after_its_backoff() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, bob, sync) = ann_connected(&fake);
    let mut booking = crate::test_rows::booking(bob.id, ann.id);
    booking.status = droply_models::BookingStatus::Confirmed;
    let booking = store.bookings().create(booking).expect("booking");
    store
        .write(|txn| booking_changed(txn, None, &booking))
        .expect("queued");
    assert_eq!(store.count::<CalendarOp>(), 1);

    // FreeBusy and the event both meet a 503.
    fake.fail_next_api_calls(2);
    let now = droply_models::Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(
        (report.events_sent, report.events_failed),
        (0, 1),
        "{report:?}"
    );
    let op = store
        .iter::<CalendarOp>()
        .next()
        .expect("kept")
        .expect("op");
    assert_eq!(op.attempts, 1);
    assert!(op.not_before > now, "{op:?}");
    assert!(
        op.last_error.as_deref().is_some_and(|e| e.contains("503")),
        "{op:?}"
    );
    // Not due yet: nothing is sent.
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(report.events_sent + report.events_failed, 0, "{report:?}");
    assert!(fake.events().is_empty());
    // After the backoff it goes out, once.
    let later = now.plus_minutes(2);
    let report = sync.sync_all(&store, later).expect("sync");
    assert_eq!(report.events_sent, 1, "{report:?}");
    assert_eq!(fake.events().len(), 1);
    assert_eq!(store.count::<CalendarOp>(), 0);
    let link = store
        .get::<super::CalendarEvent>(booking.id)
        .expect("read")
        .expect("the event id");
    assert_eq!(link.event_id, fake.events()[0].id);
}

/// Regression: a reschedule whose event update failed, then a cancel of
/// the new booking: the cancel went first, found no event under the new
/// booking (the link was still the old one's) and was dropped; the retried
/// update then moved the link without calling Google, and the old event
/// stayed in the expert's calendar for good.
#[test]
fn a_cancel_waits_for_the_reschedule_it_follows() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, first, sync) = one_event_synced(&fake);
    assert_eq!(fake.events().len(), 1);

    // Moved a day later; the update meets a 503 and waits for its backoff.
    let mut moved = first.clone();
    moved.id = droply_models::BookingId::new(0);
    moved.start_time = first.start_time.plus_days(1);
    moved.end_time = first.end_time.plus_days(1);
    moved.rescheduled_from = Some(first.id);
    let moved = store
        .write(|txn| {
            let mut old = first.clone();
            old.status = droply_models::BookingStatus::Cancelled;
            txn.update(old)?;
            let moved = txn.create(moved.clone())?;
            super::booking_rescheduled(txn, &first, &moved)?;
            Ok(moved)
        })
        .expect("moved");
    // (FreeBusy and the event both meet a 503.)
    fake.fail_next_api_calls(2);
    let now = droply_models::Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(report.events_failed, 1, "{report:?}");

    // Then cancelled: its removal waits for the update.
    store
        .write(|txn| {
            let mut cancelled = moved.clone();
            cancelled.status = droply_models::BookingStatus::Cancelled;
            let cancelled = txn.update(cancelled)?;
            booking_changed(txn, Some(&moved), &cancelled)
        })
        .expect("cancelled");
    let now = droply_models::Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(report.events_sent, 0, "{report:?}");
    assert_eq!(store.count::<CalendarOp>(), 2, "both still queued");
    sync.sync_all(&store, now.plus_minutes(5)).expect("sync");
    assert!(fake.events().is_empty(), "{:?}", fake.events());
    assert_eq!(store.count::<CalendarOp>(), 0);
}

/// Regression: an update whose event the expert had deleted in Google made
/// a new event under an id of Google's; when Google's answer was lost, the
/// retry made another, and the first stayed in the expert's calendar for
/// good (a later cancel removed only the linked one).
#[test]
fn an_event_made_again_after_its_deletion_is_made_once_when_the_answer_is_lost() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, first, sync) = one_event_synced(&fake);
    let made = fake.events();
    assert_eq!(made.len(), 1);
    // The expert deletes the event in Google; then the session moves an hour.
    fake.remove_event(&made[0].id);
    let mut later = first.clone();
    later.start_time = first.start_time.plus_minutes(60);
    later.end_time = first.end_time.plus_minutes(60);
    store
        .write(|txn| {
            let later = txn.update(later.clone())?;
            booking_changed(txn, Some(&first), &later)
        })
        .expect("moved");
    // The new event is made, but Google's answer is lost.
    fake.lose_next_creates(1);
    let now = droply_models::Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(report.events_failed, 1, "{report:?}");
    sync.sync_all(&store, now.plus_minutes(5)).expect("sync");
    assert_eq!(fake.events().len(), 1, "{:?}", fake.events());
    assert_eq!(store.count::<CalendarOp>(), 0);
}

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
    let busy = super::busy_of(&store, ann.id).expect("busy");
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
    let before = store.get::<super::BusyTimes>(ann.id).expect("read");
    let window_day = |at: droply_models::Timestamp| at.plus_days(90).utc_day();
    let later = if window_day(now.plus_minutes(1)) == window_day(now) {
        now.plus_minutes(1)
    } else {
        now.plus_minutes(-1)
    };
    sync.sync_all(&store, later).expect("sync");
    let after = store.get::<super::BusyTimes>(ann.id).expect("read");
    assert_eq!(
        before.map(|b| b.spans),
        after.map(|b| b.spans),
        "the window's end moves by whole days"
    );
}

/// The one pending revocation in `store`.
fn the_pending_revocation(store: &Store) -> PendingRevocation {
    let rows: Vec<PendingRevocation> = store
        .iter::<PendingRevocation>()
        .collect::<crate::Result<_>>()
        .expect("revocations");
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().expect("one")
}

/// Regression: the grant was revoked once, at the disconnect, and a failure
/// only logged: with Google down then, the grant stayed alive at Google for
/// good while Droply had forgotten its tokens.
#[test]
fn a_grant_whose_revocation_failed_at_disconnect_is_revoked_by_a_later_sync() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, _, sync) = ann_connected(&fake);
    let refresh = fake.issued_tokens()[1].clone();
    fake.fail_next_revokes(1);
    sync.disconnect(&store, ann.id)
        .expect("the disconnect succeeds without Google");
    assert!(
        store
            .get::<CalendarConnection>(ann.id)
            .expect("read")
            .is_none()
    );
    assert_eq!(fake.count("revoke-failed"), 1);
    assert!(fake.revoked().is_empty());
    let pending = the_pending_revocation(&store);
    assert_eq!((pending.user_id, pending.attempts), (ann.id, 1));
    assert!(pending.not_before > pending.requested_at, "{pending:?}");
    assert!(
        pending
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{pending:?}"
    );
    // Kept sealed: neither the row nor its Debug holds the token.
    let bytes = refresh.as_bytes();
    assert!(!pending.token.windows(bytes.len()).any(|w| w == bytes));
    assert!(!format!("{pending:?}").contains(&refresh));

    // Not due yet: nothing is sent.
    let now = droply_models::Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!(
        (report.revoked, report.revocations_failed),
        (0, 0),
        "{report:?}"
    );
    assert_eq!(fake.count("revoke"), 0);
    // After its backoff the sync revokes it, once.
    let report = sync.sync_all(&store, now.plus_minutes(2)).expect("sync");
    assert_eq!(report.revoked, 1, "{report:?}");
    assert_eq!(fake.revoked(), [refresh]);
    assert_eq!(store.count::<PendingRevocation>(), 0);
    sync.sync_all(&store, now.plus_minutes(60)).expect("sync");
    assert_eq!(fake.count("revoke"), 1, "revoked exactly once");
}

/// A sync for `fake` whose revocations are tried `attempts` times.
fn revoking_at_most(fake: &GoogleFake, attempts: u32) -> CalendarSync {
    CalendarSync::new(CalendarConfig {
        revoke_retry: RetryPolicy {
            first_delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(3600),
            max_attempts: attempts,
        },
        ..google_on(fake)
    })
    .expect("sync")
}

#[test]
fn a_revocation_google_never_takes_is_given_up_after_its_attempts() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, _, _) = ann_connected(&fake);
    let sync = revoking_at_most(&fake, 3);
    fake.fail_next_revokes(u32::MAX);
    let captured = Captured::default();
    let subscriber = captured.subscriber();
    tracing::subscriber::with_default(subscriber, || {
        sync.disconnect(&store, ann.id).expect("disconnect");
        let now = droply_models::Timestamp::now();
        // The second attempt an hour later; the third, an hour after that,
        // is the last.
        let report = sync.sync_all(&store, now.plus_minutes(60)).expect("sync");
        assert_eq!(report.revocations_failed, 1, "{report:?}");
        assert_eq!(the_pending_revocation(&store).attempts, 2);
        let report = sync.sync_all(&store, now.plus_minutes(120)).expect("sync");
        assert_eq!(report.revocations_failed, 1, "{report:?}");
        assert_eq!(store.count::<PendingRevocation>(), 0, "given up");
        let report = sync.sync_all(&store, now.plus_days(1)).expect("sync");
        assert_eq!(report.revocations_failed, 0, "{report:?}");
    });
    assert_eq!(fake.count("revoke-failed"), 3);
    assert!(fake.revoked().is_empty());
    let log = captured.text();
    assert!(
        log.contains("WARN") && log.contains("given up"),
        "the give-up is a warning: {log}"
    );
    for token in fake.issued_tokens() {
        assert!(!log.contains(&token), "the log holds a token: {log}");
    }
}

#[test]
fn a_revocation_still_failing_past_its_max_age_is_given_up() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, _, sync) = ann_connected(&fake);
    assert_eq!(
        sync.config().revoke_max_age,
        Duration::from_secs(3 * 24 * 3600)
    );
    fake.fail_next_revokes(u32::MAX);
    sync.disconnect(&store, ann.id).expect("disconnect");
    let now = droply_models::Timestamp::now();
    sync.sync_all(&store, now.plus_days(1)).expect("sync");
    assert_eq!(
        the_pending_revocation(&store).attempts,
        2,
        "a day old: kept"
    );
    // Three days after the disconnect, its next failure is its last, though
    // attempts are left.
    sync.sync_all(&store, now.plus_days(4)).expect("sync");
    assert_eq!(store.count::<PendingRevocation>(), 0, "given up");
    assert_eq!(fake.count("revoke-failed"), 3);
}

#[test]
fn connecting_again_first_revokes_the_grant_still_pending() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, _, sync) = ann_connected(&fake);
    let old_refresh = fake.issued_tokens()[1].clone();
    fake.fail_next_revokes(1);
    sync.disconnect(&store, ann.id).expect("disconnect");
    assert_eq!(store.count::<PendingRevocation>(), 1);
    // Google is back: asking to connect sends it before the new consent.
    let url = sync.connect_url(&store, ann.id).expect("consent url");
    assert_eq!(fake.revoked(), [old_refresh]);
    assert_eq!(store.count::<PendingRevocation>(), 0);
    consent(&fake, &sync, &store, ann.id, &url);
    assert_synced(&sync, &store, droply_models::Timestamp::now());
    assert_eq!(fake.count("revoke"), 1);
}

/// Google ends a client's access to an account at one revocation, a grant
/// given since included: a revocation of the old grant sent after the
/// expert connected the same account again would break the new connection.
#[test]
fn a_pending_revocation_never_ends_the_grant_of_a_new_connection() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, _, sync) = ann_connected(&fake);
    // Google is down at the disconnect, and still when she connects again.
    fake.fail_next_revokes(2);
    sync.disconnect(&store, ann.id).expect("disconnect");
    let url = sync.connect_url(&store, ann.id).expect("consent url");
    assert_eq!(fake.count("revoke-failed"), 2);
    assert_eq!(the_pending_revocation(&store).attempts, 2);
    consent(&fake, &sync, &store, ann.id, &url);
    // Once due, the old grant's revocation is dropped unsent.
    let later = droply_models::Timestamp::now().plus_minutes(10);
    let report = sync.sync_all(&store, later).expect("sync");
    assert_eq!(
        (report.revoked, report.synced, report.broken),
        (0, 1, 0),
        "{report:?}"
    );
    assert_eq!(fake.count("revoke"), 0);
    assert!(fake.revoked().is_empty());
    assert_eq!(store.count::<PendingRevocation>(), 0);
    assert_connected(&store, ann.id);
    assert_synced(&sync, &store, later);
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
        super::busy_of(store, ann.id)
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
        store
            .get::<super::BusyTimes>(ann.id)
            .expect("read")
            .is_some(),
        "the new read is stored"
    );
}

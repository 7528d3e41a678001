//! The calendar use cases end to end against the Google fake, and what
//! those tests share: the fake wired into a sync, an expert connected
//! through the consent flow, the engine's log captured in memory, and one
//! test at a time. Here, with the engine's log captured at TRACE,
//! connecting, a refresh, a sync, a broken grant and disconnecting never
//! put a token, the client secret or the key in a log line or in `Debug`
//! output. The rest, by what they are about: `outbox` (a failed event
//! operation stays in the outbox and is sent again once its backoff has
//! passed; two stores sharing a calendar keep to their own events),
//! `revocation` (a revocation Google did not take at a disconnect
//! is sent again by the sync, given up after its attempts or age, sent
//! before the expert consents again, and never sent once they are
//! connected again), `closing` (an account's closing deletes the events
//! of the sessions it cancelled with the grant before revoking it) and
//! `busy` (the synced window, the cap on spans, busy
//! times read with a grant let go of during the call are not kept, and
//! those read after a refresh that rotated the refresh token are).

mod busy;
mod closing;
mod outbox;
mod revocation;

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use droply_models::UserId;
use droply_test_support::google_fake::{CLIENT_ID, CLIENT_SECRET, GoogleFake};

use super::{CalendarConfig, CalendarConnection, CalendarSync, GoogleConfig, LinkState, SecretKey};
use crate::test_rows::{ann_and_bob, user};
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

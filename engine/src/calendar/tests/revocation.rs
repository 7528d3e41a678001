//! Revoking a grant against the Google fake: a revocation Google did not
//! take at a disconnect is sent again by the sync, given up after its
//! attempts or its age (with a warning, and no token in the log), sent
//! before the expert consents again, and never sent once they are
//! connected again.

use std::time::Duration;

use droply_test_support::google_fake::GoogleFake;

use super::{
    Captured, ann_connected, assert_connected, assert_synced, consent, google_on, one_at_a_time,
};
use crate::Store;
use crate::calendar::{CalendarConfig, CalendarConnection, CalendarSync, PendingRevocation};
use crate::video::RetryPolicy;

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

//! Closing an account against the Google fake: the events of the sessions
//! the closing cancelled leave the expert's calendar (sent by the sync with
//! the grant let go of, before it is revoked), also when Google is down at
//! first, and the revocation waits only as long as the deletions' own
//! attempts; a closing client's sessions leave the expert's calendar
//! through her own connection.

use droply_models::{Booking, BookingId, BookingStatus, Timestamp, UserId};
use droply_test_support::google_fake::GoogleFake;

use super::{ann_connected, assert_connected, one_at_a_time};
use crate::Store;
use crate::accounts::close::{CLOSING_REASON, bookings_to_cancel, close};
use crate::booking::{BookingAction, act};
use crate::calendar::{
    CalendarConnection, CalendarEvent, CalendarOp, CalendarSync, PendingRevocation, booking_changed,
};
use crate::payments::PaymentsConfig;

/// A confirmed session of `client`'s with `expert` a month ahead, whose
/// event `sync` has put in the expert's calendar.
fn a_session_in_her_calendar(
    fake: &GoogleFake,
    store: &Store,
    sync: &CalendarSync,
    client: UserId,
    expert: UserId,
) -> Booking {
    let mut session = crate::test_rows::booking(client, expert);
    session.start_time = Timestamp::now().plus_days(30);
    session.end_time = session.start_time.plus_minutes(60);
    session.status = BookingStatus::Confirmed;
    let session = store.bookings().create(session).expect("booking");
    store
        .write(|txn| booking_changed(txn, None, &session))
        .expect("queued");
    let report = sync.sync_all(store, Timestamp::now()).expect("sync");
    assert_eq!(report.events_sent, 1, "{report:?}");
    assert_eq!(fake.events().len(), 1);
    assert!(
        store
            .get::<CalendarEvent>(session.id)
            .expect("read")
            .is_some()
    );
    session
}

/// Closes `user`'s account as `Engine::close_account` does once the
/// password is checked: their upcoming sessions cancelled through the
/// bookings' own path, their calendar let go of, then the closing write.
/// The sessions cancelled.
fn close_the_account(store: &Store, sync: &CalendarSync, user: UserId) -> Vec<BookingId> {
    let money = PaymentsConfig::default();
    let mut cancelled = Vec::new();
    for id in bookings_to_cancel(store, user).expect("closable") {
        let reason = Some(CLOSING_REASON.to_owned());
        act(store, id, user, BookingAction::Cancel, reason, &money).expect("cancelled");
        cancelled.push(id);
    }
    if store
        .get::<CalendarConnection>(user)
        .expect("read")
        .is_some()
    {
        sync.close_connection(store, user).expect("let go");
    }
    close(store, user, &cancelled).expect("closed");
    cancelled
}

/// Regression: the closing's disconnect dropped the deletions its
/// cancellations had just queued and revoked the grant at once, so the
/// events of the cancelled sessions stayed in the expert's calendar for
/// good.
#[test]
fn closing_an_account_deletes_its_cancelled_sessions_events_before_revoking_the_grant() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, bob, sync) = ann_connected(&fake);
    let session = a_session_in_her_calendar(&fake, &store, &sync, bob.id, ann.id);
    let refresh = fake.issued_tokens()[1].clone();

    let cancelled = close_the_account(&store, &sync, ann.id);
    assert_eq!(cancelled, [session.id]);
    assert!(
        store
            .get::<CalendarConnection>(ann.id)
            .expect("read")
            .is_none(),
        "the tokens are gone from the connection"
    );
    // The deletion is still queued, and the grant waits for it.
    assert_eq!(store.count::<CalendarOp>(), 1);
    assert_eq!(store.count::<PendingRevocation>(), 1);
    assert_eq!(fake.count("revoke"), 0, "not revoked before the deletion");

    let report = sync.sync_all(&store, Timestamp::now()).expect("sync");
    assert_eq!((report.events_sent, report.revoked), (1, 1), "{report:?}");
    assert!(fake.events().is_empty(), "{:?}", fake.events());
    assert_eq!(fake.revoked(), [refresh]);
    assert_eq!(store.count::<CalendarOp>(), 0);
    assert_eq!(store.count::<PendingRevocation>(), 0);
    assert!(
        store
            .get::<CalendarEvent>(session.id)
            .expect("read")
            .is_none()
    );
    // Nothing more is sent.
    let report = sync
        .sync_all(&store, Timestamp::now().plus_minutes(60))
        .expect("sync");
    assert_eq!((report.events_sent, report.revoked), (0, 0), "{report:?}");
    assert_eq!(fake.count("revoke"), 1);
}

#[test]
fn a_closings_deletion_google_did_not_take_is_sent_by_a_later_pass_then_the_grant_revoked() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, bob, sync) = ann_connected(&fake);
    a_session_in_her_calendar(&fake, &store, &sync, bob.id, ann.id);
    let refresh = fake.issued_tokens()[1].clone();
    close_the_account(&store, &sync, ann.id);

    // Google's Calendar API is down at the first pass.
    fake.fail_next_api_calls(1);
    let now = Timestamp::now();
    let report = sync.sync_all(&store, now).expect("sync");
    assert_eq!((report.events_failed, report.revoked), (1, 0), "{report:?}");
    assert_eq!(fake.events().len(), 1);
    assert_eq!(fake.count("revoke"), 0, "the revocation waits");
    let op = store
        .iter::<CalendarOp>()
        .next()
        .expect("kept")
        .expect("op");
    assert_eq!(op.attempts, 1);
    let waiting: Vec<PendingRevocation> = store
        .iter::<PendingRevocation>()
        .collect::<crate::Result<_>>()
        .expect("revocations");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].attempts, 0, "waiting is no failed attempt");

    // After the deletion's backoff: deleted, then revoked.
    let report = sync.sync_all(&store, now.plus_minutes(2)).expect("sync");
    assert_eq!((report.events_sent, report.revoked), (1, 1), "{report:?}");
    assert!(fake.events().is_empty(), "{:?}", fake.events());
    assert_eq!(fake.revoked(), [refresh]);
    assert_eq!(store.count::<CalendarOp>(), 0);
    assert_eq!(store.count::<PendingRevocation>(), 0);
}

#[test]
fn a_closings_revocation_waits_no_longer_than_the_deletions_attempts() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, bob, sync) = ann_connected(&fake);
    a_session_in_her_calendar(&fake, &store, &sync, bob.id, ann.id);
    close_the_account(&store, &sync, ann.id);

    // The Calendar API never answers again; revocations still work.
    fake.fail_next_api_calls(u32::MAX);
    let now = Timestamp::now();
    for day in 1..=10 {
        sync.sync_all(&store, now.plus_days(day)).expect("sync");
    }
    assert_eq!(store.count::<CalendarOp>(), 0, "the deletion is given up");
    assert_eq!(store.count::<PendingRevocation>(), 0);
    assert_eq!(fake.revoked().len(), 1, "then the grant is revoked");
    assert_eq!(fake.events().len(), 1, "left in Google, given up");
}

/// The other side: a client's closing cancels their sessions, and the
/// expert's events of them go through her own connection, which stays.
#[test]
fn a_closing_clients_sessions_leave_the_experts_calendar() {
    let _turn = one_at_a_time();
    let fake = GoogleFake::start();
    let (store, ann, bob, sync) = ann_connected(&fake);
    let session = a_session_in_her_calendar(&fake, &store, &sync, bob.id, ann.id);

    let cancelled = close_the_account(&store, &sync, bob.id);
    assert_eq!(cancelled, [session.id]);
    let report = sync.sync_all(&store, Timestamp::now()).expect("sync");
    assert_eq!(report.events_sent, 1, "{report:?}");
    assert!(fake.events().is_empty(), "{:?}", fake.events());
    assert_connected(&store, ann.id);
    assert_eq!(fake.count("revoke"), 0, "her grant stays");
}

//! The Google Calendar sync over HTTP, against the in-process Google fake:
//! busy times removing exactly the slots they overlap and refusing bookings
//! over them, tokens refreshed before expiry (a refresh of the old grant
//! leaving a new connection alone), `invalid_grant` marking the connection
//! broken, and a confirmed booking's event created, moved on reschedule and
//! deleted on cancel, with no token in any answer. Connecting and
//! disconnecting are in `calendar.rs`.

use droply_engine::calendar::{CalendarEvent, CalendarOp};
use droply_models::BookingId;

use crate::app::{TestApp, error_code};
use crate::calendar::{
    assert_no_tokens, connect, day_ahead, free_expert, slot_starts, spawn_app_with_google,
};

/// `client` books `expert` for the hour from `start`.
fn book(app: &TestApp, client: &str, expert: u64, start: &str) -> crate::app::Response {
    app.post_booking(
        client,
        &format!(r#"{{"provider_id":{expert},"start_time":"{start}","duration":60}}"#),
    )
}

#[test]
fn a_busy_event_removes_exactly_the_slots_it_overlaps_and_blocks_booking() {
    let (app, fake) = spawn_app_with_google();
    let (expert, token) = free_expert(&app, "grace");
    connect(&app, &fake, &token);
    let day = day_ahead();
    let before = slot_starts(&app, expert, &day);
    assert_eq!(before.len(), 15, "{before:?}");
    fake.set_busy(&[(
        format!("{day}T11:00:00Z").as_str(),
        format!("{day}T12:15:00Z").as_str(),
    )]);
    let report = app.engine.sync_calendars().expect("sync");
    assert_eq!(report.synced, 1, "{report:?}");
    let after = slot_starts(&app, expert, &day);
    let removed: Vec<&String> = before.iter().filter(|s| !after.contains(s)).collect();
    assert_eq!(removed, ["10:30", "11:00", "11:30", "12:00"]);
    assert_eq!(after.len(), 11);

    let (_, client) = app.register("carl");
    let over = book(&app, &client, expert, &format!("{day}T11:30:00Z"));
    assert_eq!(over.status, 409, "{}", over.raw);
    assert_eq!(error_code(&over), "slot_unavailable");
    let beside = book(&app, &client, expert, &format!("{day}T12:30:00Z"));
    assert_eq!(beside.status, 201, "{}", beside.raw);

    // The next sync replaces the busy times in place: the calendar freed up.
    fake.set_busy(&[]);
    app.engine.sync_calendars().expect("sync");
    let freed = slot_starts(&app, expert, &day);
    assert!(freed.contains(&"11:00".to_owned()), "{freed:?}");
    let status = app.authed("GET", "/v1/calendar/google", &token, None);
    assert!(status.body["last_sync_at"].is_string(), "{}", status.raw);
    assert!(
        app.store
            .verify_integrity()
            .expect("verify")
            .is_consistent()
    );
    assert_no_tokens(&app, &fake);
}

#[test]
fn an_access_token_about_to_expire_is_refreshed_and_the_new_one_used() {
    let (app, fake) = spawn_app_with_google();
    let (_, token) = free_expert(&app, "grace");
    // The first access token lives a minute: inside the 5-minute margin.
    fake.set_expires_in(60);
    connect(&app, &fake, &token);
    fake.set_expires_in(3600);
    let report = app.engine.sync_calendars().expect("sync");
    assert_eq!((report.refreshed, report.synced), (1, 1), "{report:?}");
    assert_eq!(fake.count("refresh"), 1);
    let issued = fake.issued_tokens();
    // access 1, refresh 1, then the refreshed access token.
    assert_eq!(issued.len(), 3, "{issued:?}");
    let fresh = issued[2].clone();
    let used: Vec<String> = fake
        .log()
        .into_iter()
        .filter(|(kind, _)| kind == "freebusy")
        .map(|(_, token)| token)
        .collect();
    assert_eq!(used, std::slice::from_ref(&fresh));
    // The new token lasts an hour: the next sync uses it without refreshing.
    app.engine.sync_calendars().expect("sync");
    assert_eq!(fake.count("refresh"), 1);
    assert_eq!(fake.count("unauthorized"), 0);
    assert_eq!(
        fake.log()
            .last()
            .map(|(kind, token)| (kind.clone(), token.clone())),
        Some(("freebusy".to_owned(), fresh))
    );
    assert_no_tokens(&app, &fake);
}

#[test]
fn invalid_grant_marks_the_connection_broken_for_its_owner() {
    let (app, fake) = spawn_app_with_google();
    let (expert, token) = free_expert(&app, "grace");
    fake.set_expires_in(60);
    connect(&app, &fake, &token);
    let day = day_ahead();
    fake.set_busy(&[(
        format!("{day}T09:00:00Z").as_str(),
        format!("{day}T17:00:00Z").as_str(),
    )]);
    fake.fail_next_refresh();
    let report = app.engine.sync_calendars().expect("sync");
    assert_eq!((report.broken, report.synced), (1, 0), "{report:?}");
    let status = app.authed("GET", "/v1/calendar/google", &token, None);
    assert_eq!(status.status, 200, "{}", status.raw);
    assert_eq!(status.body["status"], "broken", "{}", status.raw);
    assert!(status.body["problem"].is_string());
    // A broken connection blocks nothing and is not tried again.
    assert_eq!(slot_starts(&app, expert, &day).len(), 15);
    // Regression: a session's event queued while the connection was broken
    // was dropped unsent. It waits for the expert to connect again.
    let (_, client) = app.register("carl");
    let booked = book(&app, &client, expert, &format!("{day}T09:00:00Z"));
    assert_eq!(booked.body["status"], "confirmed", "{}", booked.raw);
    app.engine.sync_calendars().expect("sync");
    assert_eq!(fake.count("refresh"), 1);
    assert_eq!(fake.count("create"), 0);
    assert_eq!(app.store.count::<CalendarOp>(), 1, "kept for later");
    // Connecting again mends it, and the waiting event is sent.
    connect(&app, &fake, &token);
    let status = app.authed("GET", "/v1/calendar/google", &token, None);
    assert_eq!(status.body["status"], "connected");
    assert!(status.body["problem"].is_null());
    let report = app.engine.sync_calendars().expect("sync");
    assert_eq!(report.events_sent, 1, "{report:?}");
    assert_eq!(fake.events().len(), 1);
    assert_eq!(app.store.count::<CalendarOp>(), 0);
    assert_no_tokens(&app, &fake);
}

#[test]
fn a_confirmed_booking_gets_an_event_moved_on_reschedule_and_deleted_on_cancel() {
    let (app, fake) = spawn_app_with_google();
    let (expert, token) = free_expert(&app, "grace");
    connect(&app, &fake, &token);
    let (_, client) = app.register("carl");
    let day = day_ahead();
    let booked = book(&app, &client, expert, &format!("{day}T09:00:00Z"));
    assert_eq!(booked.status, 201, "{}", booked.raw);
    assert_eq!(booked.body["status"], "confirmed");
    let first = booked.body["id"].as_u64().expect("id");
    // Nothing is sent inside the booking's transaction: only the sync sends.
    assert_eq!(fake.count("create"), 0);
    let report = app.engine.sync_calendars().expect("sync");
    assert_eq!(report.events_sent, 1, "{report:?}");
    let events = fake.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0].start.starts_with(&format!("{day}T09:00:00")),
        "{events:?}"
    );
    assert!(events[0].summary.contains("carl Person"), "{events:?}");
    let link: CalendarEvent = app
        .store
        .get(BookingId::new(first))
        .expect("read")
        .expect("the event id is stored");
    assert_eq!(link.event_id, events[0].id);

    let moved = app.authed(
        "POST",
        &format!("/v1/bookings/{first}/reschedule"),
        &client,
        Some(&format!(r#"{{"start_time":"{day}T14:00:00Z"}}"#)),
    );
    assert_eq!(moved.status, 201, "{}", moved.raw);
    let second = moved.body["id"].as_u64().expect("id");
    app.engine.sync_calendars().expect("sync");
    let events = fake.events();
    assert_eq!(events.len(), 1, "moved, not copied: {events:?}");
    assert_eq!(events[0].id, link.event_id);
    assert!(
        events[0].start.starts_with(&format!("{day}T14:00:00")),
        "{events:?}"
    );
    assert_eq!(fake.count("patch"), 1);
    // Regression: the session's own event came back from Google as busy
    // time, so after a cancel its slot stayed blocked until Google had been
    // told (for good, if that failed). The event is shown free there.
    assert!(events[0].transparent, "{events:?}");
    app.engine.sync_calendars().expect("busy times read again");

    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{second}/cancel"),
        &client,
        Some(r#"{"reason":"plans changed"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    assert!(
        slot_starts(&app, expert, &day).contains(&"14:00".to_owned()),
        "the cancelled session's slot is open at once"
    );
    app.engine.sync_calendars().expect("sync");
    assert!(fake.events().is_empty());
    assert_eq!(fake.count("delete"), 1);
    assert!(
        app.store
            .get::<CalendarEvent>(BookingId::new(second))
            .expect("read")
            .is_none()
    );
    assert!(
        app.store
            .verify_integrity()
            .expect("verify")
            .is_consistent()
    );
    assert_no_tokens(&app, &fake);
    app.assert_no_leaks();
}

/// Regression: a refresh under way with the old grant while the expert connected again
/// marked the new connection broken when Google refused the old grant (or wrote the
/// old grant's token over the new one).
#[test]
fn a_refresh_of_the_old_grant_leaves_a_new_connection_alone() {
    let (app, fake) = spawn_app_with_google();
    let (_, token) = free_expert(&app, "grace");
    fake.set_expires_in(60);
    connect(&app, &fake, &token);
    fake.fail_next_refresh();
    let release = fake.hold_next_refresh();
    std::thread::scope(|scope| {
        let sync = scope.spawn(|| app.engine.sync_calendars());
        let started = std::time::Instant::now();
        while fake.count("refresh-held") == 0 {
            assert!(started.elapsed() < std::time::Duration::from_secs(15));
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        fake.set_expires_in(3_600);
        connect(&app, &fake, &token);
        release.send(()).expect("the refresh waits");
        let report = sync.join().expect("sync thread").expect("sync");
        assert_eq!(report.refreshed, 0, "{report:?}");
    });
    let status = app.authed("GET", "/v1/calendar/google", &token, None);
    assert_eq!(status.body["status"], "connected", "{}", status.raw);
    assert!(status.body["problem"].is_null(), "{}", status.raw);
    // The new grant works: the next sync needs no refresh.
    let report = app.engine.sync_calendars().expect("sync");
    assert_eq!((report.broken, report.synced), (0, 1), "{report:?}");
    assert_no_tokens(&app, &fake);
}

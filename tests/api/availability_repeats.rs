//! Availability rows posted again (a client resending after a lost
//! answer): the same rule or exception is kept once, answered 200 with the
//! row already held, so deleting it leaves nothing behind.

use crate::app::spawn_app;
use crate::availability::{expert_working, first_slot_on};
use crate::dates;

/// Regression: a rule posted again (a client resending after a lost answer)
/// made a second identical rule, so the hours stayed bookable after the
/// expert deleted "the" rule. The repeat answers 200 with the first rule.
#[test]
fn the_same_rule_posted_twice_is_kept_once() {
    let app = spawn_app();
    let (id, token) = app.register("rosa");
    app.make_expert(id, "UTC");
    let body = r#"{"weekday":0,"start":"09:00","end":"12:00"}"#;
    let first = app.authed("POST", "/v1/availability/rules", &token, Some(body));
    assert_eq!(first.status, 201, "{}", first.raw);
    let again = app.authed("POST", "/v1/availability/rules", &token, Some(body));
    assert_eq!(again.status, 200, "{}", again.raw);
    let rule_id = first.body["id"].as_u64().expect("id");
    assert_eq!(again.body["id"].as_u64(), Some(rule_id), "{}", again.raw);
    let listed = app.authed("GET", "/v1/availability/rules", &token, None);
    assert_eq!(
        listed.body["rules"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.raw
    );
    // Deleting the rule leaves the Monday closed.
    let deleted = app.authed(
        "DELETE",
        &format!("/v1/availability/rules/{rule_id}"),
        &token,
        None,
    );
    assert_eq!(deleted.status, 204, "{}", deleted.raw);
    let monday = dates::day(0);
    let slots = app.get(&format!(
        "/v1/experts/{id}/slots?from={monday}&to={monday}&duration=60"
    ));
    assert_eq!(slots.status, 200, "{}", slots.raw);
    assert_eq!(
        slots.body["slots"].as_array().map(Vec::len),
        Some(0),
        "{}",
        slots.raw
    );
}

/// Regression: a blocked exception posted again made a second identical one,
/// so the time stayed blocked after the expert deleted "the" exception. The
/// repeat answers 200 with the first exception.
#[test]
fn the_same_exception_posted_twice_is_kept_once() {
    let app = spawn_app();
    let (id, token) = expert_working(&app, "elio", "UTC", "09:00", "17:00");
    let body = format!(
        r#"{{"start":"{}","end":"{}","is_blocked":true,"reason":"Holiday"}}"#,
        dates::at(0, "00:00"),
        dates::at(1, "00:00")
    );
    let first = app.authed("POST", "/v1/availability/exceptions", &token, Some(&body));
    assert_eq!(first.status, 201, "{}", first.raw);
    let again = app.authed("POST", "/v1/availability/exceptions", &token, Some(&body));
    assert_eq!(again.status, 200, "{}", again.raw);
    let exception_id = first.body["id"].as_u64().expect("id");
    assert_eq!(
        again.body["id"].as_u64(),
        Some(exception_id),
        "{}",
        again.raw
    );
    let listed = app.authed("GET", "/v1/availability/exceptions", &token, None);
    assert_eq!(
        listed.body["exceptions"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.raw
    );
    let monday = dates::day(0);
    let slots_path = format!("/v1/experts/{id}/slots?from={monday}&to={monday}&duration=60");
    let blocked = app.get(&slots_path);
    assert_eq!(blocked.status, 200, "{}", blocked.raw);
    assert_eq!(
        blocked.body["slots"].as_array().map(Vec::len),
        Some(0),
        "{}",
        blocked.raw
    );
    // Deleting the exception opens the Monday again.
    let deleted = app.authed(
        "DELETE",
        &format!("/v1/availability/exceptions/{exception_id}"),
        &token,
        None,
    );
    assert_eq!(deleted.status, 204, "{}", deleted.raw);
    let open = app.get(&slots_path);
    assert_eq!(open.status, 200, "{}", open.raw);
    assert_eq!(
        first_slot_on(&open.body, &monday),
        Some(dates::at(0, "09:00")),
        "{}",
        open.raw
    );
}

//! Availability over HTTP: one's own rules and exceptions, others' rows
//! hidden, and slots across DST, in the viewer's zone and up to the booking
//! horizon.

use chrono::{Datelike, Days};

use crate::app::{TestApp, error_code, spawn_app};
use crate::dates;

/// An expert in `zone` working `start`-`end` every day; returns (id, token).
pub fn expert_working(
    app: &TestApp,
    name: &str,
    zone: &str,
    start: &str,
    end: &str,
) -> (u64, String) {
    let (id, token) = app.register(name);
    app.make_expert(id, zone);
    for weekday in 0..7 {
        let body = format!(r#"{{"weekday":{weekday},"start":"{start}","end":"{end}"}}"#);
        let response = app.authed("POST", "/v1/availability/rules", &token, Some(&body));
        assert_eq!(response.status, 201, "{}", response.raw);
    }
    (id, token)
}

pub(crate) fn first_slot_on(slots: &serde_json::Value, day: &str) -> Option<String> {
    slots["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter_map(|s| s["start"].as_str())
        .find(|s| s.starts_with(day))
        .map(str::to_owned)
}

/// Berlin's 09:00 is 08:00Z in winter and 07:00Z in summer: the first slot
/// moves an hour in UTC over the weekend Europe changes its clocks (forward
/// in March, back in October, whichever comes next).
#[test]
fn berlin_nine_oclock_moves_an_hour_in_utc_across_dst() {
    let app = spawn_app();
    let (id, _) = expert_working(&app, "berta", "Europe/Berlin", "09:00", "17:00");
    let sunday = dates::clock_change_sunday();
    let (friday, saturday, monday) = (
        (sunday - Days::new(2)).to_string(),
        (sunday - Days::new(1)).to_string(),
        (sunday + Days::new(1)).to_string(),
    );
    let (before, after) = if sunday.month() == 3 {
        ("08:00", "07:00")
    } else {
        ("07:00", "08:00")
    };
    let slots = app.get(&format!(
        "/v1/experts/{id}/slots?from={friday}&to={monday}&tz=Europe/Berlin&duration=60"
    ));
    assert_eq!(slots.status, 200, "{}", slots.raw);
    for (day, hour) in [(&friday, before), (&saturday, before), (&monday, after)] {
        assert_eq!(
            first_slot_on(&slots.body, day),
            Some(format!("{day}T{hour}:00Z")),
            "{}",
            slots.raw
        );
    }
    app.assert_no_leaks();
}

#[test]
fn a_new_york_viewer_gets_the_new_york_day() {
    let app = spawn_app();
    let (id, _) = expert_working(&app, "uma", "UTC", "00:00", "24:00");
    let tuesday = dates::day(1);
    let slots = app.get(&format!(
        "/v1/experts/{id}/slots?from={tuesday}&to={tuesday}&tz=America/New_York&duration=60"
    ));
    assert_eq!(slots.status, 200, "{}", slots.raw);
    let list = slots.body["slots"].as_array().expect("slots");
    assert_eq!(
        list.first().and_then(|s| s["start"].as_str()),
        Some(dates::at(1, "05:00").as_str())
    );
    // A slot belongs to the day it starts on: the last starts at 23:30 New
    // York time and ends past its midnight.
    let (last_start, last_end) = (dates::at(2, "04:30"), dates::at(2, "05:30"));
    assert_eq!(
        list.last()
            .map(|s| (s["start"].as_str(), s["end"].as_str())),
        Some((Some(last_start.as_str()), Some(last_end.as_str())))
    );
}

#[test]
fn rules_and_exceptions_are_the_owners_own() {
    let app = spawn_app();
    let (_, ann) = app.register("ann");
    let (_, bob) = app.register("bob");
    let rule = app.authed(
        "POST",
        "/v1/availability/rules",
        &ann,
        Some(r#"{"weekday":0,"start":"09:00","end":"12:00"}"#),
    );
    assert_eq!(rule.status, 201, "{}", rule.raw);
    assert_eq!(rule.body["start"], "09:00");
    let rule_id = rule.body["id"].as_u64().expect("id");

    let patched = app.authed(
        "PATCH",
        &format!("/v1/availability/rules/{rule_id}"),
        &ann,
        Some(r#"{"end":"13:30","is_active":false}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.raw);
    assert_eq!(patched.body["end"], "13:30");
    assert_eq!(patched.body["is_active"], false);

    // Bob sees none of it and cannot touch it.
    let bobs = app.authed("GET", "/v1/availability/rules", &bob, None);
    assert_eq!(bobs.body["rules"].as_array().map(Vec::len), Some(0));
    for (method, body) in [("PATCH", Some(r#"{"end":"14:00"}"#)), ("DELETE", None)] {
        let response = app.authed(
            method,
            &format!("/v1/availability/rules/{rule_id}"),
            &bob,
            body,
        );
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (404, "not_found")
        );
    }

    let exception = app.authed(
        "POST",
        "/v1/availability/exceptions",
        &ann,
        Some(&format!(
            r#"{{"start":"{}","end":"{}","is_blocked":true,"reason":"Holiday"}}"#,
            dates::at(28, "00:00"),
            dates::at(35, "00:00")
        )),
    );
    assert_eq!(exception.status, 201, "{}", exception.raw);
    let exception_id = exception.body["id"].as_u64().expect("id");
    let cleared = app.authed(
        "PATCH",
        &format!("/v1/availability/exceptions/{exception_id}"),
        &ann,
        Some(r#"{"reason":null,"is_blocked":false}"#),
    );
    assert_eq!(cleared.status, 200, "{}", cleared.raw);
    assert!(cleared.body["reason"].is_null());
    let listed = app.authed("GET", "/v1/availability/exceptions", &ann, None);
    assert_eq!(listed.body["exceptions"].as_array().map(Vec::len), Some(1));
    let stolen = app.authed(
        "DELETE",
        &format!("/v1/availability/exceptions/{exception_id}"),
        &bob,
        None,
    );
    assert_eq!(stolen.status, 404);

    let deleted = app.authed(
        "DELETE",
        &format!("/v1/availability/rules/{rule_id}"),
        &ann,
        None,
    );
    assert_eq!(deleted.status, 204);
    let gone = app.authed(
        "DELETE",
        &format!("/v1/availability/rules/{rule_id}"),
        &ann,
        None,
    );
    assert_eq!(gone.status, 404);
    let removed = app.authed(
        "DELETE",
        &format!("/v1/availability/exceptions/{exception_id}"),
        &ann,
        None,
    );
    assert_eq!(removed.status, 204);
    assert!(app.store.verify_integrity().expect("check").is_consistent());
    app.assert_no_leaks();
}

#[test]
fn bad_availability_input_gets_clear_errors() {
    let app = spawn_app();
    let (_, token) = app.register("ann");
    let (day_28, day_29) = (dates::at(28, "00:00"), dates::at(29, "00:00"));
    let backwards = format!(r#"{{"start":"{day_29}","end":"{day_28}","is_blocked":true}}"#);
    let not_a_time = format!(r#"{{"start":"tomorrow","end":"{day_28}","is_blocked":true}}"#);
    let cases = [
        (
            "/v1/availability/rules",
            r#"{"weekday":7,"start":"09:00","end":"10:00"}"#,
            "invalid_input",
        ),
        (
            "/v1/availability/rules",
            r#"{"weekday":1,"start":"10:00","end":"09:00"}"#,
            "invalid_input",
        ),
        (
            "/v1/availability/rules",
            r#"{"weekday":1,"start":"9am","end":"10:00"}"#,
            "invalid_input",
        ),
        (
            "/v1/availability/rules",
            r#"{"weekday":"monday","start":"09:00","end":"10:00"}"#,
            "invalid_input",
        ),
        (
            "/v1/availability/rules",
            r#"{"weekday":1,"start":"09:00""#,
            "invalid_json",
        ),
        (
            "/v1/availability/rules",
            r#"{"weekday":1}"#,
            "invalid_input",
        ),
        (
            "/v1/availability/exceptions",
            backwards.as_str(),
            "invalid_input",
        ),
        (
            "/v1/availability/exceptions",
            not_a_time.as_str(),
            "invalid_input",
        ),
        // Regression: exceptions over any span of time were taken (one all
        // past, one ending in the year 9999), and past ones held places
        // under the cap for good.
        (
            "/v1/availability/exceptions",
            r#"{"start":"1970-01-01T00:00:00Z","end":"1970-01-02T00:00:00Z","is_blocked":true}"#,
            "invalid_input",
        ),
        (
            "/v1/availability/exceptions",
            r#"{"start":"9998-01-01T00:00:00Z","end":"9999-01-01T00:00:00Z","is_blocked":true}"#,
            "invalid_input",
        ),
        (
            "/v1/availability/exceptions",
            r#"{"start":"2027-02-01T00:00:00Z""#,
            "invalid_json",
        ),
    ];
    for (path, body, code) in cases {
        let response = app.authed("POST", path, &token, Some(body));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, code),
            "{body}"
        );
    }
    let no_token = app.request(
        "POST",
        "/v1/availability/rules",
        Some(r#"{"weekday":1,"start":"09:00","end":"10:00"}"#),
    );
    assert_eq!(no_token.status, 401);
    let bad_id = app.authed("PATCH", "/v1/availability/rules/abc", &token, Some("{}"));
    assert_eq!(error_code(&bad_id), "invalid_parameter");
    // Regression: a path segment that is not UTF-8 got axum's plain-text
    // 400, and an id with a leading `+` was read as the number.
    for (method, path) in [
        ("PATCH", "/v1/availability/rules/%FF"),
        ("PATCH", "/v1/availability/rules/+1"),
        ("DELETE", "/v1/availability/exceptions/%FF"),
        ("GET", "/v1/experts/%FF/slots?from=2027-01-05&to=2027-01-05"),
        ("GET", "/v1/experts/+1/slots?from=2027-01-05&to=2027-01-05"),
        ("GET", "/v1/bookings/%C3%28"),
        ("GET", "/v1/bookings/+1"),
    ] {
        let response = app.authed(method, path, &token, Some("{}"));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, "invalid_parameter"),
            "{method} {path}: {}",
            response.raw
        );
    }
    let unknown = app.authed("DELETE", "/v1/availability/exceptions/999999", &token, None);
    assert_eq!(unknown.status, 404);
    let huge = format!(
        r#"{{"weekday":1,"start":"09:00","end":"{}"}}"#,
        "1".repeat(100_000)
    );
    let too_big = app.authed("POST", "/v1/availability/rules", &token, Some(&huge));
    assert_eq!(error_code(&too_big), "payload_too_large");

    let (expert, _) = expert_working(&app, "exp", "Europe/Berlin", "09:00", "17:00");
    // These are refused before any day is read against the clock (a
    // parameter that does not parse, `to` before `from`, a span over 62
    // days, a length the expert is not booked for, no such expert), so
    // fixed dates cannot age out of them.
    for query in [
        "from=2027-01-05",
        "from=2027-13-01&to=2027-13-02",
        "from=2027-01-05&to=2027-01-05&tz=Mars/Olympus",
        "from=2027-01-05&to=2027-01-05&duration=lots",
    ] {
        let response = app.get(&format!("/v1/experts/{expert}/slots?{query}"));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, "invalid_parameter"),
            "{query}"
        );
    }
    for query in [
        "from=2027-01-05&to=2027-01-01",
        "from=2027-01-01&to=2027-12-31",
        "from=2027-01-05&to=2027-01-05&duration=1",
    ] {
        let response = app.get(&format!("/v1/experts/{expert}/slots?{query}"));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, "invalid_input"),
            "{query}"
        );
    }
    let nobody = app.get("/v1/experts/999999/slots?from=2027-01-05&to=2027-01-05");
    assert_eq!(nobody.status, 404);
}

/// Regression: the slot list offered 60-minute slots by default (and any length
/// asked) to an expert whose sessions last 45 minutes, which booking then refused.
#[test]
fn slots_come_in_the_experts_session_length_unless_a_bookable_multiple_is_asked() {
    let app = spawn_app();
    let (expert, _) = expert_working(&app, "sena", "UTC", "09:00", "12:00");
    app.store
        .users()
        .modify(droply_models::UserId::new(expert), |user| {
            user.session_duration = 45;
            Ok(())
        })
        .expect("45-minute sessions");
    let day = dates::day(1);
    let lengths = |query: &str| -> Vec<i64> {
        let answer = app.get(&format!(
            "/v1/experts/{expert}/slots?from={day}&to={day}{query}"
        ));
        assert_eq!(answer.status, 200, "{}", answer.raw);
        answer.body["slots"]
            .as_array()
            .expect("slots")
            .iter()
            .map(|slot| {
                let at = |field: &str| {
                    droply_models::Timestamp::parse_rfc3339(slot[field].as_str().expect(field))
                        .expect("instant")
                };
                at("end").signed_duration_since(at("start")).num_minutes()
            })
            .collect()
    };
    let default = lengths("");
    assert!(!default.is_empty());
    assert!(default.iter().all(|minutes| *minutes == 45), "{default:?}");
    let double = lengths("&duration=90");
    assert!(!double.is_empty() && double.iter().all(|minutes| *minutes == 90));
    let hour = app.get(&format!(
        "/v1/experts/{expert}/slots?from={day}&to={day}&duration=60"
    ));
    assert_eq!(hour.status, 400, "{}", hour.raw);
    assert_eq!(error_code(&hour), "invalid_input");
    assert!(hour.raw.contains("45 minutes"), "{}", hour.raw);
}

/// Regression: past exceptions counted under the cap for good, so an expert who had
/// made 500 over the years could never add another.
#[test]
fn exceptions_long_past_are_forgotten_to_make_room() {
    let app = spawn_app();
    let (expert, token) = expert_working(&app, "paula", "UTC", "09:00", "17:00");
    let long_ago = droply_models::Timestamp::now().plus_days(-30);
    app.store
        .write(|txn| {
            for day in 0..droply_engine::availability::MAX_EXCEPTIONS {
                let start = long_ago.plus_days(-(day as i64) - 1);
                txn.create(droply_models::AvailabilityException {
                    id: droply_models::AvailabilityExceptionId::new(0),
                    user_id: droply_models::UserId::new(expert),
                    start,
                    end: start.plus_minutes(60),
                    reason: None,
                    is_blocked: true,
                    created_at: start,
                })?;
            }
            Ok(())
        })
        .expect("a full list of old exceptions");
    let ahead = droply_models::Timestamp::now().plus_days(7).to_rfc3339();
    let end = droply_models::Timestamp::now().plus_days(8).to_rfc3339();
    let added = app.authed(
        "POST",
        "/v1/availability/exceptions",
        &token,
        Some(&format!(
            r#"{{"start":"{ahead}","end":"{end}","is_blocked":true}}"#
        )),
    );
    assert_eq!(added.status, 201, "{}", added.raw);
    let listed = app.authed("GET", "/v1/availability/exceptions", &token, None);
    assert_eq!(listed.status, 200, "{}", listed.raw);
    assert_eq!(
        listed.body["exceptions"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.raw
    );
}

/// Regression: a date of a six-digit year read in a zone west of UTC, for an expert
/// far east of it, took the slot finder past the last date chrono can hold, and it
/// panicked (a 500). The last date there is is answered: with no slots, as it lies
/// past the booking horizon.
#[test]
fn dates_at_the_edge_of_time_are_refused_or_answered() {
    let app = spawn_app();
    let (expert, _) = expert_working(&app, "kiri", "Pacific/Kiritimati", "09:00", "17:00");
    for query in [
        "from=%2B262143-12-30&to=%2B262143-12-30&tz=Etc/GMT%2B12",
        "from=10000-01-01&to=10000-01-01",
        "from=-0001-01-01&to=-0001-01-01",
    ] {
        let response = app.get(&format!("/v1/experts/{expert}/slots?{query}"));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, "invalid_parameter"),
            "{query}: {}",
            response.raw
        );
    }
    let last_day = app.get(&format!(
        "/v1/experts/{expert}/slots?from=9999-12-31&to=9999-12-31&tz=Etc/GMT%2B12&duration=60"
    ));
    assert_eq!(last_day.status, 200, "{}", last_day.raw);
    let slots = last_day.body["slots"].as_array().expect("slots").len();
    assert_eq!(slots, 0, "past the booking horizon: {}", last_day.raw);
}

/// Regression: slots were offered any time ahead (years), while the expert can
/// block time with exceptions only up to about two years ahead. A range past the
/// horizon is answered with no slots; one across it ends at it.
#[test]
fn no_slot_is_offered_past_the_booking_horizon() {
    let app = spawn_app();
    let (expert, _) = expert_working(&app, "hana", "UTC", "00:00", "24:00");
    let now = droply_models::Timestamp::now();
    let day = |days: i64| now.plus_days(days).to_rfc3339()[..10].to_owned();
    let slots = |from: i64, to: i64| -> Vec<droply_models::Timestamp> {
        let answer = app.get(&format!(
            "/v1/experts/{expert}/slots?from={}&to={}&duration=60",
            day(from),
            day(to)
        ));
        assert_eq!(answer.status, 200, "{}", answer.raw);
        answer.body["slots"]
            .as_array()
            .expect("slots")
            .iter()
            .map(|slot| {
                droply_models::Timestamp::parse_rfc3339(slot["start"].as_str().expect("start"))
                    .expect("instant")
            })
            .collect()
    };
    assert!(slots(800, 801).is_empty(), "800 days ahead");
    let across = slots(360, 370);
    // The server's clock read a moment after `now`.
    let horizon = now.plus_days(365);
    assert!(!across.is_empty(), "open until the horizon");
    assert!(
        across.iter().all(|start| *start <= horizon.plus_minutes(1)),
        "{across:?}"
    );
    let last = across.last().expect("a last slot");
    assert!(
        *last > horizon.plus_minutes(-60),
        "open right up to the horizon: {last}"
    );
}

/// Regression: an expert could add availability rules without end, and every
/// slot search reads them all.
#[test]
fn an_expert_cannot_add_more_than_fifty_rules() {
    let app = spawn_app();
    let (id, token) = app.register("ruth");
    app.make_expert(id, "Europe/Berlin");
    // Fifty different rules (the same one again is answered, not added).
    for n in 0..50 {
        let body = format!(
            r#"{{"weekday":{},"start":"{:02}:00","end":"{:02}:00"}}"#,
            n % 7,
            8 + n / 7,
            9 + n / 7
        );
        let created = app.authed("POST", "/v1/availability/rules", &token, Some(&body));
        assert_eq!(created.status, 201, "rule {n}: {}", created.raw);
    }
    let body = r#"{"weekday":0,"start":"20:00","end":"21:00"}"#;
    let refused = app.authed("POST", "/v1/availability/rules", &token, Some(body));
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (409, "limit_reached"),
        "{}",
        refused.raw
    );
}

/// Regression: the slot grid was counted from midnight UTC, so an expert in Nepal
/// (UTC+05:45) open 10:00-11:00 their time was offered no slot at all, and a booking
/// at 10:00 their time was refused as off the grid.
#[test]
fn an_expert_off_the_hour_is_offered_and_booked_on_their_own_clock() {
    let app = spawn_app();
    let (expert, _) = expert_working(&app, "nima", "Asia/Kathmandu", "10:00", "11:00");
    app.make_free(expert);
    let tuesday = dates::day(1);
    let slots = app.get(&format!(
        "/v1/experts/{expert}/slots?from={tuesday}&to={tuesday}&tz=Asia/Kathmandu&duration=60"
    ));
    assert_eq!(slots.status, 200, "{}", slots.raw);
    let starts: Vec<&str> = slots.body["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter_map(|s| s["start"].as_str())
        .collect();
    let ten_there = dates::at(1, "04:15");
    assert_eq!(starts, [ten_there.as_str()], "10:00 in Kathmandu");
    let (_, client) = app.register("carla");
    let booked = app.post_booking(
        &client,
        &format!(r#"{{"provider_id":{expert},"start_time":"{ten_there}","duration":60}}"#),
    );
    assert_eq!(booked.status, 201, "{}", booked.raw);
}

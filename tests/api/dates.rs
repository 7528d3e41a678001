//! The days the tests book and query, counted from today. A session can be
//! booked from an hour ahead to 365 days ahead, so a date written into a
//! test as "the future" stops being bookable once the calendar reaches it;
//! these are always inside that window, whatever day the tests run on.

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};

/// The day this test process started on (UTC), read once: a test running
/// across midnight keeps the same days.
fn today() -> NaiveDate {
    static TODAY: OnceLock<NaiveDate> = OnceLock::new();
    *TODAY.get_or_init(|| Utc::now().date_naive())
}

/// The Monday most booking tests use: the first Monday at least 14 days
/// ahead that falls between 9 November and 20 February, so that its week and
/// the week after keep standard time in Berlin (UTC+1) and New York (UTC-5):
/// 09:00Z is 10:00 in Berlin. At most ~285 days ahead, so it and the weeks
/// after it (the tests go up to five) stay inside the 365-day booking horizon.
pub(crate) fn winter_monday() -> NaiveDate {
    winter_monday_from(today())
}

fn winter_monday_from(today: NaiveDate) -> NaiveDate {
    let mut day = today + Days::new(14);
    while day.weekday() != Weekday::Mon || !in_winter(day) {
        day = day + Days::new(1);
    }
    day
}

/// 9 November (New York's clocks are back by the first Sunday of
/// November, Berlin's by the last Sunday of October) to 20 February (both
/// go forward in March, New York from the second Sunday).
fn in_winter(day: NaiveDate) -> bool {
    match day.month() {
        11 => day.day() >= 9,
        12 | 1 => true,
        2 => day.day() <= 20,
        _ => false,
    }
}

/// [`winter_monday`] plus `days`, as `YYYY-MM-DD`.
pub(crate) fn day(days: u64) -> String {
    (winter_monday() + Days::new(days)).to_string()
}

/// The instant `time` (`HH:MM`, UTC) on [`winter_monday`] plus `days`, in
/// RFC 3339: `at(0, "09:00")` is the Monday's `…T09:00:00Z`.
pub(crate) fn at(days: u64, time: &str) -> String {
    format!("{}T{time}:00Z", day(days))
}

/// The instant `time` (`HH:MM`) at UTC offset `offset` (`+01:00`) on
/// [`winter_monday`] plus `days`, in RFC 3339: `at_offset(0, "10:00",
/// "+01:00")` is the same instant as `at(0, "09:00")`.
pub(crate) fn at_offset(days: u64, time: &str, offset: &str) -> String {
    format!("{}T{time}:00{offset}", day(days))
}

/// [`at`] as whole seconds since the Unix epoch, as Daily's `start_ts` and
/// `end_ts` count them.
pub(crate) fn unix_seconds(days: u64, time: &str) -> i64 {
    DateTime::parse_from_rfc3339(&at(days, time))
        .expect("an RFC 3339 instant")
        .timestamp()
}

/// The next Sunday on which Europe moves its clocks forward (the last
/// Sunday of March) whose Friday is at least two days ahead: in Berlin and
/// Paris 02:00-03:00 that night does not exist.
pub(crate) fn spring_forward_sunday() -> NaiveDate {
    spring_forward_sunday_from(today())
}

fn spring_forward_sunday_from(today: NaiveDate) -> NaiveDate {
    let earliest = today + Days::new(4);
    let mut year = earliest.year();
    loop {
        let sunday = last_sunday_of_march(year);
        if sunday >= earliest {
            return sunday;
        }
        year += 1;
    }
}

fn last_sunday_of_march(year: i32) -> NaiveDate {
    let mut day = NaiveDate::from_ymd_opt(year, 3, 31).expect("31 March exists");
    while day.weekday() != Weekday::Sun {
        day = day - Days::new(1);
    }
    day
}

/// The next Sunday on which Europe changes its clocks, forward (the last
/// Sunday of March) or back (the last Sunday of October), whose Friday is at
/// least two days ahead. [`spring_forward_sunday`] alone lies up to a year
/// and nine days ahead, past the 365-day booking horizon in the last days
/// before each March change; this one is at most about 221 days ahead, so
/// slots from its Friday to its Monday can always be offered.
pub(crate) fn clock_change_sunday() -> NaiveDate {
    clock_change_sunday_from(today())
}

fn clock_change_sunday_from(today: NaiveDate) -> NaiveDate {
    let earliest = today + Days::new(4);
    let mut year = earliest.year();
    let fall_back = loop {
        let mut sunday = NaiveDate::from_ymd_opt(year, 10, 31).expect("31 October exists");
        while sunday.weekday() != Weekday::Sun {
            sunday = sunday - Days::new(1);
        }
        if sunday >= earliest {
            break sunday;
        }
        year += 1;
    };
    spring_forward_sunday_from(today).min(fall_back)
}

/// Every day of a leap year and the year after, as the day the tests run.
#[test]
fn the_test_days_stay_inside_the_booking_window_whatever_day_the_tests_run() {
    let first = NaiveDate::from_ymd_opt(2028, 1, 1).expect("a day");
    for offset in 0..731 {
        let today = first + Days::new(offset);
        let monday = winter_monday_from(today);
        assert_eq!(monday.weekday(), Weekday::Mon);
        assert!(monday >= today + Days::new(14), "{today}: {monday}");
        assert!(in_winter(monday), "{today}: {monday}");
        assert!(
            monday + Days::new(60) < today + Days::new(365),
            "{today}: {monday}"
        );
        let sunday = spring_forward_sunday_from(today);
        assert_eq!((sunday.month(), sunday.weekday()), (3, Weekday::Sun));
        assert!(
            sunday.day() >= 25,
            "{today}: {sunday} is not the last Sunday"
        );
        // The last Sundays of March of two years lie 52 or 53 weeks apart.
        assert!(sunday >= today + Days::new(4) && sunday < today + Days::new(4 + 371));
        let change = clock_change_sunday_from(today);
        assert_eq!(change.weekday(), Weekday::Sun);
        assert!(
            matches!(change.month(), 3 | 10) && change.day() >= 25,
            "{today}: {change}"
        );
        assert!(change >= today + Days::new(4), "{today}: {change}");
        assert!(
            change + Days::new(1) < today + Days::new(365),
            "{today}: {change}"
        );
    }
    assert!(at(0, "09:00").starts_with(&winter_monday().to_string()));
    assert_eq!(
        DateTime::parse_from_rfc3339(&at_offset(0, "10:00", "+01:00")).expect("instant"),
        DateTime::parse_from_rfc3339(&at(0, "09:00")).expect("instant")
    );
    assert_eq!(
        unix_seconds(1, "09:00") - unix_seconds(0, "08:00"),
        25 * 3600
    );
}

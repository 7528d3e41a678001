//! Bookable slots: open hours cut into sessions of the asked duration, on
//! the policy's clock grid, after a minimum notice and up to the booking
//! horizon, over a date range read in the viewer's own time zone; a slot
//! belongs to the day it starts on, even when it ends after that day.

use chrono::{Days, NaiveDate};
use droply_models::{TimeZone, Timestamp};

use super::interval::Interval;
use super::open_hours::{ExpertCalendar, open_hours};
use super::policy::{MAX_BOOKING_MINUTES, SlotPolicy};
use crate::{Error, Result};

/// What a viewer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotQuery {
    /// First day, in the viewer's zone.
    pub from: NaiveDate,
    /// Last day (inclusive), in the viewer's zone.
    pub to: NaiveDate,
    /// The viewer's zone.
    pub viewer_tz: TimeZone,
    /// Session length in minutes; `None`: the expert's own session length
    /// (resolved by [`super::expert_slots`]; [`find_slots`] needs one).
    pub duration_minutes: Option<u16>,
    /// The present.
    pub now: Timestamp,
}

/// One bookable session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// When it starts.
    pub start: Timestamp,
    /// When it ends.
    pub end: Timestamp,
}

/// Where the slots of one query lie: what [`find_slots`] cuts them from,
/// and so what a caller must read of the calendar (bookings overlapping
/// `hours`, with their buffers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotSpan {
    /// The open hours that can hold a slot: the viewer's days, run on by one
    /// session at the end (a slot that starts before the last midnight ends
    /// after it), from the minimum notice on and up to a session past the
    /// booking horizon.
    pub(crate) hours: Interval,
    /// Every slot starts before this, the midnight after the last day: a
    /// slot belongs to the day it starts on, so adjacent ranges never list
    /// one slot twice.
    pub(crate) starts_before: Timestamp,
    /// The session length in minutes.
    pub(crate) minutes: i64,
}

/// Checks `query` (a session length, at most `max_days` days, `to` not
/// before `from`) and says where its slots lie; `None` when nowhere (all
/// before the minimum notice or past the booking horizon).
pub(crate) fn slot_span(query: &SlotQuery, policy: &SlotPolicy) -> Result<Option<SlotSpan>> {
    if query.to < query.from {
        return Err(Error::Invalid("`to` is before `from`".to_owned()));
    }
    let days = (query.to - query.from).num_days() + 1;
    if days > i64::from(policy.max_days) {
        return Err(Error::Invalid(format!(
            "ask for at most {} days at a time",
            policy.max_days
        )));
    }
    let minutes = query
        .duration_minutes
        .ok_or_else(|| Error::Invalid("a session length is needed".to_owned()))?;
    if !(5..=MAX_BOOKING_MINUTES).contains(&minutes) {
        return Err(Error::Invalid(format!(
            "duration must be between 5 and {MAX_BOOKING_MINUTES} minutes"
        )));
    }
    let duration = i64::from(minutes);
    let viewer_days = viewer_window(query)?;
    let earliest = query.now.plus_minutes(i64::from(policy.min_notice_minutes));
    // The last slot may start at the horizon, so it may end a session later.
    let latest_end = policy.latest_start(query.now).plus_minutes(duration);
    let hours = Interval::new(
        viewer_days.start.max(earliest),
        viewer_days.end.plus_minutes(duration).min(latest_end),
    );
    Ok(hours.map(|hours| SlotSpan {
        hours,
        starts_before: viewer_days.end,
        minutes: duration,
    }))
}

/// The bookable slots of `calendar` for `query`, each listed on the
/// viewer's day it starts on: none past the booking horizon
/// ([`SlotPolicy::latest_start`]; a range that lies beyond it is answered,
/// with nothing, like one in the past).
pub fn find_slots(
    calendar: &ExpertCalendar,
    query: &SlotQuery,
    policy: &SlotPolicy,
) -> Result<Vec<Slot>> {
    let Some(span) = slot_span(query, policy)? else {
        return Ok(Vec::new());
    };
    let duration = span.minutes;
    let step = policy.grid_minutes();
    let mut slots = Vec::new();
    for part in open_hours(calendar, span.hours, policy, query.now).parts() {
        let mut start = policy.align_up(part.start, calendar.timezone);
        while start < span.starts_before && start.plus_minutes(duration) <= part.end {
            slots.push(Slot {
                start,
                end: start.plus_minutes(duration),
            });
            start = start.plus_minutes(step);
        }
    }
    Ok(slots)
}

/// True when `[start, start + duration)` lies inside the open hours, with the
/// policy's buffers and notice, and starts no later than the booking horizon
/// ([`SlotPolicy::latest_start`]). Used to re-check a slot when booking it.
pub fn fits_open_hours(
    calendar: &ExpertCalendar,
    start: Timestamp,
    duration_minutes: u16,
    now: Timestamp,
    policy: &SlotPolicy,
) -> bool {
    let end = start.plus_minutes(i64::from(duration_minutes));
    let Some(wanted) = Interval::new(start, end) else {
        return false;
    };
    if start < now.plus_minutes(i64::from(policy.min_notice_minutes))
        || start > policy.latest_start(now)
    {
        return false;
    }
    let Some(window) = Interval::new(start.plus_minutes(-1440), end.plus_minutes(1440)) else {
        return false;
    };
    open_hours(calendar, window, policy, now).covers(&wanted)
}

/// The query's days as instants: from the viewer's midnight of `from` to the
/// midnight after `to`.
fn viewer_window(query: &SlotQuery) -> Result<Interval> {
    let midnight = droply_models::LocalTime::MIDNIGHT;
    let after_last = query
        .to
        .checked_add_days(Days::new(1))
        .ok_or_else(|| Error::Invalid("date out of range".to_owned()))?;
    // Where a DST change skips midnight, the day starts at the jump.
    let day_start = |date| query.viewer_tz.at_local_or_after(date, midnight);
    let start = day_start(query.from);
    let end = day_start(after_last);
    match (start, end) {
        (Some(start), Some(end)) => {
            Interval::new(start, end).ok_or_else(|| Error::Invalid("empty date range".to_owned()))
        }
        _ => Err(Error::Invalid(
            "a day of the range starts inside a DST gap".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use droply_models::{AvailabilityException, AvailabilityExceptionId, UserId};

    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("instant")
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name).expect("zone")
    }

    /// An expert in UTC open only `[start, end)` (an extra-hours exception).
    fn open_only(start: &str, end: &str) -> ExpertCalendar {
        ExpertCalendar {
            timezone: TimeZone::UTC,
            rules: Vec::new(),
            exceptions: vec![AvailabilityException {
                id: AvailabilityExceptionId::new(1),
                user_id: UserId::new(1),
                start: at(start),
                end: at(end),
                reason: None,
                is_blocked: false,
                created_at: at("2027-01-01T00:00:00Z"),
            }],
            bookings: Vec::new(),
            busy: Vec::new(),
        }
    }

    /// An expert open 23:00-01:00 on a New York viewer's clock, over their
    /// midnight from the 4th to the 5th of January 2027 (UTC-5).
    fn open_over_new_york_midnight() -> ExpertCalendar {
        open_only("2027-01-05T04:00:00Z", "2027-01-05T06:00:00Z")
    }

    /// The starts of the hour-long slots a New York viewer sees from `from`
    /// to `to`, asked on New Year's Day 2027.
    fn new_york_starts(calendar: &ExpertCalendar, from: &str, to: &str) -> Vec<Timestamp> {
        let query = SlotQuery {
            from: from.parse().expect("date"),
            to: to.parse().expect("date"),
            viewer_tz: zone("America/New_York"),
            duration_minutes: Some(60),
            now: at("2027-01-01T00:00:00Z"),
        };
        find_slots(calendar, &query, &SlotPolicy::default())
            .expect("slots")
            .iter()
            .map(|slot| slot.start)
            .collect()
    }

    /// Regression: the open hours were cut at the viewer's midnight after
    /// the last day before slots were cut from them, so a session starting
    /// 23:30 and ending 00:30 was listed on no day at all, though booking
    /// it worked.
    #[test]
    fn a_slot_straddling_the_viewers_last_midnight_is_listed_once_on_the_day_it_starts() {
        let starts = new_york_starts(&open_over_new_york_midnight(), "2027-01-04", "2027-01-04");
        assert_eq!(
            starts,
            [at("2027-01-05T04:00:00Z"), at("2027-01-05T04:30:00Z")],
            "23:00 and 23:30 New York time, the latter ending after midnight"
        );
    }

    #[test]
    fn a_slot_straddling_the_viewers_midnight_is_not_listed_on_the_next_day() {
        let starts = new_york_starts(&open_over_new_york_midnight(), "2027-01-05", "2027-01-05");
        assert_eq!(
            starts,
            [at("2027-01-05T05:00:00Z")],
            "only 00:00 New York time"
        );
    }

    /// Regression: two adjacent one-day queries missed the slot over their
    /// shared midnight, which one query over both days listed.
    #[test]
    fn two_adjacent_day_queries_list_exactly_the_slots_of_one_two_day_query() {
        let calendar = open_over_new_york_midnight();
        let mut one_by_one = new_york_starts(&calendar, "2027-01-04", "2027-01-04");
        one_by_one.extend(new_york_starts(&calendar, "2027-01-05", "2027-01-05"));
        let both = new_york_starts(&calendar, "2027-01-04", "2027-01-05");
        assert_eq!(one_by_one, both);
        assert_eq!(
            both,
            [
                at("2027-01-05T04:00:00Z"),
                at("2027-01-05T04:30:00Z"),
                at("2027-01-05T05:00:00Z"),
            ]
        );
    }

    #[test]
    fn a_session_past_the_last_midnight_still_starts_no_later_than_the_horizon() {
        // Asked at 2027-01-01T00:00Z, a year ahead is 2028-01-01T00:00Z.
        let calendar = open_only("2027-12-31T22:00:00Z", "2028-01-01T03:00:00Z");
        let query = |day: &str| SlotQuery {
            from: day.parse().expect("date"),
            to: day.parse().expect("date"),
            viewer_tz: TimeZone::UTC,
            duration_minutes: Some(60),
            now: at("2027-01-01T00:00:00Z"),
        };
        let policy = SlotPolicy::default();
        let last_day = find_slots(&calendar, &query("2027-12-31"), &policy).expect("slots");
        assert_eq!(
            last_day.last().map(|slot| slot.start),
            Some(at("2027-12-31T23:30:00Z"))
        );
        let horizon_day = find_slots(&calendar, &query("2028-01-01"), &policy).expect("slots");
        assert_eq!(
            horizon_day,
            [Slot {
                start: at("2028-01-01T00:00:00Z"),
                end: at("2028-01-01T01:00:00Z"),
            }]
        );
    }
}

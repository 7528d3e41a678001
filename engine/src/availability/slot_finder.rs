//! Bookable slots: open hours cut into sessions of the asked duration, on
//! the policy's clock grid, after a minimum notice and up to the booking
//! horizon, over a date range read in the viewer's own time zone.

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

/// The bookable slots of `calendar` for `query`: none past the booking
/// horizon ([`SlotPolicy::latest_start`]; a range that lies beyond it is
/// answered, with nothing, like one in the past).
pub fn find_slots(
    calendar: &ExpertCalendar,
    query: &SlotQuery,
    policy: &SlotPolicy,
) -> Result<Vec<Slot>> {
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
    let window = viewer_window(query)?;
    let earliest = query.now.plus_minutes(i64::from(policy.min_notice_minutes));
    // The last slot may start at the horizon, so it may end a session later.
    let latest_end = policy
        .latest_start(query.now)
        .plus_minutes(i64::from(minutes));
    let Some(window) = Interval::new(window.start.max(earliest), window.end.min(latest_end)) else {
        return Ok(Vec::new());
    };
    let duration = i64::from(minutes);
    let step = policy.grid_minutes();
    let mut slots = Vec::new();
    for part in open_hours(calendar, window, policy, query.now).parts() {
        let mut start = policy.align_up(part.start, calendar.timezone);
        while start.plus_minutes(duration) <= part.end {
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

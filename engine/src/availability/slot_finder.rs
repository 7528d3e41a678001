//! Bookable slots: open hours cut into sessions of the asked duration, on a
//! fixed step, after a minimum notice, over a date range read in the viewer's
//! own time zone.

use chrono::{Days, NaiveDate};
use droply_models::{TimeZone, Timestamp};

use super::interval::Interval;
use super::open_hours::{ExpertCalendar, open_hours};
use crate::{Error, Result};

/// The shop rules every slot obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotPolicy {
    /// Minutes kept free before and after each booking.
    pub buffer_minutes: u16,
    /// How far ahead of now the first slot may start.
    pub min_notice_minutes: u32,
    /// Slots start on this clock grid (minutes past the hour), inside open stretches.
    pub step_minutes: u16,
    /// The longest date range one query may ask for.
    pub max_days: u16,
}

impl Default for SlotPolicy {
    fn default() -> Self {
        SlotPolicy {
            buffer_minutes: 0,
            min_notice_minutes: 60,
            step_minutes: 30,
            max_days: 62,
        }
    }
}

/// What a viewer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotQuery {
    /// First day, in the viewer's zone.
    pub from: NaiveDate,
    /// Last day (inclusive), in the viewer's zone.
    pub to: NaiveDate,
    /// The viewer's zone.
    pub viewer_tz: TimeZone,
    /// Session length in minutes.
    pub duration_minutes: u16,
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

/// The bookable slots of `calendar` for `query`.
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
    if !(5..=480).contains(&query.duration_minutes) {
        return Err(Error::Invalid(
            "duration must be between 5 and 480 minutes".to_owned(),
        ));
    }
    let window = viewer_window(query)?;
    let earliest = query.now.plus_minutes(i64::from(policy.min_notice_minutes));
    let Some(window) = Interval::new(window.start.max(earliest), window.end) else {
        return Ok(Vec::new());
    };
    let duration = i64::from(query.duration_minutes);
    let step = i64::from(policy.step_minutes.max(5));
    let mut slots = Vec::new();
    for part in open_hours(calendar, window, policy.buffer_minutes).parts() {
        let mut start = align_up(part.start, step);
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

/// The first instant at or after `at` on the clock grid of `step` minutes
/// (09:00, 09:30, ... for a 30-minute step), so slots read well.
fn align_up(at: Timestamp, step_minutes: i64) -> Timestamp {
    const MINUTE: i64 = 60_000_000;
    let step = step_minutes * MINUTE;
    let micros = at.as_micros();
    let aligned = micros.div_euclid(step) * step;
    let aligned = if aligned < micros {
        aligned + step
    } else {
        aligned
    };
    Timestamp::from_micros(aligned).unwrap_or(at)
}

/// True when `[start, start + duration)` lies inside the open hours, with the
/// policy's buffers and notice. Used to re-check a slot when booking it.
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
    if start < now.plus_minutes(i64::from(policy.min_notice_minutes)) {
        return false;
    }
    let Some(window) = Interval::new(start.plus_minutes(-1440), end.plus_minutes(1440)) else {
        return false;
    };
    open_hours(calendar, window, policy.buffer_minutes).covers(&wanted)
}

/// The query's days as instants: from the viewer's midnight of `from` to the
/// midnight after `to`.
fn viewer_window(query: &SlotQuery) -> Result<Interval> {
    let midnight = droply_models::LocalTime::MIDNIGHT;
    let after_last = query
        .to
        .checked_add_days(Days::new(1))
        .ok_or_else(|| Error::Invalid("date out of range".to_owned()))?;
    // Where a DST change skips midnight, the day starts an hour later.
    let day_start = |date| {
        query.viewer_tz.at_local(date, midnight).or_else(|| {
            query
                .viewer_tz
                .at_local(date, droply_models::LocalTime::from_hm(1, 0).ok()?)
        })
    };
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

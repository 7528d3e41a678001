//! An expert's open hours over a window: weekly rules placed on each local
//! date in the expert's time zone, plus available exceptions, minus blocked
//! exceptions, booked time (with buffers) and busy time from the expert's
//! outside calendar. Booked time is what holds its
//! slot at the moment asked about: a lapsed unpaid hold is open again.

use chrono::{Datelike, Days};
use droply_models::{
    AvailabilityException, AvailabilityRule, Booking, TimeZone, Timestamp, Weekday,
};

use super::interval::{Interval, IntervalSet};
use super::policy::SlotPolicy;

/// Everything that decides when one expert is free.
#[derive(Debug, Clone)]
pub struct ExpertCalendar {
    /// The zone the expert's weekly rules are written in.
    pub timezone: TimeZone,
    /// Weekly rules; inactive ones are ignored.
    pub rules: Vec<AvailabilityRule>,
    /// Extra available or blocked time.
    pub exceptions: Vec<AvailabilityException>,
    /// Existing bookings; only those holding their slot (see
    /// [`SlotPolicy::holds_slot`]) count.
    pub bookings: Vec<Booking>,
    /// Busy times read from the expert's outside calendar (Google): taken
    /// away like blocked exceptions, without buffers.
    pub busy: Vec<Interval>,
}

/// The open intervals of `calendar` inside `window` as of `now`, with the
/// policy's buffer kept free before and after every booking that holds its
/// slot at `now`.
pub fn open_hours(
    calendar: &ExpertCalendar,
    window: Interval,
    policy: &SlotPolicy,
    now: Timestamp,
) -> IntervalSet {
    let tz = calendar.timezone;
    // Local dates that can touch the window, one day of margin on each side.
    let first = tz.local_date(window.start).checked_sub_days(Days::new(1));
    let last = tz.local_date(window.end).checked_add_days(Days::new(1));
    let mut weekly = Vec::new();
    if let (Some(first), Some(last)) = (first, last) {
        for date in first.iter_days().take_while(|d| *d <= last) {
            let weekday = Weekday::from(date.weekday());
            for rule in calendar
                .rules
                .iter()
                .filter(|r| r.is_active && r.weekday == weekday)
            {
                // A rule boundary inside a DST gap is where the clock would
                // have shown it: a day whose midnight is skipped keeps its
                // evening hours.
                if let (Some(start), Some(end)) = (
                    tz.at_local_or_after(date, rule.start),
                    tz.at_local_or_after(date, rule.end),
                ) {
                    weekly.extend(Interval::new(start, end));
                }
            }
        }
    }
    let extra = calendar
        .exceptions
        .iter()
        .filter(|x| !x.is_blocked)
        .filter_map(|x| Interval::new(x.start, x.end));
    let blocked = calendar
        .exceptions
        .iter()
        .filter(|x| x.is_blocked)
        .filter_map(|x| Interval::new(x.start, x.end));
    let buffer = i64::from(policy.buffer_minutes);
    let booked = calendar
        .bookings
        .iter()
        .filter(|b| policy.holds_slot(b, now))
        .filter_map(|b| {
            Interval::new(
                b.start_time.plus_minutes(-buffer),
                b.end_time.plus_minutes(buffer),
            )
        });
    IntervalSet::from_intervals(weekly)
        .union(extra)
        .subtract(blocked.chain(booked).chain(calendar.busy.iter().copied()))
        .clip(window)
}

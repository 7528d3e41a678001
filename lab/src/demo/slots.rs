//! Finding a free slot for a booking: inside one of the provider's active
//! weekly windows in their own zone, clear of blocked exceptions and of
//! their other bookings, on a half-hour grid.

use chrono::{Datelike, Days};
use droply_models::{LocalTime, TimeZone, Timestamp, Weekday};
use rand::Rng;

use super::schedule::Schedule;

/// Days searched after the earliest wanted date.
const SEARCH_DAYS: u64 = 14;

/// The start of a free `minutes`-long slot at or after `earliest`, or
/// `None` when the next two weeks have none.
pub(crate) fn find_slot(
    rng: &mut impl Rng,
    schedule: &Schedule,
    zone: TimeZone,
    earliest: Timestamp,
    minutes: u16,
    taken: &[(Timestamp, Timestamp)],
) -> Option<Timestamp> {
    let first = zone.local_date(earliest);
    for offset in 0..SEARCH_DAYS {
        let date = first.checked_add_days(Days::new(offset))?;
        let day = Weekday::from(date.weekday());
        let windows = &schedule.windows[usize::from(day.get())];
        if windows.is_empty() {
            continue;
        }
        for _ in 0..3 {
            let (open, close) = windows[rng.random_range(0..windows.len())];
            if close < open + minutes {
                continue;
            }
            let choices = (close - open - minutes) / 30 + 1;
            let local_start = open + 30 * rng.random_range(0..choices);
            let start = zone.at_local(date, LocalTime::from_minutes(local_start).ok()?)?;
            let end = start.plus_minutes(i64::from(minutes));
            // Skip slots that a DST change stretches or squeezes.
            let local_end = LocalTime::from_minutes(local_start + minutes).ok()?;
            if zone.at_local(date, local_end) != Some(end) || start < earliest {
                continue;
            }
            let clash = |(from, to): &(Timestamp, Timestamp)| *from < end && start < *to;
            if schedule.blocked.iter().any(clash) || taken.iter().any(clash) {
                continue;
            }
            return Some(start);
        }
    }
    None
}

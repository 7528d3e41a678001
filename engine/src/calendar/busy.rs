//! `BusyTimes`: the busy intervals an expert's Google calendar reported for
//! the next 90 days, and all after them as busy, being unknown
//! (engine-internal, one row per expert keyed by their id, replaced in
//! place by each sync). Availability subtracts them from open
//! hours like blocked exceptions, in the slot finder and in the booking
//! transaction's re-check alike, and the matcher forgets the expert's
//! cached stats when the row changes (it is in the change feed under the
//! expert's id).

use droply_models::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::availability::Interval;
use crate::store::{EntityKind, Record, Store, Txn};

/// The most busy intervals kept per expert (a calendar with more in 90
/// days keeps the earliest, and is busy from the end of the last kept).
pub const MAX_BUSY_INTERVALS: usize = 5_000;

/// One busy stretch, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusySpan {
    /// First busy instant.
    pub start: Timestamp,
    /// First free instant after.
    pub end: Timestamp,
}

/// An expert's busy times as last read; the row's id is the expert's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusyTimes {
    /// The expert (and the row's key).
    pub user_id: UserId,
    /// Busy stretches, sorted and merged.
    pub spans: Vec<BusySpan>,
    /// When they were read.
    pub synced_at: Timestamp,
}

impl Record for BusyTimes {
    type Id = UserId;
    const KIND: EntityKind = EntityKind::BusyTimes;

    fn id(&self) -> UserId {
        self.user_id
    }
    fn set_id(&mut self, id: UserId) {
        self.user_id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn owner(&self) -> Option<u64> {
        Some(self.user_id.get())
    }
}

impl BusyTimes {
    /// The spans as intervals (empty ones dropped).
    pub fn intervals(&self) -> Vec<Interval> {
        self.spans
            .iter()
            .filter_map(|span| Interval::new(span.start, span.end))
            .collect()
    }
}

/// Busy spans as read: sorted, merged, at most [`MAX_BUSY_INTERVALS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSpans {
    /// The earliest spans.
    pub spans: Vec<BusySpan>,
    /// Whether later ones were left out (past the cap): what lies after the
    /// last span kept is then not known to be free.
    pub truncated: bool,
}

/// Sorted, merged spans of `intervals`, the earliest
/// [`MAX_BUSY_INTERVALS`] of them, and whether more were left out.
pub fn normalise(intervals: impl IntoIterator<Item = Interval>) -> ReadSpans {
    let set = crate::availability::IntervalSet::from_intervals(intervals);
    let parts = set.parts();
    ReadSpans {
        truncated: parts.len() > MAX_BUSY_INTERVALS,
        spans: parts
            .iter()
            .take(MAX_BUSY_INTERVALS)
            .map(|part| BusySpan {
                start: part.start,
                end: part.end,
            })
            .collect(),
    }
}

/// `read` as read for a window that ends at `window_end`, with all that
/// lies past the window busy, from the start of that UTC day on (so syncs
/// through one day write the same row): Google told nothing of it, so no
/// slot there is offered or booked over an event the expert may have.
/// When spans were left out past the cap, all from the end of the last one
/// kept is busy too: the spans left out are busy, and the gaps between
/// them unknown (not free).
pub(crate) fn busy_past_the_window(
    read: ReadSpans,
    window_end: Timestamp,
) -> Result<Vec<BusySpan>> {
    let ReadSpans {
        mut spans,
        truncated,
    } = read;
    let window_day =
        Timestamp::from_micros(window_end.utc_day().saturating_mul(Timestamp::DAY_MICROS))?;
    let known_until = match spans.last() {
        Some(last) if truncated => last.end.min(window_day),
        _ => window_day,
    };
    let unknown = BusySpan {
        start: known_until,
        end: window_day.plus_days(100 * 365),
    };
    spans.retain(|span| span.start < known_until);
    match spans.last_mut() {
        Some(last) if last.end >= known_until => last.end = unknown.end,
        _ => spans.push(unknown),
    }
    Ok(spans)
}

/// Expert `user`'s busy intervals as committed.
pub fn busy_of(store: &Store, user: UserId) -> Result<Vec<Interval>> {
    Ok(store
        .get::<BusyTimes>(user)?
        .map(|busy| busy.intervals())
        .unwrap_or_default())
}

/// Expert `user`'s busy intervals as `txn` sees them.
pub fn busy_in(txn: &Txn<'_>, user: UserId) -> Result<Vec<Interval>> {
    Ok(txn
        .get::<BusyTimes>(user)?
        .map(|busy| busy.intervals())
        .unwrap_or_default())
}

/// Replaces `user`'s busy times with `spans` (a row only when they
/// changed, so an unchanged calendar does not disturb cached stats);
/// true when something changed.
pub(crate) fn replace_busy(txn: &mut Txn<'_>, user: UserId, spans: Vec<BusySpan>) -> Result<bool> {
    let now = txn.now();
    match txn.get::<BusyTimes>(user)? {
        Some(old) if old.spans == spans => Ok(false),
        None if spans.is_empty() => Ok(false),
        Some(_) => {
            txn.update(BusyTimes {
                user_id: user,
                spans,
                synced_at: now,
            })?;
            Ok(true)
        }
        None => {
            txn.put(BusyTimes {
                user_id: user,
                spans,
                synced_at: now,
            })?;
            Ok(true)
        }
    }
}

/// Forgets `user`'s busy times (on disconnect).
pub(crate) fn clear_busy(txn: &mut Txn<'_>, user: UserId) -> Result<()> {
    if txn.get::<BusyTimes>(user)?.is_some() {
        txn.delete::<BusyTimes>(user)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use droply_models::TimeZone;

    use super::*;
    use crate::availability::{ExpertCalendar, SlotPolicy, SlotQuery, find_slots, fits_open_hours};
    use crate::test_rows::monday_rule;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("instant")
    }

    fn monday_calendar(busy: Vec<Interval>) -> ExpertCalendar {
        ExpertCalendar {
            timezone: TimeZone::UTC,
            rules: vec![monday_rule(UserId::new(1))],
            exceptions: Vec::new(),
            bookings: Vec::new(),
            busy,
        }
    }

    fn starts(calendar: &ExpertCalendar) -> Vec<String> {
        let day = at("2027-01-04T00:00:00Z").as_datetime().date_naive();
        let query = SlotQuery {
            from: day,
            to: day,
            viewer_tz: TimeZone::UTC,
            duration_minutes: Some(60),
            now: at("2027-01-01T00:00:00Z"),
        };
        find_slots(calendar, &query, &SlotPolicy::default())
            .expect("slots")
            .iter()
            .map(|slot| slot.start.to_rfc3339()[11..16].to_owned())
            .collect()
    }

    #[test]
    fn a_busy_interval_removes_exactly_the_slots_it_overlaps() {
        let free = starts(&monday_calendar(Vec::new()));
        assert_eq!(free.len(), 15, "09:00 to 16:00 every 30 minutes: {free:?}");
        // Busy 11:00-12:15: slots starting 10:30 through 12:00 overlap it.
        let busy =
            Interval::new(at("2027-01-04T11:00:00Z"), at("2027-01-04T12:15:00Z")).expect("busy");
        let left = starts(&monday_calendar(vec![busy]));
        let removed: Vec<&String> = free.iter().filter(|s| !left.contains(s)).collect();
        assert_eq!(removed, ["10:30", "11:00", "11:30", "12:00"]);
        assert!(left.contains(&"10:00".to_owned()));
        assert!(left.contains(&"12:30".to_owned()));
    }

    #[test]
    fn the_booking_recheck_refuses_a_busy_time() {
        let busy =
            Interval::new(at("2027-01-04T11:00:00Z"), at("2027-01-04T12:00:00Z")).expect("busy");
        let calendar = monday_calendar(vec![busy]);
        let now = at("2027-01-01T00:00:00Z");
        let policy = SlotPolicy::default();
        assert!(!fits_open_hours(
            &calendar,
            at("2027-01-04T11:00:00Z"),
            60,
            now,
            &policy
        ));
        assert!(!fits_open_hours(
            &calendar,
            at("2027-01-04T10:30:00Z"),
            60,
            now,
            &policy
        ));
        assert!(fits_open_hours(
            &calendar,
            at("2027-01-04T12:00:00Z"),
            60,
            now,
            &policy
        ));
    }

    #[test]
    fn spans_are_merged_and_sorted() {
        let a = Interval::new(at("2027-01-04T11:00:00Z"), at("2027-01-04T12:00:00Z"));
        let b = Interval::new(at("2027-01-04T09:00:00Z"), at("2027-01-04T11:30:00Z"));
        let read = normalise(a.into_iter().chain(b));
        assert!(!read.truncated);
        assert_eq!(
            read.spans,
            [BusySpan {
                start: at("2027-01-04T09:00:00Z"),
                end: at("2027-01-04T12:00:00Z")
            }]
        );
    }
}

//! `TimeZone`: a validated IANA time zone such as `Europe/Berlin`, the zone
//! a user's availability is written in.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, Offset, TimeZone as _};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, LocalTime, Result, Timestamp};

/// An IANA time zone (`"Europe/Berlin"`); defaults to UTC.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(Tz);

impl TimeZone {
    /// Coordinated Universal Time.
    pub const UTC: Self = Self(Tz::UTC);

    /// Parses an IANA zone name, e.g. `"America/New_York"`.
    pub fn parse(name: &str) -> Result<Self> {
        Tz::from_str(name).map(Self).map_err(|_| {
            Error::invalid(
                "timezone",
                format!("{name:?} is not a known IANA time zone"),
            )
        })
    }

    /// The zone's IANA name.
    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    /// The chrono-tz zone.
    pub const fn as_tz(self) -> Tz {
        self.0
    }

    /// The instant at which the wall clock in this zone shows `time` on
    /// `date` (`24:00` means midnight at the end of the day). In a DST gap
    /// there is no such instant and this returns `None`; in a DST overlap
    /// the earlier instant is taken.
    pub fn at_local(self, date: NaiveDate, time: LocalTime) -> Option<Timestamp> {
        let (date, naive_time) = match time.to_naive_time() {
            Some(t) => (date, t),
            None => (date.succ_opt()?, chrono::NaiveTime::MIN),
        };
        let local = self
            .0
            .from_local_datetime(&date.and_time(naive_time))
            .earliest()?;
        Some(Timestamp::from_datetime(local.to_utc()))
    }

    /// [`TimeZone::at_local`], except that a wall time inside a DST gap,
    /// which no instant shows, is read with the offset in force before the
    /// gap: the instant the clock would have shown it had it not jumped
    /// (02:30 on Berlin's spring-forward night is 03:30 CEST; a midnight
    /// that is skipped is the instant of the jump). For bounds of opening
    /// hours and days, which must not vanish on the day the clocks change.
    pub fn at_local_or_after(self, date: NaiveDate, time: LocalTime) -> Option<Timestamp> {
        if let Some(instant) = self.at_local(date, time) {
            return Some(instant);
        }
        let (date, naive_time) = match time.to_naive_time() {
            Some(t) => (date, t),
            None => (date.succ_opt()?, chrono::NaiveTime::MIN),
        };
        let wall = date.and_time(naive_time);
        // A day before, the offset before the gap is in force (no zone
        // changes its clocks twice within a day).
        let before = wall.checked_sub_signed(chrono::TimeDelta::days(1))?;
        let offset = self.0.offset_from_utc_datetime(&before).fix();
        let utc = wall.checked_sub_offset(offset)?;
        Some(Timestamp::from_datetime(utc.and_utc()))
    }

    /// The calendar date the wall clock in this zone shows at `instant`. Within a day
    /// of the ends of time, where that date is past what a date can hold, the last (or
    /// first) date there is.
    pub fn local_date(self, instant: Timestamp) -> NaiveDate {
        let utc = instant.as_datetime().naive_utc();
        let offset = self.0.offset_from_utc_datetime(&utc).fix();
        match utc.checked_add_offset(offset) {
            Some(local) => local.date(),
            None if offset.local_minus_utc() > 0 => NaiveDate::MAX,
            None => NaiveDate::MIN,
        }
    }

    /// The zone's UTC offset at `instant`, in seconds east of UTC.
    pub fn offset_seconds_at(self, instant: Timestamp) -> i32 {
        self.0
            .offset_from_utc_datetime(&instant.as_datetime().naive_utc())
            .fix()
            .local_minus_utc()
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self::UTC
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZone({})", self.as_str())
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TimeZone {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn the_local_date_at_the_ends_of_time_is_the_last_or_first_date() {
        let east = TimeZone::parse("Pacific/Kiritimati").expect("UTC+14");
        let west = TimeZone::parse("Etc/GMT+12").expect("UTC-12");
        let last = Timestamp::from_datetime(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        let first = Timestamp::from_datetime(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        assert_eq!(east.local_date(last), NaiveDate::MAX);
        assert_eq!(west.local_date(last), last.as_datetime().date_naive());
        assert_eq!(west.local_date(first), NaiveDate::MIN);
        assert_eq!(east.local_date(first), first.as_datetime().date_naive());
        let ordinary = Timestamp::parse_rfc3339("2027-03-28T23:30:00Z").expect("instant");
        assert_eq!(east.local_date(ordinary), date(2027, 3, 29));
        assert_eq!(west.local_date(ordinary), date(2027, 3, 28));
    }

    #[test]
    fn parses_known_names() {
        let berlin = TimeZone::parse("Europe/Berlin").expect("Berlin");
        assert_eq!(berlin.as_str(), "Europe/Berlin");
        assert_eq!(TimeZone::default(), TimeZone::UTC);
        assert_eq!(TimeZone::UTC.as_str(), "UTC");
    }

    #[test]
    fn rejects_unknown_names() {
        let err = TimeZone::parse("Mars/Olympus").expect_err("unknown");
        assert!(err.to_string().starts_with("invalid timezone:"));
        assert!(TimeZone::parse("").is_err());
    }

    #[test]
    fn local_to_utc_handles_dst() {
        let berlin = TimeZone::parse("Europe/Berlin").expect("Berlin");
        let nine = LocalTime::from_hm(9, 0).expect("09:00");
        // 2027-03-28 is the day Berlin moves to summer time (UTC+2).
        let t = berlin.at_local(date(2027, 3, 28), nine).expect("exists");
        assert_eq!(t.to_string(), "2027-03-28T07:00:00Z");
        let gap = LocalTime::from_hm(2, 30).expect("02:30");
        assert_eq!(berlin.at_local(date(2027, 3, 28), gap), None);
        let end = LocalTime::parse("24:00").expect("24:00");
        let midnight = berlin.at_local(date(2027, 3, 27), end).expect("exists");
        assert_eq!(midnight.to_string(), "2027-03-27T23:00:00Z");
        assert_eq!(berlin.local_date(midnight), date(2027, 3, 28));
        assert_eq!(berlin.offset_seconds_at(t), 7200);
    }

    #[test]
    fn a_wall_time_in_a_dst_gap_is_read_with_the_offset_before_it() {
        let berlin = TimeZone::parse("Europe/Berlin").expect("Berlin");
        let gap = LocalTime::from_hm(2, 30).expect("02:30");
        let nine = LocalTime::from_hm(9, 0).expect("09:00");
        let moved = berlin
            .at_local_or_after(date(2027, 3, 28), gap)
            .expect("moved");
        assert_eq!(moved.to_string(), "2027-03-28T01:30:00Z", "03:30 CEST");
        assert_eq!(
            berlin.at_local_or_after(date(2027, 3, 28), nine),
            berlin.at_local(date(2027, 3, 28), nine)
        );
        // Beirut skips midnight: the day before ends at the jump.
        let beirut = TimeZone::parse("Asia/Beirut").expect("Beirut");
        let end = LocalTime::parse("24:00").expect("24:00");
        assert_eq!(beirut.at_local(date(2027, 3, 27), end), None);
        let jump = beirut
            .at_local_or_after(date(2027, 3, 27), end)
            .expect("jump");
        assert_eq!(jump.to_string(), "2027-03-27T22:00:00Z");
        assert_eq!(beirut.offset_seconds_at(jump), 3 * 3600);
    }

    #[test]
    fn serde_as_name() {
        let tz = TimeZone::parse("America/New_York").expect("NY");
        let json = serde_json::to_string(&tz).expect("serialize");
        assert_eq!(json, "\"America/New_York\"");
        assert_eq!(serde_json::from_str::<TimeZone>(&json).ok(), Some(tz));
        assert!(serde_json::from_str::<TimeZone>("\"Nowhere\"").is_err());
    }
}

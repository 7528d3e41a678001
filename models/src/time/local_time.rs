//! `LocalTime`: a wall-clock time of day `"HH:MM"` from `00:00` to `24:00`,
//! as written in availability rules.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const MINUTES_PER_DAY: u16 = 24 * 60;

/// A time of day in minutes since midnight, `00:00..=24:00`.
///
/// `24:00` is the end of the day; it is only meaningful as the end of a
/// range (rules enforce `start < end`, so it can never be a start).
/// Serialises as `"HH:MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime(u16);

impl LocalTime {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: Self = Self(0);
    /// Midnight at the end of the day, `24:00`.
    pub const END_OF_DAY: Self = Self(MINUTES_PER_DAY);

    /// Minutes since midnight, `0..=1440`.
    pub fn from_minutes(minutes: u16) -> Result<Self> {
        if minutes > MINUTES_PER_DAY {
            return Err(Error::invalid(
                "local_time",
                "must be between 00:00 and 24:00",
            ));
        }
        Ok(Self(minutes))
    }

    /// Hours `0..=24` and minutes `0..=59` (`24` only with `0` minutes).
    pub fn from_hm(hours: u8, minutes: u8) -> Result<Self> {
        if minutes > 59 {
            return Err(Error::invalid("local_time", "minutes must be 00..59"));
        }
        Self::from_minutes(u16::from(hours) * 60 + u16::from(minutes))
    }

    /// Parses `"HH:MM"` with exactly two digits each.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::invalid("local_time", format!("{text:?} is not HH:MM"));
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(bad());
        }
        let two = |i: usize| -> Result<u8> {
            let (a, b) = (bytes[i], bytes[i + 1]);
            if a.is_ascii_digit() && b.is_ascii_digit() {
                Ok((a - b'0') * 10 + (b - b'0'))
            } else {
                Err(bad())
            }
        };
        Self::from_hm(two(0)?, two(3)?)
    }

    /// Minutes since midnight.
    pub const fn minutes(self) -> u16 {
        self.0
    }

    /// The hour, `0..=24`.
    pub const fn hour(self) -> u8 {
        (self.0 / 60) as u8
    }

    /// The minute within the hour, `0..=59`.
    pub const fn minute(self) -> u8 {
        (self.0 % 60) as u8
    }

    /// Whether this is `24:00`.
    pub const fn is_end_of_day(self) -> bool {
        self.0 == MINUTES_PER_DAY
    }

    /// The chrono time; `None` for `24:00`, which chrono cannot express.
    pub fn to_naive_time(self) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(u32::from(self.0 / 60), u32::from(self.0 % 60), 0)
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

impl FromStr for LocalTime {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl TryFrom<String> for LocalTime {
    type Error = Error;

    fn try_from(value: String) -> Result<Self> {
        Self::parse(&value)
    }
}

impl From<LocalTime> for String {
    fn from(value: LocalTime) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_times() {
        assert_eq!(LocalTime::parse("00:00"), Ok(LocalTime::MIDNIGHT));
        assert_eq!(LocalTime::parse("09:30").map(LocalTime::minutes), Ok(570));
        assert_eq!(LocalTime::parse("23:59").map(LocalTime::minutes), Ok(1439));
        assert_eq!(LocalTime::parse("24:00"), Ok(LocalTime::END_OF_DAY));
    }

    #[test]
    fn rejects_invalid_times() {
        for bad in [
            "", "9:30", "09:3", "24:01", "25:00", "12:60", "12-30", "ab:cd", "009:30",
        ] {
            assert!(LocalTime::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(LocalTime::from_minutes(1441).is_err());
    }

    #[test]
    fn display_and_chrono() {
        let t = LocalTime::from_hm(7, 5).expect("07:05");
        assert_eq!(t.to_string(), "07:05");
        assert_eq!(t.to_naive_time(), NaiveTime::from_hms_opt(7, 5, 0));
        assert_eq!(LocalTime::END_OF_DAY.to_string(), "24:00");
        assert_eq!(LocalTime::END_OF_DAY.to_naive_time(), None);
    }

    #[test]
    fn serde_as_string() {
        let t = LocalTime::from_hm(17, 0).expect("17:00");
        assert_eq!(serde_json::to_string(&t).ok().as_deref(), Some("\"17:00\""));
        assert_eq!(serde_json::from_str::<LocalTime>("\"17:00\"").ok(), Some(t));
        assert!(serde_json::from_str::<LocalTime>("\"17:99\"").is_err());
    }
}

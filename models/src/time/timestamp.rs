//! `Timestamp`: a UTC instant with microsecond precision, serialised as
//! RFC 3339 for humans (JSON) and as microseconds since the epoch for
//! binary formats (the store).

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// A UTC instant, truncated to whole microseconds so that it round-trips
/// exactly through every encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Microseconds in a minute.
    pub const MINUTE_MICROS: i64 = 60_000_000;

    /// Microseconds in a (UTC) day: the length [`Timestamp::utc_day`] counts in.
    pub const DAY_MICROS: i64 = 86_400_000_000;

    /// The current instant.
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// Wraps a `DateTime`, dropping anything finer than a microsecond.
    pub fn from_datetime(datetime: DateTime<Utc>) -> Self {
        let micros = datetime.timestamp_micros();
        // Rebuilding from whole micros cannot leave chrono's range.
        Self(DateTime::from_timestamp_micros(micros).unwrap_or(datetime))
    }

    /// The instant `micros` microseconds after 1970-01-01T00:00:00Z.
    pub fn from_micros(micros: i64) -> Result<Self> {
        DateTime::from_timestamp_micros(micros)
            .map(Self)
            .ok_or_else(|| Error::invalid("timestamp", "out of the supported range"))
    }

    /// Microseconds since the Unix epoch.
    pub fn as_micros(self) -> i64 {
        self.0.timestamp_micros()
    }

    /// Whole days since the Unix epoch in UTC: two instants share it when
    /// they fall on the same UTC calendar day.
    pub fn utc_day(self) -> i64 {
        self.as_micros().div_euclid(Self::DAY_MICROS)
    }

    /// The underlying `DateTime<Utc>`.
    pub const fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// Parses an RFC 3339 timestamp in any offset (`2027-03-28T09:00:00+02:00`).
    pub fn parse_rfc3339(text: &str) -> Result<Self> {
        DateTime::parse_from_rfc3339(text)
            .map(|dt| Self::from_datetime(dt.with_timezone(&Utc)))
            .map_err(|e| Error::invalid("timestamp", format!("not RFC 3339 ({e})")))
    }

    /// RFC 3339 in UTC with a `Z`, fraction digits only when non-zero.
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// `self + delta`, or `None` outside chrono's range.
    pub fn checked_add(self, delta: TimeDelta) -> Option<Self> {
        self.0.checked_add_signed(delta).map(Self)
    }

    /// `self - delta`, or `None` outside chrono's range.
    pub fn checked_sub(self, delta: TimeDelta) -> Option<Self> {
        self.0.checked_sub_signed(delta).map(Self)
    }

    /// `self + delta`, clamped to the representable range.
    pub fn saturating_add(self, delta: TimeDelta) -> Self {
        self.checked_add(delta)
            .unwrap_or(if delta < TimeDelta::zero() {
                Self(DateTime::<Utc>::MIN_UTC)
            } else {
                Self(DateTime::<Utc>::MAX_UTC)
            })
    }

    /// `self + minutes` (negative goes back), clamped to the range.
    pub fn plus_minutes(self, minutes: i64) -> Self {
        let delta = TimeDelta::try_minutes(minutes).unwrap_or(if minutes < 0 {
            TimeDelta::MIN
        } else {
            TimeDelta::MAX
        });
        self.saturating_add(delta)
    }

    /// `self + days` (negative goes back), clamped to the range.
    pub fn plus_days(self, days: i64) -> Self {
        self.plus_minutes(days.saturating_mul(24 * 60))
    }

    /// `self - earlier` as a duration (negative when `earlier` is later).
    pub fn signed_duration_since(self, earlier: Self) -> TimeDelta {
        self.0.signed_duration_since(earlier.0)
    }

    /// Whole minutes from `earlier` to `self` (truncated toward zero).
    pub fn minutes_since(self, earlier: Self) -> i64 {
        self.signed_duration_since(earlier).num_minutes()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(datetime: DateTime<Utc>) -> Self {
        Self::from_datetime(datetime)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse_rfc3339(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_rfc3339())
        } else {
            serializer.serialize_i64(self.as_micros())
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            Self::parse_rfc3339(&text).map_err(D::Error::custom)
        } else {
            let micros = i64::deserialize(deserializer)?;
            Self::from_micros(micros).map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect(text)
    }

    #[test]
    fn utc_day_changes_at_utc_midnight() {
        assert_eq!(ts("1970-01-01T23:59:59Z").utc_day(), 0);
        assert_eq!(ts("1970-01-02T00:00:00Z").utc_day(), 1);
        assert_eq!(ts("1969-12-31T23:59:59Z").utc_day(), -1);
        assert_eq!(
            ts("2027-01-04T23:30:00Z").utc_day(),
            ts("2027-01-04T00:00:00Z").utc_day()
        );
        assert_ne!(
            ts("2027-01-05T00:30:00+01:00").utc_day(),
            ts("2027-01-05T00:30:00Z").utc_day()
        );
    }

    #[test]
    fn rfc3339_formats() {
        assert_eq!(
            ts("2027-03-28T07:00:00Z").to_string(),
            "2027-03-28T07:00:00Z"
        );
        assert_eq!(
            ts("2027-03-28T09:00:00.000123+02:00").to_string(),
            "2027-03-28T07:00:00.000123Z"
        );
        assert!(Timestamp::parse_rfc3339("2027-03-28 07:00").is_err());
        assert!(Timestamp::parse_rfc3339("").is_err());
    }

    #[test]
    fn truncates_below_micros() {
        let t = ts("2027-03-28T07:00:00.123456789Z");
        assert_eq!(t.to_string(), "2027-03-28T07:00:00.123456Z");
        assert_eq!(Timestamp::from_micros(t.as_micros()), Ok(t));
        let now = Timestamp::now();
        assert_eq!(Timestamp::from_micros(now.as_micros()), Ok(now));
    }

    #[test]
    fn micros_roundtrip_and_range() {
        assert_eq!(
            Timestamp::from_micros(0)
                .map(|t| t.to_string())
                .ok()
                .as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert!(Timestamp::from_micros(i64::MAX).is_err());
    }

    #[test]
    fn json_is_rfc3339() {
        let t = ts("2027-03-28T07:00:00.5Z");
        let json = serde_json::to_string(&t).expect("serialize");
        assert_eq!(json, "\"2027-03-28T07:00:00.500Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).ok(), Some(t));
        assert!(serde_json::from_str::<Timestamp>("1234").is_err());
    }

    #[test]
    fn bincode_is_micros() {
        let config = bincode::config::standard().with_fixed_int_encoding();
        let t = ts("2027-03-28T07:00:00.000001Z");
        let bytes = bincode::serde::encode_to_vec(t, config).expect("encode");
        assert_eq!(bytes, t.as_micros().to_le_bytes());
        let (back, _): (Timestamp, usize) =
            bincode::serde::decode_from_slice(&bytes, config).expect("decode");
        assert_eq!(back, t);
    }

    #[test]
    fn arithmetic() {
        let t = ts("2027-03-28T07:00:00Z");
        assert_eq!(t.plus_minutes(90).to_string(), "2027-03-28T08:30:00Z");
        assert_eq!(t.plus_minutes(-60).to_string(), "2027-03-28T06:00:00Z");
        assert_eq!(t.plus_days(2).to_string(), "2027-03-30T07:00:00Z");
        assert_eq!(t.plus_minutes(90).minutes_since(t), 90);
        assert!(t < t.plus_minutes(1));
        assert_eq!(
            t.plus_minutes(i64::MAX).as_datetime(),
            DateTime::<Utc>::MAX_UTC
        );
    }
}

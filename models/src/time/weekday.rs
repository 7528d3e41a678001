//! `Weekday`: a day of the week numbered 0 = Monday .. 6 = Sunday, as stored
//! in availability rules.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A day of the week, `0` = Monday .. `6` = Sunday. Serialises as the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Weekday(u8);

impl Weekday {
    /// Monday, day 0.
    pub const MONDAY: Self = Self(0);
    /// Sunday, day 6.
    pub const SUNDAY: Self = Self(6);

    /// A day number `0..=6` (0 = Monday).
    pub fn new(day: u8) -> Result<Self> {
        if day > 6 {
            return Err(Error::invalid(
                "weekday",
                "must be 0 (Monday) to 6 (Sunday)",
            ));
        }
        Ok(Self(day))
    }

    /// The day number, 0 = Monday.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The lower-case English name, e.g. `"monday"`.
    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.0)]
    }

    /// The chrono weekday.
    pub fn to_chrono(self) -> chrono::Weekday {
        match self.0 {
            0 => chrono::Weekday::Mon,
            1 => chrono::Weekday::Tue,
            2 => chrono::Weekday::Wed,
            3 => chrono::Weekday::Thu,
            4 => chrono::Weekday::Fri,
            5 => chrono::Weekday::Sat,
            _ => chrono::Weekday::Sun,
        }
    }

    /// Every day, Monday first.
    pub fn all() -> impl Iterator<Item = Weekday> {
        (0..7).map(Self)
    }
}

impl From<chrono::Weekday> for Weekday {
    fn from(day: chrono::Weekday) -> Self {
        // num_days_from_monday is 0..=6.
        Self(day.num_days_from_monday() as u8)
    }
}

impl From<Weekday> for chrono::Weekday {
    fn from(day: Weekday) -> Self {
        day.to_chrono()
    }
}

impl TryFrom<u8> for Weekday {
    type Error = Error;

    fn try_from(day: u8) -> Result<Self> {
        Self::new(day)
    }
}

impl From<Weekday> for u8 {
    fn from(day: Weekday) -> Self {
        day.0
    }
}

impl fmt::Display for Weekday {
    /// The day number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Weekday {
    type Err = Error;

    /// Accepts `"0"`..`"6"` or a lower-case English name (`"monday"`).
    fn from_str(s: &str) -> Result<Self> {
        if let Some(i) = NAMES.iter().position(|name| *name == s) {
            return Ok(Self(i as u8));
        }
        let day: u8 = s
            .parse()
            .map_err(|_| Error::invalid("weekday", format!("{s:?} is not a day")))?;
        Self::new(day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_range() {
        assert_eq!(Weekday::new(0), Ok(Weekday::MONDAY));
        assert_eq!(Weekday::new(6), Ok(Weekday::SUNDAY));
        assert!(Weekday::new(7).is_err());
    }

    #[test]
    fn chrono_roundtrip() {
        for day in Weekday::all() {
            assert_eq!(Weekday::from(day.to_chrono()), day);
        }
        assert_eq!(Weekday::MONDAY.to_chrono(), chrono::Weekday::Mon);
        assert_eq!(Weekday::from(chrono::Weekday::Sun).get(), 6);
    }

    #[test]
    fn parses_numbers_and_names() {
        assert_eq!("2".parse::<Weekday>().map(Weekday::name), Ok("wednesday"));
        assert_eq!("sunday".parse::<Weekday>(), Ok(Weekday::SUNDAY));
        assert!("7".parse::<Weekday>().is_err());
        assert!("funday".parse::<Weekday>().is_err());
    }

    #[test]
    fn serde_as_number() {
        assert_eq!(
            serde_json::to_string(&Weekday::SUNDAY).ok().as_deref(),
            Some("6")
        );
        assert!(serde_json::from_str::<Weekday>("7").is_err());
    }
}

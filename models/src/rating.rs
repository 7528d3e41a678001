//! `Rating`: a user's review score, always derived from the reviews
//! themselves (whole stars 1–5), never stored as a free number.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The running total of a user's reviews. Read back (from the store or an
/// import) only through [`Rating::from_parts`], so no stored total can
/// average outside 1–5 stars or overflow the next review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "RatingParts")]
pub struct Rating {
    sum: u64,
    count: u32,
}

/// A rating's fields as written, before they are checked.
#[derive(Deserialize)]
struct RatingParts {
    sum: u64,
    count: u32,
}

impl TryFrom<RatingParts> for Rating {
    type Error = Error;

    fn try_from(parts: RatingParts) -> Result<Self> {
        Self::from_parts(parts.sum, parts.count)
    }
}

impl Rating {
    /// No reviews yet.
    pub const fn new() -> Self {
        Self { sum: 0, count: 0 }
    }

    /// Rebuilds a rating from stored totals, checking that `sum` is possible
    /// for `count` reviews of 1–5 stars.
    pub fn from_parts(sum: u64, count: u32) -> Result<Self> {
        let count_wide = u64::from(count);
        if sum < count_wide || sum > count_wide * 5 {
            return Err(Error::invalid(
                "rating",
                "total stars must be 1 to 5 per review",
            ));
        }
        Ok(Self { sum, count })
    }

    /// Records one review of `stars` (1–5).
    pub fn add_review(&mut self, stars: u8) -> Result<()> {
        if !(1..=5).contains(&stars) {
            return Err(Error::invalid("stars", "must be 1 to 5"));
        }
        let count = self.count.checked_add(1).ok_or(Error::Overflow {
            what: "review count",
        })?;
        self.sum += u64::from(stars);
        self.count = count;
        Ok(())
    }

    /// The mean star count, or `None` before the first review.
    pub fn average(&self) -> Option<f32> {
        (self.count > 0).then(|| self.sum as f32 / self.count as f32)
    }

    /// How many reviews there are.
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// The total of all stars given.
    pub const fn sum(&self) -> u64 {
        self.sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_has_no_average() {
        assert_eq!(Rating::new().average(), None);
        assert_eq!(Rating::default().count(), 0);
    }

    #[test]
    fn averages_reviews() {
        let mut r = Rating::new();
        for stars in [5, 4, 4, 3] {
            r.add_review(stars).expect("valid stars");
        }
        assert_eq!(r.count(), 4);
        assert_eq!(r.sum(), 16);
        assert_eq!(r.average(), Some(4.0));
    }

    #[test]
    fn rejects_out_of_range_stars() {
        let mut r = Rating::new();
        assert!(r.add_review(0).is_err());
        assert!(r.add_review(6).is_err());
        assert_eq!(r, Rating::new());
    }

    #[test]
    fn from_parts_checks_totals() {
        assert!(Rating::from_parts(0, 0).is_ok());
        assert!(Rating::from_parts(10, 2).is_ok());
        assert!(Rating::from_parts(11, 2).is_err());
        assert!(Rating::from_parts(1, 2).is_err());
    }

    /// Regression: an import could set any totals (a 500-star average, or
    /// a sum the next review overflowed).
    #[test]
    fn impossible_totals_are_refused_when_read() {
        let read = |json: &str| serde_json::from_str::<Rating>(json);
        assert_eq!(
            read(r#"{"sum":9,"count":2}"#).expect("possible"),
            Rating::from_parts(9, 2).expect("parts")
        );
        for impossible in [
            r#"{"sum":500,"count":1}"#,
            r#"{"sum":1,"count":2}"#,
            r#"{"sum":18446744073709551615,"count":1}"#,
        ] {
            assert!(read(impossible).is_err(), "{impossible}");
        }
    }
}

//! Availability: weekly recurring rules ("Mondays 09:00–17:00" in the
//! user's zone) and one-off exceptions that block or open a time range.

use serde::{Deserialize, Serialize};

use crate::text::{self, NOTE_MAX};
use crate::{
    AvailabilityExceptionId, AvailabilityRuleId, Error, LocalTime, Result, Timestamp, UserId,
    Weekday,
};

/// A weekly window in which a user can be booked, in the user's
/// [`TimeZone`](crate::TimeZone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityRule {
    /// Primary key.
    pub id: AvailabilityRuleId,
    /// Whose availability.
    pub user_id: UserId,
    /// The day of the week.
    pub weekday: Weekday,
    /// Local start time (before `end`, so never `24:00`).
    pub start: LocalTime,
    /// Local end time, up to `24:00`.
    pub end: LocalTime,
    /// Whether the rule is in force.
    pub is_active: bool,
    /// When the rule was created.
    pub created_at: Timestamp,
    /// When the rule last changed.
    pub updated_at: Timestamp,
}

impl AvailabilityRule {
    /// Checks `start < end`.
    pub fn validate(&self) -> Result<()> {
        if self.start >= self.end {
            return Err(Error::invalid("end", "must be after start"));
        }
        Ok(())
    }

    /// Length of the window in minutes.
    pub fn minutes(&self) -> u16 {
        self.end.minutes().saturating_sub(self.start.minutes())
    }
}

/// A one-off change to a user's availability: a blocked range (holiday) or,
/// with `is_blocked = false`, an extra open range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityException {
    /// Primary key.
    pub id: AvailabilityExceptionId,
    /// Whose availability.
    pub user_id: UserId,
    /// Start of the range.
    pub start: Timestamp,
    /// End of the range (after `start`).
    pub end: Timestamp,
    /// Why, at most 500 characters.
    pub reason: Option<String>,
    /// `true` blocks the range, `false` opens it.
    pub is_blocked: bool,
    /// When the exception was created.
    pub created_at: Timestamp,
}

impl AvailabilityException {
    /// Checks `start < end` and the reason's length.
    pub fn validate(&self) -> Result<()> {
        if self.start >= self.end {
            return Err(Error::invalid("end", "must be after start"));
        }
        text::check_optional("reason", self.reason.as_deref(), NOTE_MAX)
    }

    /// Whether the range overlaps `[start, end)`.
    pub fn overlaps(&self, start: Timestamp, end: Timestamp) -> bool {
        self.start < end && start < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt(text: &str) -> LocalTime {
        LocalTime::parse(text).expect(text)
    }

    #[test]
    fn rule_needs_start_before_end() {
        let now = Timestamp::now();
        let mut rule = AvailabilityRule {
            id: AvailabilityRuleId::new(1),
            user_id: UserId::new(1),
            weekday: Weekday::MONDAY,
            start: lt("09:00"),
            end: lt("24:00"),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(rule.validate(), Ok(()));
        assert_eq!(rule.minutes(), 15 * 60);
        rule.start = lt("24:00");
        assert!(rule.validate().is_err());
        rule.start = lt("10:00");
        rule.end = lt("10:00");
        assert!(rule.validate().is_err());
    }

    #[test]
    fn exception_rules() {
        let now = Timestamp::now();
        let mut ex = AvailabilityException {
            id: AvailabilityExceptionId::new(1),
            user_id: UserId::new(1),
            start: now,
            end: now.plus_days(7),
            reason: Some("Holiday".into()),
            is_blocked: true,
            created_at: now,
        };
        assert_eq!(ex.validate(), Ok(()));
        assert!(ex.overlaps(now.plus_days(6), now.plus_days(8)));
        ex.reason = Some("x".repeat(501));
        assert!(ex.validate().is_err());
        ex.reason = None;
        ex.end = ex.start;
        assert!(ex.validate().is_err());
    }
}

//! [`SlotPolicy`]: the one set of shop rules that slots and bookings obey,
//! every number in one place: buffers around bookings, the minimum notice,
//! the clock grid slots start on (counted on the expert's own clock), how many days one query may span and how
//! far ahead a session may start (the booking horizon), how long a booking
//! may be (in sessions of the expert's own length; a moved one keeps its
//! length), and how long and how many unpaid bookings (or free sessions
//! with one expert) one booker may hold (see `holds`).

use std::time::Duration;

use droply_models::{TimeZone, Timestamp};

use super::editing::EXCEPTION_DAYS_AHEAD;

/// The shop rules every slot and booking obeys. The engine keeps one
/// (`EngineConfig::slot_policy`) and hands it to availability, bookings and
/// ranking alike, so what is offered is what can be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotPolicy {
    /// Minutes kept free before and after each booking.
    pub buffer_minutes: u16,
    /// How far ahead of now the first slot may start.
    pub min_notice_minutes: u32,
    /// Slots start on this clock grid (minutes past the hour, counted in
    /// UTC from the Unix epoch; at least 5), inside open stretches. A
    /// booking must start on it too.
    pub step_minutes: u16,
    /// The longest date range one query may ask for.
    pub max_days: u16,
    /// The booking horizon: a session may start at most this many days
    /// after now ([`SlotPolicy::latest_start`]); no slot is offered later
    /// and a later booking is `SlotUnavailable`. Never past
    /// [`EXCEPTION_DAYS_AHEAD`], so an expert can block any time a client
    /// can book.
    pub max_days_ahead: u16,
    /// How long a booking awaiting payment holds its slot, from when it was
    /// made; after that it no longer blocks anyone and the hold sweep
    /// cancels it.
    pub unpaid_hold_ttl: Duration,
    /// The most bookings one booker may have awaiting payment (or, for a
    /// free session, the provider's confirmation) at once.
    pub max_unpaid_holds: u16,
    /// The most free sessions one booker may have ahead with one expert at
    /// once, so no single account can book out a free expert's calendar.
    pub max_free_sessions_ahead: u16,
    /// A booking lasts the expert's `session_duration` times 1 up to this
    /// many sessions (and never more than [`MAX_BOOKING_MINUTES`]).
    pub max_sessions_per_booking: u16,
}

/// The longest booking (and slot) in minutes, whatever the multiple.
pub const MAX_BOOKING_MINUTES: u16 = 480;

/// Whether any booking may last `minutes`, whatever its expert's session
/// length: 1 to [`MAX_BOOKING_MINUTES`]. The one bound that booking,
/// moving a booking and importing one all keep (the slot listing and the
/// booking path look back only that far for bookings still running).
pub const fn is_booking_length(minutes: u16) -> bool {
    minutes > 0 && minutes <= MAX_BOOKING_MINUTES
}

impl Default for SlotPolicy {
    fn default() -> Self {
        SlotPolicy {
            buffer_minutes: 0,
            min_notice_minutes: 60,
            step_minutes: 30,
            max_days: 62,
            // A year: bookings for next year's same week are possible, and
            // an expert can block all of it with exceptions (they reach
            // twice as far ahead).
            max_days_ahead: 365,
            unpaid_hold_ttl: Duration::from_secs(15 * 60),
            max_unpaid_holds: 3,
            max_free_sessions_ahead: 3,
            max_sessions_per_booking: 4,
        }
    }
}

impl SlotPolicy {
    /// The grid's step in minutes (`step_minutes`, at least 5).
    pub fn grid_minutes(&self) -> i64 {
        i64::from(self.step_minutes.max(5))
    }

    /// Whether `at` lies on the slot grid of an expert in `zone`: a whole
    /// number of steps after midnight on the expert's clock, with no
    /// seconds, exactly as the slot finder places slot starts. (Counted from
    /// midnight UTC, a zone 45 minutes off the hour, as Nepal's, had every
    /// slot at :15 or :45 and none at all in an hour's opening.)
    pub fn on_grid(&self, at: Timestamp, zone: TimeZone) -> bool {
        let step = self.grid_minutes() * Timestamp::MINUTE_MICROS;
        (at.as_micros() + offset_micros(zone, at)).rem_euclid(step) == 0
    }

    /// The first instant at or after `at` on the slot grid of an expert in
    /// `zone` (09:00, 09:30, ... on their clock for a 30-minute step), so
    /// slots read well where the expert is.
    pub fn align_up(&self, at: Timestamp, zone: TimeZone) -> Timestamp {
        let step = self.grid_minutes() * Timestamp::MINUTE_MICROS;
        let offset = offset_micros(zone, at);
        let local = at.as_micros() + offset;
        let aligned = local.div_euclid(step) * step;
        let aligned = if aligned < local {
            aligned + step
        } else {
            aligned
        };
        Timestamp::from_micros(aligned - offset).unwrap_or(at)
    }

    /// The latest instant a session may start at, seen at `now`:
    /// `max_days_ahead` days on (at most [`EXCEPTION_DAYS_AHEAD`]). What the
    /// slot finder offers and what booking re-checks alike.
    pub fn latest_start(&self, now: Timestamp) -> Timestamp {
        now.plus_days(i64::from(self.max_days_ahead).min(EXCEPTION_DAYS_AHEAD))
    }

    /// Whether `minutes` is a length an expert whose sessions last
    /// `session_minutes` may be booked for: one to
    /// `max_sessions_per_booking` whole sessions, at most
    /// [`MAX_BOOKING_MINUTES`].
    pub fn allows_duration(&self, session_minutes: u16, minutes: u16) -> bool {
        session_minutes > 0
            && is_booking_length(minutes)
            && minutes.is_multiple_of(session_minutes)
            && minutes / session_minutes <= self.max_sessions_per_booking.max(1)
    }

    /// [`SlotPolicy::allows_duration`], or the error that says which lengths
    /// are: what booking and the slot list both answer.
    pub fn check_duration(&self, session_minutes: u16, minutes: u16) -> crate::Result<()> {
        if self.allows_duration(session_minutes, minutes) {
            return Ok(());
        }
        let sessions = (MAX_BOOKING_MINUTES / session_minutes.max(1))
            .min(self.max_sessions_per_booking.max(1));
        let longest = session_minutes.saturating_mul(sessions);
        Err(droply_models::Error::invalid(
            "duration",
            format!(
                "must be the expert's session length of {session_minutes} minutes or a whole \
                 multiple of it, at most {longest} minutes"
            ),
        )
        .into())
    }

    /// Whether a booking made for `minutes` may keep that length when it
    /// is moved: it was whole sessions when booked, and the expert may have
    /// changed their session length since, so only [`is_booking_length`]
    /// bounds it.
    pub fn allows_kept_duration(&self, minutes: u16) -> bool {
        is_booking_length(minutes)
    }

    /// [`SlotPolicy::allows_kept_duration`], or the error that says why not.
    pub fn check_kept_duration(&self, minutes: u16) -> crate::Result<()> {
        if self.allows_kept_duration(minutes) {
            return Ok(());
        }
        Err(droply_models::Error::invalid(
            "duration",
            format!("must be 1 to {MAX_BOOKING_MINUTES} minutes"),
        )
        .into())
    }
}

/// `zone`'s offset from UTC at `at`, in microseconds.
fn offset_micros(zone: TimeZone, at: Timestamp) -> i64 {
    i64::from(zone.offset_seconds_at(at)) * 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("instant")
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name).expect("zone")
    }

    #[test]
    fn the_grid_is_every_step_minutes_on_the_clock() {
        let policy = SlotPolicy::default();
        let berlin = zone("Europe/Berlin");
        assert!(policy.on_grid(at("2027-01-04T09:00:00Z"), berlin));
        assert!(policy.on_grid(at("2027-01-04T09:30:00Z"), berlin));
        assert!(!policy.on_grid(at("2027-01-04T09:07:00Z"), berlin));
        assert!(!policy.on_grid(at("2027-01-04T09:00:01Z"), berlin));
        assert_eq!(
            policy.align_up(at("2027-01-04T09:07:00Z"), berlin),
            at("2027-01-04T09:30:00Z")
        );
        assert_eq!(
            policy.align_up(at("2027-01-04T09:30:00Z"), berlin),
            at("2027-01-04T09:30:00Z")
        );
    }

    /// Regression: the grid was counted from midnight UTC, so an expert in
    /// Nepal (UTC+05:45) had slots at :15 and :45 on their clock, none in an
    /// hour's opening, and a booking at 10:00 their time was refused.
    #[test]
    fn the_grid_is_counted_on_the_experts_clock() {
        let policy = SlotPolicy::default();
        let kathmandu = zone("Asia/Kathmandu");
        // 10:00 in Kathmandu.
        assert!(policy.on_grid(at("2027-01-04T04:15:00Z"), kathmandu));
        assert!(!policy.on_grid(at("2027-01-04T04:00:00Z"), kathmandu));
        assert_eq!(
            policy.align_up(at("2027-01-04T04:01:00Z"), kathmandu),
            at("2027-01-04T04:15:00Z")
        );
        let adelaide = zone("Australia/Adelaide");
        let hourly = SlotPolicy {
            step_minutes: 60,
            ..policy
        };
        // 09:00 in Adelaide (UTC+10:30 in January).
        assert!(hourly.on_grid(at("2027-01-03T22:30:00Z"), adelaide));
        assert_eq!(
            hourly.align_up(at("2027-01-03T22:00:00Z"), adelaide),
            at("2027-01-03T22:30:00Z")
        );
    }

    #[test]
    fn a_booking_lasts_whole_sessions_up_to_the_cap() {
        let policy = SlotPolicy::default();
        assert!(policy.allows_duration(60, 60));
        assert!(policy.allows_duration(60, 240));
        assert!(!policy.allows_duration(60, 300), "five sessions");
        assert!(!policy.allows_duration(60, 1));
        assert!(!policy.allows_duration(60, 90));
        assert!(!policy.allows_duration(60, 0));
        assert!(!policy.allows_duration(180, 540), "over eight hours");
        assert!(policy.allows_duration(45, 135));
    }

    #[test]
    fn a_moved_booking_keeps_its_length_up_to_the_cap() {
        let policy = SlotPolicy::default();
        assert!(!policy.allows_duration(45, 60), "not whole sessions now");
        assert!(policy.allows_kept_duration(60));
        assert!(policy.check_kept_duration(480).is_ok());
        assert!(policy.check_kept_duration(481).is_err());
        assert!(policy.check_kept_duration(0).is_err());
    }

    #[test]
    fn the_horizon_is_a_year_and_never_past_what_exceptions_can_block() {
        let now = at("2027-01-04T09:00:00Z");
        let policy = SlotPolicy::default();
        assert!(i64::from(policy.max_days_ahead) <= EXCEPTION_DAYS_AHEAD);
        assert_eq!(policy.latest_start(now), at("2028-01-04T09:00:00Z"));
        let far = SlotPolicy {
            max_days_ahead: u16::MAX,
            ..policy
        };
        assert_eq!(far.latest_start(now), now.plus_days(EXCEPTION_DAYS_AHEAD));
    }
}

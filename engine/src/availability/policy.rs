//! [`SlotPolicy`]: the one set of shop rules that slots and bookings obey,
//! every number in one place: buffers around bookings, the minimum notice,
//! the clock grid slots start on, how long a query may look ahead, how long
//! a booking may be (in sessions of the expert's own length), and how long
//! and how many unpaid bookings (or free sessions with one expert) one
//! booker may hold (see `holds`).

use std::time::Duration;

use droply_models::Timestamp;

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

impl Default for SlotPolicy {
    fn default() -> Self {
        SlotPolicy {
            buffer_minutes: 0,
            min_notice_minutes: 60,
            step_minutes: 30,
            max_days: 62,
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

    /// Whether `at` lies on the slot grid: a whole number of steps after
    /// the Unix epoch, with no seconds, exactly as the slot finder places
    /// slot starts.
    pub fn on_grid(&self, at: Timestamp) -> bool {
        at.as_micros()
            .rem_euclid(self.grid_minutes() * MINUTE_MICROS)
            == 0
    }

    /// The first instant at or after `at` on the slot grid (09:00, 09:30,
    /// ... for a 30-minute step), so slots read well.
    pub fn align_up(&self, at: Timestamp) -> Timestamp {
        let step = self.grid_minutes() * MINUTE_MICROS;
        let micros = at.as_micros();
        let aligned = micros.div_euclid(step) * step;
        let aligned = if aligned < micros {
            aligned + step
        } else {
            aligned
        };
        Timestamp::from_micros(aligned).unwrap_or(at)
    }

    /// Whether `minutes` is a length an expert whose sessions last
    /// `session_minutes` may be booked for: one to
    /// `max_sessions_per_booking` whole sessions, at most
    /// [`MAX_BOOKING_MINUTES`].
    pub fn allows_duration(&self, session_minutes: u16, minutes: u16) -> bool {
        session_minutes > 0
            && minutes > 0
            && minutes <= MAX_BOOKING_MINUTES
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
}

const MINUTE_MICROS: i64 = 60_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("instant")
    }

    #[test]
    fn the_grid_is_every_step_minutes_on_the_clock() {
        let policy = SlotPolicy::default();
        assert!(policy.on_grid(at("2027-01-04T09:00:00Z")));
        assert!(policy.on_grid(at("2027-01-04T09:30:00Z")));
        assert!(!policy.on_grid(at("2027-01-04T09:07:00Z")));
        assert!(!policy.on_grid(at("2027-01-04T09:00:01Z")));
        assert_eq!(
            policy.align_up(at("2027-01-04T09:07:00Z")),
            at("2027-01-04T09:30:00Z")
        );
        assert_eq!(
            policy.align_up(at("2027-01-04T09:30:00Z")),
            at("2027-01-04T09:30:00Z")
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
}

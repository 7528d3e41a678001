//! Availability: when an expert can be booked. Weekly rules are wall-clock
//! hours in the expert's own IANA time zone (so 09:00 in Berlin stays 09:00 on
//! both sides of a DST change); exceptions add or block time; bookings, with
//! buffers, take time away (an unpaid hold only until it lapses); a minimum
//! notice hides the near future and the booking horizon the far one.
//! `policy` holds every number of these rules and of booking; `holds` says
//! which bookings keep their time.

mod editing;
mod holds;
mod interval;
mod open_hours;
mod policy;
mod slot_finder;

pub use editing::{
    EXCEPTION_DAYS_AHEAD, ExceptionPatch, MAX_EXCEPTIONS, NewException, NewRule, RulePatch,
    add_exception, add_rule, delete_exception, delete_rule, expert_calendar, expert_slots,
    list_exceptions, list_rules, update_exception, update_rule,
};
pub use holds::awaits_payment;
pub use interval::{Interval, IntervalSet};
pub use open_hours::{ExpertCalendar, open_hours};
pub use policy::{MAX_BOOKING_MINUTES, SlotPolicy, is_booking_length};
pub use slot_finder::{Slot, SlotQuery, find_slots, fits_open_hours};

//! Availability: when an expert can be booked. Weekly rules are wall-clock
//! hours in the expert's own IANA time zone (so 09:00 in Berlin stays 09:00 on
//! both sides of a DST change); exceptions add or block time; bookings, with
//! buffers, take time away; a minimum notice hides the near future.

mod editing;
mod interval;
mod open_hours;
mod slot_finder;

pub use editing::{
    ExceptionPatch, NewException, NewRule, RulePatch, add_exception, add_rule, delete_exception,
    delete_rule, expert_calendar, expert_slots, list_exceptions, list_rules, update_exception,
    update_rule,
};
pub use interval::{Interval, IntervalSet};
pub use open_hours::{ExpertCalendar, open_hours};
pub use slot_finder::{Slot, SlotPolicy, SlotQuery, find_slots, fits_open_hours};

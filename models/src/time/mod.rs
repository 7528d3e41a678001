//! Time values: UTC instants ([`Timestamp`]), IANA zones ([`TimeZone`]),
//! wall-clock times of day ([`LocalTime`]) and days of the week
//! ([`Weekday`]).

mod local_time;
mod time_zone;
mod timestamp;
mod weekday;

pub use local_time::LocalTime;
pub use time_zone::TimeZone;
pub use timestamp::Timestamp;
pub use weekday::Weekday;

//! What runs around every request: its id ([`RequestId`]), its span and
//! access-log line ([`access_log`]), and the request counters and timings of
//! the [`Metrics`] registry.

pub mod access_log;
pub mod metrics;
pub mod request_id;

pub use metrics::Metrics;
pub use request_id::RequestId;

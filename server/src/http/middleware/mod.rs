//! What runs around every request: its id ([`RequestId`]), its span and
//! access-log line ([`access_log`]), and the request counters and timings of
//! the [`Metrics`] registry, and `no-store` on answers to signed-in requests
//! ([`cache_control`]).

pub mod access_log;
pub mod cache_control;
pub mod metrics;
pub mod request_id;

pub use metrics::Metrics;
pub use request_id::RequestId;

//! What runs around every request: its id ([`RequestId`]), its span and
//! access-log line ([`access_log`]), the request counters and timings of
//! the [`Metrics`] registry, who the client is ([`client_ip`]: the peer, or
//! behind trusted proxies the forwarded address), the rate limits per
//! client ([`rate_limit`]),
//! the in-flight limit and request timeout ([`request_budget`]), and
//! `no-store` on answers to signed-in requests ([`cache_control`]).

pub mod access_log;
pub mod cache_control;
pub mod client_ip;
pub mod metrics;
pub mod rate_limit;
pub mod request_budget;
pub mod request_id;

pub use client_ip::{ResolvedClient, TrustedProxies};
pub use metrics::Metrics;
pub use rate_limit::{RateLimiters, RouteClass};
pub use request_budget::RequestBudget;
pub use request_id::RequestId;

//! The handlers, one module per resource. Each module's `router()` registers
//! its handlers with utoipa-axum's `routes!`, which reads the handler's
//! `#[utoipa::path]`: the route and its OpenAPI operation come from one
//! declaration, written beside the handler, so a route cannot be served
//! undocumented (a handler without the attribute does not compile into
//! `routes!`) nor documented unserved. Every handler in one `routes!` call
//! must share one path (utoipa-axum routes the call's methods on each path
//! it names); the API tests probe every method of every served path against
//! the document. [`api`](crate::http::api) merges these routers.

pub mod auth;
pub mod availability;
pub mod bookings;
pub mod calendar;
pub mod content;
pub mod content_files;
pub mod daily_webhook;
pub mod docs;
pub mod dropins;
pub mod experts;
pub mod favorites;
pub mod health;
pub mod interactions;
pub mod live_tickets;
pub mod matches;
pub mod meeting_signal;
pub mod metrics;
pub mod payouts;
pub mod profile;
pub mod purchases;
pub mod recommendations;
pub mod referrals;
pub mod reviews;
pub mod search;
pub mod video;
pub mod webhooks;

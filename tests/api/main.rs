//! Integration tests through the `droply` command line and the HTTP API.
//! Each test spawns the real router on `127.0.0.1:0` with its own data dir,
//! over sled; `tests/api_on_postgres` runs these same tests over PostgreSQL.

/// The store the apps of this binary run over.
const BACKEND: droply_test_support::fixtures::Backend =
    droply_test_support::fixtures::Backend::Sled;

mod account_close;
mod app;
mod auth;
mod availability;
mod bola;
mod booking_idempotency;
mod booking_rules;
mod bookings;
mod calendar;
mod calendar_sync;
mod cli_import;
mod cli_migrate;
mod content;
mod content_purchases;
mod content_sale_rules;
mod cookie_prefix;
mod disputes;
mod dropin_live;
mod dropin_live_access;
mod dropin_live_limits;
mod dropin_presence;
mod dropins;
mod experts;
mod favorites;
mod file_client;
mod health;
mod held_intents;
mod http_client;
mod intents_given_up;
mod limits;
mod live_client;
mod matches;
mod meeting_signal;
mod metrics;
mod moved_sessions;
mod multi_node;
mod multi_node_live;
mod openapi;
mod page_cookies;
mod pages;
mod pages_account;
mod pages_content;
mod pages_dropin;
mod pages_navigation;
mod pages_profile;
mod pages_schedule;
mod pages_signup;
mod pages_times;
mod payments;
mod payouts;
mod profile;
mod recommendations;
mod referral_rewards;
mod referrals;
mod refunds_unsettled;
mod request_id;
mod review_no_show;
mod reviews;
mod search;
mod search_content;
mod search_dropins;
mod search_filters;
mod search_market;
mod search_readiness;
mod search_reasons;
mod socket_origin;
mod socket_tickets;
mod video;
mod video_webhooks;

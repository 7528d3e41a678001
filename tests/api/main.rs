//! Integration tests through the `droply` command line and the HTTP API.
//! Each test spawns the real router on `127.0.0.1:0` with its own data dir.

mod app;
mod auth;
mod availability;
mod bola;
mod bookings;
mod calendar;
mod cli_import;
mod content;
mod content_purchases;
mod dropin_live;
mod dropins;
mod experts;
mod favorites;
mod file_client;
mod health;
mod limits;
mod live_client;
mod matches;
mod meeting_signal;
mod metrics;
mod openapi;
mod pages_account;
mod payments;
mod profile;
mod recommendations;
mod referral_rewards;
mod referrals;
mod request_id;
mod reviews;
mod search;
mod search_content;
mod search_dropins;
mod search_market;
mod search_readiness;
mod video;

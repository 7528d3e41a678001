//! The API suite of `tests/api` again, with every app over a fresh
//! PostgreSQL database instead of sled: the same tests, the same assertions,
//! on the second store backend (`droply_test_support::postgres` gives the
//! databases). Left out are the tests that are about one backend's files or
//! already run on both: the command line's import and migrate, the two-node
//! tests (`multi_node`, `multi_node_live`, and `meeting_signal_close`, which
//! needs their nodes and whose two-node test already runs over PostgreSQL),
//! and the search readiness tests (a sled store opened beside the app). Also
//! left out, as they test HTTP and page behaviour that does not depend on the
//! store: `hsts_settings` (the `Strict-Transport-Security` header) and
//! `socket_origin` (the live sockets' `Origin` check).
#![allow(
    dead_code,
    reason = "the helpers only the left-out tests use are not called here"
)]

/// The store the apps of this binary run over.
const BACKEND: droply_test_support::fixtures::Backend =
    droply_test_support::fixtures::Backend::Postgres;

#[path = "../api/account_close.rs"]
mod account_close;
#[path = "../api/account_close_money.rs"]
mod account_close_money;
#[path = "../api/app.rs"]
mod app;
#[path = "../api/auth.rs"]
mod auth;
#[path = "../api/availability.rs"]
mod availability;
#[path = "../api/availability_repeats.rs"]
mod availability_repeats;
#[path = "../api/bola.rs"]
mod bola;
#[path = "../api/booking_idempotency.rs"]
mod booking_idempotency;
#[path = "../api/booking_rules.rs"]
mod booking_rules;
#[path = "../api/bookings.rs"]
mod bookings;
#[path = "../api/calendar.rs"]
mod calendar;
#[path = "../api/calendar_sync.rs"]
mod calendar_sync;
#[path = "../api/connect_webhooks.rs"]
mod connect_webhooks;
#[path = "../api/content.rs"]
mod content;
#[path = "../api/content_purchases.rs"]
mod content_purchases;
#[path = "../api/content_sale_rules.rs"]
mod content_sale_rules;
#[path = "../api/cookie_prefix.rs"]
mod cookie_prefix;
#[path = "../api/dates.rs"]
mod dates;
#[path = "../api/dispute_refunds.rs"]
mod dispute_refunds;
#[path = "../api/disputes.rs"]
mod disputes;
#[path = "../api/dropin_live.rs"]
mod dropin_live;
#[path = "../api/dropin_live_access.rs"]
mod dropin_live_access;
#[path = "../api/dropin_live_limits.rs"]
mod dropin_live_limits;
#[path = "../api/dropin_presence.rs"]
mod dropin_presence;
#[path = "../api/dropin_signed_out.rs"]
mod dropin_signed_out;
#[path = "../api/dropin_signout.rs"]
mod dropin_signout;
#[path = "../api/dropins.rs"]
mod dropins;
#[path = "../api/experts.rs"]
mod experts;
#[path = "../api/favorites.rs"]
mod favorites;
#[path = "../api/file_client.rs"]
mod file_client;
#[path = "../api/health.rs"]
mod health;
#[path = "../api/held_intents.rs"]
mod held_intents;
#[path = "../api/http_client.rs"]
mod http_client;
#[path = "../api/intents_given_up.rs"]
mod intents_given_up;
#[path = "../api/limits.rs"]
mod limits;
#[path = "../api/live_client.rs"]
mod live_client;
#[path = "../api/live_frame_limits.rs"]
mod live_frame_limits;
#[path = "../api/matches.rs"]
mod matches;
#[path = "../api/meeting_signal.rs"]
mod meeting_signal;
#[path = "../api/metrics.rs"]
mod metrics;
#[path = "../api/moved_sessions.rs"]
mod moved_sessions;
#[path = "../api/openapi.rs"]
mod openapi;
#[path = "../api/page_cookies.rs"]
mod page_cookies;
#[path = "../api/pages.rs"]
mod pages;
#[path = "../api/pages_account.rs"]
mod pages_account;
#[path = "../api/pages_content.rs"]
mod pages_content;
#[path = "../api/pages_dropin.rs"]
mod pages_dropin;
#[path = "../api/pages_form_errors.rs"]
mod pages_form_errors;
#[path = "../api/pages_navigation.rs"]
mod pages_navigation;
#[path = "../api/pages_profile.rs"]
mod pages_profile;
#[path = "../api/pages_schedule.rs"]
mod pages_schedule;
#[path = "../api/pages_signup.rs"]
mod pages_signup;
#[path = "../api/pages_stripe_return.rs"]
mod pages_stripe_return;
#[path = "../api/pages_times.rs"]
mod pages_times;
#[path = "../api/password_change.rs"]
mod password_change;
#[path = "../api/payment_webhooks.rs"]
mod payment_webhooks;
#[path = "../api/payments.rs"]
mod payments;
#[path = "../api/payout_retries.rs"]
mod payout_retries;
#[path = "../api/payouts.rs"]
mod payouts;
#[path = "../api/profile.rs"]
mod profile;
#[path = "../api/recommendations.rs"]
mod recommendations;
#[path = "../api/referral_rewards.rs"]
mod referral_rewards;
#[path = "../api/referrals.rs"]
mod referrals;
#[path = "../api/refund_orders.rs"]
mod refund_orders;
#[path = "../api/refunds_unsettled.rs"]
mod refunds_unsettled;
#[path = "../api/request_id.rs"]
mod request_id;
#[path = "../api/review_no_show.rs"]
mod review_no_show;
#[path = "../api/reviews.rs"]
mod reviews;
#[path = "../api/search.rs"]
mod search;
#[path = "../api/search_content.rs"]
mod search_content;
#[path = "../api/search_dropins.rs"]
mod search_dropins;
#[path = "../api/search_filter_forms.rs"]
mod search_filter_forms;
#[path = "../api/search_filters.rs"]
mod search_filters;
#[path = "../api/search_market.rs"]
mod search_market;
#[path = "../api/search_paging.rs"]
mod search_paging;
#[path = "../api/search_reasons.rs"]
mod search_reasons;
#[path = "../api/socket_tickets.rs"]
mod socket_tickets;
#[path = "../api/video.rs"]
mod video;
#[path = "../api/video_meetings.rs"]
mod video_meetings;
#[path = "../api/video_webhooks.rs"]
mod video_webhooks;

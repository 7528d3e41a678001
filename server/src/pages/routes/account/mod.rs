//! The signed-in person's own pages under `/account`: the overview (who
//! they are, their referral link), the profile form, the branding editor
//! with its live preview and contrast check, weekly availability and its
//! exceptions, and earnings with payouts and referrals (and `onboarding`'s
//! return and restart pages, at the paths Stripe's Connect onboarding sends
//! experts to), and `close`, which closes the account for good. Each page
//! sends an anonymous viewer to sign in first; `frame` draws the account
//! navigation they share.

mod availability;
mod branding;
mod close;
mod earnings;
mod frame;
mod onboarding;
mod overview;
mod profile;

pub use onboarding::{ONBOARDING_REFRESH_PATH, ONBOARDING_RETURN_PATH};

use axum::Router;

use crate::http::AppState;

/// Every `/account...` page this module serves, and the onboarding pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(overview::router())
        .merge(profile::router())
        .merge(branding::router())
        .merge(availability::router())
        .merge(earnings::router())
        .merge(onboarding::router())
        .merge(close::router())
}

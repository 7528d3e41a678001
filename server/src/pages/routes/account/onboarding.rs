//! The two pages Stripe's Connect onboarding sends an expert to, at the
//! paths the Stripe configuration is built with ([`ONBOARDING_RETURN_PATH`],
//! [`ONBOARDING_REFRESH_PATH`]: `cli/payments.rs` joins them to the public
//! URL). Back from onboarding, the expert is sent on to their earnings page,
//! which says where their payout account stands (its status comes from
//! Stripe's `account.updated` webhooks, so right after the return it may
//! still be pending). A link that expired brings them to a page with a form
//! that starts onboarding again: a fresh link is made only on that `POST`
//! (behind the CSRF check, as it may create their Stripe account), and the
//! answer is a page linking to it (the pages' `form-action 'self'` would
//! stop a redirect to Stripe). Anyone signed out is sent to sign in first.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use droply_models::{StripeAccountStatus, User};
use maud::{Markup, html};

use super::frame::{account_page, failure, notices};
use crate::http::{AppState, blocking};
use crate::pages::layout::csrf_field;
use crate::pages::page::{PageError, html, html_with, see_other};
use crate::pages::viewer::Viewer;

/// Where Stripe sends an expert back after onboarding.
pub const ONBOARDING_RETURN_PATH: &str = "/payouts/onboarded";
/// Where Stripe sends an expert whose onboarding link expired or was used.
pub const ONBOARDING_REFRESH_PATH: &str = "/payouts/onboarding";
/// The earnings page, which shows the payout account.
const EARNINGS: &str = "/account/earnings";

/// `GET` [`ONBOARDING_RETURN_PATH`], and `GET` and `POST`
/// [`ONBOARDING_REFRESH_PATH`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route(ONBOARDING_RETURN_PATH, get(onboarding_returned))
        .route(
            ONBOARDING_REFRESH_PATH,
            get(show_restart).post(restart_onboarding),
        )
}

/// The earnings page after a return from onboarding, its notice shown.
fn earnings_after_return() -> String {
    format!("{EARNINGS}?onboarded=1")
}

/// Back from Stripe: on to the earnings page, which says how the payout
/// account stands.
async fn onboarding_returned(viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(ONBOARDING_RETURN_PATH)?;
    Ok(see_other(&earnings_after_return()))
}

/// The sentence the earnings page shows after a return from onboarding.
pub fn returned_notice(user: &User) -> &'static str {
    match user.stripe_account_status {
        StripeAccountStatus::Active if user.payout_enabled => {
            "Stripe onboarding is finished: your payout account is active."
        }
        StripeAccountStatus::Active | StripeAccountStatus::Pending => {
            "You are back from Stripe. Your payout account is pending until Stripe confirms your details; this page shows it as soon as it does."
        }
        StripeAccountStatus::Restricted => {
            "You are back from Stripe, which still needs something from you before it pays out: continue with Stripe below."
        }
        StripeAccountStatus::Disabled => {
            "Stripe has disabled your payout account; its dashboard says why."
        }
        StripeAccountStatus::NotConnected => {
            "Your payout account is not set up yet: set it up with Stripe below."
        }
    }
}

/// The payout account's part of the earnings page: how it stands, and the
/// form that sets it up or continues with Stripe until it is active. Shown
/// to experts and to anyone with an account at Stripe.
pub fn payout_account_section(viewer: &Viewer, user: &User) -> Markup {
    let status = user.stripe_account_status;
    let active = status == StripeAccountStatus::Active && user.payout_enabled;
    let words = match status {
        StripeAccountStatus::NotConnected => "not set up",
        StripeAccountStatus::Pending => "pending: Stripe has not confirmed your details yet",
        StripeAccountStatus::Restricted => "restricted: Stripe needs more from you",
        StripeAccountStatus::Active if active => "active",
        StripeAccountStatus::Active => "active, payouts not enabled yet",
        StripeAccountStatus::Disabled => "disabled by Stripe",
    };
    html! {
        @if user.is_expert() || user.stripe_account_id.is_some() {
            section class="card" aria-labelledby="payout-account-title" {
                h2 id="payout-account-title" { "Payout account" }
                p { "Your Stripe payout account is " (words) "." }
                @if !active && status != StripeAccountStatus::Disabled {
                    @if status == StripeAccountStatus::NotConnected {
                        (onboarding_form(viewer, "Set up payouts with Stripe"))
                    } @else {
                        (onboarding_form(viewer, "Continue with Stripe"))
                    }
                }
            }
        }
    }
}

/// The form that starts (or resumes) onboarding with a fresh link.
fn onboarding_form(viewer: &Viewer, label: &str) -> Markup {
    html! {
        form method="post" action=(ONBOARDING_REFRESH_PATH) class="row-form" {
            (csrf_field(viewer))
            button type="submit" { (label) }
        }
    }
}

/// A link to Stripe that expired: the form that makes a new one.
async fn show_restart(viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(ONBOARDING_REFRESH_PATH)?;
    Ok(html(restart_page(&viewer, None)))
}

/// Makes a fresh onboarding link (and the Stripe account, the first time)
/// and links to it; a refusal (not an expert, payments off, Stripe
/// failing) is shown with the form again.
async fn restart_onboarding(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let id = viewer.require(ONBOARDING_REFRESH_PATH)?.id;
    match blocking(&state, move |engine| engine.start_payout_onboarding(id)).await {
        Ok(link) => Ok(html(link_page(&viewer, &link))),
        Err(err) => {
            let (status, message) = failure(&err);
            Ok(html_with(status, restart_page(&viewer, Some(&message))))
        }
    }
}

fn restart_page(viewer: &Viewer, error: Option<&str>) -> Markup {
    let content = html! {
        h1 { "Payout setup" }
        (notices(error, None))
        section class="card" aria-labelledby="restart-title" {
            h2 id="restart-title" { "Continue with Stripe" }
            p {
                "The link to Stripe's onboarding works once and for a few minutes only, "
                "and the one you followed has run out. Start again for a fresh one: "
                "what you already gave Stripe is kept."
            }
            (onboarding_form(viewer, "Get a new link to Stripe"))
            p { a href=(EARNINGS) { "Back to earnings" } }
        }
    };
    account_page(viewer, "Payout setup", EARNINGS, &[], content)
}

fn link_page(viewer: &Viewer, link: &str) -> Markup {
    let content = html! {
        h1 { "Payout setup" }
        section class="card" aria-labelledby="link-title" {
            h2 id="link-title" { "Your link to Stripe is ready" }
            p { "It works once, for a few minutes. Stripe brings you back here when you are done." }
            p { a class="button" href=(link) rel="noreferrer" { "Continue to Stripe" } }
        }
    };
    account_page(viewer, "Payout setup", EARNINGS, &[], content)
}

//! `GET /account`: who the signed-in person is (name, username, their
//! public page), their referral link to share (absolute, on the public
//! origin, so that it works pasted anywhere), where to go next, the
//! "Sign out everywhere" form (`POST /signout/everywhere`), which ends every
//! session of the account, and the way to close the account
//! (`/account/close`).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::html;

use super::frame::account_page;
use crate::http::AppState;
use crate::pages::format;
use crate::pages::layout::csrf_field;
use crate::pages::page::{PageError, html};
use crate::pages::viewer::Viewer;

/// `/account`.
pub fn router() -> Router<AppState> {
    Router::new().route("/account", get(show_account))
}

async fn show_account(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let user = viewer.require("/account")?;
    let referral = format!(
        "{}/signup?ref={}",
        state.pages.link_origin(),
        user.referral_code.as_str()
    );
    let content = html! {
        h1 { "My account" }
        section class="card account-summary" aria-labelledby="who" {
            h2 id="who" { (user.full_name) }
            dl class="facts" {
                dt { "Username" }
                dd { "@" (user.username.as_str()) }
                dt { "Public page" }
                dd { a href=(format!("/@{}", user.username.as_str())) { "/@" (user.username.as_str()) } }
                dt { "Time zone" }
                dd { (user.timezone.as_str()) }
                dt { "Currency" }
                dd { (user.currency.as_str()) }
                dt { "Hourly rate" }
                dd {
                    @match user.hourly_rate {
                        Some(rate) => { (format::money(rate)) }
                        None => { "Not offering sessions" }
                    }
                }
            }
        }
        section class="card" aria-labelledby="refer" {
            h2 id="refer" { "Invite people" }
            p { "Share your referral link; you earn a reward when people you invite book." }
            p {
                label for="referral-link" { "Your referral link" }
                input id="referral-link" readonly value=(referral) class="referral-link";
            }
            p { a href=(referral) { (referral) } }
            p class="muted" { (user.referral_count) " people joined through your link." }
        }
        section class="card" aria-labelledby="sessions" {
            h2 id="sessions" { "Sessions" }
            p { "Signed in on a device you no longer use, or lost one? End every session of your account: other browsers, apps and this one." }
            form method="post" action="/signout/everywhere" {
                (csrf_field(&viewer))
                button type="submit" class="secondary" { "Sign out everywhere" }
            }
        }
        section class="card" aria-labelledby="close" {
            h2 id="close" { "Close account" }
            p { "Done with Droply? Closing your account erases your profile and personal data for good; bookings, payments and reviews other people hold stay." }
            p { a href="/account/close" { "Close my account" } }
        }
    };
    Ok(html(account_page(
        &viewer,
        "My account",
        "/account",
        &[],
        content,
    )))
}

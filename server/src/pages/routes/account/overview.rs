//! `GET /account`: who the signed-in person is (name, username, their
//! public page), their referral link to share (absolute, on the public
//! origin, so that it works pasted anywhere), where to go next, the
//! "Change password" form (`POST /account/password`, which changes it as
//! `POST /v1/users/me/password` does: the current password asked again,
//! every other session of the account ended, this browser kept signed in;
//! the page is shown again with the outcome), the "Sign out everywhere"
//! form (`POST /signout/everywhere`), which ends every session of the
//! account, and the way to close the account (`/account/close`).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use droply_models::User;
use maud::{Markup, html};
use serde::Deserialize;

use super::frame::{account_page, failure, notices};
use crate::http::{AppState, ClientAddr, ErrorCode, blocking};
use crate::pages::extract::PageForm;
use crate::pages::format;
use crate::pages::layout::csrf_field;
use crate::pages::page::{PageError, html, html_with, status_of};
use crate::pages::viewer::Viewer;

const HERE: &str = "/account";

/// Where the "Change password" form posts.
const PASSWORD: &str = "/account/password";

/// `/account` and `POST /account/password`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(HERE, get(show_account))
        .route(PASSWORD, post(change_password))
}

/// The "Change password" form. No `Debug`: it holds passwords.
#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn show_account(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?;
    Ok(html(overview_page(&state, &viewer, user, None, None)))
}

async fn change_password(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    viewer: Viewer,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?;
    let id = user.id;
    let token = viewer
        .session_token()
        .ok_or_else(|| PageError::sign_in_first(HERE))?
        .to_owned();
    let changed = blocking(&state, move |engine| {
        engine.change_password(
            id,
            client,
            &token,
            &form.current_password,
            &form.new_password,
        )
    })
    .await;
    match changed {
        Ok(_) => {
            let saved = "Your password was changed. Every other session of your account was \
                         signed out; this browser stays signed in.";
            Ok(html(overview_page(
                &state,
                &viewer,
                user,
                None,
                Some(saved),
            )))
        }
        Err(err) => {
            // As the sign-in page answers: 401 for a wrong password, 429
            // once the sign-in throttle holds it back, 400 for a refused
            // new password.
            let (_, message) = failure(&err);
            let status = status_of(&err);
            let message = match err.code() {
                ErrorCode::InvalidCredentials => {
                    "That is not this account's current password.".to_owned()
                }
                _ => message,
            };
            Ok(html_with(
                status,
                overview_page(&state, &viewer, user, Some(&message), None),
            ))
        }
    }
}

/// The overview, with the outcome of a password change when there is one.
fn overview_page(
    state: &AppState,
    viewer: &Viewer,
    user: &User,
    error: Option<&str>,
    saved: Option<&str>,
) -> Markup {
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
        section class="card" aria-labelledby="password" {
            h2 id="password" { "Change password" }
            (notices(error, saved))
            p { "Changing your password signs out every other session of your account: other browsers, apps and anyone who signed in with the old one. This browser stays signed in." }
            form method="post" action=(PASSWORD) class="stack" {
                (csrf_field(viewer))
                label for="current-password" { "Current password" }
                input id="current-password" name="current_password" type="password" autocomplete="current-password" required;
                label for="new-password" { "New password (8 to 128 characters)" }
                input id="new-password" name="new_password" type="password" autocomplete="new-password" minlength="8" maxlength="128" required;
                button type="submit" { "Change password" }
            }
        }
        section class="card" aria-labelledby="sessions" {
            h2 id="sessions" { "Sessions" }
            p { "Signed in on a device you no longer use, or lost one? End every session of your account: other browsers, apps and this one." }
            form method="post" action="/signout/everywhere" {
                (csrf_field(viewer))
                button type="submit" class="secondary" { "Sign out everywhere" }
            }
        }
        section class="card" aria-labelledby="close" {
            h2 id="close" { "Close account" }
            p { "Done with Droply? Closing your account erases your profile and personal data for good; bookings, payments and reviews other people hold stay." }
            p { a href="/account/close" { "Close my account" } }
        }
    };
    account_page(viewer, "My account", HERE, &[], content)
}

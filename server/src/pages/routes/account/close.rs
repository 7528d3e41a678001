//! `/account/close`: closing one's account for good, as `DELETE
//! /v1/users/me` does. The page says what closing does and keeps, and asks
//! for the password again and a ticked confirmation; the form goes through
//! the CSRF check like every form. A refusal (a wrong password, money still
//! owed, the box not ticked) shows the form again with its error; a closed
//! account's browser is signed out (its cookie cleared) and sent home.

use axum::Router;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use super::frame::{account_page, failure, notices};
use crate::http::{AppState, ClientAddr, ErrorCode, blocking};
use crate::pages::cookies;
use crate::pages::extract::PageForm;
use crate::pages::layout::csrf_field;
use crate::pages::page::{PageError, html, html_with, see_other};
use crate::pages::viewer::Viewer;

const HERE: &str = "/account/close";

/// The value the confirmation box sends when ticked.
const CONFIRMED: &str = "yes";

/// `GET` and `POST /account/close`.
pub fn router() -> Router<AppState> {
    Router::new().route(HERE, get(show_close).post(close_account))
}

/// The closing form. No `Debug`: it holds a password.
#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    password: String,
    confirm: Option<String>,
}

async fn show_close(viewer: Viewer) -> Result<Response, PageError> {
    viewer.require(HERE)?;
    Ok(html(close_page(&viewer, None)))
}

async fn close_account(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    viewer: Viewer,
    PageForm(form): PageForm<CloseForm>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?.id;
    if form.confirm.as_deref() != Some(CONFIRMED) {
        let error = "Tick the box to confirm that the account is closed for good.";
        return Ok(html_with(
            StatusCode::BAD_REQUEST,
            close_page(&viewer, Some(error)),
        ));
    }
    let password = form.password;
    let closed = blocking(&state, move |engine| {
        engine.close_account(user, client, &password)
    })
    .await;
    match closed {
        Ok(()) => Ok(signed_out_home(&state)),
        Err(err) => {
            let (status, message) = failure(&err);
            let message = match err.code() {
                ErrorCode::InvalidCredentials => "That is not this account's password.".to_owned(),
                _ => message,
            };
            Ok(html_with(status, close_page(&viewer, Some(&message))))
        }
    }
}

/// Home, with the (now dead) session cookie cleared.
fn signed_out_home(state: &AppState) -> Response {
    let mut response = see_other("/");
    let cookie = cookies::clear(cookies::SESSION, state.pages.secure_cookies);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

fn close_page(viewer: &Viewer, error: Option<&str>) -> Markup {
    let content = html! {
        h1 { "Close my account" }
        (notices(error, None))
        section class="card" aria-labelledby="what-closing-does" {
            h2 id="what-closing-does" { "What closing does" }
            ul {
                li { "Your profile, photo, links and contact details are erased, and you can no longer sign in. Your email address is free to sign up with again." }
                li { "Your sessions that have not started are cancelled and refunded as any cancellation is; your drop-ins end; your content goes off sale (people who bought it keep it); your calendar is disconnected." }
                li { "Bookings, payments and reviews other people hold stay, naming you \"Closed account\"." }
                li { "Money must be settled first: pay out your balance, and wait for earnings still held and payments on their way." }
            }
        }
        section class="card" aria-labelledby="close-form" {
            h2 id="close-form" { "Close the account" }
            form method="post" action=(HERE) class="stack" {
                (csrf_field(viewer))
                label for="password" { "Your password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                label {
                    input type="checkbox" name="confirm" value=(CONFIRMED) required;
                    " I understand that my account is closed for good and cannot be restored."
                }
                button type="submit" class="secondary" { "Close my account" }
            }
        }
    };
    account_page(viewer, "Close my account", HERE, &[], content)
}

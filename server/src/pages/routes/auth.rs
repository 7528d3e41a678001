//! Signing up, in and out in a browser: the same accounts engine as the
//! API, with the session token kept in an HttpOnly cookie instead of handed
//! to scripts. Sign-up takes a referral code from a `?ref=` link and the
//! time zone the browser reports; a failed form is shown again with its
//! error and what was typed (never the password). Signing in or up in a
//! browser that holds a session ends that session, whose cookie the new one
//! replaces; signing out everywhere ends every session of the account.
//! A `next` path (checked to stay on this site) follows the visitor from
//! sign-in to sign-up and is where either sends them once signed in.
//! A refusal is worded for people (`form_error`): a refused value is named
//! by its label, and its field is marked (`aria-invalid`,
//! `aria-describedby`) with the message next to it.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::response::Response;
use axum::routing::{get, post};
use droply_engine::Engine;
use droply_engine::accounts::Registration;
use droply_models::{Currency, Timestamp};
use maud::{Markup, html};
use serde::Deserialize;

use crate::http::ClientAddr;
use crate::http::{AppState, blocking};
use crate::pages::cookies;
use crate::pages::extract::{PageForm, PageQuery};
use crate::pages::form_error::{
    FormError, FormField, aria_invalid, described_by, field_message, label_of,
};
use crate::pages::layout::{Head, csrf_field, page};
use crate::pages::page::{
    PageError, html, html_with, local_path, see_other, status_of, url_encode,
};
use crate::pages::viewer::Viewer;

/// The sign-in form's fields, by the names errors give them.
const SIGN_IN_FIELDS: &[FormField] = &[
    FormField::new("email", "Email"),
    FormField::new("password", "Password"),
];

/// The sign-up form's fields, by the names errors give them (the time
/// zone is sent unseen, so a refusal of it is marked on no field).
const SIGN_UP_FIELDS: &[FormField] = &[
    FormField::new("full_name", "Your name"),
    FormField::new("username", "Username"),
    FormField::new("email", "Email"),
    FormField::new("password", "Password"),
    FormField::new("currency", "Currency"),
    FormField::new("referral_code", "Referral code (optional)"),
];

/// `/signin`, `/signup`, `/signout` and `/signout/everywhere`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signup", get(sign_up_page).post(sign_up))
        .route("/signout", post(sign_out))
        .route("/signout/everywhere", post(sign_out_everywhere))
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
    #[serde(rename = "ref")]
    referral: Option<String>,
}

/// The sign-in form. No `Debug`: it holds a password.
#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// The sign-up form. No `Debug`: it holds a password.
#[derive(Deserialize)]
struct SignUpForm {
    username: String,
    email: String,
    password: String,
    full_name: String,
    currency: Option<String>,
    timezone: Option<String>,
    referral_code: Option<String>,
    next: Option<String>,
}

/// What a form shows again after an error.
#[derive(Debug, Default)]
struct Typed<'a> {
    error: Option<&'a FormError>,
    username: &'a str,
    email: &'a str,
    full_name: &'a str,
    currency: &'a str,
    referral_code: &'a str,
    next: &'a str,
}

async fn sign_in_page(viewer: Viewer, PageQuery(query): PageQuery<NextQuery>) -> Response {
    let next = local_path(query.next.as_deref());
    if viewer.user.is_some() {
        return see_other(&next);
    }
    html(sign_in_markup(
        &viewer,
        &Typed {
            next: &next,
            ..Typed::default()
        },
    ))
}

fn sign_in_markup(viewer: &Viewer, typed: &Typed<'_>) -> Markup {
    let error = typed.error;
    let label = |id: &'static str| label_of(SIGN_IN_FIELDS, id);
    let content = html! {
        section class="narrow card" {
            h1 { "Sign in" }
            (error_alert(error))
            form method="post" action="/signin" class="stack" {
                (csrf_field(viewer))
                input type="hidden" name="next" value=(typed.next);
                label for="email" { (label("email")) }
                input id="email" name="email" type="email" autocomplete="email" required value=(typed.email)
                    aria-invalid=[aria_invalid(error, "email")] aria-describedby=[described_by(error, "email", None)];
                (field_message(error, "email"))
                label for="password" { (label("password")) }
                input id="password" name="password" type="password" autocomplete="current-password" required minlength="8"
                    aria-invalid=[aria_invalid(error, "password")] aria-describedby=[described_by(error, "password", None)];
                (field_message(error, "password"))
                button type="submit" { "Sign in" }
            }
            p { "New here? " a href=(with_next("/signup", typed.next)) { "Create an account" } }
        }
    };
    page(
        viewer,
        Head {
            title: "Sign in",
            ..Head::default()
        },
        content,
    )
}

/// A link to `form` (`/signin` or `/signup`) carrying `next`, unless it is
/// empty or the default `/`.
fn with_next(form: &str, next: &str) -> String {
    if next.is_empty() || next == "/" {
        form.to_owned()
    } else {
        format!("{form}?next={}", url_encode(next))
    }
}

/// Where sign-up goes: `next` when one was given (a path on this site, else
/// `/`), the account page when none was.
fn after_sign_up(next: Option<&str>) -> String {
    match next.filter(|next| !next.trim().is_empty()) {
        Some(next) => local_path(Some(next)),
        None => "/account".to_owned(),
    }
}

/// The summary of a refusal above the form.
fn error_alert(error: Option<&FormError>) -> Markup {
    html! {
        @if let Some(error) = error {
            p class="alert" role="alert" { (error.message) }
        }
    }
}

/// A response that sets the session cookie for `token` and goes to `next`.
fn signed_in(state: &AppState, token: &str, expires_at: Timestamp, next: &str) -> Response {
    let max_age = expires_at
        .signed_duration_since(Timestamp::now())
        .num_seconds();
    let cookie = cookies::set(
        cookies::SESSION,
        token,
        "Lax",
        Some(max_age),
        state.pages.secure_cookies,
    );
    let mut response = see_other(next);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// Ends `replaced`, the session of the cookie a new sign-in (or sign-up) in
/// this browser overwrites, so that it no longer signs anyone in. One that
/// ended meanwhile is fine; a failure is logged, not shown: the new session
/// is already issued.
fn end_replaced_session(engine: &Engine, replaced: Option<&str>) {
    let Some(token) = replaced else {
        return;
    };
    match engine.logout(token) {
        Ok(()) | Err(droply_engine::Error::Unauthorized) => {}
        Err(err) => tracing::warn!(error = %err, "a replaced browser session could not be ended"),
    }
}

async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    viewer: Viewer,
    PageForm(form): PageForm<SignInForm>,
) -> Response {
    let next = local_path(form.next.as_deref());
    let email = form.email.clone();
    let replaced = viewer.session_token().map(str::to_owned);
    let issued = blocking(&state, move |engine| {
        let issued = engine.login(client, &form.email, &form.password)?;
        end_replaced_session(engine, replaced.as_deref());
        Ok(issued)
    })
    .await;
    match issued {
        Ok(issued) => signed_in(&state, &issued.token, issued.expires_at, &next),
        Err(err) => {
            let status = status_of(&err);
            let error = FormError::of(&err, SIGN_IN_FIELDS);
            html_with(
                status,
                sign_in_markup(
                    &viewer,
                    &Typed {
                        error: Some(&error),
                        email: &email,
                        next: &next,
                        ..Typed::default()
                    },
                ),
            )
        }
    }
}

async fn sign_up_page(viewer: Viewer, PageQuery(query): PageQuery<NextQuery>) -> Response {
    let next = query
        .next
        .as_deref()
        .filter(|next| !next.trim().is_empty())
        .map(|next| local_path(Some(next)))
        .unwrap_or_default();
    if viewer.user.is_some() {
        return see_other(&after_sign_up(Some(next.as_str())));
    }
    let code = query.referral.unwrap_or_default();
    html(sign_up_markup(
        &viewer,
        &Typed {
            referral_code: &code,
            currency: "USD",
            next: &next,
            ..Typed::default()
        },
    ))
}

fn sign_up_markup(viewer: &Viewer, typed: &Typed<'_>) -> Markup {
    let error = typed.error;
    let label = |id: &'static str| label_of(SIGN_UP_FIELDS, id);
    let invalid = |id: &str| aria_invalid(error, id);
    let described = |id: &str, help: Option<&str>| described_by(error, id, help);
    let content = html! {
        section class="narrow card" {
            h1 { "Create your account" }
            (error_alert(error))
            form method="post" action="/signup" class="stack" {
                (csrf_field(viewer))
                input type="hidden" name="timezone" data-detect-zone value=(viewer.time_zone().as_str());
                input type="hidden" name="next" value=(typed.next);
                label for="full_name" { (label("full_name")) }
                input id="full_name" name="full_name" autocomplete="name" required maxlength="100" value=(typed.full_name)
                    aria-invalid=[invalid("full_name")] aria-describedby=[described("full_name", None)];
                (field_message(error, "full_name"))
                label for="username" { (label("username")) }
                input id="username" name="username" autocomplete="username" required pattern="[A-Za-z0-9_]{3,30}" value=(typed.username)
                    aria-invalid=[invalid("username")] aria-describedby=[described("username", Some("username-help"))];
                (field_message(error, "username"))
                small id="username-help" { "3 to 30 letters, digits or _; your page will be droply/@username." }
                label for="email" { (label("email")) }
                input id="email" name="email" type="email" autocomplete="email" required value=(typed.email)
                    aria-invalid=[invalid("email")] aria-describedby=[described("email", None)];
                (field_message(error, "email"))
                label for="password" { (label("password")) }
                input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128"
                    aria-invalid=[invalid("password")] aria-describedby=[described("password", Some("password-help"))];
                (field_message(error, "password"))
                small id="password-help" { "At least 8 characters." }
                label for="currency" { (label("currency")) }
                select id="currency" name="currency"
                    aria-invalid=[invalid("currency")] aria-describedby=[described("currency", None)] {
                    @for currency in Currency::all() {
                        option value=(currency.as_str()) selected[currency.as_str() == typed.currency] { (currency.as_str()) }
                    }
                }
                (field_message(error, "currency"))
                label for="referral_code" { (label("referral_code")) }
                input id="referral_code" name="referral_code" autocomplete="off" maxlength="32" value=(typed.referral_code)
                    aria-invalid=[invalid("referral_code")] aria-describedby=[described("referral_code", None)];
                (field_message(error, "referral_code"))
                button type="submit" { "Sign up" }
            }
            p { "Already have an account? " a href=(with_next("/signin", typed.next)) { "Sign in" } }
        }
    };
    page(
        viewer,
        Head {
            title: "Sign up",
            ..Head::default()
        },
        content,
    )
}

async fn sign_up(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<SignUpForm>,
) -> Response {
    let blank_is_none = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let (username, email, full_name) = (
        form.username.clone(),
        form.email.clone(),
        form.full_name.clone(),
    );
    let currency = form.currency.clone().unwrap_or_default();
    let referral = form.referral_code.clone().unwrap_or_default();
    let next = after_sign_up(form.next.as_deref());
    let registration = Registration {
        username: form.username,
        email: form.email,
        password: form.password,
        full_name: form.full_name,
        currency: blank_is_none(form.currency),
        timezone: blank_is_none(form.timezone),
        language: None,
        referral_code: blank_is_none(form.referral_code),
    };
    let replaced = viewer.session_token().map(str::to_owned);
    let registered = blocking(&state, move |engine| {
        let registered = engine.register(&registration)?;
        end_replaced_session(engine, replaced.as_deref());
        Ok(registered)
    })
    .await;
    match registered {
        Ok((_, issued)) => signed_in(&state, &issued.token, issued.expires_at, &next),
        Err(err) => {
            let status = status_of(&err);
            let error = FormError::of(&err, SIGN_UP_FIELDS);
            html_with(
                status,
                sign_up_markup(
                    &viewer,
                    &Typed {
                        error: Some(&error),
                        username: &username,
                        email: &email,
                        full_name: &full_name,
                        currency: &currency,
                        referral_code: &referral,
                        next: &next,
                    },
                ),
            )
        }
    }
}

async fn sign_out(State(state): State<AppState>, viewer: Viewer) -> Response {
    if let Some(token) = viewer.session_token().map(str::to_owned) {
        // Signing out of a session that has just expired is still signing out.
        let _ = blocking(&state, move |engine| engine.logout(&token)).await;
    }
    signed_out(&state)
}

/// The account page's "Sign out everywhere": ends every session of the
/// signed-in account (other browsers, API tokens, this one), then answers as
/// signing out does. A failure is shown, since other sessions may live on.
async fn sign_out_everywhere(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    if let Some(user) = viewer.user_id() {
        blocking(&state, move |engine| engine.logout_all(user)).await?;
    }
    Ok(signed_out(&state))
}

/// A response that clears the session cookie and goes home.
fn signed_out(state: &AppState) -> Response {
    let mut response = see_other("/");
    if let Ok(value) = HeaderValue::from_str(&cookies::clear(
        cookies::SESSION,
        state.pages.secure_cookies,
    )) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

//! What the account pages share: the account navigation (with the bookings
//! page, served elsewhere), the account stylesheet, the one-line notices
//! (an error as an alert, a saved note as a status), and how an engine
//! error becomes a status and a sentence for a form (worded by
//! `form_error`: a refused value named by its label, no API names or paths).

use axum::http::StatusCode;
use maud::{Markup, html};

use crate::http::ApiError;
use crate::pages::assets;
use crate::pages::form_error::{FormError, FormField};
use crate::pages::layout::{Head, page};
use crate::pages::page::status_of;
use crate::pages::viewer::Viewer;

/// The sections of the account, in the navigation's order.
const SECTIONS: &[(&str, &str)] = &[
    ("/account", "Overview"),
    ("/account/profile", "Profile"),
    ("/account/branding", "Branding"),
    ("/account/availability", "Availability"),
    ("/account/earnings", "Earnings"),
    ("/account/bookings", "Bookings"),
];

/// An account page: `content` under the account navigation, `here` marked
/// as the current section.
pub fn account_page(
    viewer: &Viewer,
    title: &str,
    here: &str,
    scripts: &[&'static str],
    content: Markup,
) -> Markup {
    let body = html! {
        div class="account" {
            nav class="account-nav" aria-label="Account" {
                ul {
                    @for (path, name) in SECTIONS {
                        li {
                            @if *path == here {
                                a href=(path) aria-current="page" { (name) }
                            } @else {
                                a href=(path) { (name) }
                            }
                        }
                    }
                }
            }
            div class="account-body" { (content) }
        }
    };
    page(
        viewer,
        Head {
            title,
            scripts,
            stylesheets: vec![assets::url("account.css")],
            zone_sensitive: true,
            ..Head::default()
        },
        body,
    )
}

/// An error (`role="alert"`) or a saved note (`role="status"`), if any.
pub fn notices(error: Option<&str>, saved: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p class="alert" role="alert" { (error) }
        }
        @if let Some(saved) = saved {
            p class="success" role="status" { (saved) }
        }
    }
}

/// The status and sentence a form shows for `err`: 400 for the person's
/// mistakes (whatever the API would answer), the server's own status for
/// its failures. A refused value is named as people read its API name
/// (`Session duration: ...`); [`refusal`] names it by the form's label.
pub fn failure(err: &ApiError) -> (StatusCode, String) {
    let (status, error) = refusal(err, &[]);
    (status, error.message)
}

/// The status (as [`failure`]) and what a form with `fields` shows for
/// `err`: the sentence, and which of `fields` it is about.
pub fn refusal(err: &ApiError, fields: &[FormField]) -> (StatusCode, FormError) {
    let status = match status_of(err) {
        status if status.is_server_error() => status,
        _ => StatusCode::BAD_REQUEST,
    };
    (status, FormError::of(err, fields))
}

/// A parser's refusal as one of the form field `field` (a parser names
/// the kind of value it reads, e.g. `url`, `amount` or `local_time`, not
/// the field).
pub fn refusing(field: &'static str) -> impl Fn(droply_models::Error) -> ApiError {
    move |err| match err {
        droply_models::Error::Invalid { reason, .. } => {
            api_error(droply_models::Error::Invalid { field, reason })
        }
        other => api_error(other),
    }
}

/// An engine or model error as the API would answer it (a refused value
/// keeps which field it is, for [`refusal`]).
pub fn api_error(err: impl Into<droply_engine::Error>) -> ApiError {
    ApiError::from(err.into())
}

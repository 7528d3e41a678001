//! The web pages people use: server-rendered HTML from compile-time checked
//! templates (maud), served by the same binary as the API, over the same
//! engine. `routes/` holds one module per page or group of pages; `layout`
//! the frame they share; `viewer` who is looking (the cookie session, the
//! CSRF token, the time zone); `page` how a page or its error is answered;
//! `extract` what handlers take from a request (query, form, path), refused
//! as that error page; `missing` the 404 and 405 pages of addresses no
//! page serves; `form_error` what a refused form shows (a sentence naming
//! the field by its label, and the field marked for screen readers);
//! `format` money, times and ratings as people read them; `theme` an
//! expert's branding as a stylesheet; `assets` the
//! embedded stylesheet and scripts. Every page passes through `csrf` (a
//! token in an HttpOnly cookie that each form repeats) and
//! `security_headers` (a Content-Security-Policy without inline scripts,
//! no framing, no sniffing). The API keeps its bearer tokens; pages keep
//! the session in an HttpOnly cookie, so no script ever holds it.

mod assets;
mod contrast;
pub(crate) mod cookies;
pub(crate) mod csrf;
mod extract;
mod form_error;
mod format;
mod layout;
mod missing;
pub(crate) mod page;
mod payment_form;
mod routes;
mod security_headers;
mod settings;
mod stripe_return;
mod theme;
mod viewer;

use axum::Router;
use axum::middleware::from_fn_with_state;

pub(crate) use missing::missing;
pub use routes::account::{ONBOARDING_REFRESH_PATH, ONBOARDING_RETURN_PATH};
pub(crate) use security_headers::strict_transport_security;
pub use settings::{DEFAULT_PUBLIC_ORIGIN, PageSettings, ice_servers_json};

use crate::http::AppState;

/// Every page and asset, under the CSRF check and the security headers.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(routes::search::router())
        .merge(routes::auth::router())
        .merge(routes::account::router())
        .merge(routes::dropin::router())
        .merge(routes::content::router())
        .merge(routes::profile::router())
        .merge(routes::book::router())
        .merge(routes::bookings::router())
        .merge(routes::call::router())
        .merge(routes::time_zone::router())
        .merge(assets::router())
        .layer(from_fn_with_state(state.clone(), csrf::protect))
        .layer(from_fn_with_state(state.clone(), security_headers::add))
}

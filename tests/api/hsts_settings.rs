//! The HSTS policy as `droply serve --hsts-max-age` and
//! `--hsts-include-subdomains` set it: the real router is served with its
//! pages set up behind an HTTPS public URL (as in `cookie_prefix`), reached
//! over plain HTTP on loopback, and every answer carries the configured
//! `Strict-Transport-Security` value, not the fixed default.

use droply_server::pages::PageSettings;

use crate::app::{TestApp, spawn_router};

/// The real app behind `https://droply.example` with the HSTS policy
/// `max_age_secs` and `include_subdomains`.
fn spawn_app_with_hsts(max_age_secs: u64, include_subdomains: bool) -> TestApp {
    let pages = PageSettings::for_public_url("https://droply.example", None)
        .with_hsts(max_age_secs, include_subdomains)
        .expect("an HSTS policy within two years");
    spawn_router(move |state| droply_server::http::router(state.with_pages(pages)))
}

/// Asserts a page, an asset, the API and an API error all carry `expected`.
fn assert_every_answer_carries(app: &TestApp, expected: &str) {
    for path in ["/signin", "/assets/nope.js", "/health", "/v1/users/me"] {
        let response = app.get(path);
        assert_eq!(
            response.header("strict-transport-security"),
            Some(expected),
            "{path}: {}",
            response.head
        );
    }
}

/// Regression: the policy always bound every subdomain
/// (`includeSubDomains`), so a site with subdomains still on plain HTTP
/// could not serve HSTS without breaking them.
#[test]
fn hsts_without_include_subdomains_is_exactly_the_max_age() {
    let app = spawn_app_with_hsts(PageSettings::HSTS_MAX_AGE_DEFAULT, false);
    assert_every_answer_carries(&app, "max-age=31536000");
}

/// Regression: the policy's `max-age` was fixed at a year, so a site could
/// not have browsers forget it (`max-age=0`).
#[test]
fn hsts_max_age_zero_is_sent_so_browsers_forget_the_policy() {
    let app = spawn_app_with_hsts(0, true);
    assert_every_answer_carries(&app, "max-age=0; includeSubDomains");
}

/// A `max-age` over two years is refused before anything is served.
#[test]
fn hsts_max_age_over_two_years_is_refused() {
    let pages = PageSettings::for_public_url("https://droply.example", None);
    assert!(
        pages
            .with_hsts(PageSettings::HSTS_MAX_AGE_MOST + 1, true)
            .is_err()
    );
}

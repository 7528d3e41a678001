//! The security headers every page and asset is served with: a
//! Content-Security-Policy that allows scripts from this site only (no
//! inline script, and Stripe.js only when payments are configured), no
//! framing by other sites, no MIME sniffing, and a referrer that never
//! carries a path to another site. Behind an HTTPS public URL every answer
//! of the whole application (pages, assets and the API alike) also carries
//! `Strict-Transport-Security`, so a browser that has been here once never
//! again asks over plain HTTP, where its cookies could be read or planted.
//! That header's value is built once, at start, by
//! [`strict_transport_value`] from `droply serve`'s `--hsts-max-age` and
//! `--hsts-include-subdomains`, and kept in [`PageSettings`].

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::STRICT_TRANSPORT_SECURITY;
use axum::middleware::Next;
use axum::response::Response;

use super::PageSettings;
use crate::http::AppState;
use crate::{Error, Result};

/// The default HSTS policy: a year, subdomains included, never preloaded
/// (preloading is a decision for whoever owns the domain, and hard to
/// undo). What [`strict_transport_value`] makes of the defaults.
pub const STRICT_TRANSPORT: &str = "max-age=31536000; includeSubDomains";

/// The default HSTS `max-age`, in seconds: a year.
pub const HSTS_MAX_AGE_DEFAULT: u64 = 31_536_000;

/// The longest HSTS `max-age` accepted, in seconds: two years (browsers
/// cap what they keep there; a longer one is a typo, and a long mistake).
pub const HSTS_MAX_AGE_MOST: u64 = 63_072_000;

/// The `Strict-Transport-Security` value: `max-age={max_age_secs}`, with
/// `; includeSubDomains` when `include_subdomains` (the policy then binds
/// every subdomain of the host that sends it). A `max-age` of 0 has
/// browsers forget the policy; one over [`HSTS_MAX_AGE_MOST`] is a
/// configuration error. Called once, at start: the answers reuse the value.
pub fn strict_transport_value(max_age_secs: u64, include_subdomains: bool) -> Result<HeaderValue> {
    if max_age_secs > HSTS_MAX_AGE_MOST {
        return Err(Error::Config(format!(
            "--hsts-max-age (DROPLY_HSTS_MAX_AGE) is {max_age_secs} seconds, more than two years: \
             give at most {HSTS_MAX_AGE_MOST}, or 0 to have browsers forget the policy"
        )));
    }
    let policy = if include_subdomains {
        format!("max-age={max_age_secs}; includeSubDomains")
    } else {
        format!("max-age={max_age_secs}")
    };
    HeaderValue::from_str(&policy)
        .map_err(|err| Error::Config(format!("the HSTS policy {policy:?}: {err}")))
}

/// Where Stripe.js and its frames come from.
pub const STRIPE_JS: &str = "https://js.stripe.com";

/// The Content-Security-Policy for the pages; Stripe's origins are allowed
/// only when `stripe` (payments are configured).
pub fn content_security_policy(stripe: bool) -> String {
    let (script, frame, connect) = if stripe {
        (
            format!(" {STRIPE_JS}"),
            format!("frame-src {STRIPE_JS} https://hooks.stripe.com; "),
            " https://api.stripe.com".to_owned(),
        )
    } else {
        (
            String::new(),
            "frame-src 'none'; ".to_owned(),
            String::new(),
        )
    };
    format!(
        "default-src 'self'; script-src 'self'{script}; style-src 'self'; \
         img-src 'self' https: data:; font-src 'self'; connect-src 'self'{connect}; \
         {frame}object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Adds the security headers to every answer.
pub async fn add(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let policy = content_security_policy(state.pages.stripe_publishable_key.is_some());
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert("content-security-policy", value);
    }
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(self), microphone=(self), geolocation=()",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Adds `Strict-Transport-Security` (`pages.strict_transport`, built at
/// start) to every answer when the public URL is HTTPS
/// (`pages.secure_cookies`); over plain HTTP (local development, the
/// tests) it adds nothing: there is no HTTPS to hold browsers to.
pub async fn strict_transport_security(
    State(pages): State<Arc<PageSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if pages.secure_cookies {
        response
            .headers_mut()
            .insert(STRICT_TRANSPORT_SECURITY, pages.strict_transport.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_is_allowed_only_with_payments() {
        let off = content_security_policy(false);
        assert!(!off.contains("stripe") && !off.contains("unsafe-inline"));
        assert!(off.contains("frame-ancestors 'none'"));
        let on = content_security_policy(true);
        assert!(on.contains("script-src 'self' https://js.stripe.com;"));
    }

    /// The policy's text, which `strict_transport_value` must accept.
    fn policy(max_age_secs: u64, include_subdomains: bool) -> String {
        let value = strict_transport_value(max_age_secs, include_subdomains).expect("accepted");
        value.to_str().expect("ASCII").to_owned()
    }

    #[test]
    fn the_default_hsts_policy_is_a_year_with_subdomains_and_what_pages_send() {
        assert_eq!(policy(HSTS_MAX_AGE_DEFAULT, true), STRICT_TRANSPORT);
        assert_eq!(STRICT_TRANSPORT, "max-age=31536000; includeSubDomains");
        let pages = PageSettings::for_public_url("https://droply.example", None);
        assert_eq!(pages.strict_transport.to_str().ok(), Some(STRICT_TRANSPORT));
        assert_eq!(
            PageSettings::default().strict_transport.to_str().ok(),
            Some(STRICT_TRANSPORT)
        );
    }

    #[test]
    fn hsts_without_include_subdomains_is_the_max_age_alone() {
        assert_eq!(policy(HSTS_MAX_AGE_DEFAULT, false), "max-age=31536000");
        let pages = PageSettings::for_public_url("https://droply.example", None)
            .with_hsts(HSTS_MAX_AGE_DEFAULT, false)
            .expect("accepted");
        assert_eq!(
            pages.strict_transport.to_str().ok(),
            Some("max-age=31536000")
        );
    }

    #[test]
    fn hsts_max_age_zero_is_accepted_so_browsers_can_be_told_to_forget() {
        assert_eq!(policy(0, true), "max-age=0; includeSubDomains");
        assert_eq!(policy(0, false), "max-age=0");
    }

    #[test]
    fn hsts_max_age_over_two_years_is_refused_with_a_config_error() {
        assert_eq!(
            policy(HSTS_MAX_AGE_MOST, true),
            "max-age=63072000; includeSubDomains"
        );
        for refused in [HSTS_MAX_AGE_MOST + 1, u64::MAX] {
            match strict_transport_value(refused, false) {
                Err(Error::Config(message)) => {
                    assert!(message.contains("--hsts-max-age"), "{message}");
                    assert!(message.contains(&refused.to_string()), "{message}");
                }
                other => panic!("{refused}: {other:?}"),
            }
            let pages = PageSettings::for_public_url("https://droply.example", None);
            assert!(pages.with_hsts(refused, true).is_err(), "{refused}");
        }
    }
}

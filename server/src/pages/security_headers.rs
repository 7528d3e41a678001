//! The security headers every page and asset is served with: a
//! Content-Security-Policy that allows scripts from this site only (no
//! inline script, and Stripe.js only when payments are configured), no
//! framing by other sites, no MIME sniffing, and a referrer that never
//! carries a path to another site. Behind an HTTPS public URL every answer
//! of the whole application (pages, assets and the API alike) also carries
//! `Strict-Transport-Security`, so a browser that has been here once never
//! again asks over plain HTTP, where its cookies could be read or planted.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::STRICT_TRANSPORT_SECURITY;
use axum::middleware::Next;
use axum::response::Response;

use super::PageSettings;
use crate::http::AppState;

/// The HSTS policy: a year, subdomains included, not preloaded (preloading
/// is a decision for whoever owns the domain, and hard to undo).
pub const STRICT_TRANSPORT: &str = "max-age=31536000; includeSubDomains";

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

/// Adds `Strict-Transport-Security` to every answer when the public URL is
/// HTTPS (`pages.secure_cookies`); over plain HTTP (local development, the
/// tests) it adds nothing: there is no HTTPS to hold browsers to.
pub async fn strict_transport_security(
    State(pages): State<Arc<PageSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if pages.secure_cookies {
        response.headers_mut().insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT),
        );
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
}

//! The way back from Stripe: once a payment is confirmed, Stripe sends the
//! browser to the pay step's `return_url` (a booking's page with `?paid=1`,
//! a content page with `?bought=1`) with `payment_intent`,
//! `payment_intent_client_secret` and `redirect_status` added to its query.
//! The pages need none of them, and the client secret must not stay in the
//! browser's history or travel on in a `Referer`, so a page that arrives
//! with any of them answers [`leave_stripe_return`]: a `303` to the same
//! page without them (its own parameters kept), never cached.

use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::response::Response;

use super::page::see_other;

/// The parameters Stripe adds to a `return_url`.
const STRIPE_PARAMETERS: [&str; 3] = [
    "payment_intent",
    "payment_intent_client_secret",
    "redirect_status",
];

/// When `query` (the raw query string the page at `path` was asked with)
/// carries what Stripe adds on the way back, the `303` to `path` with the
/// rest of the query only (`no-store`); `None` when there is nothing to
/// take out. `path` is the page's own path, written by the handler.
pub fn leave_stripe_return(path: &str, query: Option<&str>) -> Option<Response> {
    let query = query?;
    let pairs: Vec<&str> = query.split('&').filter(|pair| !pair.is_empty()).collect();
    let kept: Vec<&str> = pairs
        .iter()
        .copied()
        .filter(|pair| !from_stripe(pair))
        .collect();
    if kept.len() == pairs.len() {
        return None;
    }
    let location = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    let mut response = see_other(&location);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(response)
}

/// Whether the `key=value` pair is one of the parameters Stripe adds.
fn from_stripe(pair: &str) -> bool {
    let key = pair.split_once('=').map_or(pair, |(key, _)| key);
    STRIPE_PARAMETERS.contains(&key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::http::header::LOCATION;

    fn location(path: &str, query: &str) -> Option<String> {
        leave_stripe_return(path, Some(query)).map(|response| {
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
            assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
            response.headers()[LOCATION]
                .to_str()
                .expect("ascii")
                .to_owned()
        })
    }

    #[test]
    fn stripes_parameters_are_taken_out_and_the_pages_own_kept() {
        assert_eq!(
            location(
                "/bookings/7",
                "paid=1&payment_intent=pi_1&payment_intent_client_secret=pi_1_secret_x&redirect_status=succeeded"
            )
            .as_deref(),
            Some("/bookings/7?paid=1")
        );
        assert_eq!(
            location("/c/3", "payment_intent_client_secret=s&bought=1&x=2").as_deref(),
            Some("/c/3?bought=1&x=2")
        );
        assert_eq!(
            location("/c/3", "redirect_status=failed").as_deref(),
            Some("/c/3")
        );
        assert_eq!(location("/c/3", "bought=1"), None);
        assert_eq!(location("/c/3", "payment_intents=1"), None);
        assert!(leave_stripe_return("/c/3", None).is_none());
    }
}

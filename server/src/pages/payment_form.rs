//! The card form of every paid step (a booking, a content purchase): Stripe's
//! Payment Element, mounted by `assets/pay.js` from the PaymentIntent's
//! client secret and the publishable key in data-* attributes (no inline
//! script), returning to `return_url` once Stripe confirms. Stripe.js comes
//! from [`STRIPE_JS_V3`], the one origin the CSP opens when payments are on.

use droply_engine::payments::PaymentStart;
use maud::{Markup, html};

use super::format;

/// Stripe.js, version 3.
pub const STRIPE_JS_V3: &str = "https://js.stripe.com/v3";

/// The page script that mounts and confirms the form.
pub const PAY_SCRIPT: &str = "pay.js";

/// The form that pays `payment`, returning to `return_url` (a path here).
pub fn payment_form(payment: &PaymentStart, publishable_key: &str, return_url: &str) -> Markup {
    html! {
        form id="pay-form" class="stack"
            data-client-secret=(payment.client_secret)
            data-publishable-key=(publishable_key)
            data-return-url=(return_url) {
            div id="payment-element" {}
            button type="submit" id="pay-button" { "Pay " (format::money(payment.amount)) }
            p id="pay-error" class="alert" role="alert" hidden {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::security_headers::STRIPE_JS;

    #[test]
    fn stripe_js_comes_from_the_origin_the_csp_allows() {
        assert_eq!(STRIPE_JS_V3, format!("{STRIPE_JS}/v3"));
    }
}

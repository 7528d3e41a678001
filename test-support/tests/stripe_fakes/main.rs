//! Tests of the Stripe fakes: localstripe's launcher (payments, webhooks,
//! refunds), the Connect fake (accounts, links, transfers, idempotency,
//! injected failures, the crash-test gate, forwarding to localstripe) and
//! the webhook sender. The localstripe tests need localstripe installed
//! (see `LocalStripe::start`).

mod connect;
mod forwarding;
mod localstripe;
mod sender;
mod support;

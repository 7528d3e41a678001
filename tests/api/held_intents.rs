//! Requests that wait while Stripe makes their PaymentIntent: an app over
//! the [`IntentFake`], a request sent while the fake holds the intent it
//! makes (with something else done meanwhile), and the checks that an
//! intent given up meanwhile hands out no client secret and is cancelled at
//! Stripe by the payments sweep.

use std::fmt::Debug;
use std::time::Duration;

use droply_engine::payments::{IntentCancel, Payment, StripeConfig, cancel_given_up_intents};
use droply_engine::store::Record;
use droply_test_support::stripe::{IntentFake, SECRET_KEY};

use crate::app::{Response, TestApp, WEBHOOK_SECRET, error_code, spawn_app_with};

/// An app whose Stripe is `stripe` (PaymentIntents only, held on demand).
pub(crate) fn spawn_app_on_intent_fake(stripe: &IntentFake) -> TestApp {
    let api_base = stripe.base_url();
    spawn_app_with(|config| {
        config.payments.stripe = Some(StripeConfig {
            api_base,
            ..StripeConfig::new(SECRET_KEY.into(), WEBHOOK_SECRET.into())
        });
    })
}

/// The one row of type `T` in `app`'s store.
pub(crate) fn the_only<T: Record + Debug>(app: &TestApp) -> T {
    let all: Vec<T> = app.store.iter::<T>().map(|row| row.expect("row")).collect();
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().expect("one row")
}

/// Sends `first` on a thread of its own while `stripe` holds the intents it
/// makes; once the request has reached Stripe, runs `meanwhile`, then lets
/// Stripe answer. What `meanwhile` returned, and `first`'s answer.
pub(crate) fn while_stripe_makes_the_intent<T>(
    stripe: &IntentFake,
    first: impl FnOnce() -> Response + Send,
    meanwhile: impl FnOnce() -> T,
) -> (T, Response) {
    stripe.hold_creates();
    let (reached, during, first) = std::thread::scope(|scope| {
        let first = scope.spawn(first);
        let reached = stripe.wait_for_held(1, Duration::from_secs(15));
        let during = meanwhile();
        stripe.release_creates();
        let first = first.join().expect("the first request");
        (reached, during, first)
    });
    assert!(reached, "the first request reached Stripe");
    (during, first)
}

/// `first` was refused, 409 `invalid_state`, with no client secret in it.
pub(crate) fn assert_refused_without_a_secret(first: &Response) {
    assert_eq!(
        (first.status, error_code(first).as_str()),
        (409, "invalid_state"),
        "{}",
        first.raw
    );
    assert!(
        !first.raw.contains("client_secret") && !first.raw.contains("_secret_"),
        "{}",
        first.raw
    );
}

/// The intent `payment` gave up: recorded, its cancel at Stripe requested.
pub(crate) fn the_intent_given_up(payment: &Payment) -> String {
    let intent = payment
        .intent_id
        .clone()
        .expect("the intent Stripe made is recorded");
    assert_eq!(payment.intent_cancel, IntentCancel::Requested);
    intent
}

/// The payments sweep cancels one intent, `intent`, at Stripe.
pub(crate) fn assert_the_sweep_cancels(app: &TestApp, stripe: &IntentFake, intent: &str) {
    assert_eq!(
        cancel_given_up_intents(app.engine.payments(), &app.store, app.engine.slot_policy())
            .expect("sweep"),
        1
    );
    assert_eq!(stripe.intent(intent).expect("made")["status"], "canceled");
}

//! Stand-ins for Stripe in tests, all on loopback and all usable from plain
//! synchronous `#[test]` functions:
//!
//! - [`LocalStripe`] ([`localstripe`]): launches localstripe 1.15.10, a
//!   Python fake of Stripe's payments API, plays the paying customer
//!   ([`LocalStripe::pay`], [`LocalStripe::pay_declined`]) and registers
//!   webhook receivers.
//! - [`StripeFake`] ([`connect_fake`]): an in-process fake of what
//!   localstripe lacks, Stripe Connect (connected accounts, account links,
//!   transfers), with idempotency keys, injected failures, a gate for
//!   crash tests and held account reads for races; it forwards every other
//!   request to an upstream
//!   localstripe, so one base URL serves both (verbatim, or repaired to
//!   Stripe's schema with [`StripeFake::set_upstream_fixups`]).
//! - [`IntentFake`] ([`intent_fake`]): PaymentIntents alone, in process,
//!   with Stripe's idempotency (a key still in use answers 409
//!   `idempotency_key_in_use`) and creations held until released, for
//!   tests of what happens while Stripe is still making an intent.
//! - [`webhook_sender`]: signs and posts webhook events as Stripe does.
//!
//! ```ignore
//! let localstripe = LocalStripe::start();
//! let stripe = StripeFake::start(Some(localstripe.base_url()));
//! // The server under test talks to `stripe.base_url()` with `SECRET_KEY`.
//! localstripe.register_webhook("http://127.0.0.1:PORT/v1/webhooks/stripe", "whsec_test");
//! // ... the server creates a PaymentIntent `pi` ...
//! localstripe.pay(pi);                  // payment_intent.succeeded about 1 s later
//! let host = stripe.add_account("host@droply.test", true);
//! // ... the server pays the host out; then:
//! assert_eq!(stripe.transfers().len(), 1);
//! ```
//!
//! # What localstripe 1.15.10 does (read from its source, checked by tests)
//!
//! **Events.** For PaymentIntents it emits only `payment_intent.succeeded`
//! (when the charge succeeds, i.e. at confirm for cards, or at capture with
//! `capture_method=manual`) and `payment_intent.payment_failed` (charge
//! declined). Nothing else: no `payment_intent.created`, `.processing`,
//! `.canceled`, `.requires_action`, `.amount_capturable_updated`, no
//! `charge.*` events at all, and **no event for refunds** (no
//! `charge.refunded`, `refund.created`, `refund.updated`): tests that need
//! those must post them with [`post_event`]. (It also emits `customer.*`,
//! `invoice.*`, `customer.subscription.*`, `plan.created`,
//! `product.created`, `payout.*` and `balance.available`.) Each event is
//! delivered about 1 s after it happens, once, with no retry whatever the
//! receiver answers, as pretty-printed JSON (indent 2, sorted keys; the
//! signature covers those exact bytes), `Content-Type: application/json;
//! charset=utf-8`, `Stripe-Signature: t=<event.created>,v1=<hex>`. The
//! envelope has `id`, `object`, `type`, `created`, `livemode`,
//! `api_version` (always `"2017-08-15"`) and `data.object` (a snapshot),
//! but no `pending_webhooks` and no `request` (so async-stripe's `Event`
//! cannot decode localstripe's webhooks: receivers must read them with a
//! laxer type). Events can also be listed:
//! `GET /v1/events?type=...` (oldest first).
//!
//! **PaymentIntent JSON** has `id`, `object`, `amount`, `currency`,
//! `status`, `metadata`, `client_secret`, `created`, `livemode`,
//! `customer`, `payment_method`, `capture_method` (default
//! `automatic_async`), `invoice`, `next_action`, `last_payment_error`,
//! `charges` (the deprecated list) and `latest_charge`, which is the
//! **whole Charge object, not its id** as at Stripe. It lacks
//! `amount_received`, `amount_capturable`, `confirmation_method`,
//! `payment_method_types` (all four required by async-stripe's
//! `PaymentIntent`, which therefore cannot decode localstripe's answers,
//! nor the expanded Charge, which lacks `amount_captured`, `disputed` and
//! `billing_details`: [`StripeFake::set_upstream_fixups`] repairs both),
//! `description`, `receipt_email`, `statement_descriptor`,
//! `transfer_group`, `transfer_data`, `on_behalf_of`,
//! `application_fee_amount`, `automatic_payment_methods`, `canceled_at`,
//! `cancellation_reason`, `setup_future_usage`, `shipping`,
//! `payment_method_options`, `amount_details`. Creation accepts only
//! `amount`, `currency`, `customer`, `payment_method`, `metadata`,
//! `capture_method`, `confirm`, `off_session`, and (ignored)
//! `payment_method_types`, `payment_method_options`, `expand`; any other
//! parameter (`transfer_group`, `description`, `receipt_email`,
//! `automatic_payment_methods[enabled]`, `on_behalf_of`,
//! `transfer_data[...]`, `application_fee_amount`, `statement_descriptor`,
//! `setup_future_usage`, ...) is a 400 `"Unexpected <name>"`. An update
//! (`POST /v1/payment_intents/{id}`) takes only fields the object has
//! (metadata is merged).
//!
//! **Surprises.** Confirming with `payment_method` answers 500 "Not
//! implemented" (set it by updating the intent, then confirm with no
//! parameters, as [`LocalStripe::pay`] does). The "declined" test card
//! `4000000000000002` is only refused when attached to a customer; charges
//! are declined on `4000000000000341`, and the confirm then answers 402
//! with error type `invalid_request_error` (Stripe says `card_error`),
//! code `card_declined`. `Idempotency-Key` is ignored (the same key twice
//! creates two intents). Refunds (`POST /v1/refunds`) accept only
//! `charge` or `payment_intent`, `amount` and `metadata` (`reason` is a
//! 400 "Unexpected reason"), succeed at once, are not checked against the
//! amount left (refunding 5000 of a 2000 charge succeeds), and a refund of
//! an unpaid or failed intent is a 400 "Cannot refund a failed payment.";
//! the Refund JSON has no `reason`. `GET /v1/refunds?payment_intent=` of an
//! intent without a charge is a 500. Cancelling sets `status: canceled`
//! only. Its errors are `{"error": {"type": "invalid_request_error",
//! "message": ...}}`, mostly without `code` (404 says "Not Found", 401
//! "Unauthorized"); an unknown route (e.g. `/v1/transfers`) is a 404 with
//! the plain-text body `404: Not Found`. `Stripe-Account` and
//! `Stripe-Version` are ignored. It listens on every interface (`::`),
//! with no option to change that, and writes its whole store to the fixed
//! path `/tmp/localstripe.pickle` after every change (`--from-scratch`
//! keeps it from reading it back, so parallel instances do not mix; the
//! file must be writable).

mod connect_api;
pub mod connect_fake;
mod connect_params;
mod connect_serve;
mod form;
mod holding;
pub(crate) mod http;
pub mod intent_fake;
pub mod localstripe;
mod upstream_fixups;
pub mod webhook_sender;

pub use connect_fake::{AccountReadGate, SeenRequest, StripeFake, TransferGate};
pub use intent_fake::IntentFake;
pub use localstripe::{LocalStripe, SECRET_KEY};
pub use webhook_sender::{event, post_event, signature_header};

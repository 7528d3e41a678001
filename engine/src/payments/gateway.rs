//! The Stripe gateway: every call the service makes to Stripe, through
//! async-stripe's typed requests and its hyper/rustls client, with an
//! idempotency key on every call that creates something. Responses are read
//! into lean types holding only the fields we use (Stripe adds fields
//! often; fakes such as localstripe omit some), never into floats.
//!
//! The engine is blocking, so the gateway owns a small runtime ("stripe-io")
//! and waits for each call on it; no call is ever made inside a store write
//! transaction. A call's failure says whether it is worth retrying
//! ([`GatewayError::retryable`]): Stripe refusing the request is final, a
//! network error, a timeout or a 5xx may succeed later with the same key;
//! and whether Stripe is still running another request with that key
//! ([`GatewayError::in_flight`]: its 409 `idempotency_key_in_use`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::mpsc;

use secrecy::ExposeSecret;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_connect::account::{CreateAccount, CreateAccountType, RetrieveAccount};
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};
use stripe_connect::transfer::{CreateTransfer, ListTransfer};
use stripe_core::charge::RetrieveCharge;
use stripe_core::payment_intent::{
    CancelPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent,
};
use stripe_core::refund::{CreateRefund, ListRefund};

use super::config::StripeConfig;
use crate::{Error, Result};

/// A failed call to Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    /// What went wrong, safe to log (never a key).
    pub message: String,
    /// Whether the same call (same idempotency key) may succeed later.
    pub retryable: bool,
    /// Whether Stripe refused it because another request with the same
    /// idempotency key is still running there (409
    /// `idempotency_key_in_use`): this call made nothing, and that
    /// request's answer settles what the key makes.
    pub in_flight: bool,
}

impl GatewayError {
    /// Whether Stripe refused the request because its idempotency key was
    /// first used with other parameters (400 `idempotency_error`): the
    /// request itself says nothing about what the key made, so it is
    /// neither a final refusal of that nor worth sending again as is.
    pub fn key_reused(&self) -> bool {
        !self.retryable && self.message.contains(KEY_REUSED)
    }
}

/// What Stripe says (in the message classify keeps) when an idempotency key
/// comes back with other parameters.
const KEY_REUSED: &str = "Keys for idempotent requests can only be used with the same parameters";

impl From<GatewayError> for Error {
    fn from(err: GatewayError) -> Self {
        Error::PaymentProvider(err.message)
    }
}

/// Stripe's error code for a request whose idempotency key another request
/// still running holds.
const KEY_IN_USE: &str = "idempotency_key_in_use";

fn classify(err: StripeError) -> GatewayError {
    match err {
        StripeError::Stripe(details, status) => GatewayError {
            in_flight: details
                .code
                .as_ref()
                .is_some_and(|code| code.as_str() == KEY_IN_USE),
            message: format!(
                "Stripe refused the request ({status}): {}",
                details
                    .message
                    .as_deref()
                    .map_or_else(|| "no message".to_owned(), without_keys)
            ),
            retryable: retryable_status(status),
        },
        StripeError::Timeout => GatewayError {
            message: "Stripe did not answer in time".to_owned(),
            retryable: true,
            in_flight: false,
        },
        StripeError::ClientError(why) => GatewayError {
            message: format!("Stripe could not be reached: {why}"),
            retryable: true,
            in_flight: false,
        },
        StripeError::JSONDeserialize(why) => GatewayError {
            message: format!("Stripe's answer could not be read: {why}"),
            retryable: true,
            in_flight: false,
        },
        StripeError::ConfigError(why) => GatewayError {
            message: format!("the Stripe client is misconfigured: {why}"),
            retryable: false,
            in_flight: false,
        },
    }
}

/// Whether Stripe refusing a call with HTTP `status` may pass later with the
/// same key: a conflict (409), a rate limit (429), Stripe's own failure
/// (5xx), or our key refused (401, 403: a key being rolled, or a restricted
/// key missing a permission, until the operator mends it). Anything else
/// is about the request itself and is final.
fn retryable_status(status: u16) -> bool {
    matches!(status, 401 | 403 | 409 | 429) || status >= 500
}

/// `text` (Stripe's words) with every key it names, even masked
/// (`sk_live_****abcd`, as Stripe quotes a revoked one), left out: the
/// message reaches logs and callers, which never see a key or part of one.
fn without_keys(text: &str) -> String {
    const KEYS: [&str; 4] = ["sk_", "rk_", "pk_", "whsec_"];
    text.split(' ')
        .map(|word| {
            let bare = word.trim_start_matches(['\'', '"', '(', '`']);
            if KEYS.iter().any(|prefix| bare.starts_with(prefix)) {
                "[a key]"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A PaymentIntent as far as we read it.
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct Intent {
    /// `pi_...`.
    pub id: String,
    /// What the paying client needs to confirm it.
    pub client_secret: Option<String>,
    /// Stripe's status (`requires_payment_method`, `succeeded`, ...).
    pub status: String,
    /// In Stripe's integer amount.
    pub amount: i64,
    /// Lower-case currency code.
    pub currency: String,
}

/// A charge as far as we read it.
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct ChargeReply {
    /// `ch_...`.
    pub id: String,
    /// The PaymentIntent it was made through (`pi_...`); none for a charge
    /// made without one.
    pub payment_intent: Option<String>,
}

/// A refund as far as we read it.
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct RefundReply {
    /// `re_...`.
    pub id: String,
    /// In Stripe's integer amount.
    pub amount: i64,
    /// `pending`, `succeeded`, `failed`, `canceled`, `requires_action`.
    pub status: Option<String>,
}

/// A new connected account as far as we read it: its id (its state comes
/// from `account.updated` webhooks).
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct AccountReply {
    /// `acct_...`.
    pub id: String,
}

/// A connected account's state as far as we read it.
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct AccountState {
    /// `acct_...`.
    pub id: String,
    /// Whether it can take charges.
    pub charges_enabled: Option<bool>,
    /// Whether it can be paid out.
    pub payouts_enabled: Option<bool>,
    /// Whether onboarding was completed.
    pub details_submitted: Option<bool>,
    /// What Stripe still wants.
    pub requirements: Option<AccountRequirements>,
}

/// What Stripe still wants of an account, as far as we read it.
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct AccountRequirements {
    /// Why the account is disabled, if it is.
    pub disabled_reason: Option<String>,
}

#[derive(Debug, Clone, miniserde::Deserialize)]
struct LinkReply {
    url: String,
}

/// A transfer as far as we read it.
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct TransferReply {
    /// `tr_...`.
    pub id: String,
}

/// A transfer as a list of them shows it, as far as we read it: its id and
/// the metadata that tells whose it is.
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct TransferFound {
    /// `tr_...`.
    pub id: String,
    /// Our ids and the store's tag, as the transfer was made with them.
    pub metadata: Option<HashMap<String, String>>,
}

/// A page of a transfer list.
#[derive(Debug, Clone, miniserde::Deserialize)]
struct TransferPage {
    data: Vec<TransferFound>,
}

/// A refund as a list of them shows it, as far as we read it.
#[derive(Debug, Clone, miniserde::Deserialize)]
pub struct RefundFound {
    /// `re_...`.
    pub id: String,
    /// `pending`, `succeeded`, `failed`, `canceled`, `requires_action`.
    pub status: Option<String>,
    /// Our ids and the store's tag, as the refund was made with them.
    pub metadata: Option<HashMap<String, String>>,
}

/// A page of a refund list.
#[derive(Debug, Clone, miniserde::Deserialize)]
struct RefundPage {
    data: Vec<RefundFound>,
}

/// What a new PaymentIntent asks for.
#[derive(Debug, Clone)]
pub struct IntentRequest {
    /// Stripe's integer amount.
    pub amount: i64,
    /// Lower-case currency code.
    pub currency: String,
    /// Our ids and the store's tag, read back from webhooks.
    pub metadata: HashMap<String, String>,
}

/// The client and the runtime its calls run on.
#[derive(Debug)]
pub struct Gateway {
    client: Client,
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
    onboarding_return_url: String,
    onboarding_refresh_url: String,
}

impl Drop for Gateway {
    /// Lets the runtime go without blocking: the last engine handle may be
    /// dropped on another runtime's worker thread, where blocking is refused.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Gateway {
    /// A gateway to the Stripe account `config` names.
    pub fn new(config: &StripeConfig) -> Result<Gateway> {
        let mut api_base = config.api_base.clone();
        if !api_base.ends_with('/') {
            api_base.push('/');
        }
        let client = ClientBuilder::new(config.secret_key.expose_secret())
            .url(api_base)
            .timeout(config.timeout)
            .app_info("droply", Some(env!("CARGO_PKG_VERSION").to_owned()), None)
            .build()
            .map_err(|err| Error::Config(classify(err).message))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("stripe-io")
            .enable_all()
            .build()?;
        Ok(Gateway {
            client,
            runtime: Some(runtime),
            onboarding_return_url: config.onboarding_return_url.clone(),
            onboarding_refresh_url: config.onboarding_refresh_url.clone(),
        })
    }

    /// Runs `call` on the gateway's runtime and waits for it; works from
    /// any thread, async or not.
    fn wait<T: Send + 'static>(
        &self,
        call: impl Future<Output = Result<T, StripeError>> + Send + 'static,
    ) -> Result<T, GatewayError> {
        let (answer, answered) = mpsc::channel();
        if let Some(runtime) = &self.runtime {
            runtime.spawn(async move {
                let _ = answer.send(call.await);
            });
        }
        answered
            .recv()
            .map_err(|_| GatewayError {
                message: "the Stripe call was dropped".to_owned(),
                retryable: true,
                in_flight: false,
            })?
            .map_err(classify)
    }

    fn send<T: miniserde::Deserialize + Send + 'static>(
        &self,
        request: &impl StripeRequest,
        key: Option<&str>,
    ) -> Result<T, GatewayError> {
        let mut customized = request.build().customize::<T>();
        if let Some(key) = key {
            let key = IdempotencyKey::new(key).map_err(|err| GatewayError {
                message: format!("bad idempotency key: {err}"),
                retryable: false,
                in_flight: false,
            })?;
            customized = customized.request_strategy(RequestStrategy::Idempotent(key));
        }
        let client = self.client.clone();
        self.wait(async move { customized.send(&client).await })
    }

    /// Creates a PaymentIntent, once per `key`.
    pub fn create_intent(
        &self,
        request: &IntentRequest,
        key: &str,
    ) -> Result<Intent, GatewayError> {
        let create = CreatePaymentIntent::new(
            request.amount,
            request
                .currency
                .parse::<stripe_types::Currency>()
                .unwrap_or_default(),
        )
        .metadata(request.metadata.clone());
        self.send(&create, Some(key))
    }

    /// The PaymentIntent `id` as it is now.
    pub fn intent(&self, id: &str) -> Result<Intent, GatewayError> {
        self.send(&RetrievePaymentIntent::new(id), None)
    }

    /// Charge `id` as it is now, with the PaymentIntent it was made through
    /// (a dispute from an older API version names its charge alone). A
    /// charge Stripe does not know is its 404, which is final (not
    /// [`GatewayError::retryable`]).
    pub fn charge(&self, id: &str) -> Result<ChargeReply, GatewayError> {
        self.send(&RetrieveCharge::new(id), None)
    }

    /// Cancels PaymentIntent `id`, so that it can no longer be paid; once
    /// per `key`. Stripe refuses (400) an intent that succeeded, or is
    /// being paid, meanwhile.
    pub fn cancel_intent(&self, id: &str, key: &str) -> Result<Intent, GatewayError> {
        self.send(&CancelPaymentIntent::new(id), Some(key))
    }

    /// Refunds `amount` of PaymentIntent `intent`, once per `key`.
    pub fn refund(
        &self,
        intent: &str,
        amount: i64,
        metadata: HashMap<String, String>,
        key: &str,
    ) -> Result<RefundReply, GatewayError> {
        let create = CreateRefund::new()
            .payment_intent(intent)
            .amount(amount)
            .metadata(metadata);
        self.send(&create, Some(key))
    }

    /// Creates an Express connected account, once per `key`.
    pub fn create_account(
        &self,
        email: &str,
        metadata: HashMap<String, String>,
        key: &str,
    ) -> Result<AccountReply, GatewayError> {
        let create = CreateAccount::new()
            .type_(CreateAccountType::Express)
            .email(email)
            .metadata(metadata);
        self.send(&create, Some(key))
    }

    /// Connected account `id` as it is now.
    pub fn account(&self, id: &str) -> Result<AccountState, GatewayError> {
        self.send(&RetrieveAccount::new(id), None)
    }

    /// A one-time onboarding link for account `id`.
    pub fn onboarding_link(&self, id: &str) -> Result<String, GatewayError> {
        let create = CreateAccountLink::new(id, CreateAccountLinkType::AccountOnboarding)
            .refresh_url(self.onboarding_refresh_url.clone())
            .return_url(self.onboarding_return_url.clone());
        self.send::<LinkReply>(&create, None).map(|link| link.url)
    }

    /// Moves `amount` to connected account `destination`, once per `key`.
    pub fn transfer(
        &self,
        amount: i64,
        currency: &str,
        destination: &str,
        group: &str,
        metadata: HashMap<String, String>,
        key: &str,
    ) -> Result<TransferReply, GatewayError> {
        let create = CreateTransfer::new(
            currency
                .parse::<stripe_types::Currency>()
                .unwrap_or_default(),
            destination,
        )
        .amount(amount)
        .transfer_group(group)
        .metadata(metadata);
        self.send(&create, Some(key))
    }

    /// The transfers of transfer group `group`, newest first (the first
    /// [`LIST_LIMIT`]): what a transfer sent again after Stripe forgot its
    /// idempotency key would make twice.
    pub fn transfers_in_group(&self, group: &str) -> Result<Vec<TransferFound>, GatewayError> {
        let list = ListTransfer::new().transfer_group(group).limit(LIST_LIMIT);
        self.send::<TransferPage>(&list, None).map(|page| page.data)
    }

    /// The refunds of PaymentIntent `intent`'s charge, newest first (the
    /// first [`LIST_LIMIT`]): what a refund sent again after Stripe forgot
    /// its idempotency key would make twice.
    pub fn refunds_of_intent(&self, intent: &str) -> Result<Vec<RefundFound>, GatewayError> {
        let list = ListRefund::new().payment_intent(intent).limit(LIST_LIMIT);
        self.send::<RefundPage>(&list, None).map(|page| page.data)
    }
}

/// How many objects a list call asks Stripe for: its most, far more
/// transfers than one payout's group or refunds than one payment holds.
const LIST_LIMIT: i64 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: Stripe's answer to a revoked key quotes it masked, and
    /// the 502 answered to the caller carried it.
    #[test]
    fn no_key_stripe_quotes_reaches_a_message() {
        let said = "Expired API Key provided: sk_live_****abcd. Roll it, not 'rk_test_51Xyz'.";
        let shown = without_keys(said);
        assert_eq!(
            shown,
            "Expired API Key provided: [a key] Roll it, not [a key]"
        );
        assert_eq!(
            without_keys("Amount must be at least 50 cents"),
            "Amount must be at least 50 cents"
        );
    }

    /// Stripe's 409 for a key another request still holds is told apart
    /// from any other conflict: the caller must not give up what that
    /// request is still making.
    #[test]
    fn a_key_in_use_by_another_request_is_in_flight() {
        let error = |json: &str| -> StripeError {
            let details: stripe::ApiErrors =
                miniserde::json::from_str(json).expect("a Stripe error body");
            StripeError::Stripe(Box::new(details), 409)
        };
        let in_use = classify(error(
            r#"{"type":"idempotency_error","code":"idempotency_key_in_use","message":"There is currently another in-progress request using this Idempotent Key"}"#,
        ));
        assert!(in_use.in_flight && in_use.retryable, "{in_use:?}");
        let locked = classify(error(
            r#"{"type":"invalid_request_error","code":"lock_timeout","message":"This object cannot be accessed right now"}"#,
        ));
        assert!(!locked.in_flight && locked.retryable, "{locked:?}");
        assert!(!classify(StripeError::Timeout).in_flight);
    }

    /// Regression: a refund Stripe answered with 401 (a key being rolled) was
    /// marked failed for good, and the client's money never came back.
    #[test]
    fn our_key_refused_is_worth_retrying_a_bad_request_is_not() {
        for status in [401, 403, 409, 429, 500, 503] {
            assert!(retryable_status(status), "{status}");
        }
        for status in [400, 402, 404] {
            assert!(!retryable_status(status), "{status}");
        }
    }
}

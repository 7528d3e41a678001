//! How payments are set up: the Stripe keys and API base (none: the service
//! runs without payments, free sessions only), the platform's fee, how long
//! earnings are held before they can be paid out, the refund policy, and how
//! often the background sweeps run. Secrets are [`SecretString`]s: their
//! `Debug` prints nothing, and they are exposed only to build a request.

use std::time::Duration;

use secrecy::SecretString;

/// Stripe's API, where the service's requests go unless configured otherwise.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com/";

/// The Stripe account the service charges with and pays out from.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// The secret API key (`sk_...`, `DROPLY_STRIPE_SECRET_KEY`).
    pub secret_key: SecretString,
    /// The webhook endpoint's signing secret (`whsec_...`,
    /// `DROPLY_STRIPE_WEBHOOK_SECRET`).
    pub webhook_secret: SecretString,
    /// The Connect webhook endpoint's signing secret (`whsec_...`,
    /// `DROPLY_STRIPE_CONNECT_WEBHOOK_SECRET`), if Stripe sends the events of
    /// connected accounts (`account.updated`, their `payout.*`) through one:
    /// a delivery signed with either secret is accepted.
    pub connect_webhook_secret: Option<SecretString>,
    /// The API's base URL with a trailing slash (`DROPLY_STRIPE_API_BASE`;
    /// tests point it at a fake on loopback).
    pub api_base: String,
    /// Where Stripe sends an expert back after onboarding.
    pub onboarding_return_url: String,
    /// Where Stripe sends an expert whose onboarding link expired.
    pub onboarding_refresh_url: String,
    /// How long one request to Stripe may take.
    pub timeout: Duration,
}

impl StripeConfig {
    /// Stripe with these keys and the defaults for the rest.
    pub fn new(secret_key: SecretString, webhook_secret: SecretString) -> Self {
        StripeConfig {
            secret_key,
            webhook_secret,
            connect_webhook_secret: None,
            api_base: STRIPE_API_BASE.to_owned(),
            onboarding_return_url: "http://localhost:8080/payouts/onboarded".to_owned(),
            onboarding_refresh_url: "http://localhost:8080/payouts/onboarding".to_owned(),
            timeout: Duration::from_secs(20),
        }
    }

    /// The secrets a webhook delivery may be signed with: the endpoint's,
    /// then the Connect endpoint's when there is one.
    pub fn webhook_secrets(&self) -> Vec<&SecretString> {
        std::iter::once(&self.webhook_secret)
            .chain(self.connect_webhook_secret.as_ref())
            .collect()
    }
}

/// What a cancelled, paid booking gets back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundPolicy {
    /// A client cancelling at least this many hours before the start gets a
    /// full refund; later, nothing. An expert cancelling always refunds in
    /// full.
    pub full_refund_hours_before: u32,
}

impl RefundPolicy {
    /// The last instant a client may cancel `booking` for a full refund
    /// (or move it, which would otherwise carry the payment past that
    /// instant).
    pub fn full_refund_until(&self, booking: &droply_models::Booking) -> droply_models::Timestamp {
        booking
            .start_time
            .plus_minutes(-60 * i64::from(self.full_refund_hours_before))
    }
}

impl Default for RefundPolicy {
    fn default() -> Self {
        RefundPolicy {
            full_refund_hours_before: 24,
        }
    }
}

/// Everything about money the engine needs.
#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    /// Stripe, or `None`: paid bookings and payouts answer
    /// `PaymentsNotConfigured`; free sessions still work.
    pub stripe: Option<StripeConfig>,
    /// The platform's share of each payment, in basis points (1500 = 15 %).
    pub platform_fee_bps: u32,
    /// Days after a session ends before its earning can be paid out.
    pub earnings_hold_days: u32,
    /// What a cancellation refunds.
    pub refund_policy: RefundPolicy,
    /// How often unfinished Stripe calls (payouts, refunds) are retried and
    /// scheduled payouts are made (`None`: never; the binary sets it).
    pub sweep_every: Option<Duration>,
    /// How old an unfinished call must be before the sweep retries it, so
    /// that it does not race the request still making it.
    pub retry_after: Duration,
    /// What referrers earn when the people they brought pay.
    pub referrals: super::ReferralRules,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            stripe: None,
            platform_fee_bps: 1500,
            earnings_hold_days: 7,
            refund_policy: RefundPolicy::default(),
            sweep_every: None,
            retry_after: Duration::from_secs(60),
            referrals: super::ReferralRules::default(),
        }
    }
}

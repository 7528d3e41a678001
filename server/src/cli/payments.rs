//! The payment flags of `droply serve`: Stripe's keys and API base (none:
//! payments off, free sessions only), the platform fee, the earnings hold,
//! the refund policy and the payment sweep. Keys are read into secret
//! values (`--help`, debug output and parse errors never show them).

use std::time::Duration;

use clap::Args;
use droply_engine::matching::RateTable;
use droply_engine::payments::{
    PaymentsConfig, ReferralRules, RefundPolicy, STRIPE_API_BASE, StripeConfig,
};
use droply_models::{Currency, Money};
use secrecy::SecretString;

use super::limits::{parse_duration, parse_interval};
use super::secret_values::secret;
use super::urls::{PublicUrl, parse_service_url, url_flag};
use crate::pages::{ONBOARDING_REFRESH_PATH, ONBOARDING_RETURN_PATH, PageSettings};
use crate::{Error, Result};

/// The payment flags.
#[derive(Debug, Clone, Args)]
pub struct PaymentArgs {
    /// Stripe secret API key (`sk_...`); without it paid bookings and
    /// payouts answer `payments_not_configured`.
    #[arg(long, env = "DROPLY_STRIPE_SECRET_KEY", hide_env_values = true, value_parser = secret())]
    pub stripe_secret_key: Option<SecretString>,
    /// The webhook endpoint's signing secret (`whsec_...`); required with a key.
    #[arg(long, env = "DROPLY_STRIPE_WEBHOOK_SECRET", hide_env_values = true, value_parser = secret())]
    pub stripe_webhook_secret: Option<SecretString>,
    /// The Connect webhook endpoint's signing secret (`whsec_...`), when Stripe
    /// sends the events of connected accounts (`account.updated`, their
    /// payouts) to an endpoint of their own; a delivery signed with either
    /// secret is accepted.
    #[arg(long, env = "DROPLY_STRIPE_CONNECT_WEBHOOK_SECRET", hide_env_values = true, value_parser = secret())]
    pub stripe_connect_webhook_secret: Option<SecretString>,
    /// Stripe's publishable key (`pk_...`), for the pages' card form
    /// (Stripe.js is loaded only with payments configured and this set).
    #[arg(long, env = "DROPLY_STRIPE_PUBLISHABLE_KEY")]
    pub stripe_publishable_key: Option<String>,
    /// Stripe's API base URL: https, or plain http to a loopback host only
    /// (tests point it at a fake there).
    #[arg(long, env = "DROPLY_STRIPE_API_BASE", default_value = STRIPE_API_BASE, value_parser = url_flag(parse_service_url))]
    pub stripe_api_base: String,
    /// The platform's fee in basis points (1500 = 15 %).
    #[arg(long, env = "DROPLY_PLATFORM_FEE_BPS", default_value_t = PaymentsConfig::default().platform_fee_bps, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub platform_fee_bps: u32,
    /// Days after a session before its earning can be paid out.
    #[arg(long, env = "DROPLY_EARNINGS_HOLD_DAYS", default_value_t = PaymentsConfig::default().earnings_hold_days)]
    pub earnings_hold_days: u32,
    /// A client cancelling at least this many hours ahead gets a full
    /// refund; later, none (an expert cancelling always refunds in full).
    #[arg(long, env = "DROPLY_FULL_REFUND_HOURS", default_value_t = RefundPolicy::default().full_refund_hours_before)]
    pub full_refund_hours: u32,
    /// How often unfinished Stripe calls are retried and scheduled payouts made.
    #[arg(long, env = "DROPLY_PAYMENTS_SWEEP_EVERY", default_value = "60s", value_parser = parse_interval)]
    pub payments_sweep_every: Duration,
    /// How old an unfinished Stripe call must be before the sweep repeats it.
    #[arg(long, env = "DROPLY_PAYMENTS_RETRY_AFTER", default_value = "60s", value_parser = parse_duration)]
    pub payments_retry_after: Duration,
    /// The referrer's share of the platform fee on a referred client's
    /// first completed paid booking, in basis points.
    #[arg(long, env = "DROPLY_REFERRAL_FIRST_BOOKING_SHARE_BPS", default_value_t = ReferralRules::default().first_booking_fee_share_bps, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub referral_first_booking_share_bps: u32,
    /// The referrer's share of the platform fee on a referred user's
    /// content purchases, in basis points.
    #[arg(long, env = "DROPLY_REFERRAL_CONTENT_SHARE_BPS", default_value_t = ReferralRules::default().content_fee_share_bps, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub referral_content_share_bps: u32,
    /// Months after sign-up during which content purchases earn rewards.
    #[arg(long, env = "DROPLY_REFERRAL_CONTENT_MONTHS", default_value_t = ReferralRules::default().content_months)]
    pub referral_content_months: u32,
    /// The most one referral earns, in minor units of
    /// `--referral-cap-currency` (10000: 100.00 USD); a reward in another
    /// currency is capped at this amount converted with the rate table,
    /// rounded down.
    #[arg(long, env = "DROPLY_REFERRAL_CAP_MINOR", default_value_t = ReferralRules::default().cap.amount_minor, value_parser = clap::value_parser!(i64).range(0..))]
    pub referral_cap_minor: i64,
    /// The currency `--referral-cap-minor` is in.
    #[arg(long, env = "DROPLY_REFERRAL_CAP_CURRENCY", default_value_t = ReferralRules::default().cap.currency, value_parser = parse_currency)]
    pub referral_cap_currency: Currency,
    /// Days a reward waits before it is credited.
    #[arg(long, env = "DROPLY_REFERRAL_HOLD_DAYS", default_value_t = ReferralRules::default().hold_days)]
    pub referral_hold_days: u32,
    /// The service's public base URL (http or https, a host, no query),
    /// where Stripe's onboarding returns; https makes cookies `Secure`.
    #[arg(
        long,
        env = "DROPLY_PUBLIC_URL",
        default_value = crate::pages::DEFAULT_PUBLIC_ORIGIN,
        value_parser = url_flag(PublicUrl::parse)
    )]
    pub public_url: PublicUrl,
}

impl PaymentArgs {
    /// How the pages are served: `Secure` cookies behind an HTTPS public
    /// URL, and Stripe.js only with payments configured and a publishable key.
    pub fn page_settings(&self) -> PageSettings {
        let publishable = self
            .stripe_publishable_key
            .clone()
            .filter(|key| !key.trim().is_empty() && self.stripe_secret_key.is_some());
        PageSettings::for_public_url(self.public_url.as_str(), publishable)
    }

    /// The engine's payment configuration; a key without a webhook secret
    /// (or the reverse), or a Connect webhook secret without them, is a
    /// configuration error.
    pub fn config(&self) -> Result<PaymentsConfig> {
        let stripe = match (&self.stripe_secret_key, &self.stripe_webhook_secret) {
            (Some(key), Some(webhook)) => {
                let base = self.public_url.as_str();
                Some(StripeConfig {
                    api_base: self.stripe_api_base.clone(),
                    onboarding_return_url: format!("{base}{ONBOARDING_RETURN_PATH}"),
                    onboarding_refresh_url: format!("{base}{ONBOARDING_REFRESH_PATH}"),
                    connect_webhook_secret: self.stripe_connect_webhook_secret.clone(),
                    ..StripeConfig::new(key.clone(), webhook.clone())
                })
            }
            (None, None) if self.stripe_connect_webhook_secret.is_some() => {
                return Err(Error::Config(
                    "DROPLY_STRIPE_CONNECT_WEBHOOK_SECRET is set without DROPLY_STRIPE_SECRET_KEY"
                        .to_owned(),
                ));
            }
            (None, None) => None,
            _ => {
                return Err(Error::Config(
                    "set both DROPLY_STRIPE_SECRET_KEY and DROPLY_STRIPE_WEBHOOK_SECRET, or neither"
                        .to_owned(),
                ));
            }
        };
        // The matcher's table (`MatcherConfig::default()`): budgets and the
        // cap read the same rates.
        let referrals = ReferralRules {
            first_booking_fee_share_bps: self.referral_first_booking_share_bps,
            content_fee_share_bps: self.referral_content_share_bps,
            content_months: self.referral_content_months,
            cap: Money::new(self.referral_cap_minor, self.referral_cap_currency),
            rates: RateTable::default(),
            hold_days: self.referral_hold_days,
        };
        referrals.check()?;
        Ok(PaymentsConfig {
            stripe,
            platform_fee_bps: self.platform_fee_bps,
            earnings_hold_days: self.earnings_hold_days,
            refund_policy: RefundPolicy {
                full_refund_hours_before: self.full_refund_hours,
            },
            sweep_every: Some(self.payments_sweep_every),
            retry_after: self.payments_retry_after,
            referrals,
        })
    }
}

/// An ISO 4217 code from the supported list (`USD`).
fn parse_currency(text: &str) -> std::result::Result<Currency, String> {
    Currency::parse(text).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use secrecy::ExposeSecret;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        payments: PaymentArgs,
    }

    fn flags(args: &[&str]) -> PaymentArgs {
        let mut argv = vec!["droply"];
        argv.extend_from_slice(args);
        Flags::try_parse_from(argv).expect("flags").payments
    }

    /// Regression: the Connect endpoint's secret could not be given, so the
    /// events of connected accounts it signs were refused.
    #[test]
    fn the_connect_webhook_secret_is_kept_beside_the_webhook_secret_and_never_shown() {
        let args = flags(&[
            "--stripe-secret-key",
            "sk_test_key_123",
            "--stripe-webhook-secret",
            "whsec_account_456",
            "--stripe-connect-webhook-secret",
            "whsec_connect_789",
        ]);
        let config = args.config().expect("config");
        let stripe = config.stripe.as_ref().expect("stripe on");
        let connect = stripe
            .connect_webhook_secret
            .as_ref()
            .expect("the Connect secret");
        assert_eq!(connect.expose_secret(), "whsec_connect_789");
        assert_eq!(stripe.webhook_secrets().len(), 2);
        for debug in [format!("{args:?}"), format!("{config:?}")] {
            assert!(!debug.contains("whsec_connect_789"), "{debug}");
            assert!(!debug.contains("whsec_account_456"), "{debug}");
        }
        let without = flags(&[
            "--stripe-secret-key",
            "sk_test_key_123",
            "--stripe-webhook-secret",
            "whsec_account_456",
        ])
        .config()
        .expect("config");
        let stripe = without.stripe.as_ref().expect("stripe on");
        assert!(stripe.connect_webhook_secret.is_none());
        assert_eq!(stripe.webhook_secrets().len(), 1);
    }

    /// Regression: a `--public-url` with a space before it gave plain
    /// cookies (the scheme was read untrimmed) but an HTTPS public origin,
    /// and without a scheme it made relative onboarding links for Stripe.
    #[test]
    fn the_public_url_is_read_once_and_every_use_agrees() {
        let args = flags(&[
            "--stripe-secret-key",
            "sk_test_key_123",
            "--stripe-webhook-secret",
            "whsec_account_456",
            "--public-url",
            " https://droply.example/ ",
        ]);
        let pages = args.page_settings();
        assert!(pages.secure_cookies);
        assert_eq!(
            pages.public_origin.as_deref(),
            Some("https://droply.example")
        );
        let config = args.config().expect("config");
        let stripe = config.stripe.as_ref().expect("stripe on");
        assert_eq!(
            stripe.onboarding_return_url,
            format!("https://droply.example{ONBOARDING_RETURN_PATH}")
        );
        for bad in ["droply.example", "https://droply.example/?next=1"] {
            let err = Flags::try_parse_from(["droply", "--public-url", bad])
                .expect_err(bad)
                .to_string();
            assert!(err.contains("--public-url"), "{err}");
        }
    }

    #[test]
    fn a_stripe_api_base_over_plain_http_to_another_host_is_refused() {
        let err = Flags::try_parse_from(["droply", "--stripe-api-base", "http://stripe.internal/"])
            .expect_err("plain http to another host")
            .to_string();
        assert!(err.contains("--stripe-api-base"), "{err}");
        let fake = flags(&["--stripe-api-base", "http://127.0.0.1:8420/"]);
        assert_eq!(fake.stripe_api_base, "http://127.0.0.1:8420/");
        assert_eq!(flags(&[]).stripe_api_base, STRIPE_API_BASE);
    }

    #[test]
    fn a_connect_webhook_secret_without_stripe_is_refused() {
        assert!(
            flags(&["--stripe-connect-webhook-secret", "whsec_connect_789"])
                .config()
                .is_err()
        );
    }
}

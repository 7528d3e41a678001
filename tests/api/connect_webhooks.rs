//! Events of connected accounts through the server: Stripe sends them to a
//! Connect endpoint, which signs with a secret of its own
//! (`DROPLY_STRIPE_CONNECT_WEBHOOK_SECRET`); a delivery to the one webhook URL
//! signed with either secret is applied, one signed with neither is refused.

use droply_test_support::stripe::{event, post_event};
use serde_json::json;

use crate::app::{TestApp, spawn_app_paying_with};
use crate::availability::expert_working;
use crate::payments::url;
use crate::payouts::not_onboarded;

/// The Connect endpoint's signing secret the app below is given.
const CONNECT_SECRET: &str = "whsec_droply_connect_tests";

/// The expert's payout account as the API shows it: (status, payouts_enabled).
fn payout_account(app: &TestApp, token: &str) -> (String, bool) {
    let account = app.authed("GET", "/v1/payouts/account", token, None);
    assert_eq!(account.status, 200, "{}", account.raw);
    (
        account.body["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        account.body["payouts_enabled"].as_bool().unwrap_or(false),
    )
}

/// Regression: `account.updated` comes from the Connect endpoint, signed with its
/// own secret, and was answered 400 `invalid_signature` (only the account
/// endpoint's secret was tried), so onboarding never completed.
#[test]
fn account_updated_signed_with_the_connect_secret_completes_onboarding() {
    let app = spawn_app_paying_with(|config| {
        if let Some(stripe) = config.payments.stripe.as_mut() {
            stripe.connect_webhook_secret = Some(CONNECT_SECRET.into());
        }
    });
    let (expert, token) = expert_working(&app, "olga", "Europe/Berlin", "09:00", "17:00");
    not_onboarded(&app, expert);
    let onboarding = app.authed("POST", "/v1/payouts/onboarding", &token, None);
    assert_eq!(onboarding.status, 200, "{}", onboarding.raw);
    assert_eq!(payout_account(&app, &token), ("pending".to_owned(), false));

    let stripe = app.stripe.as_ref().expect("stripe");
    let id = stripe.fake.accounts()[0]["id"]
        .as_str()
        .expect("account id")
        .to_owned();
    stripe.fake.activate(&id);
    let activated = stripe.fake.account(&id).expect("account");
    let mut delivery = event("evt_connect_acct", "account.updated", activated);
    delivery["account"] = json!(id);

    // Signed with neither endpoint's secret: refused, nothing changes.
    let (status, answer) = post_event(&url(&app), "whsec_someone_else", &delivery);
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("invalid_signature"), "{answer}");
    assert_eq!(payout_account(&app, &token), ("pending".to_owned(), false));

    // Signed with the Connect endpoint's secret: applied.
    let (status, answer) = post_event(&url(&app), CONNECT_SECRET, &delivery);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(payout_account(&app, &token), ("active".to_owned(), true));
    app.assert_no_leaks();
}

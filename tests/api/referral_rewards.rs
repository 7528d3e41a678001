//! Referral rewards over HTTP: the referred client's first completed paid
//! booking and their content purchases earn the referrer a share of the
//! platform's fee, once per booking or purchase however often Stripe
//! delivers, within a cap per referral; pending through the hold, then
//! credited through the ledger; taken back when the payment is refunded.

use droply_engine::payments::ledger::{LedgerEntry, LedgerKind};
use droply_engine::payments::{reward_sweep, stored_payment_of_purchase};
use droply_models::{
    ContentPurchase, ContentPurchaseId, Currency, Money, PaymentStatus, Timestamp, UserId,
};
use droply_test_support::stripe::{event, post_event};
use serde_json::json;

use crate::app::{TestApp, WEBHOOK_SECRET, spawn_app_paying, spawn_app_paying_with};
use crate::availability::expert_working;
use crate::bookings::held_then_completed;
use crate::content::published_guide;
use crate::dates;

pub(crate) fn sign_up_with(app: &TestApp, name: &str, code: &str) -> (u64, String) {
    let body = json!({"username": name, "email": format!("{name}@example.com"), "password": format!("password-{name}"),
                      "full_name": format!("{name} Person"), "referral_code": code});
    let made = app.request("POST", "/v1/auth/register", Some(&body.to_string()));
    assert_eq!(made.status, 201, "{}", made.raw);
    let token = made.body["token"].as_str().expect("token").to_owned();
    let id = made.body["user"]["id"].as_u64().expect("id");
    app.users
        .lock()
        .expect("users")
        .push((id, format!("{name}@example.com"), token.clone()));
    (id, token)
}

pub(crate) fn rewards(app: &TestApp, token: &str) -> serde_json::Value {
    let seen = app.authed("GET", "/v1/referrals", token, None);
    assert_eq!(seen.status, 200, "{}", seen.raw);
    seen.body
}

/// The referrer's `total_referral_earnings` (regression: it stayed zero).
fn referral_earnings(app: &TestApp, user: u64) -> i64 {
    let row: droply_models::User = app.store.require(UserId::new(user)).expect("user");
    row.total_referral_earnings.amount_minor
}

fn reward_rows(app: &TestApp, user: u64) -> Vec<(LedgerKind, i64)> {
    app.store
        .iter::<LedgerEntry>()
        .map(|row| row.expect("row"))
        .filter(|row| {
            row.account == Some(UserId::new(user)) || matches!(row.kind, LedgerKind::ReferralCost)
        })
        .map(|row| (row.kind, row.amount.amount_minor))
        .collect()
}

#[test]
fn referred_payments_earn_capped_rewards_once_credited_after_the_hold_and_taken_back_on_refund() {
    let app = spawn_app_paying_with(|config| {
        config.payments.referrals.cap = Money::new(700, Currency::USD);
    });
    let (rita, rita_token) = app.register("rita");
    let code = app.authed("GET", "/v1/users/me", &rita_token, None).body["referral_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let (_, carl) = sign_up_with(&app, "carl", &code);
    let (_, ruth) = expert_working(&app, "ruth", "Europe/Berlin", "09:00", "17:00");
    let ruth_id = app.authed("GET", "/v1/users/me", &ruth, None).body["id"]
        .as_u64()
        .expect("id");

    // Carl's first paid session, completed: half the 13.50 fee, 6.75.
    let booked = app.post_booking(
        &carl,
        &format!(
            r#"{{"provider_id":{ruth_id},"start_time":"{}","duration":60}}"#,
            dates::at(0, "09:00")
        ),
    );
    assert_eq!(booked.status, 201, "{}", booked.raw);
    let booking = booked.body["id"].as_u64().expect("id");
    app.pay_booking(booking);
    held_then_completed(&app, booking, Timestamp::now().plus_minutes(-180), &ruth);
    let seen = rewards(&app, &rita_token);
    assert_eq!(seen["rewards"][0]["reward_type"], "first_booking", "{seen}");
    assert_eq!(seen["rewards"][0]["amount"]["amount_minor"], 675);
    assert_eq!(seen["rewards"][0]["status"], "pending");
    assert_eq!(seen["rewards"][0]["referred_name"], "carl P.");
    assert_eq!(seen["referred"][0]["status"], "qualified");

    // A content purchase: 20 % of the 2.85 fee is 0.57, but the cap leaves 0.25.
    let guide = published_guide(&app, &ruth, "Ruth's guide", 1_900);
    let started = app.authed(
        "POST",
        &format!("/v1/content/{guide}/purchase"),
        &carl,
        None,
    );
    assert_eq!(started.status, 201, "{}", started.raw);
    let purchase = started.body["id"].as_u64().expect("id");
    let intent = loop {
        let row: ContentPurchase = app
            .store
            .require(ContentPurchaseId::new(purchase))
            .expect("row");
        if let Some(intent) = row.stripe_payment_intent_id {
            break intent;
        }
    };
    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.local.pay(&intent)["status"], "succeeded");
    let started = std::time::Instant::now();
    while rewards(&app, &rita_token)["rewards"]
        .as_array()
        .map(Vec::len)
        != Some(2)
    {
        assert!(started.elapsed().as_secs() < 15, "no content reward");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let seen = rewards(&app, &rita_token);
    assert_eq!(seen["rewards"][0]["reward_type"], "content_sale", "{seen}");
    assert_eq!(seen["rewards"][0]["amount"]["amount_minor"], 25, "capped");
    assert_eq!(
        seen["reward_totals"],
        json!([{"status": "pending", "amount": {"amount_minor": 700, "currency": "USD"}}])
    );
    assert!(
        reward_rows(&app, rita).is_empty(),
        "nothing credited during the hold"
    );
    // Regression: a referrer could move to another currency while rewards in hers
    // were held, and those were then never credited.
    let euros = app.authed(
        "PATCH",
        "/v1/users/me",
        &rita_token,
        Some(r#"{"currency":"EUR"}"#),
    );
    assert_eq!(
        (euros.status, crate::app::error_code(&euros).as_str()),
        (400, "invalid_input"),
        "{}",
        euros.raw
    );
    assert!(euros.raw.contains("referral reward"), "{}", euros.raw);

    // The hold passes: both credited, once, through the ledger.
    let rules = app.engine.payments().config().referrals.clone();
    let later = Timestamp::now().plus_days(i64::from(rules.hold_days) + 1);
    assert_eq!(reward_sweep(&app.store, &rules, later).expect("sweep"), 2);
    assert_eq!(
        reward_sweep(&app.store, &rules, later).expect("sweep"),
        0,
        "once"
    );
    let rows = reward_rows(&app, rita);
    assert_eq!(
        rows.iter()
            .filter(|(k, _)| *k == LedgerKind::ReferralReward)
            .map(|(_, a)| a)
            .sum::<i64>(),
        700
    );
    assert_eq!(
        rows.iter()
            .filter(|(k, _)| *k == LedgerKind::ReferralCost)
            .map(|(_, a)| a)
            .sum::<i64>(),
        -700
    );
    let earnings = app.authed("GET", "/v1/earnings", &rita_token, None);
    assert_eq!(
        earnings.body["total_earnings"]["amount_minor"], 700,
        "{}",
        earnings.raw
    );
    assert_eq!(referral_earnings(&app, rita), 700);
    let seen = rewards(&app, &rita_token);
    assert_eq!(
        seen["reward_totals"],
        json!([{"status": "paid", "amount": {"amount_minor": 700, "currency": "USD"}}])
    );
    assert_eq!(seen["referred"][0]["status"], "rewarded");

    // Ruth refunds the purchase: its reward is taken back.
    let refunded = app.authed(
        "POST",
        &format!("/v1/purchases/{purchase}/refund"),
        &ruth,
        None,
    );
    assert_eq!(refunded.status, 200, "{}", refunded.raw);
    let started = std::time::Instant::now();
    loop {
        let row: ContentPurchase = app
            .store
            .require(ContentPurchaseId::new(purchase))
            .expect("row");
        if row.payment_status == PaymentStatus::Refunded {
            break;
        }
        assert!(started.elapsed().as_secs() < 15, "never refunded: {row:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let seen = rewards(&app, &rita_token);
    assert_eq!(seen["rewards"][0]["status"], "cancelled", "{seen}");
    let earnings = app.authed("GET", "/v1/earnings", &rita_token, None);
    assert_eq!(
        earnings.body["total_earnings"]["amount_minor"], 675,
        "{}",
        earnings.raw
    );
    assert_eq!(referral_earnings(&app, rita), 675);
    let report = app.store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
    app.assert_no_leaks();
}

/// Regression: the cap was 10,000 minor units of whatever currency a reward was in
/// (100 USD, but ₫10,000, about 0.40 USD), so a VND referrer got ₫10,000 for a
/// ₫2,000,000 first booking whose fee share is ₫150,000. The cap is 100.00 USD stated
/// in dong (about ₫2,564,000), which leaves the share whole.
#[test]
fn a_vnd_first_booking_earns_half_the_fee_not_ten_thousand_dong() {
    let app = spawn_app_paying();
    let (rita, rita_token) = app.register("rita");
    let dong = app.authed(
        "PATCH",
        "/v1/users/me",
        &rita_token,
        Some(r#"{"currency":"VND"}"#),
    );
    assert_eq!(dong.status, 200, "{}", dong.raw);
    let code = app.authed("GET", "/v1/users/me", &rita_token, None).body["referral_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let (_, carl) = sign_up_with(&app, "carl", &code);
    let (ruth_id, ruth) = expert_working(&app, "ruth", "Europe/Berlin", "09:00", "17:00");
    let priced = app.authed(
        "PATCH",
        "/v1/users/me",
        &ruth,
        Some(r#"{"currency":"VND","hourly_rate":2000000}"#),
    );
    assert_eq!(priced.status, 200, "{}", priced.raw);

    let booked = app.post_booking(
        &carl,
        &format!(
            r#"{{"provider_id":{ruth_id},"start_time":"{}","duration":60}}"#,
            dates::at(0, "09:00")
        ),
    );
    assert_eq!(booked.status, 201, "{}", booked.raw);
    assert_eq!(
        booked.body["payment_amount"],
        json!({"amount_minor": 2_000_000, "currency": "VND"})
    );
    let booking = booked.body["id"].as_u64().expect("id");
    app.pay_booking(booking);
    held_then_completed(&app, booking, Timestamp::now().plus_minutes(-180), &ruth);

    // The platform keeps 15 %, ₫300,000; half of it is Rita's.
    let seen = rewards(&app, &rita_token);
    assert_eq!(seen["rewards"][0]["reward_type"], "first_booking", "{seen}");
    assert_eq!(
        seen["rewards"][0]["amount"],
        json!({"amount_minor": 150_000, "currency": "VND"}),
        "{seen}"
    );
    let rules = app.engine.payments().config().referrals.clone();
    let later = Timestamp::now().plus_days(i64::from(rules.hold_days) + 1);
    assert_eq!(reward_sweep(&app.store, &rules, later).expect("sweep"), 1);
    assert_eq!(referral_earnings(&app, rita), 150_000);
    let report = app.store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

/// Regression: a reward took its share of the whole fee though part of the payment had
/// been refunded, and a reward cancelled by a full refund stayed cancelled when that
/// refund failed at Stripe after all.
#[test]
fn a_reward_is_a_share_of_the_fee_kept_through_partial_and_failed_refunds() {
    let app = spawn_app_paying_with(|_| {});
    let (rita, rita_token) = app.register("rita");
    let code = app.authed("GET", "/v1/users/me", &rita_token, None).body["referral_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let (_, carl) = sign_up_with(&app, "carl", &code);
    let (_, ruth) = expert_working(&app, "ruth", "Europe/Berlin", "09:00", "17:00");
    let guide = published_guide(&app, &ruth, "Ruth's guide", 1_900);
    let purchase = crate::content_purchases::paid_purchase(&app, &carl, guide);
    let status = || {
        let seen = rewards(&app, &rita_token);
        assert_eq!(seen["rewards"].as_array().map(Vec::len), Some(1), "{seen}");
        (
            seen["rewards"][0]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            seen["rewards"][0]["amount"]["amount_minor"]
                .as_i64()
                .unwrap_or_default(),
        )
    };
    assert_eq!(status(), ("pending".to_owned(), 57), "20 % of the 2.85 fee");

    let intent = stored_payment_of_purchase(&app.store, ContentPurchaseId::new(purchase))
        .expect("read")
        .expect("payment")
        .intent_id
        .expect("intent");
    let url = format!("http://{}/v1/webhooks/stripe", app.addr);
    let refund = |event_id: &str, refund_id: &str, amount: i64, state: &str| {
        let object = json!({
            "id": refund_id, "object": "refund", "payment_intent": intent, "amount": amount,
            "currency": "usd", "status": state, "metadata": {},
        });
        let (status, answer) = post_event(
            &url,
            WEBHOOK_SECRET,
            &event(event_id, "refund.updated", object),
        );
        assert_eq!(status, 200, "{answer}");
    };
    refund("evt_full", "re_full", 1_900, "succeeded");
    assert_eq!(status(), ("cancelled".to_owned(), 57));
    refund("evt_full_failed", "re_full", 1_900, "failed");
    assert_eq!(
        status(),
        ("pending".to_owned(), 57),
        "the refund failed: the reward stands again"
    );
    refund("evt_half", "re_half", 950, "succeeded");
    let row: ContentPurchase = app
        .store
        .require(ContentPurchaseId::new(purchase))
        .expect("row");
    assert_eq!(row.payment_status, PaymentStatus::PartiallyRefunded);

    let rules = app.engine.payments().config().referrals.clone();
    let later = Timestamp::now().plus_days(i64::from(rules.hold_days) + 1);
    assert_eq!(reward_sweep(&app.store, &rules, later).expect("sweep"), 1);
    // The platform kept 2.85 - 1.42 = 1.43 of the fee; a fifth of it is 0.28.
    assert_eq!(status(), ("paid".to_owned(), 28));
    assert_eq!(referral_earnings(&app, rita), 28);
    let report = app.store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

/// Regression: `/v1/referrals` summed only the rewards it had read (up to a
/// thousand), and listed up to a thousand where it promised the latest 100.
#[test]
fn reward_totals_cover_every_reward_and_the_list_the_latest_hundred() {
    use droply_models::{RewardStatus, Timestamp, UserId};
    use droply_test_support::fixtures;

    let app = crate::app::spawn_app();
    let (rita, rita_token) = app.register("rita");
    let (ruth, _) = app.register("ruth");
    let count = 1_100;
    let start = Timestamp::now().plus_days(-400);
    app.store
        .write(|txn| {
            for n in 0..count {
                let at = start.plus_minutes(n as i64).to_rfc3339();
                let mut reward = fixtures::reward(UserId::new(rita), UserId::new(ruth), None, &at);
                reward.reward_amount = droply_models::Money::new(10, droply_models::Currency::EUR);
                if n % 2 == 0 {
                    reward.status = RewardStatus::Cancelled;
                    reward.paid_at = None;
                }
                txn.create(reward)?;
            }
            Ok(())
        })
        .expect("many rewards");
    let seen = rewards(&app, &rita_token);
    assert_eq!(
        seen["rewards"].as_array().map(Vec::len),
        Some(100),
        "the latest 100"
    );
    assert_eq!(
        seen["reward_totals"],
        json!([
            {"status": "cancelled", "amount": {"amount_minor": 10 * count / 2, "currency": "EUR"}},
            {"status": "paid", "amount": {"amount_minor": 10 * count / 2, "currency": "EUR"}},
        ]),
        "{seen}"
    );
}

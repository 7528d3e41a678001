//! Closing an account and money: a balance not paid out keeps the account
//! open (409), a closed referrer earns no referral reward, and purchases
//! the user started and left unpaid are given up (one paid anyway is
//! refunded in full, never granted to the closed account).

use droply_engine::content::holds;
use droply_engine::payments::{ledger, reward_sweep, stored_payment_of_purchase};
use droply_models::{
    ContentId, ContentPurchase, ContentPurchaseId, PaymentStatus, ReferralReward, RewardStatus,
    Timestamp, User, UserId,
};

use crate::account_close::{any_row, close};
use crate::app::{error_code, spawn_app, spawn_app_paying};
use crate::availability::expert_working;
use crate::bookings::held_then_completed;
use crate::content::published_guide;
use crate::content_purchases::wait_for_purchase;
use crate::payments::{assert_consistent, book, slot, usd};
use crate::referral_rewards::sign_up_with;

#[test]
fn a_balance_not_paid_out_keeps_the_account_open_with_409() {
    let app = spawn_app();
    let (mona, token) = app.register("mona");
    app.make_expert(mona, "Europe/Berlin");
    app.store
        .write(|txn| {
            ledger::record_opening_balance(txn, UserId::new(mona), usd(5_000), Timestamp::now())
        })
        .expect("balance");
    let refused = close(&app, &token, "password-mona");
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (409, "invalid_state"),
        "{}",
        refused.raw
    );
    let message = refused.body["message"].as_str().expect("message");
    assert!(message.contains("USD 50.00"), "{message}");
    assert_eq!(app.authed("GET", "/v1/users/me", &token, None).status, 200);
    assert_eq!(app.get(&format!("/v1/experts/{mona}")).status, 200);
}

/// Regression: a closed account kept earning referral rewards (credited to a
/// balance nobody can pay out) when the people it referred paid.
#[test]
fn a_closed_referrer_earns_no_referral_reward() {
    let app = spawn_app_paying();
    let (rita, rita_token) = app.register("rita");
    let code = app.authed("GET", "/v1/users/me", &rita_token, None).body["referral_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let (_, carl) = sign_up_with(&app, "carl", &code);
    let (ruth, ruth_token) = expert_working(&app, "ruth", "Europe/Berlin", "09:00", "17:00");
    let closed = close(&app, &rita_token, "password-rita");
    assert_eq!(closed.status, 204, "{}", closed.raw);

    // Carl's first paid session, completed: it would earn his referrer half the fee.
    let booked = book(&app, &carl, ruth, &slot());
    assert_eq!(booked.status, 201, "{}", booked.raw);
    let booking = booked.body["id"].as_u64().expect("id");
    app.pay_booking(booking);
    held_then_completed(
        &app,
        booking,
        Timestamp::now().plus_minutes(-180),
        &ruth_token,
    );

    // The hold passes: nothing is credited to the closed account.
    let rules = app.engine.payments().config().referrals.clone();
    let later = Timestamp::now().plus_days(i64::from(rules.hold_days) + 1);
    assert_eq!(reward_sweep(&app.store, &rules, later).expect("sweep"), 0);
    assert!(!any_row::<ReferralReward>(&app, |reward| {
        reward.referrer_id == UserId::new(rita) && reward.status != RewardStatus::Cancelled
    }));
    let row: User = app.store.require(UserId::new(rita)).expect("rita");
    assert!(row.is_closed());
    assert_eq!(row.pending_balance.amount_minor, 0);
    assert_eq!(row.total_referral_earnings.amount_minor, 0);
    assert_consistent(&app);
}

/// Regression: closing a buyer's account left the purchases they had started
/// and not paid payable: a payment landing after the closing granted the
/// content to the closed account, the buyer charged and nothing refunded.
/// Closing now gives those purchases up, so such a payment is refunded in full.
#[test]
fn a_closing_gives_up_the_purchases_it_left_unpaid() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (bob_id, bob) = app.register("bob");
    let guide = published_guide(&app, &ann, "Unpaid guide", 1_900);
    let started = app.authed("POST", &format!("/v1/content/{guide}/purchase"), &bob, None);
    assert_eq!(started.status, 201, "{}", started.raw);
    let purchase = started.body["id"].as_u64().expect("id");
    let intent = wait_for_purchase(&app, purchase, |p| p.stripe_payment_intent_id.is_some())
        .stripe_payment_intent_id
        .expect("intent");

    let closed = close(&app, &bob, "password-bob");
    assert_eq!(closed.status, 204, "{}", closed.raw);
    let row: ContentPurchase = app
        .store
        .require(ContentPurchaseId::new(purchase))
        .expect("purchase");
    assert_eq!(row.payment_status, PaymentStatus::Failed, "given up");

    // The intent is paid anyway: refunded in full, nothing granted.
    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.local.pay(&intent)["status"], "succeeded");
    let refunded = wait_for_purchase(&app, purchase, |p| {
        p.payment_status == PaymentStatus::Refunded
    });
    assert_eq!(refunded.payment_status, PaymentStatus::Refunded);
    let payment = stored_payment_of_purchase(&app.store, ContentPurchaseId::new(purchase))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.refunds.len(), 1, "{:?}", payment.refunds);
    assert_eq!(
        payment.committed_refunds().expect("sum"),
        payment.amount,
        "refunded in full"
    );
    assert!(
        !holds(&app.store, UserId::new(bob_id), ContentId::new(guide)).expect("read"),
        "no purchase granted to the closed account"
    );
    assert_consistent(&app);
}

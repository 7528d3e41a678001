//! Selling content by the rules money sets: a price only in the seller's
//! currency and one Stripe can charge (representable, and within its least
//! and greatest charge), no sale while the creator cannot be
//! paid, a late payment in a currency the creator left refunded in full,
//! and no refund here of a sale imported from before the store.

use droply_engine::payments::stored_payment_of_purchase;
use droply_models::{
    ContentId, ContentPurchase, ContentStatus, Currency, Money, PaymentStatus, UserId,
};
use droply_test_support::fixtures;
use serde_json::json;

use crate::app::{error_code, spawn_app_paying};
use crate::content::published_guide;
use crate::content_purchases::{assert_consistent, wait_for_purchase};

/// Regression: content could be priced in a currency its creator is not paid in (or
/// keep a price after the creator moved to another currency), and the success of its
/// payment could never be recorded: the buyer was charged, the purchase stayed pending
/// and every webhook delivery failed.
#[test]
fn a_price_is_charged_only_in_the_sellers_currency() {
    let app = spawn_app_paying();
    let (_, bob) = app.register("bob");
    let post = |token: &str, body: serde_json::Value| {
        app.authed("POST", "/v1/content", token, Some(&body.to_string()))
    };

    // Cat is paid in USD: a EUR price is refused when the content is written.
    let (cat_id, cat) = app.register("cat");
    app.make_expert(cat_id, "Europe/Berlin");
    let euros = post(
        &cat,
        json!({"title": "Euro guide", "content_type": "document",
               "price": {"amount_minor": 900, "currency": "EUR"}}),
    );
    assert_eq!(
        (euros.status, error_code(&euros).as_str()),
        (400, "invalid_input"),
        "{}",
        euros.raw
    );
    // A buyer's open payment does not hold her currency (regression: an abandoned
    // checkout held it for good): she moves, and should that payment still come, it
    // is refunded in full (`a_payment_in_a_currency_the_creator_left_is_refunded_in_full`).
    let guide = published_guide(&app, &cat, "Cat's guide", 1_900);
    let started = app.authed("POST", &format!("/v1/content/{guide}/purchase"), &bob, None);
    assert_eq!(started.status, 201, "{}", started.raw);
    let move_to_euros = r#"{"currency":"EUR","hourly_rate":8000}"#;
    let moved_cat = app.authed("PATCH", "/v1/users/me", &cat, Some(move_to_euros));
    assert_eq!(moved_cat.status, 200, "{}", moved_cat.raw);

    // Ann moves to EUR with a USD price on sale and no open sale: nobody can start
    // paying that price until she sets it again, in euros.
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let id = published_guide(&app, &ann, "Ann's guide", 1_900);
    let moved = app.authed("PATCH", "/v1/users/me", &ann, Some(move_to_euros));
    assert_eq!(moved.status, 200, "{}", moved.raw);
    let stale = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(
        (stale.status, error_code(&stale).as_str()),
        (409, "invalid_state"),
        "{}",
        stale.raw
    );
    let purchases = app
        .store
        .iter::<ContentPurchase>()
        .map(|row| row.expect("row"))
        .filter(|row| row.content_id == ContentId::new(id))
        .count();
    assert_eq!(purchases, 0, "a refused purchase leaves no row");
    let repriced = app.authed(
        "PATCH",
        &format!("/v1/content/{id}"),
        &ann,
        Some(r#"{"price":{"amount_minor":1700,"currency":"EUR"}}"#),
    );
    assert_eq!(repriced.status, 200, "{}", repriced.raw);
    let bought = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(bought.status, 201, "{}", bought.raw);
    assert_eq!(
        bought.body["payment"]["amount"],
        json!({"amount_minor": 1_700, "currency": "EUR"})
    );

    // A price Stripe cannot charge (a KWD amount whose last digit is not 0) is refused
    // when written, not when someone pays.
    let register = app.request(
        "POST",
        "/v1/auth/register",
        Some(r#"{"username":"kai","email":"kai@example.com","password":"password-kai","full_name":"Kai Person","currency":"KWD"}"#),
    );
    assert_eq!(register.status, 201, "{}", register.raw);
    let kai = register.body["token"].as_str().expect("token").to_owned();
    let odd = post(
        &kai,
        json!({"title": "Dinar guide", "content_type": "document",
               "price": {"amount_minor": 1_005, "currency": "KWD"}}),
    );
    assert_eq!(
        (odd.status, error_code(&odd).as_str()),
        (400, "invalid_input"),
        "{}",
        odd.raw
    );
    let even = post(
        &kai,
        json!({"title": "Dinar guide", "content_type": "document",
               "price": {"amount_minor": 1_000, "currency": "KWD"}}),
    );
    assert_eq!(even.status, 201, "{}", even.raw);
    assert_consistent(&app);
    app.assert_no_leaks();
}

/// Regression: content priced under Stripe's minimum charge (USD 0.30; Stripe takes no
/// charge under USD 0.50) went on sale, and every purchase of it failed with 502.
#[test]
fn a_price_under_stripes_minimum_charge_is_refused_when_written() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let cheap = app.authed(
        "POST",
        "/v1/content",
        &ann,
        Some(
            &json!({"title": "Cheap guide", "content_type": "document",
                    "price": {"amount_minor": 30, "currency": "USD"}})
            .to_string(),
        ),
    );
    assert_eq!(
        (cheap.status, error_code(&cheap).as_str()),
        (400, "invalid_input"),
        "{}",
        cheap.raw
    );
    assert!(cheap.raw.contains("USD 0.50"), "{}", cheap.raw);
    // The minimum itself is a price; repricing under it is refused.
    let id = published_guide(&app, &ann, "Half-dollar guide", 50);
    let repriced = app.authed(
        "PATCH",
        &format!("/v1/content/{id}"),
        &ann,
        Some(r#"{"price":{"amount_minor":30,"currency":"USD"}}"#),
    );
    assert_eq!(
        (repriced.status, error_code(&repriced).as_str()),
        (400, "invalid_input"),
        "{}",
        repriced.raw
    );
    // A draft priced under it before the rule (written straight to the store) is not
    // put on sale.
    let mut row = fixtures::content(UserId::new(ann_id), "2026-10-01T10:00:00Z");
    row.status = ContentStatus::Draft;
    row.price = Money::new(30, Currency::USD);
    row.earnings = Money::zero(Currency::USD);
    row.purchases = 0;
    let draft = app.store.contents().create(row).expect("old draft").id;
    let published = app.authed(
        "POST",
        &format!("/v1/content/{}/publish", draft.get()),
        &ann,
        None,
    );
    assert_eq!(
        (published.status, error_code(&published).as_str()),
        (400, "invalid_input"),
        "{}",
        published.raw
    );
    let stored: droply_models::Content = app.store.require(draft).expect("draft");
    assert_eq!(stored.status, ContentStatus::Draft);
}

/// Regression: an imported price Stripe cannot charge (a KWD amount whose last digit is
/// not 0) failed before the purchase's payment was given up: the purchase stayed open
/// with its amount fixed, and every later attempt of the buyer answered that one again.
/// Now the price is refused before a purchase is written (409: the buyer's request is
/// fine, the content's price is not).
#[test]
fn a_price_stripe_cannot_charge_gives_the_purchase_up() {
    let app = spawn_app_paying();
    let (kai_id, _) = app.register("kai");
    app.make_expert(kai_id, "Asia/Kuwait");
    let dinars = Currency::parse("KWD").expect("KWD");
    app.store
        .users()
        .modify(UserId::new(kai_id), |user| {
            user.currency = dinars;
            user.hourly_rate = Some(Money::new(10_000, dinars));
            for total in [
                &mut user.total_earnings,
                &mut user.total_payouts,
                &mut user.pending_balance,
                &mut user.total_referral_earnings,
            ] {
                *total = Money::zero(dinars);
            }
            Ok(())
        })
        .expect("paid in dinars");
    let mut row = fixtures::content(UserId::new(kai_id), "2026-10-01T10:00:00Z");
    row.price = Money::new(1_005, dinars);
    row.earnings = Money::zero(dinars);
    row.purchases = 0;
    let id = app.store.contents().create(row).expect("imported").id;
    let (_, bob) = app.register("bob");
    for attempt in ["first", "again"] {
        let refused = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
        assert_eq!(
            (refused.status, error_code(&refused).as_str()),
            (409, "invalid_state"),
            "{attempt}: {}",
            refused.raw
        );
    }
    assert_eq!(app.store.iter::<ContentPurchase>().count(), 0);
    assert_consistent(&app);
}

/// Regression: content put on sale under Stripe's minimum charge before that rule (USD
/// 0.30) still started purchases: a purchase and its payment were written and the
/// Stripe call failed (502), for every buyer and every attempt. It is refused before
/// anything is written, saying the creator must set a new price; once she does, it sells.
#[test]
fn content_on_sale_under_stripes_minimum_is_refused_before_a_purchase_is_written() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let id = published_guide(&app, &ann, "Old cheap guide", 500);
    // On sale at USD 0.30 from before the rule (written straight to the store).
    app.store
        .contents()
        .modify(ContentId::new(id), |content| {
            content.price = Money::new(30, Currency::USD);
            Ok(())
        })
        .expect("old price");
    let (_, bob) = app.register("bob");
    for attempt in ["first", "again"] {
        let refused = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
        assert_eq!(
            (refused.status, error_code(&refused).as_str()),
            (409, "invalid_state"),
            "{attempt}: {}",
            refused.raw
        );
        assert!(refused.raw.contains("new price"), "{}", refused.raw);
    }
    assert_eq!(app.store.iter::<ContentPurchase>().count(), 0);
    let repriced = app.authed(
        "PATCH",
        &format!("/v1/content/{id}"),
        &ann,
        Some(r#"{"price":{"amount_minor":500,"currency":"USD"}}"#),
    );
    assert_eq!(repriced.status, 200, "{}", repriced.raw);
    let bought = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(bought.status, 201, "{}", bought.raw);
    assert_consistent(&app);
}

/// Regression: once its creator's Stripe account was restricted, priced
/// content could still be bought: the platform took money it could not pay
/// out (bookings with that expert were already refused).
#[test]
fn content_is_not_sold_while_its_creator_cannot_be_paid() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bob");
    let id = published_guide(&app, &ann, "Restricted guide", 1_900);
    let set_status = |status| {
        app.store
            .users()
            .modify(UserId::new(ann_id), |user| {
                user.stripe_account_status = status;
                Ok(())
            })
            .expect("status");
    };
    set_status(droply_models::StripeAccountStatus::Restricted);
    let refused = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (409, "payouts_not_enabled"),
        "{}",
        refused.raw
    );
    assert_eq!(app.store.iter::<ContentPurchase>().count(), 0);
    set_status(droply_models::StripeAccountStatus::Active);
    let bought = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(bought.status, 201, "{}", bought.raw);
}

/// Regression: a creator's refund of an imported sale (paid before the
/// store, with no PaymentIntent here) was committed as requested and could
/// never be sent: every sweep retried it, and the sale showed a refund that
/// never came.
#[test]
fn an_imported_sale_is_not_refunded_here() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (bob_id, _) = app.register("bob");
    let id = published_guide(&app, &ann, "Imported guide", 1_900);
    let mut sale = fixtures::purchase(
        UserId::new(bob_id),
        ContentId::new(id),
        "2026-10-02T10:00:00Z",
    );
    sale.amount_paid = Money::new(1_900, Currency::USD);
    sale.payment_status = PaymentStatus::Succeeded;
    let sale = app
        .store
        .write(|txn| txn.create(sale))
        .expect("imported sale");
    let config = droply_engine::payments::PaymentsConfig::default();
    assert_eq!(
        droply_engine::payments::open_imported_sales(&app.store, &config).expect("open"),
        1
    );
    let refused = app.authed(
        "POST",
        &format!("/v1/purchases/{}/refund", sale.id.get()),
        &ann,
        None,
    );
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (409, "invalid_state"),
        "{}",
        refused.raw
    );
    let payment = stored_payment_of_purchase(&app.store, sale.id)
        .expect("read")
        .expect("the imported sale's payment");
    assert!(payment.refunds.is_empty(), "{:?}", payment.refunds);
    assert_consistent(&app);
}

/// Regression: a purchase's PaymentIntent can be paid after its creator
/// moved to another currency (here: the price was set to zero, which let
/// the currency change through). The webhook could not write the earning in
/// the old currency and failed on every delivery: the buyer was charged,
/// with neither the content nor a refund.
#[test]
fn a_payment_in_a_currency_the_creator_left_is_refunded_in_full() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bob");
    let id = published_guide(&app, &ann, "Guide once priced", 1_900);
    let started = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(started.status, 201, "{}", started.raw);
    let purchase = started.body["id"].as_u64().expect("id");
    let intent = wait_for_purchase(&app, purchase, |p| p.stripe_payment_intent_id.is_some())
        .stripe_payment_intent_id
        .expect("intent");
    let free = app.authed(
        "PATCH",
        &format!("/v1/content/{id}"),
        &ann,
        Some(r#"{"price":{"amount_minor":0,"currency":"USD"}}"#),
    );
    assert_eq!(free.status, 200, "{}", free.raw);
    let moved = app.authed(
        "PATCH",
        "/v1/users/me",
        &ann,
        Some(r#"{"currency":"EUR","hourly_rate":8000}"#),
    );
    assert_eq!(moved.status, 200, "{}", moved.raw);

    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.local.pay(&intent)["status"], "succeeded");
    let refunded = wait_for_purchase(&app, purchase, |p| {
        p.payment_status == PaymentStatus::Refunded
    });
    assert_eq!(refunded.payment_status, PaymentStatus::Refunded);
    let refunds = stripe
        .local
        .get(&format!("v1/refunds?payment_intent={intent}"));
    assert_eq!(refunds["data"][0]["amount"], 1_900, "{refunds}");
    let ann_row = app.store.users().get(UserId::new(ann_id)).expect("ann");
    assert_eq!(ann_row.currency, Currency::EUR);
    assert!(
        ann_row.total_earnings.is_zero(),
        "{:?}",
        ann_row.total_earnings
    );
    assert_consistent(&app);
}

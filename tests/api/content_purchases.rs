//! Buying content: free content granted at once, paid content granted by
//! its webhook exactly once however often Stripe delivers it, downloads
//! (whole and by range) for buyers and the creator only, archive keeping
//! buyers' access, a refund taking the access and the money back, and a
//! purchase bought twice or taken off sale while Stripe makes its intent.

use std::time::{Duration, Instant};

use droply_engine::payments::ledger::{LedgerEntry, LedgerKind};
use droply_engine::payments::{PaymentFor, stored_payment_of_purchase};
use droply_models::{Content, ContentId, ContentPurchase, ContentPurchaseId, PaymentStatus};
use droply_test_support::stripe::{IntentFake, event, post_event};
use serde_json::json;

use crate::app::{TestApp, WEBHOOK_SECRET, error_code, spawn_app, spawn_app_paying};
use crate::content::{pdf, published_guide, stored_files};
use crate::file_client::Framing;
use crate::held_intents::{
    assert_refused_without_a_secret, assert_the_sweep_cancels, spawn_app_on_intent_fake,
    the_intent_given_up, the_only, while_stripe_makes_the_intent,
};

pub(crate) fn wait_for_purchase(
    app: &TestApp,
    id: u64,
    done: impl Fn(&ContentPurchase) -> bool,
) -> ContentPurchase {
    let started = Instant::now();
    loop {
        let purchase: ContentPurchase = app
            .store
            .require(ContentPurchaseId::new(id))
            .expect("purchase");
        if done(&purchase) {
            return purchase;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "purchase {id}: {purchase:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ledger_of(app: &TestApp, purchase: u64) -> Vec<(LedgerKind, i64)> {
    let payment = stored_payment_of_purchase(&app.store, ContentPurchaseId::new(purchase))
        .expect("read")
        .expect("a payment");
    assert_eq!(
        payment.pays_for,
        PaymentFor::Purchase(ContentPurchaseId::new(purchase))
    );
    app.store
        .iter::<LedgerEntry>()
        .map(|row| row.expect("row"))
        .filter(|row| row.payment_id == Some(payment.id))
        .map(|row| (row.kind, row.amount.amount_minor))
        .collect()
}

/// `buyer` buys content `id` and pays at localstripe; the purchase id, once
/// its payment succeeded.
pub(crate) fn paid_purchase(app: &TestApp, buyer: &str, id: u64) -> u64 {
    let started = app.authed("POST", &format!("/v1/content/{id}/purchase"), buyer, None);
    assert_eq!(started.status, 201, "{}", started.raw);
    let purchase = started.body["id"].as_u64().expect("id");
    pay(app, purchase);
    purchase
}

/// Pays purchase `purchase` at localstripe, once it has its intent; returns
/// once its payment succeeded.
fn pay(app: &TestApp, purchase: u64) {
    let intent = wait_for_purchase(app, purchase, |p| p.stripe_payment_intent_id.is_some())
        .stripe_payment_intent_id
        .expect("intent");
    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.local.pay(&intent)["status"], "succeeded");
    wait_for_purchase(app, purchase, |p| {
        p.payment_status == PaymentStatus::Succeeded
    });
}

fn content_row(app: &TestApp, id: u64) -> Content {
    app.store.require(ContentId::new(id)).expect("content")
}

pub(crate) fn assert_consistent(app: &TestApp) {
    let report = app.store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

#[test]
fn free_content_is_granted_at_once_downloaded_by_range_and_kept_through_archive() {
    let app = spawn_app();
    let (_, ann) = app.register("ann");
    let (_, bob) = app.register("bob");
    let (_, eve) = app.register("eve");
    let id = published_guide(&app, &ann, "The free guide: 2026", 0);
    let file = pdf(3 << 20);
    let download = format!("/v1/content/{id}/download");
    assert_eq!(app.fetch(&download, None, &[]).status, 401, "anonymous");
    assert_eq!(
        app.fetch(&download, Some(&bob), &[]).status,
        404,
        "not bought yet"
    );

    let bought = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(bought.status, 201, "{}", bought.raw);
    assert_eq!(bought.body["can_download"], true);
    assert_eq!(bought.body["payment_status"], "succeeded");
    assert!(
        bought.body.get("payment").is_none(),
        "nothing to pay: {}",
        bought.raw
    );
    let again = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(again.status, 409, "{}", again.raw);
    assert_eq!(error_code(&again), "already_purchased");
    let own = app.authed("POST", &format!("/v1/content/{id}/purchase"), &ann, None);
    assert_eq!(error_code(&own), "invalid_state", "{}", own.raw);

    let whole = app.fetch(&download, Some(&bob), &[]);
    assert_eq!(whole.status, 200, "{}", whole.head);
    assert_eq!(whole.body, file, "the bytes uploaded");
    assert_eq!(whole.header("content-type"), Some("application/pdf"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        whole.header("content-disposition"),
        Some(
            "attachment; filename=\"The-free-guide-2026.pdf\"; filename*=UTF-8''The-free-guide-2026.pdf"
        )
    );
    let part = app.fetch(&download, Some(&bob), &[("Range", "bytes=1000-1999")]);
    assert_eq!(part.status, 206, "{}", part.head);
    assert_eq!(part.body, file[1000..2000]);
    assert_eq!(
        part.header("content-range"),
        Some(&*format!("bytes 1000-1999/{}", file.len()))
    );
    let tail = app.fetch(&download, Some(&bob), &[("Range", "bytes=-10")]);
    assert_eq!(tail.body, file[file.len() - 10..]);
    // Resuming: the range holds for the version asked of, else the whole file.
    let etag = whole.header("etag").expect("etag").to_owned();
    let resumed = app.fetch(
        &download,
        Some(&bob),
        &[("Range", "bytes=1000-"), ("If-Range", &etag)],
    );
    assert_eq!(resumed.status, 206, "{}", resumed.head);
    let changed = app.fetch(
        &download,
        Some(&bob),
        &[
            ("Range", "bytes=1000-"),
            ("If-Range", "\"an-older-version\""),
        ],
    );
    assert_eq!(changed.status, 200, "{}", changed.head);
    assert_eq!(changed.body, file, "the whole current file");
    let past = app.fetch(&download, Some(&bob), &[("Range", "bytes=99999999-")]);
    assert_eq!(past.status, 416, "{}", past.head);
    assert_eq!(past.code(), "range_not_satisfiable");
    assert_eq!(
        past.header("content-range"),
        Some(&*format!("bytes */{}", file.len()))
    );
    assert_eq!(
        app.fetch(&download, Some(&eve), &[]).status,
        404,
        "a stranger"
    );
    assert_eq!(
        app.fetch(&download, Some(&ann), &[]).body,
        file,
        "the creator"
    );

    let mine = app.authed("GET", "/v1/purchases", &bob, None);
    assert_eq!(
        mine.body["purchases"][0]["content_title"],
        "The free guide: 2026"
    );
    let none = app.authed("GET", "/v1/purchases", &eve, None);
    assert_eq!(
        none.body["purchases"],
        json!([]),
        "no other buyer's purchases"
    );
    assert_eq!(content_row(&app, id).purchases, 1);

    let delete = app.authed("DELETE", &format!("/v1/content/{id}"), &ann, None);
    assert_eq!(delete.status, 409, "{}", delete.raw);
    assert_eq!(error_code(&delete), "content_has_buyers");
    let archived = app.authed("POST", &format!("/v1/content/{id}/archive"), &ann, None);
    assert_eq!(archived.body["status"], "archived", "{}", archived.raw);
    assert_eq!(
        app.get(&format!("/v1/content/{id}")).status,
        404,
        "off sale"
    );
    assert_eq!(
        app.authed("GET", &format!("/v1/content/{id}"), &bob, None)
            .status,
        200
    );
    assert_eq!(
        app.fetch(&download, Some(&bob), &[]).body,
        file,
        "buyers keep access"
    );
    let late = app.authed("POST", &format!("/v1/content/{id}/purchase"), &eve, None);
    assert_eq!(late.status, 404, "{}", late.raw);
    assert_eq!(stored_files(&app).len(), 1);
    assert_consistent(&app);
    app.assert_no_leaks();
}

#[test]
fn a_paid_purchase_is_granted_once_however_often_its_webhook_comes_and_lost_on_refund() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bob");
    let id = published_guide(&app, &ann, "Paid guide", 1_900);
    let preview = app.upload(
        &format!("/v1/content/{id}/preview"),
        &ann,
        &pdf(5_000),
        Framing::Length,
    );
    assert_eq!(preview.status, 200, "{:?}", preview.json());
    let shown = app.fetch(&format!("/v1/content/{id}/preview"), None, &[]);
    assert_eq!(shown.status, 200, "the preview is public");
    assert!(
        shown
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("inline"))
    );

    let started = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(started.status, 201, "{}", started.raw);
    assert_eq!(started.body["can_download"], false);
    assert!(
        started.body["payment"]["client_secret"].is_string(),
        "{}",
        started.raw
    );
    assert_eq!(
        started.body["payment"]["amount"],
        json!({"amount_minor": 1_900, "currency": "USD"})
    );
    let purchase = started.body["id"].as_u64().expect("id");
    let retried = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(
        retried.status, 200,
        "the open purchase again: {}",
        retried.raw
    );
    assert_eq!(retried.body["id"], purchase);
    let download = format!("/v1/content/{id}/download");
    assert_eq!(app.fetch(&download, Some(&bob), &[]).status, 404, "unpaid");

    let intent = wait_for_purchase(&app, purchase, |p| p.stripe_payment_intent_id.is_some())
        .stripe_payment_intent_id
        .expect("intent");
    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.local.pay(&intent)["status"], "succeeded");
    wait_for_purchase(&app, purchase, |p| {
        p.payment_status == PaymentStatus::Succeeded
    });
    assert_eq!(app.fetch(&download, Some(&bob), &[]).status, 200);
    let rows = [
        (LedgerKind::Charge, 1_900),
        (LedgerKind::PlatformFee, 285),
        (LedgerKind::Earning, 1_615),
    ];
    assert_eq!(ledger_of(&app, purchase), rows);

    // The success delivered three more times under one event id and three
    // times under new ones: still one right and one set of ledger rows.
    let payment = stored_payment_of_purchase(&app.store, ContentPurchaseId::new(purchase))
        .expect("read")
        .expect("payment");
    let instance = app.store.instance_key().expect("instance");
    let object = json!({
        "id": intent, "object": "payment_intent", "amount": 1_900, "currency": "usd", "status": "succeeded",
        "metadata": {"droply_payment": payment.id.to_string(), "droply_purchase": purchase.to_string(), "droply_instance": instance},
    });
    let url = format!("http://{}/v1/webhooks/stripe", app.addr);
    for event_id in [
        "evt_again",
        "evt_again",
        "evt_again",
        "evt_a",
        "evt_b",
        "evt_c",
    ] {
        let (status, answer) = post_event(
            &url,
            WEBHOOK_SECRET,
            &event(event_id, "payment_intent.succeeded", object.clone()),
        );
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(ledger_of(&app, purchase), rows);
    let content = content_row(&app, id);
    assert_eq!(
        (content.purchases, content.earnings.amount_minor),
        (1, 1_615)
    );
    let seen = app.authed("GET", &format!("/v1/content/{id}"), &ann, None);
    assert_eq!(seen.body["earnings"]["amount_minor"], 1_615, "{}", seen.raw);
    assert_eq!(
        app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None)
            .status,
        409
    );

    // Only the creator may refund; the right goes with the money.
    let not_his = app.authed(
        "POST",
        &format!("/v1/purchases/{purchase}/refund"),
        &bob,
        None,
    );
    assert_eq!(not_his.status, 404, "{}", not_his.raw);
    let refunded = app.authed(
        "POST",
        &format!("/v1/purchases/{purchase}/refund"),
        &ann,
        None,
    );
    assert_eq!(refunded.status, 200, "{}", refunded.raw);
    wait_for_purchase(&app, purchase, |p| {
        p.payment_status == PaymentStatus::Refunded
    });
    assert_eq!(
        app.fetch(&download, Some(&bob), &[]).status,
        404,
        "refunded: no access"
    );
    let again = app.authed(
        "POST",
        &format!("/v1/purchases/{purchase}/refund"),
        &ann,
        None,
    );
    assert_eq!(error_code(&again), "invalid_state", "{}", again.raw);
    let net: i64 = ledger_of(&app, purchase)
        .iter()
        .filter(|(kind, _)| matches!(kind, LedgerKind::Earning | LedgerKind::EarningReversal))
        .map(|(_, amount)| amount)
        .sum();
    assert_eq!(net, 0, "the earning was taken back");
    let content = content_row(&app, id);
    assert_eq!((content.purchases, content.earnings.amount_minor), (0, 0));
    let rebuy = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(
        rebuy.status, 201,
        "a refunded buyer may buy again: {}",
        rebuy.raw
    );
    assert_consistent(&app);
    app.assert_no_leaks();
}

/// Regression: a purchase still awaiting payment kept the price it was started at.
/// After the creator raised the price, the buyer's retry answered the old purchase and
/// its PaymentIntent, so the content sold below the price shown.
#[test]
fn a_price_change_gives_up_the_open_purchase_and_charges_the_new_price() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bob");
    let id = published_guide(&app, &ann, "Repriced guide", 1_900);
    let first = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(first.status, 201, "{}", first.raw);
    let first_id = first.body["id"].as_u64().expect("id");
    wait_for_purchase(&app, first_id, |p| p.stripe_payment_intent_id.is_some());

    let repriced = app.authed(
        "PATCH",
        &format!("/v1/content/{id}"),
        &ann,
        Some(r#"{"price":{"amount_minor":2500,"currency":"USD"}}"#),
    );
    assert_eq!(repriced.status, 200, "{}", repriced.raw);
    let second = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(second.status, 201, "a new purchase: {}", second.raw);
    let second_id = second.body["id"].as_u64().expect("id");
    assert_ne!(second_id, first_id);
    assert_eq!(
        second.body["payment"]["amount"],
        json!({"amount_minor": 2_500, "currency": "USD"}),
        "{}",
        second.raw
    );
    let given_up: ContentPurchase = app
        .store
        .require(ContentPurchaseId::new(first_id))
        .expect("first purchase");
    assert_eq!(given_up.payment_status, PaymentStatus::Failed);
    let again = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(
        (again.status, again.body["id"].as_u64()),
        (200, Some(second_id)),
        "at an unchanged price the open purchase comes back: {}",
        again.raw
    );

    pay(&app, second_id);
    assert_eq!(
        ledger_of(&app, second_id),
        [
            (LedgerKind::Charge, 2_500),
            (LedgerKind::PlatformFee, 375),
            (LedgerKind::Earning, 2_125),
        ]
    );
    assert_consistent(&app);
}

/// Regression: a second click on Buy while the first was still waiting for
/// Stripe met Stripe's 409 `idempotency_key_in_use` and marked the purchase
/// failed; and content archived meanwhile still had the first request hand
/// out a client secret that could pay for it off sale.
#[test]
fn a_purchase_given_up_while_stripe_makes_its_intent_hands_out_no_secret() {
    let stripe = IntentFake::start();
    let app = spawn_app_on_intent_fake(&stripe);
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bob");
    let id = published_guide(&app, &ann, "Held guide", 1_900);
    let buy = format!("/v1/content/{id}/purchase");
    let ((again, open, archived), first) = while_stripe_makes_the_intent(
        &stripe,
        || app.authed("POST", &buy, &bob, None),
        || {
            // A double click: the same purchase, its payment still being started.
            let again = app.authed("POST", &buy, &bob, None);
            let open = the_only::<ContentPurchase>(&app);
            let archived = app.authed("POST", &format!("/v1/content/{id}/archive"), &ann, None);
            (again, open, archived)
        },
    );
    assert_eq!(
        (again.status, error_code(&again).as_str()),
        (409, "invalid_state"),
        "{}",
        again.raw
    );
    assert_eq!(
        stripe.keys_in_use(),
        1,
        "Stripe answered the second click 409"
    );
    assert_eq!(
        open.payment_status,
        PaymentStatus::Pending,
        "the second click gave nothing up"
    );
    assert_eq!(archived.status, 200, "{}", archived.raw);

    assert_refused_without_a_secret(&first);
    let purchase = the_only::<ContentPurchase>(&app);
    assert_eq!(purchase.payment_status, PaymentStatus::Failed);
    let payment = stored_payment_of_purchase(&app.store, purchase.id)
        .expect("read")
        .expect("payment");
    let intent = the_intent_given_up(&payment);
    assert_the_sweep_cancels(&app, &stripe, &intent);
    assert_eq!(stripe.intent_count(), 1, "one intent made");
    assert_consistent(&app);
}

//! The Connect fake: API keys, accounts and links, transfers by Stripe's rules,
//! idempotent replays, injected failures and the crash-test gate.

use std::io::Read;
use std::thread;
use std::time::{Duration, Instant};

use droply_test_support::stripe::StripeFake;
use serde_json::{Value, json};

use crate::support::*;

#[test]
fn fake_requires_an_api_key() {
    let fake = StripeFake::start(None);
    let answer = call(&fake.base_url(), "POST", "v1/accounts", &[], "type=express");
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["error"]["type"], "invalid_request_error");
    let answer = call(
        &fake.base_url(),
        "GET",
        "v1/transfers",
        &[("Authorization", "Bearer pk_test_x")],
        "",
    );
    assert_eq!(answer.status, 401);
    assert!(fake.accounts().is_empty());
    let seen = fake.requests();
    assert_eq!(seen.len(), 2);
    assert!(!seen[0].has_authorization && seen[1].has_authorization);
}

#[test]
fn fake_creates_accounts_and_account_links() {
    let fake = StripeFake::start(None);
    let base = fake.base_url();
    let created = post_form(
        &base,
        "v1/accounts",
        "type=express&email=host%40droply.test&country=FR&metadata[droply_host]=12&capabilities[transfers][requested]=true",
        None,
    );
    assert_eq!(created.status, 200, "{:?}", created.body);
    let account = &created.body;
    let id = account["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("acct_") && id.len() == 21, "{id}");
    assert!(id[5..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(account["object"], "account");
    assert_eq!(account["type"], "express");
    assert_eq!(account["email"], "host@droply.test");
    assert_eq!(account["metadata"], json!({"droply_host": "12"}));
    assert_eq!(account["charges_enabled"], false);
    assert_eq!(account["payouts_enabled"], false);
    assert_eq!(account["details_submitted"], false);
    assert_eq!(
        account["requirements"]["currently_due"],
        json!(["external_account"])
    );
    assert_eq!(account["requirements"]["disabled_reason"], Value::Null);
    assert_eq!(account["capabilities"]["transfers"], "inactive");
    assert!(
        account["created"]
            .as_i64()
            .is_some_and(|t| t > 1_700_000_000)
    );

    assert_eq!(get(&base, &format!("v1/accounts/{id}")).body, *account);
    let unknown = get(&base, "v1/accounts/acct_nope");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error"]["code"], "resource_missing");
    assert_eq!(unknown.body["error"]["type"], "invalid_request_error");

    let link_form = format!(
        "account={id}&refresh_url=https%3A%2F%2Fdroply.test%2Fr&return_url=https%3A%2F%2Fdroply.test%2Fdone&type=account_onboarding"
    );
    let link = post_form(&base, "v1/account_links", &link_form, None);
    assert_eq!(link.status, 200, "{:?}", link.body);
    assert_eq!(link.body["object"], "account_link");
    let url = link.body["url"].as_str().expect("url");
    assert!(
        url.starts_with(&format!("https://connect.stripe.test/setup/e/{id}/")),
        "{url}"
    );
    assert_eq!(
        link.body["expires_at"].as_i64(),
        link.body["created"].as_i64().map(|c| c + 300)
    );
    let missing = post_form(
        &base,
        "v1/account_links",
        &format!("account={id}&refresh_url=https%3A%2F%2Fx&type=account_onboarding"),
        None,
    );
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"]["code"], "parameter_missing");
    assert_eq!(missing.body["error"]["param"], "return_url");
    let unknown = post_form(
        &base,
        "v1/account_links",
        "account=acct_nope&refresh_url=https%3A%2F%2Fx&return_url=https%3A%2F%2Fy&type=account_onboarding",
        None,
    );
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error"]["code"], "resource_missing");

    fake.activate(&id);
    let active = fake.account(&id).expect("account");
    assert_eq!(active["charges_enabled"], true);
    assert_eq!(active["payouts_enabled"], true);
    assert_eq!(active["details_submitted"], true);
    assert_eq!(active["requirements"]["currently_due"], json!([]));
    assert_eq!(get(&base, &format!("v1/accounts/{id}")).body, active);
    fake.restrict(&id);
    let restricted = fake.account(&id).expect("account");
    assert_eq!(restricted["payouts_enabled"], false);
    assert_eq!(
        restricted["requirements"]["disabled_reason"],
        "requirements.past_due"
    );
    assert_eq!(fake.accounts().len(), 1);
    assert!(fake.account("acct_nope").is_none());

    let seen = fake.requests();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v1/accounts");
    assert!(seen[0].has_authorization && !seen[0].forwarded);
    assert_eq!(seen[0].params()["metadata"]["droply_host"], "12");
    assert!(
        seen.iter().all(|r| !format!("{r:?}").contains("sk_test")),
        "the API key must not be kept"
    );
}

#[test]
fn fake_transfers_follow_stripes_rules() {
    let fake = StripeFake::start(None);
    let base = fake.base_url();
    let created = post_form(&base, "v1/accounts", "type=express", None);
    let id = created.body["id"].as_str().expect("id").to_owned();

    let form = format!(
        "amount=1800&currency=eur&destination={id}&transfer_group=booking_7&description=Payout+7&metadata[droply_payout]=12"
    );
    let refused = post_form(&base, "v1/transfers", &form, None);
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    assert_eq!(
        refused.body["error"]["code"],
        "insufficient_capabilities_for_transfer"
    );
    assert!(fake.transfers().is_empty());

    fake.activate(&id);
    let made = post_form(&base, "v1/transfers", &form, None);
    assert_eq!(made.status, 200, "{:?}", made.body);
    let transfer = &made.body;
    let transfer_id = transfer["id"].as_str().expect("id");
    assert!(transfer_id.starts_with("tr_"));
    assert_eq!(transfer["object"], "transfer");
    assert_eq!(transfer["amount"], 1800);
    assert_eq!(transfer["amount_reversed"], 0);
    assert_eq!(transfer["currency"], "eur");
    assert_eq!(transfer["destination"], id.as_str());
    assert_eq!(transfer["transfer_group"], "booking_7");
    assert_eq!(transfer["description"], "Payout 7");
    assert_eq!(transfer["metadata"], json!({"droply_payout": "12"}));
    assert_eq!(transfer["reversed"], false);
    assert_eq!(transfer["livemode"], false);
    assert_eq!(transfer["reversals"]["object"], "list");
    assert_eq!(
        get(&base, &format!("v1/transfers/{transfer_id}")).body,
        *transfer
    );
    assert_eq!(get(&base, "v1/transfers/tr_nope").status, 404);

    for (bad, status, code) in [
        (
            format!("amount=12.5&currency=eur&destination={id}"),
            400,
            "parameter_invalid_integer",
        ),
        (
            format!("amount=-3&currency=eur&destination={id}"),
            400,
            "parameter_invalid_integer",
        ),
        (
            format!("currency=eur&destination={id}"),
            400,
            "parameter_missing",
        ),
        (
            "amount=100&currency=eur&destination=acct_nope".to_owned(),
            404,
            "resource_missing",
        ),
    ] {
        let answer = post_form(&base, "v1/transfers", &bad, None);
        assert_eq!(answer.status, status, "{bad}: {:?}", answer.body);
        assert_eq!(answer.body["error"]["code"], code, "{bad}");
    }

    let second = post_form(
        &base,
        "v1/transfers",
        &format!("amount=200&currency=eur&destination={id}&transfer_group=booking_8"),
        None,
    );
    assert_eq!(second.status, 200);
    let listed = get(&base, "v1/transfers?transfer_group=booking_7&limit=10");
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["object"], "list");
    assert_eq!(listed.body["url"], "/v1/transfers");
    assert_eq!(listed.body["has_more"], false);
    assert_eq!(listed.body["data"], json!([transfer.clone()]));
    let page = get(&base, "v1/transfers?limit=1");
    assert_eq!(
        page.body["data"][0]["id"], second.body["id"],
        "newest first"
    );
    assert_eq!(page.body["has_more"], true);
    assert_eq!(fake.transfers().len(), 2);
    assert_eq!(fake.transfers()[0]["id"], transfer_id, "creation order");

    fake.restrict(&id);
    let refused = post_form(
        &base,
        "v1/transfers",
        &format!("amount=1&currency=eur&destination={id}"),
        None,
    );
    assert_eq!(refused.status, 400);
    assert_eq!(fake.transfers().len(), 2);
}

#[test]
fn fake_replays_idempotent_requests() {
    let fake = StripeFake::start(None);
    let base = fake.base_url();
    let id = active_account(&fake);
    let form = format!("amount=500&currency=eur&destination={id}&metadata[droply_payout]=3");

    let first = post_form(&base, "v1/transfers", &form, Some("payout-3"));
    assert_eq!(first.status, 200);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post_form(&base, "v1/transfers", &form, Some("payout-3"));
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(fake.transfers().len(), 1);

    let other = post_form(
        &base,
        "v1/transfers",
        &format!("amount=501&currency=eur&destination={id}"),
        Some("payout-3"),
    );
    assert_eq!(other.status, 400);
    assert_eq!(other.body["error"]["type"], "idempotency_error");
    assert_eq!(fake.transfers().len(), 1);

    // Accounts too; a key is bound to its path.
    let account = post_form(&base, "v1/accounts", "type=express", Some("host-9"));
    let account_again = post_form(&base, "v1/accounts", "type=express", Some("host-9"));
    assert_eq!(account.body, account_again.body);
    assert_eq!(fake.accounts().len(), 2);
    let cross = post_form(&base, "v1/transfers", &form, Some("host-9"));
    assert_eq!(cross.body["error"]["type"], "idempotency_error");

    // Validation errors are not saved: the fixed request may reuse the key.
    let bad = post_form(
        &base,
        "v1/transfers",
        &format!("amount=x&currency=eur&destination={id}"),
        Some("payout-4"),
    );
    assert_eq!(bad.status, 400);
    let good = post_form(
        &base,
        "v1/transfers",
        &format!("amount=7&currency=eur&destination={id}"),
        Some("payout-4"),
    );
    assert_eq!(good.status, 200);
    assert_eq!(fake.transfers().len(), 2);
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.idempotency_key.as_deref() == Some("payout-3"))
            .count(),
        3
    );
}

#[test]
fn fake_injects_transfer_failures() {
    let fake = StripeFake::start(None);
    let base = fake.base_url();
    let id = active_account(&fake);
    let form = format!("amount=500&currency=eur&destination={id}");
    fake.fail_transfers(500, 2);
    for _ in 0..2 {
        let failed = post_form(&base, "v1/transfers", &form, Some("payout-5"));
        assert_eq!(failed.status, 500);
        assert_eq!(failed.body["error"]["type"], "api_error");
    }
    assert!(fake.transfers().is_empty());
    // The retry with the same key goes through: failures are not saved.
    let retried = post_form(&base, "v1/transfers", &form, Some("payout-5"));
    assert_eq!(retried.status, 200, "{:?}", retried.body);
    assert_eq!(fake.transfers().len(), 1);
    fake.fail_transfers(503, 1);
    // A replay of an answered key is not a new transfer: it is not failed.
    assert_eq!(
        post_form(&base, "v1/transfers", &form, Some("payout-5")).status,
        200
    );
    assert_eq!(post_form(&base, "v1/transfers", &form, None).status, 503);
    assert_eq!(post_form(&base, "v1/transfers", &form, None).status, 200);
}

#[test]
fn fake_holds_transfers_for_crash_tests() {
    let fake = StripeFake::start(None);
    let base = fake.base_url();
    let id = active_account(&fake);
    let form = format!("amount=900&currency=eur&destination={id}");

    let gate = fake.hold_transfers();
    assert!(!gate.wait_for(1, Duration::from_millis(50)));
    let client = {
        let (base, form) = (base.clone(), form.clone());
        thread::spawn(move || post_form(&base, "v1/transfers", &form, Some("payout-9")))
    };
    assert!(
        gate.wait_for(1, Duration::from_secs(10)),
        "the transfer was not held"
    );
    assert_eq!(gate.held(), 1);
    let recorded = fake.transfers();
    assert_eq!(recorded.len(), 1, "a held transfer exists");
    thread::sleep(Duration::from_millis(200));
    assert!(
        !client.is_finished(),
        "a held transfer must not be answered"
    );

    // A restarted client replays the key: answered at once, nothing new.
    let started = Instant::now();
    let replay = post_form(&base, "v1/transfers", &form, Some("payout-9"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(replay.status, 200);
    assert_eq!(replay.body["id"], recorded[0]["id"]);

    // A client that dies while held: its connection just goes away.
    let body = format!("amount=901&currency=eur&destination={id}");
    let doomed = open_transfer(&base, &body, "payout-10");
    assert!(gate.wait_for(2, Duration::from_secs(10)));
    drop(doomed);

    fake.release_transfers();
    let answered = client.join().expect("client thread");
    assert_eq!(answered.status, 200);
    assert_eq!(answered.body["id"], recorded[0]["id"]);
    assert_eq!(fake.transfers().len(), 2);
    // The dead client's transfer is replayed to its successor.
    let successor = post_form(&base, "v1/transfers", &body, Some("payout-10"));
    assert_eq!(successor.body["id"], fake.transfers()[1]["id"]);
    // Released: new transfers are answered at once.
    let later = post_form(&base, "v1/transfers", &form, None);
    assert_eq!(later.status, 200);
    assert_eq!(gate.held(), 2);
    assert_eq!(fake.transfers().len(), 3);
}

#[test]
fn fake_drops_cleanly_while_holding() {
    let fake = StripeFake::start(None);
    let base = fake.base_url();
    let id = active_account(&fake);
    let gate = fake.hold_transfers();
    let mut stream = open_transfer(
        &base,
        &format!("amount=1&currency=eur&destination={id}"),
        "payout-11",
    );
    let client = thread::spawn(move || {
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        reply
    });
    assert!(gate.wait_for(1, Duration::from_secs(10)));
    let started = Instant::now();
    drop(fake);
    let reply = client.join().expect("client thread");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the held connection was not closed"
    );
    assert!(reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
}

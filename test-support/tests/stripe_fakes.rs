//! Tests of the Stripe fakes: localstripe's launcher (payments, webhooks,
//! refunds), the Connect fake (accounts, links, transfers, idempotency,
//! injected failures, the crash-test gate, forwarding to localstripe) and
//! the webhook sender. The localstripe tests need localstripe installed
//! (see `LocalStripe::start`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use droply_test_support::stripe::webhook_sender::{self, verify_signature_header};
use droply_test_support::stripe::{
    LocalStripe, SECRET_KEY, StripeFake, event, post_event, signature_header,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

/// A response read by [`call`].
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A blocking HTTP/1.1 call with `Connection: close` (enough for the fake,
/// which answers with a Content-Length).
fn call(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let rest = base.strip_prefix("http://").expect("http base URL");
    let authority = rest.trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut request = format!(
        "{method} /{} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        path.trim_start_matches('/'),
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("response head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    assert!(
        !headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")),
        "the test client does not de-chunk"
    );
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    Answer {
        status,
        headers,
        body,
    }
}

const AUTH: (&str, &str) = ("Authorization", "Bearer sk_test_droply_localstripe");

/// An authenticated form POST, with an idempotency key if given.
fn post_form(base: &str, path: &str, body: &str, key: Option<&str>) -> Answer {
    let mut headers = vec![AUTH];
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    call(base, "POST", path, &headers, body)
}

fn get(base: &str, path: &str) -> Answer {
    call(base, "GET", path, &[AUTH], "")
}

/// Sends a transfer creation on a raw connection without reading the
/// answer (a client that may die while it is held); the connection.
fn open_transfer(base: &str, body: &str, key: &str) -> TcpStream {
    let authority = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        stream,
        "POST /v1/transfers HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {SECRET_KEY}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nIdempotency-Key: {key}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    stream
}

/// A webhook receiver: an axum server on its own runtime that records each
/// POST to `/hook` (headers and raw body) and answers `status`.
struct Receiver {
    url: String,
    received: mpsc::Receiver<(HeaderMap, Bytes)>,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    fn start(status: StatusCode) -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (sender, received) = mpsc::channel();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener).expect("tokio listener")
        };
        let app = Router::new()
            .route(
                "/hook",
                post(
                    move |State(sender): State<mpsc::Sender<(HeaderMap, Bytes)>>,
                          headers: HeaderMap,
                          body: Bytes| async move {
                        let _ = sender.send((headers, body));
                        (status, "received")
                    },
                ),
            )
            .with_state(sender);
        runtime.spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            received,
            _runtime: runtime,
        }
    }

    /// The next delivery, waiting at most `timeout`.
    fn next(&self, timeout: Duration) -> Option<(HeaderMap, Bytes)> {
        self.received.recv_timeout(timeout).ok()
    }
}

/// Creates an account through the fake and activates it; its id.
fn active_account(fake: &StripeFake) -> String {
    let created = post_form(&fake.base_url(), "v1/accounts", "type=express", None);
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("account id").to_owned();
    fake.activate(&id);
    id
}

// ------------------------------------------------------------ localstripe

#[test]
fn localstripe_pays_and_signs_webhooks_and_sends_none_for_refunds() {
    let ls = LocalStripe::start();
    assert!(ls.base_url().starts_with("http://127.0.0.1:") && ls.base_url().ends_with('/'));
    let receiver = Receiver::start(StatusCode::OK);
    let secret = "whsec_droply_test";
    ls.register_webhook(&receiver.url, secret);

    let (status, intent) = ls.post(
        "v1/payment_intents",
        &[
            ("amount", "2000"),
            ("currency", "eur"),
            ("metadata[droply_booking]", "7"),
        ],
    );
    assert_eq!(status, 200, "{intent}");
    assert_eq!(intent["status"], "requires_payment_method");
    let intent_id = intent["id"].as_str().expect("intent id");

    let paid = ls.pay(intent_id);
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(paid["id"], intent_id);
    // localstripe expands latest_charge (Stripe sends an id).
    assert_eq!(paid["latest_charge"]["status"], "succeeded");
    assert_eq!(
        ls.get(&format!("v1/payment_intents/{intent_id}"))["status"],
        "succeeded"
    );

    let (headers, body) = receiver
        .next(Duration::from_secs(10))
        .expect("a payment_intent.succeeded webhook within 10 s");
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .expect("Stripe-Signature header");
    assert!(
        verify_signature_header(secret, signature, &body),
        "{signature}"
    );
    // The same check spelled out: t=<created>,v1=hex(HMAC-SHA256("{t}.{body}")).
    let t: i64 = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse().ok())
        .expect("t=");
    assert_eq!(signature, signature_header(secret, t, &body));
    let event: Value = serde_json::from_slice(&body).expect("JSON event");
    assert_eq!(event["type"], "payment_intent.succeeded");
    assert_eq!(event["object"], "event");
    assert_eq!(event["created"], t);
    assert_eq!(event["data"]["object"]["id"], intent_id);
    assert_eq!(event["data"]["object"]["metadata"]["droply_booking"], "7");

    // Refunds: created at once as `succeeded`, but no webhook at all.
    let (status, refund) = ls.post(
        "v1/refunds",
        &[("payment_intent", intent_id), ("amount", "500")],
    );
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(refund["amount"], 500);
    let refunds = ls.get(&format!("v1/refunds?payment_intent={intent_id}"));
    assert_eq!(
        refunds["data"].as_array().map(Vec::len),
        Some(1),
        "{refunds}"
    );
    assert!(
        receiver.next(Duration::from_millis(2500)).is_none(),
        "localstripe sent a webhook for a refund"
    );
    let events = ls.get("v1/events");
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(kinds, ["payment_intent.succeeded"]);
}

#[test]
fn localstripe_declines_and_emits_payment_failed() {
    let ls = LocalStripe::start();
    let (_, intent) = ls.post(
        "v1/payment_intents",
        &[("amount", "1500"), ("currency", "eur")],
    );
    let intent_id = intent["id"].as_str().expect("intent id");
    let declined = ls.pay_declined(intent_id);
    assert_eq!(declined["status"], "requires_payment_method", "{declined}");
    assert_eq!(declined["last_payment_error"]["code"], "card_declined");
    let failed = ls.get("v1/events?type=payment_intent.payment_failed");
    assert_eq!(
        failed["data"][0]["data"]["object"]["id"], intent_id,
        "{failed}"
    );

    // A refund of a failed payment is refused; an unknown intent is a 404.
    let (status, _) = ls.post("v1/refunds", &[("payment_intent", intent_id)]);
    assert_eq!(status, 400);
    let (status, body) = ls.get_status("v1/payment_intents/pi_nope");
    assert_eq!(status, 404, "{body}");
}

// ------------------------------------------------------------ StripeFake

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

#[test]
fn fake_without_upstream_answers_unknown_urls_with_404() {
    let fake = StripeFake::start(None);
    let answer = get(&fake.base_url(), "v1/payment_intents");
    assert_eq!(answer.status, 404);
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Unrecognized request URL (GET: /v1/payment_intents)")),
        "{:?}",
        answer.body
    );
    assert!(fake.requests()[0].forwarded);
}

#[test]
fn fake_forwards_everything_else_to_localstripe() {
    let ls = LocalStripe::start();
    let fake = StripeFake::start(Some(ls.base_url()));
    assert_eq!(fake.upstream(), Some(ls.base_url().as_str()));
    let base = fake.base_url();

    let created = post_form(
        &base,
        "v1/payment_intents",
        "amount=2000&currency=eur&metadata[droply_booking]=7",
        Some("booking-7"),
    );
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert!(
        created
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let intent_id = created.body["id"].as_str().expect("id");
    assert_eq!(
        ls.get(&format!("v1/payment_intents/{intent_id}"))["metadata"]["droply_booking"],
        "7"
    );
    let fetched = get(&base, &format!("v1/payment_intents/{intent_id}"));
    assert_eq!(fetched.body["id"], intent_id);
    // Upstream errors come back as they are.
    assert_eq!(
        call(&base, "GET", "v1/payment_intents", &[], "").status,
        401
    );
    assert_eq!(get(&base, "v1/payment_intents/pi_nope").status, 404);
    // The Connect part is still served by the fake.
    let id = active_account(&fake);
    let transfer = post_form(
        &base,
        "v1/transfers",
        &format!("amount=5&currency=eur&destination={id}"),
        None,
    );
    assert_eq!(transfer.status, 200);

    // Verbatim by default: localstripe's shape (an expanded latest_charge, no
    // amount_received); with fixups, Stripe's.
    ls.pay(intent_id);
    let verbatim = get(&base, &format!("v1/payment_intents/{intent_id}"));
    assert!(verbatim.body["latest_charge"].is_object());
    assert!(verbatim.body.get("amount_received").is_none());
    fake.set_upstream_fixups(true);
    let fixed = get(&base, &format!("v1/payment_intents/{intent_id}"));
    assert_eq!(fixed.body["amount_received"], 2000);
    assert_eq!(fixed.body["amount_capturable"], 0);
    assert_eq!(fixed.body["payment_method_types"], json!(["card"]));
    assert!(
        fixed.body["latest_charge"]
            .as_str()
            .is_some_and(|c| c.starts_with("ch_"))
    );
    let expanded = get(
        &base,
        &format!("v1/payment_intents/{intent_id}?expand[]=latest_charge"),
    );
    assert_eq!(expanded.body["latest_charge"]["amount_captured"], 2000);
    let events = get(&base, "v1/events?type=payment_intent.succeeded");
    assert_eq!(events.body["data"][0]["pending_webhooks"], 0);
    assert_eq!(
        events.body["data"][0]["data"]["object"]["amount_received"],
        2000
    );
    let (_, other) = ls.post(
        "v1/payment_intents",
        &[("amount", "300"), ("currency", "eur")],
    );
    let other_id = other["id"].as_str().expect("id");
    let method = post_form(
        &base,
        "v1/payment_methods",
        "type=card&card[number]=4000000000000341&card[exp_month]=12&card[exp_year]=2030&card[cvc]=123",
        None,
    );
    let method_id = method.body["id"].as_str().expect("pm id");
    post_form(
        &base,
        &format!("v1/payment_intents/{other_id}"),
        &format!("payment_method={method_id}"),
        None,
    );
    let declined = post_form(
        &base,
        &format!("v1/payment_intents/{other_id}/confirm"),
        "",
        None,
    );
    assert_eq!(declined.status, 402);
    assert_eq!(declined.body["error"]["type"], "card_error");
    let failed = get(&base, &format!("v1/payment_intents/{other_id}"));
    assert_eq!(failed.body["last_payment_error"]["type"], "card_error");

    let seen = fake.requests();
    assert!(seen[0].forwarded);
    assert_eq!(seen[0].idempotency_key.as_deref(), Some("booking-7"));
    assert!(
        seen.iter()
            .any(|r| r.path == "/v1/transfers" && !r.forwarded)
    );
}

// ------------------------------------------------------------ webhook sender

#[test]
fn sender_posts_signed_events() {
    let receiver = Receiver::start(StatusCode::OK);
    let secret = "whsec_sender";
    let sent = event(
        "evt_test_1",
        "account.updated",
        json!({"id": "acct_1", "object": "account", "payouts_enabled": true}),
    );
    let (status, body) = post_event(&receiver.url, secret, &sent);
    assert_eq!((status, body.as_str()), (200, "received"));
    let (headers, payload) = receiver.next(Duration::from_secs(5)).expect("delivery");
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .expect("signature");
    assert!(verify_signature_header(secret, signature, &payload));
    assert!(!verify_signature_header("whsec_other", signature, &payload));
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let received: Value = serde_json::from_slice(&payload).expect("JSON");
    assert_eq!(received, sent);
    assert_eq!(received["api_version"], webhook_sender::API_VERSION);

    let refusing = Receiver::start(StatusCode::BAD_REQUEST);
    let (status, _) = webhook_sender::post_payload(&refusing.url, "t=1,v1=00", b"{}");
    assert_eq!(status, 400);
}

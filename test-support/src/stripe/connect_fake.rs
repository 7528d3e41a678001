//! [`StripeFake`]: an in-process fake of the Stripe Connect API that
//! localstripe lacks (connected accounts, account links, transfers), served
//! by axum on `127.0.0.1:<random port>` from its own tokio runtime, with
//! Stripe's authentication check, error shape and idempotency keys, test
//! controls (activate or restrict an account, inject transfer failures,
//! hold transfers for crash tests, hold account reads for races) and a log
//! of the requests it saw. Every request it does not serve itself is
//! forwarded verbatim to an upstream (a [`LocalStripe`](super::LocalStripe)),
//! so one base URL serves both.
//! This module is the fake's handle for tests; its server is `connect_serve`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::Router;
use serde_json::Value;

use super::connect_api::{self, Route};
use super::connect_params::Params;
use super::connect_serve::{Shared, State, handle};
use super::form;
use super::holding::{Release, wait_for_count};
use crate::loopback::Loopback;

/// One request the fake received (served or forwarded), as the tests may
/// inspect it. The API key is never kept: only whether one was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// The HTTP method, like `"POST"`.
    pub method: String,
    /// The path, like `"/v1/transfers"`, without the query.
    pub path: String,
    /// The query string, without the `?`, if any.
    pub query: Option<String>,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
    /// The `Stripe-Account` header, if any.
    pub stripe_account: Option<String>,
    /// Whether an `Authorization` header was sent.
    pub has_authorization: bool,
    /// The raw body (form-encoded for Stripe calls), lossily decoded.
    pub body: String,
    /// Whether it was forwarded to the upstream (or, without one, answered
    /// 404) rather than served by the fake.
    pub forwarded: bool,
}

impl SeenRequest {
    /// The request's parameters (its form body, or its query for a body-less
    /// request) decoded into a JSON tree whose leaves are strings, like
    /// `{"amount": "500", "metadata": {"droply_payout": "12"}}`.
    ///
    /// # Panics
    /// When they are not well-formed form encoding.
    pub fn params(&self) -> Value {
        let raw = if self.body.is_empty() {
            self.query.as_deref().unwrap_or_default()
        } else {
            self.body.as_str()
        };
        let map = form::parse(raw.as_bytes())
            .unwrap_or_else(|e| panic!("parameters of {} {}: {e}", self.method, self.path));
        Value::Object(map)
    }
}

/// An in-process fake of Stripe Connect, forwarding everything else to an
/// optional upstream; stopped on drop. See the [module docs](self).
///
/// Serves, with `Authorization: Bearer sk_...` required (401 otherwise):
/// `POST /v1/accounts`, `GET /v1/accounts`, `GET /v1/accounts/{id}`,
/// `POST /v1/account_links`, `POST /v1/transfers`, `GET /v1/transfers`
/// (filters `transfer_group`, `destination`; `limit`, `starting_after`;
/// newest first) and `GET /v1/transfers/{id}`.
///
/// Idempotency (the POSTs above): a request whose `Idempotency-Key` was
/// already answered with success gets that first answer again (same
/// status and body, header `Idempotent-Replayed: true`, no new object)
/// when its method, path and parameters are the same (in any order, as
/// at Stripe: metadata from a hash map comes in any order), and 400
/// `idempotency_error` otherwise. Keys live as long as the fake. As at
/// Stripe, requests that fail validation (400/404) are not saved, nor are
/// failures injected by [`fail_transfers`](Self::fail_transfers) (they
/// stand for requests that never reached Stripe), so a retry with the same
/// key runs anew.
pub struct StripeFake {
    shared: Arc<Shared>,
    base_url: String,
    _server: Loopback,
}

impl std::fmt::Debug for StripeFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeFake")
            .field("base_url", &self.base_url)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

/// Returned by [`StripeFake::hold_transfers`]: lets a test wait until the
/// code under test has created transfers that are being held.
#[derive(Debug, Clone)]
pub struct TransferGate {
    shared: Arc<Shared>,
}

impl TransferGate {
    /// Waits until `n` transfers were recorded while held (counted from the
    /// latest `hold_transfers` call), at most `timeout`; whether they were.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let held_changed = &self.shared.held_changed;
        wait_for_count(self.shared.lock(), held_changed, n, timeout, |s| s.held)
    }

    /// How many transfers were recorded while held so far.
    pub fn held(&self) -> usize {
        self.shared.lock().held
    }
}

/// Returned by [`StripeFake::hold_account_reads`]: lets a test wait until
/// the code under test is waiting on held account reads.
#[derive(Debug, Clone)]
pub struct AccountReadGate {
    shared: Arc<Shared>,
}

impl AccountReadGate {
    /// Waits until `n` account reads are held (counted from the latest
    /// `hold_account_reads` call), at most `timeout`; whether they were.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let held_changed = &self.shared.held_changed;
        wait_for_count(self.shared.lock(), held_changed, n, timeout, |s| {
            s.held_reads
        })
    }
}

impl StripeFake {
    /// Starts the fake on `127.0.0.1:<random port>` with its own tokio
    /// runtime (one worker thread). `upstream` is a base URL like
    /// [`LocalStripe::base_url`](super::LocalStripe::base_url); without one,
    /// requests the fake does not serve get Stripe's 404 "Unrecognized
    /// request URL".
    ///
    /// # Panics
    /// When the runtime or the listener cannot be set up.
    pub fn start(upstream: Option<String>) -> StripeFake {
        let shared = Arc::new(Shared {
            upstream,
            fixups: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            held_changed: Condvar::new(),
            release: Release::new(),
            release_reads: Release::new(),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = Loopback::serve("StripeFake", "stripe-fake", app);
        StripeFake {
            shared,
            base_url: format!("http://127.0.0.1:{}/", server.port()),
            _server: server,
        }
    }

    /// `"http://127.0.0.1:P/"`, with the trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The upstream requests are forwarded to, if any.
    pub fn upstream(&self) -> Option<&str> {
        self.shared.upstream.as_deref()
    }

    /// Off by default (forwarded answers come back verbatim). When on,
    /// JSON from the upstream is repaired so that a client decoding
    /// Stripe's real schema (async-stripe) can read localstripe's objects,
    /// at any depth (lists, events' `data.object`, expansions): a
    /// PaymentIntent gains `amount_received` (its amount once `succeeded`,
    /// else 0), `amount_capturable` (its amount in `requires_capture`, else
    /// 0), `confirmation_method: "automatic"` and `payment_method_types:
    /// ["card"]`, its `latest_charge` becomes the charge's id (unless the
    /// request mentions `latest_charge`, e.g. `expand[]=latest_charge`) and
    /// its `last_payment_error` gets a `type`; a Charge gains
    /// `amount_captured`, `disputed: false` and empty `billing_details`; an
    /// Event gains `pending_webhooks: 0` and `request`; an error with code
    /// `card_declined` gets type `card_error`, as at Stripe. (Webhooks go
    /// from localstripe straight to their receiver and are not repaired.)
    pub fn set_upstream_fixups(&self, enabled: bool) {
        self.shared.fixups.store(enabled, Ordering::Relaxed);
    }

    fn with_account<T>(&self, id: &str, what: &str, f: impl FnOnce(&mut Value) -> T) -> T {
        let mut state = self.shared.lock();
        let account = state
            .store
            .account_mut(id)
            .unwrap_or_else(|| panic!("StripeFake::{what}: no account {id}"));
        f(account)
    }

    /// Completes onboarding of account `id`: `charges_enabled`,
    /// `payouts_enabled` and `details_submitted` true, nothing due, every
    /// capability (and `transfers`) active. (No `account.updated` event is
    /// sent: post one with [`post_event`](super::post_event) if the code
    /// under test needs it.)
    ///
    /// # Panics
    /// When there is no such account.
    pub fn activate(&self, account_id: &str) {
        self.with_account(account_id, "activate", connect_api::activate);
    }

    /// Restricts account `id`: `payouts_enabled` false,
    /// `requirements.disabled_reason = "requirements.past_due"`,
    /// `external_account` currently and past due, the `transfers` capability
    /// inactive (so transfers to it fail).
    ///
    /// # Panics
    /// When there is no such account.
    pub fn restrict(&self, account_id: &str) {
        self.with_account(account_id, "restrict", connect_api::restrict);
    }

    /// Creates an account as `POST /v1/accounts type=express email=...`
    /// would, activated if `activated`, without going through HTTP; the
    /// account.
    pub fn add_account(&self, email: &str, activated: bool) -> Value {
        let mut params = Params::new();
        params.insert("type".into(), "express".into());
        params.insert("email".into(), email.into());
        let mut state = self.shared.lock();
        let (status, mut account) = state.store.serve(&Route::CreateAccount, &params);
        assert_eq!(status, 200, "StripeFake::add_account: {account}");
        if activated {
            let id = account["id"].as_str().unwrap_or_default().to_owned();
            if let Some(stored) = state.store.account_mut(&id) {
                connect_api::activate(stored);
                account = stored.clone();
            }
        }
        account
    }

    /// The account `id` as `GET /v1/accounts/{id}` would answer, if any.
    pub fn account(&self, id: &str) -> Option<Value> {
        let state = self.shared.lock();
        state.store.accounts.iter().find(|a| a["id"] == id).cloned()
    }

    /// Every account, in creation order.
    pub fn accounts(&self) -> Vec<Value> {
        self.shared.lock().store.accounts.clone()
    }

    /// Every transfer, in creation order (held ones included).
    pub fn transfers(&self) -> Vec<Value> {
        self.shared.lock().store.transfers.clone()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.lock().requests.clone()
    }

    /// Makes the next `count` transfer creations (`POST /v1/transfers` not
    /// answered from an idempotency key) answer `status` with an
    /// `api_error`, creating nothing. Replaces any failures still pending.
    pub fn fail_transfers(&self, status: u16, count: usize) {
        self.shared.lock().fail_transfers = (count > 0).then_some((status, count));
    }

    /// From now on, a transfer creation records the transfer (it exists, as
    /// at Stripe when the response is lost), signals the returned gate, and
    /// does not answer until [`release_transfers`](Self::release_transfers).
    /// A client that gives up or dies meanwhile is no trouble. A replay of
    /// a held transfer's idempotency key (a restarted client) answers at
    /// once with the recorded transfer, held or not.
    pub fn hold_transfers(&self) -> TransferGate {
        let mut state = self.shared.lock();
        state.holding = true;
        state.held = 0;
        TransferGate {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops holding: held requests (those still connected) get their
    /// transfer, and new ones are answered at once.
    pub fn release_transfers(&self) {
        self.shared.lock().holding = false;
        self.shared.release.release();
    }

    /// Holds the next `count` account reads (`GET /v1/accounts/{id}`): each
    /// is answered with the account as it was when the request came, but only
    /// at [`release_account_reads`](Self::release_account_reads), so that a
    /// test can change the account meanwhile and deliver the older read last
    /// (two `account.updated` deliveries racing). Later reads are answered at
    /// once.
    pub fn hold_account_reads(&self, count: usize) -> AccountReadGate {
        let mut state = self.shared.lock();
        state.reads_to_hold = count;
        state.held_reads = 0;
        AccountReadGate {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Answers the held account reads (those still connected) with what they
    /// read, and holds no more.
    pub fn release_account_reads(&self) {
        self.shared.lock().reads_to_hold = 0;
        self.shared.release_reads.release();
    }
}

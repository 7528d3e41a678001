//! `spawn_app`: the real router on a free loopback port over a fresh data
//! dir, talked to through the tests' own HTTP/1.1 client (`http_client`,
//! whose answer types are re-exported here).
//! `spawn_app_with_search` adds the search index and the matcher over the real
//! sentence model, loaded once per test binary. Both open an engine and serve
//! it through `droply_server::startup`, as `droply serve` does, under
//! [`test_limits`]: every request comes from 127.0.0.1, so the rate limits
//! are off; `spawn_app_limited` and `spawn_router_limited` take other limits
//! (the tests of the limits themselves). Requests can be sent from another
//! loopback address (`send_from`) to stand for another client.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub use crate::http_client::{Response, error_code, header_in, parse_response};
use droply_engine::accounts::HashingLimits;
use droply_engine::embedding::{Embedder, TextEmbedder, default_model_dir};
use droply_engine::payments::StripeConfig;
use droply_engine::search_index::SearchIndexConfig;
use droply_engine::{Engine, EngineConfig, SearchIndex, SearchSetup, Store};
use droply_server::http::AppState;
use droply_server::limits::Limits;
use droply_server::startup;
use droply_test_support::fixtures::Backend;
use droply_test_support::postgres::fresh_database;
use droply_test_support::stripe::{LocalStripe, SECRET_KEY, StripeFake};

/// A running app and what it runs on.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The engine the app serves.
    pub engine: Engine,
    pub store: Store,
    /// The search index, when the app serves search.
    pub index: Option<Arc<SearchIndex>>,
    pub _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
    /// Every exchange: the bearer token sent (if any), the path, the raw body.
    pub seen: Mutex<Vec<(Option<String>, String, String)>>,
    /// Users signed up through the API: (id, email, token).
    pub users: Mutex<Vec<(u64, String, String)>>,
    /// Stripe on loopback, when the app takes payments.
    pub stripe: Option<Stripe>,
}

/// Stripe on loopback for one app: localstripe (PaymentIntents, refunds,
/// webhooks) behind the Connect fake (accounts, links, transfers), which
/// the app's Stripe client talks to.
pub struct Stripe {
    /// The Connect fake, the app's `DROPLY_STRIPE_API_BASE`.
    pub fake: StripeFake,
    /// localstripe, sending its webhooks to the app.
    pub local: LocalStripe,
}

/// The webhook signing secret the paying test apps use.
pub const WEBHOOK_SECRET: &str = "whsec_droply_tests";

/// Starts the API taking payments: its own localstripe (its webhooks go to
/// this app only) with the Connect fake in front, and `change` made to the
/// test engine config.
pub fn spawn_app_paying_with(change: impl FnOnce(&mut EngineConfig)) -> TestApp {
    let local = LocalStripe::start();
    let fake = StripeFake::start(Some(local.base_url()));
    let api_base = fake.base_url();
    let mut app = spawn_app_with(|config| {
        config.payments.stripe = Some(StripeConfig {
            api_base,
            ..StripeConfig::new(SECRET_KEY.into(), WEBHOOK_SECRET.into())
        });
        change(config);
    });
    local.register_webhook(
        &format!("http://{}/v1/webhooks/stripe", app.addr),
        WEBHOOK_SECRET,
    );
    app.stripe = Some(Stripe { fake, local });
    app
}

/// Starts the API taking payments (as [`spawn_app_paying`]) with the web
/// pages taking them too: Stripe's publishable key is `publishable_key`.
pub fn spawn_app_paying_pages(publishable_key: &str) -> TestApp {
    let local = LocalStripe::start();
    let fake = StripeFake::start(Some(local.base_url()));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = engine_config(dir.path());
    config.payments.stripe = Some(StripeConfig {
        api_base: fake.base_url(),
        ..StripeConfig::new(SECRET_KEY.into(), WEBHOOK_SECRET.into())
    });
    let engine = open_engine(config);
    let limits = test_limits();
    let pages = droply_server::pages::PageSettings {
        stripe_publishable_key: Some(publishable_key.to_owned()),
        ..droply_server::pages::PageSettings::default()
    };
    let state = AppState::with_limits(engine.clone(), &limits).with_pages(pages);
    let mut app = serve_router(droply_server::http::router(state), &limits, engine, dir);
    local.register_webhook(
        &format!("http://{}/v1/webhooks/stripe", app.addr),
        WEBHOOK_SECRET,
    );
    app.stripe = Some(Stripe { fake, local });
    app
}

/// [`spawn_app_paying_with`] with the test defaults.
pub fn spawn_app_paying() -> TestApp {
    spawn_app_paying_with(|_| {})
}

/// The limits the tests run under: the defaults without rate limits (every
/// test client is 127.0.0.1).
pub fn test_limits() -> Limits {
    Limits::without_rate_limits()
}

/// The engine's configuration for tests over `dir`: the defaults, but a
/// sign-up waits up to a minute for a hashing permit, since many tests
/// sign up at once on a small machine.
pub fn engine_config(dir: &std::path::Path) -> EngineConfig {
    let config = EngineConfig::new(dir);
    EngineConfig {
        password_hashing: HashingLimits {
            wait: Duration::from_secs(60),
            ..config.password_hashing
        },
        ..config
    }
}

/// Starts the API over a store in a new temporary data dir.
pub fn spawn_app() -> TestApp {
    spawn_app_with(|_| {})
}

/// Starts the API over a store in a new temporary data dir, with `change`
/// made to the test engine config (a policy, a background job).
pub fn spawn_app_with(change: impl FnOnce(&mut EngineConfig)) -> TestApp {
    spawn_app_limited(test_limits(), |mut config| {
        change(&mut config);
        config
    })
}

/// Starts the API under `limits`, over an engine whose configuration
/// `configure` changed.
pub fn spawn_app_limited(
    limits: Limits,
    configure: impl FnOnce(EngineConfig) -> EngineConfig,
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open_engine(configure(engine_config(dir.path())));
    let app = startup::app(engine.clone(), &limits);
    serve_router(app, &limits, engine, dir)
}

/// A new, empty store for an app over `dir`, on this test binary's backend
/// ([`crate::BACKEND`]): sled in the data dir, or a fresh PostgreSQL
/// database.
pub fn fresh_store(dir: &std::path::Path) -> Store {
    match crate::BACKEND {
        Backend::Sled => Store::open(dir.join("store")).expect("store"),
        Backend::Postgres => Store::open_postgres(&fresh_database()).expect("store"),
    }
}

/// The engine `config` describes, over a [`fresh_store`] in its data dir.
fn open_engine(config: EngineConfig) -> Engine {
    let store = fresh_store(config.data_dir.path());
    Engine::over(store, config).expect("engine")
}

/// Starts the API over an existing store.
pub fn spawn_app_on(store: Store, dir: tempfile::TempDir) -> TestApp {
    let engine = Engine::over(store, engine_config(dir.path())).expect("engine");
    serve(engine, dir)
}

/// The sentence model, loaded once per test binary.
pub fn embedder() -> Arc<Embedder> {
    static EMBEDDER: OnceLock<Arc<Embedder>> = OnceLock::new();
    Arc::clone(EMBEDDER.get_or_init(|| {
        let dir = default_model_dir();
        match Embedder::load(&dir) {
            Ok(embedder) => Arc::new(embedder.with_query_cache(1024)),
            Err(err) => panic!(
                "the search tests need the sentence model in {} (set DROPLY_MODEL_DIR; CI runs \
                 `droply model fetch` into it first): {err}",
                dir.display()
            ),
        }
    }))
}

/// Starts the API with search: a search index over a fresh store, following it,
/// and the matcher over both.
pub fn spawn_app_with_search() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = fresh_store(dir.path());
    spawn_app_with_search_on(store, dir, embedder())
}

/// Starts the API with search over an existing store, embedding with `embedder`.
pub fn spawn_app_with_search_on(
    store: Store,
    dir: tempfile::TempDir,
    embedder: Arc<dyn TextEmbedder>,
) -> TestApp {
    spawn_app_with_search_configured(store, dir, embedder, |_| {})
}

/// [`spawn_app_with_search_on`] with `change` made to the engine config.
pub fn spawn_app_with_search_configured(
    store: Store,
    dir: tempfile::TempDir,
    embedder: Arc<dyn TextEmbedder>,
    change: impl FnOnce(&mut EngineConfig),
) -> TestApp {
    let mut config = EngineConfig {
        search: SearchSetup::Embedder(embedder),
        search_index: SearchIndexConfig {
            poll_interval: Duration::from_millis(50),
            ..SearchIndexConfig::default()
        },
        ..engine_config(dir.path())
    };
    change(&mut config);
    let engine = Engine::over(store, config).expect("engine");
    serve(engine, dir)
}

/// Starts the router `make` builds over a fresh engine's state in place of
/// the real one, for tests of what checks the router itself.
pub fn spawn_router(make: impl FnOnce(AppState) -> axum::Router) -> TestApp {
    spawn_router_limited(test_limits(), make)
}

/// [`spawn_router`] under `limits` (the state is built with them too).
pub fn spawn_router_limited(
    limits: Limits,
    make: impl FnOnce(AppState) -> axum::Router,
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open_engine(engine_config(dir.path()));
    let app = make(AppState::with_limits(engine.clone(), &limits));
    serve_router(app, &limits, engine, dir)
}

/// Serves `engine` the way `droply serve` does, on a free loopback port.
fn serve(engine: Engine, dir: tempfile::TempDir) -> TestApp {
    let limits = test_limits();
    serve_router(startup::app(engine.clone(), &limits), &limits, engine, dir)
}

fn serve_router(
    app: axum::Router,
    limits: &Limits,
    engine: Engine,
    dir: tempfile::TempDir,
) -> TestApp {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let limits = limits.clone();
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        startup::serve_app(listener, app, &limits, std::future::pending())
            .await
            .expect("serve");
    });
    TestApp {
        addr,
        store: engine.store().clone(),
        index: engine.search_index().cloned(),
        engine,
        _dir: dir,
        _runtime: runtime,
        seen: Mutex::new(Vec::new()),
        users: Mutex::new(Vec::new()),
        stripe: None,
    }
}

impl Drop for TestApp {
    /// Stops the engine (the search indexer) before the data dir goes.
    fn drop(&mut self) {
        let _ = self.engine.shutdown();
    }
}

impl TestApp {
    /// Waits until the search index reflects every write so far.
    pub fn wait_for_index(&self) {
        let index = self.index.as_ref().expect("an app with search");
        assert!(
            index.wait_until_applied(self.store.last_seq(), Duration::from_secs(10)),
            "the search index did not catch up: {:?}",
            index.status()
        );
    }

    /// Signs up `name` (email `name@example.com`, password `password-<name>`);
    /// returns (id, token).
    pub fn register(&self, name: &str) -> (u64, String) {
        let body = format!(
            r#"{{"username":"{name}","email":"{name}@example.com","password":"password-{name}","full_name":"{name} Person"}}"#
        );
        let response = self.request("POST", "/v1/auth/register", Some(&body));
        assert_eq!(response.status, 201, "{}", response.raw);
        let id = response.body["user"]["id"].as_u64().expect("id");
        let token = response.body["token"].as_str().expect("token").to_owned();
        self.users
            .lock()
            .expect("users")
            .push((id, format!("{name}@example.com"), token.clone()));
        (id, token)
    }

    /// Makes user `id` a bookable expert in `zone` at 90 USD an hour, with
    /// an active Stripe account (booking them needs an app taking payments).
    pub fn make_expert(&self, id: u64, zone: &str) {
        self.store
            .users()
            .modify(droply_models::UserId::new(id), |user| {
                user.profession = "Tax Advisor".to_owned();
                user.hourly_rate = Some(droply_models::Money::new(
                    9_000,
                    droply_models::Currency::USD,
                ));
                user.timezone = droply_models::TimeZone::parse(zone).expect("zone");
                user.stripe_account_id = Some(format!("acct_SECRET{id}"));
                user.stripe_account_status = droply_models::StripeAccountStatus::Active;
                user.payout_enabled = true;
                Ok(())
            })
            .expect("expert");
    }

    /// `POST /v1/bookings` with `body`, as the holder of `token`.
    pub fn post_booking(&self, token: &str, body: &str) -> Response {
        self.authed("POST", "/v1/bookings", token, Some(body))
    }

    /// Makes expert `id` offer free sessions (no rate): booked and
    /// confirmed without payments.
    pub fn make_free(&self, id: u64) {
        self.store
            .users()
            .modify(droply_models::UserId::new(id), |user| {
                user.hourly_rate = None;
                Ok(())
            })
            .expect("free");
    }

    /// Pays booking `id` as its client would: confirms its PaymentIntent at
    /// localstripe with a test card, then waits (up to 15 s) for
    /// localstripe's `payment_intent.succeeded` webhook to reach the app.
    /// Returns the booking row.
    pub fn pay_booking(&self, id: u64) -> droply_models::Booking {
        let stripe = self.stripe.as_ref().expect("an app taking payments");
        let booking_id = droply_models::BookingId::new(id);
        let intent = self
            .store
            .bookings()
            .get(booking_id)
            .expect("booking")
            .stripe_payment_intent_id
            .expect("a PaymentIntent");
        let paid = stripe.local.pay(&intent);
        assert_eq!(paid["status"], "succeeded", "{paid}");
        self.wait_for_booking(id, |b| b.payment_status.is_paid())
    }

    /// Waits (up to 15 s) until booking `id` satisfies `done`; returns it.
    pub fn wait_for_booking(
        &self,
        id: u64,
        done: impl Fn(&droply_models::Booking) -> bool,
    ) -> droply_models::Booking {
        let started = std::time::Instant::now();
        loop {
            let booking = self
                .store
                .bookings()
                .get(droply_models::BookingId::new(id))
                .expect("booking");
            if done(&booking) {
                return booking;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "booking {id} never got there: {booking:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Scans every answer this app gave: no password hash, no Stripe id or
    /// key, no stored file path or hash, and no user's email or token in an
    /// answer to anyone but that user. The Stripe values a caller may see are their own new
    /// booking's `client_secret` (only its booker can create it) and their
    /// own onboarding link; they are taken out before the scan.
    pub fn assert_no_leaks(&self) {
        let users = self.users.lock().expect("users").clone();
        for (sent, path, raw) in self.seen.lock().expect("log").iter() {
            let raw = &without_owner_secrets(path, raw);
            for needle in [
                "$argon2",
                "argon2id",
                "acct_",
                "pi_",
                "cs_",
                "\"tr_",
                "sk_test",
                "sk_live",
                "whsec_",
                "password_hash",
                "droply_instance",
                "file_path",
                "preview_path",
                "sha256",
                "\"content/",
            ] {
                assert!(!raw.contains(needle), "{path} leaks {needle}: {raw}");
            }
            let own_signup = path.starts_with("/v1/auth/");
            for (_, email, token) in &users {
                let is_owner = sent.as_deref() == Some(token.as_str())
                    || (own_signup && raw.contains(token.as_str()));
                if !is_owner {
                    assert!(!raw.contains(email.as_str()), "{path} leaks {email}: {raw}");
                    assert!(!raw.contains(token.as_str()), "{path} leaks a token: {raw}");
                }
            }
        }
    }
}

/// Runs `work(i)` for `i` in `0..n` on `n` threads released together (a
/// barrier), and returns the answers in `i` order.
pub fn at_once<T: Send>(n: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    barrier.wait();
                    work(i)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    })
}

/// `raw` with the values its owner alone may see blanked: a new booking's
/// `"client_secret"` (its booker's), and the onboarding link (Stripe's
/// links name the expert's own account).
fn without_owner_secrets(path: &str, raw: &str) -> String {
    let field = if path == "/v1/payouts/onboarding" {
        "\"url\":\""
    } else {
        "\"client_secret\":\""
    };
    match raw.find(field) {
        Some(at) => {
            let value_start = at + field.len();
            let value_end = raw[value_start..]
                .find('"')
                .map_or(raw.len(), |end| value_start + end);
            format!("{}{}", &raw[..value_start], &raw[value_end..])
        }
        None => raw.to_owned(),
    }
}

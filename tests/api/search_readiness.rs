//! Search and readiness: `/ready` and the search routes answer 503
//! `search_unavailable` until the search index has caught up once (held back here by a
//! gated embedder), an empty marketplace still becomes ready, and a server without
//! search answers 503 on every search route.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use droply_engine::Store;
use droply_engine::accounts::{HashingLimits, HashingPermits, Registration, register};
use droply_engine::embedding::{Embedder, Error as EmbeddingError, TextEmbedder};
use serde_json::json;

use crate::app::{
    embedder, error_code, spawn_app, spawn_app_with_search, spawn_app_with_search_on,
};
use crate::search_market::{hit_ids, search};

/// The real embedder behind a gate: embedding waits until the gate opens (or
/// 10 s pass, so a failing test cannot hang the indexer's shutdown).
struct GatedEmbedder {
    inner: Arc<Embedder>,
    open: Mutex<bool>,
    opened: Condvar,
}

impl GatedEmbedder {
    fn wait(&self) {
        let open = self.open.lock().expect("gate");
        let _open = self
            .opened
            .wait_timeout_while(open, Duration::from_secs(10), |open| !*open)
            .expect("gate");
    }

    fn open(&self) {
        *self.open.lock().expect("gate") = true;
        self.opened.notify_all();
    }
}

impl TextEmbedder for GatedEmbedder {
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        self.wait();
        self.inner.embed_texts(texts)
    }
}

#[test]
fn ready_waits_until_the_search_index_caught_up_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    let (expert, _) = register(
        &store,
        &HashingPermits::new(HashingLimits::default()),
        &Registration {
            username: "tina".to_owned(),
            email: "tina@example.com".to_owned(),
            password: "password-tina".to_owned(),
            full_name: "Tina Person".to_owned(),
            currency: None,
            timezone: None,
            language: None,
            referral_code: None,
        },
    )
    .expect("register");
    store
        .users()
        .modify(expert.id, |user| {
            user.profession = "Tax Advisor".to_owned();
            Ok(())
        })
        .expect("expert");
    let gated = Arc::new(GatedEmbedder {
        inner: embedder(),
        open: Mutex::new(false),
        opened: Condvar::new(),
    });
    let app = spawn_app_with_search_on(store, dir, Arc::clone(&gated) as Arc<dyn TextEmbedder>);

    let starting = app.get("/ready");
    assert_eq!(
        (starting.status, error_code(&starting).as_str()),
        (503, "search_unavailable"),
        "{}",
        starting.raw
    );
    // Searching before the index exists says so, rather than "nothing matches".
    let early = app.request("POST", "/v1/search", Some(r#"{"q":"tax advisor"}"#));
    assert_eq!(
        (early.status, error_code(&early).as_str()),
        (503, "search_unavailable"),
        "{}",
        early.raw
    );
    gated.open();
    app.wait_for_index();
    // `/ready` is read at most once a second: the 503 above may be answered
    // again for up to that second.
    let caught_up = Instant::now();
    let ready = loop {
        let ready = app.get("/ready");
        if ready.status == 200 || caught_up.elapsed() > Duration::from_secs(3) {
            break ready;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(ready.status, 200, "{}", ready.raw);
    assert_eq!(ready.body["search"]["indexed_experts"].as_u64(), Some(1));
    let found = search(&app, &json!({"q": "tax advisor"}));
    assert_eq!(hit_ids(&found), vec![expert.id.get()]);
}

/// An empty marketplace's vector index could not be saved, so a fresh server
/// never became ready.
#[test]
fn an_empty_marketplace_becomes_ready() {
    let app = spawn_app_with_search();
    let started = Instant::now();
    while app.get("/ready").status != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not ready: {:?}",
            app.index.as_ref().map(|index| index.status())
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let nothing = search(&app, &json!({"q": "tax"}));
    assert_eq!(hit_ids(&nothing), Vec::<u64>::new());
    assert_eq!(nothing.body["estimatedTotalHits"].as_u64(), Some(0));
}

#[test]
fn without_a_search_index_search_routes_answer_503() {
    let app = spawn_app();
    let (_, token) = app.register("carl");
    for (method, path, body, token) in [
        ("POST", "/v1/search", Some(r#"{"q":"tax"}"#), None),
        (
            "POST",
            "/v1/matches",
            Some(r#"{"q":"tax"}"#),
            Some(token.as_str()),
        ),
        ("GET", "/v1/experts/1/similar", None, None),
        ("GET", "/v1/recommendations", None, None),
        ("GET", "/v1/recommendations", None, Some(token.as_str())),
    ] {
        let response = app.send(method, path, body, token, &[]);
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (503, "search_unavailable"),
            "{method} {path}: {}",
            response.raw
        );
    }
    let ready = app.get("/ready");
    assert_eq!(ready.status, 200);
    assert!(ready.body.get("search").is_none());
    app.assert_no_leaks();
}

#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Rendering the web pages, measured as the server's time per request: the
//! whole axum router (CSRF and security-header middleware, the viewer, the
//! engine calls, the maud templates, the body) over the demo marketplace:
//! the search page (plain and filtered), an expert's profile page with its
//! booking widget, and the sign-in page,
//! one request at a time, no network in between.
//!
//! `DROPLY_BENCH_EXPERTS` sets the size (default 10,000). Profile vectors
//! come from the bag-of-words stand-in, as in `hybrid_search`, so a search
//! page's query embedding costs nothing here (a fresh query adds the
//! model's ~4-5 ms). Before criterion runs, the bench prints p50/p99 per
//! page over 400 requests and checks every answer (status 200 and the
//! content that page must show), so a fast broken page fails.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use droply_benches::{WordHashEmbedder, bench_experts, demo_store};
use droply_engine::{Engine, EngineConfig, SearchSetup};
use droply_lab::demo::DemoMarketplace;
use droply_lab::eval::percentile;
use droply_server::limits::Limits;
use droply_server::startup;
use tower::ServiceExt;

struct Setup {
    _dir: tempfile::TempDir,
    market: DemoMarketplace,
    engine: Engine,
    app: Router,
    runtime: tokio::runtime::Runtime,
}

fn setup(experts: usize) -> Setup {
    let (dir, market, _, store) = demo_store(experts);
    let engine = Engine::over(
        store.clone(),
        EngineConfig {
            search: SearchSetup::Embedder(Arc::new(WordHashEmbedder)),
            ..EngineConfig::new(dir.path())
        },
    )
    .expect("engine");
    let index = engine.search_index().expect("search").clone();
    assert!(index.wait_until_applied(store.last_seq(), Duration::from_secs(3600)));
    let app = startup::app(engine.clone(), &Limits::without_rate_limits());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    Setup {
        _dir: dir,
        market,
        engine,
        app,
        runtime,
    }
}

/// One page kind: its name, the paths to request in turn, and what every
/// answer must contain.
struct PageKind {
    name: &'static str,
    paths: Vec<String>,
    must_contain: &'static str,
}

fn page_kinds(market: &DemoMarketplace) -> Vec<PageKind> {
    let queries = &market.truth.queries;
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    vec![
        PageKind {
            name: "search_page",
            paths: queries
                .iter()
                .map(|q| format!("/?q={}", encode(&q.text)))
                .collect(),
            must_contain: "class=\"hits\"",
        },
        PageKind {
            name: "search_page_experts",
            paths: queries
                .iter()
                .map(|q| format!("/?q={}&show=experts", encode(&q.text)))
                .collect(),
            must_contain: "class=\"hits\"",
        },
        PageKind {
            name: "search_page_filtered",
            paths: queries
                .iter()
                .map(|q| {
                    format!(
                        "/?q={}&industry={}&within_days=30",
                        encode(&q.text),
                        encode(&q.industry)
                    )
                })
                .collect(),
            must_contain: "class=\"facet\"",
        },
        PageKind {
            name: "profile_page",
            // Profiles with their booking widget (14 days of slots), reviews,
            // content and drop-ins: every 37th expert, across the marketplace.
            paths: market
                .experts()
                .step_by(37)
                .map(|expert| format!("/@{}", expert.username.as_str()))
                .collect(),
            must_contain: "theme.css",
        },
        PageKind {
            name: "sign_in_page",
            paths: vec!["/signin".to_owned()],
            must_contain: "name=\"_csrf\"",
        },
    ]
}

/// Requests `path` and returns the body after checking it.
async fn render(app: &Router, path: &str, must_contain: &str) -> usize {
    let request = Request::get(path).body(Body::empty()).expect("request");
    let response = app.clone().oneshot(request).await.expect("answer");
    let status = response.status();
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    let text = std::str::from_utf8(&body).expect("utf-8");
    assert!(text.contains(must_contain), "{path} lacks {must_contain}");
    body.len()
}

fn pages(c: &mut Criterion) {
    let n = bench_experts();
    let setup = setup(n);
    let kinds = page_kinds(&setup.market);

    for kind in &kinds {
        let mut samples = Vec::new();
        setup.runtime.block_on(async {
            // A first pass warms the caches (stats, trending), as a running server's are.
            for path in &kind.paths {
                render(&setup.app, path, kind.must_contain).await;
            }
            for i in 0..400 {
                let path = &kind.paths[i % kind.paths.len()];
                let started = Instant::now();
                render(&setup.app, path, kind.must_contain).await;
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        });
        eprintln!(
            "{n} experts, {}: p50 {:.2} ms, p99 {:.2} ms (server time per request, 400 requests)",
            kind.name,
            percentile(&samples, 50.0),
            percentile(&samples, 99.0)
        );
    }

    // The engine's own time for the search page's request (experts alone, and
    // the page's three kinds), so the page's own part shows as the difference.
    for kinds in [
        None,
        Some(vec![
            "experts".to_owned(),
            "content".into(),
            "dropins".into(),
        ]),
    ] {
        let mut samples = Vec::new();
        for (i, query) in setup
            .market
            .truth
            .queries
            .iter()
            .cycle()
            .take(600)
            .enumerate()
        {
            let request = droply_engine::matching::SearchRequest {
                kinds: kinds.clone(),
                q: Some(query.text.clone()),
                limit: Some(20),
                ..Default::default()
            };
            let started = Instant::now();
            setup.engine.search(request, None).expect("search");
            if i >= 200 {
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        eprintln!(
            "{n} experts, the engine's search alone, kinds {kinds:?}: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&samples, 50.0),
            percentile(&samples, 99.0)
        );
    }

    let mut group = c.benchmark_group(format!("pages_{n}"));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4));
    for kind in &kinds {
        group.bench_function(kind.name, |b| {
            let mut next = 0;
            b.iter(|| {
                let path = &kind.paths[next % kind.paths.len()];
                next += 1;
                setup
                    .runtime
                    .block_on(render(&setup.app, black_box(path), kind.must_contain))
            })
        });
    }
    group.finish();
    setup.engine.shutdown().expect("shutdown");
}

criterion_group!(benches, pages);
criterion_main!(benches);

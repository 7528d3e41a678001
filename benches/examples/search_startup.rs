//! Startup of the whole search index (tantivy and HNSW) over a large marketplace:
//! the first run builds `DIR` (demo marketplace of EXPERTS experts, indexed with the
//! bag-of-words stand-in embedder); every later run only opens it and reports how long
//! until searches see every expert, which must be a reload, not a rebuild.
//!
//!     cargo run --release -p droply-benches --example search_startup -- DIR [EXPERTS]
//!
//! With `DROPLY_LATENCY=1` it then times every request shape of the matching bench over
//! the evaluation queries (p50 and p99): a quick loop for tuning at 100,000 experts.
//! With `DROPLY_COLD_START=1` it instead times the first 200 re-ranked requests of a
//! fresh matcher, cold and then with the stats the cold one saved loaded (a restart).
//! With `DROPLY_STORE=postgres://…` the rows live in PostgreSQL instead of `DIR/store`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use droply_benches::{WordHashEmbedder, latency_report, request_shapes};
use droply_engine::import::import_rows;
use droply_engine::matching::{Matcher, MatcherConfig};
use droply_engine::search_index::SearchIndexConfig;
use droply_engine::{SearchIndex, Store};
use droply_lab::demo::{DemoConfig, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: search_startup DIR [EXPERTS]")?);
    let experts: usize = args.next().map_or(Ok(100_000), |v| v.parse())?;
    let demo = DemoConfig {
        experts,
        clients: experts / 5,
        ..DemoConfig::default()
    };
    let started = Instant::now();
    // `DROPLY_STORE` (a PostgreSQL URL) puts the rows there; the indexes stay in DIR.
    let store = match std::env::var("DROPLY_STORE") {
        Ok(location) => Store::open_at(&location.parse()?)?,
        Err(_) => Store::open(dir.join("store"))?,
    };
    let opened_store = started.elapsed();
    if store.users().count() == 0 {
        import_rows(&store, generate(&demo).rows(), |_| {})?;
        eprintln!(
            "imported {experts} experts in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let rebuilt = Arc::new(AtomicBool::new(false));
    let heard = Arc::clone(&rebuilt);
    let config = SearchIndexConfig {
        progress: Some(Arc::new(move |_| heard.store(true, Ordering::Relaxed))),
        ..SearchIndexConfig::default()
    };
    let started = Instant::now();
    let index = SearchIndex::open(&dir, store.clone(), Arc::new(WordHashEmbedder), config)?;
    let caught_up = index.wait_until_applied(store.last_seq(), Duration::from_secs(3600));
    let elapsed = started.elapsed().as_secs_f64();
    let status = index.status();
    println!(
        r#"{{"experts":{},"vectors":{},"store_open_s":{:.2},"index_ready_s":{elapsed:.2},"caught_up":{caught_up},"rebuilt":{}}}"#,
        status.text_documents,
        status.vectors,
        opened_store.as_secs_f64(),
        rebuilt.load(Ordering::Relaxed),
    );
    if std::env::var_os("DROPLY_COLD_START").is_some() {
        let truth = generate(&demo).truth;
        let index = Arc::new(index);
        let path = dir.join("stats-bench.bin");
        let _ = std::fs::remove_file(&path);
        let matcher = || {
            Matcher::new(
                store.clone(),
                Arc::clone(&index),
                MatcherConfig {
                    now: Some(demo.now),
                    ..MatcherConfig::default()
                },
            )
        };
        let cold = matcher();
        println!("{}", first_requests(&cold, &truth, experts, "from cold"));
        cold.save_stats(&path)?;
        let warm = matcher();
        let loaded = warm.load_stats(&path)?;
        println!(
            "{}",
            first_requests(
                &warm,
                &truth,
                experts,
                &format!("with {loaded} saved stats loaded")
            )
        );
        index.shutdown();
        return Ok(());
    }
    if std::env::var_os("DROPLY_LATENCY").is_some() {
        let truth = generate(&demo).truth;
        let matcher = Matcher::new(
            store,
            Arc::new(index),
            MatcherConfig {
                now: Some(demo.now),
                stats_ttl: Duration::from_secs(3600),
                ..MatcherConfig::default()
            },
        );
        for line in latency_report(&matcher, &truth, &request_shapes(&truth), experts) {
            println!("{line}");
        }
        matcher.index().shutdown();
    } else {
        index.shutdown();
    }
    Ok(())
}

/// Times the first 200 requests re-ranked by the signals that `matcher` answers.
fn first_requests(
    matcher: &Matcher,
    truth: &droply_lab::demo::DemoTruth,
    experts: usize,
    start: &str,
) -> String {
    let samples: Vec<f64> = truth
        .queries
        .iter()
        .cycle()
        .take(200)
        .map(|query| {
            let request = droply_engine::matching::MatchQuery {
                text: query.text.clone(),
                limit: 10,
                ..droply_engine::matching::MatchQuery::default()
            };
            let started = Instant::now();
            matcher.search(&request).expect("search");
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    format!(
        "{experts} experts, first 200 re-ranked requests {start}: p50 {:.2} ms, p99 {:.2} ms",
        droply_lab::eval::percentile(&samples, 50.0),
        droply_lab::eval::percentile(&samples, 99.0),
    )
}

//! Times fresh search queries while the indexer re-embeds profiles: `cargo run --release -p
//! droply-index --example query_under_indexing [-- BATCH_SIZE [PRECISION]]` (precision `f32`
//! or `int8`; `QUERY_RUNS` queries per phase, 200 unless set). First the queries alone (the
//! baseline), then the same number while a background thread runs `embed_batch` over the
//! 2,000 profile texts of the fixture again and again, as a rebuild does. Each query is a
//! distinct text, so the query cache never answers. Prints the median, p90, p99 and maximum
//! of each phase in milliseconds.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use droply_index::Embedder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let batch = std::env::args()
        .nth(1)
        .map(|b| b.parse())
        .transpose()?
        .unwrap_or(droply_index::embedder::DEFAULT_BATCH_SIZE);
    let precision = std::env::args()
        .nth(2)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or_default();
    let embedder = Embedder::load(&droply_index::embedder::model_dir_in(
        &root.join("droply-data"),
    ))?
    .with_batch_size(batch)
    .with_precision(precision)?;
    println!(
        "precision {} (asked {precision}); kernels: {}",
        embedder.precision(),
        droply_index::embedder::kernels()
    );
    let fixture = std::fs::read_to_string(root.join("data/fixtures/profile_texts.jsonl"))?;
    let texts: Vec<String> = fixture
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .map(|v| v["text"].as_str().unwrap_or_default().to_owned())
        })
        .collect::<Result<_, _>>()?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let runs: usize = std::env::var("QUERY_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200)
        .max(1);

    // Warm up both paths (and build the query pool, where there is one).
    embedder.embed_batch(&refs[..refs.len().min(64)])?;
    for i in 0..10 {
        embedder.embed_query(&format!("warm up query number {i}"))?;
    }

    let alone = time_queries(&embedder, "alone", runs)?;
    report("queries alone (baseline)", &alone);

    let stop = AtomicBool::new(false);
    let passes = AtomicUsize::new(0);
    let (under_load, indexing) = std::thread::scope(|scope| {
        let indexer = scope.spawn(|| -> droply_index::Result<Duration> {
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                embedder.embed_batch(&refs)?;
                passes.fetch_add(1, Ordering::Relaxed);
            }
            Ok(start.elapsed())
        });
        // Let the first batches start, so that every query arrives while they run.
        std::thread::sleep(Duration::from_millis(200));
        let times = time_queries(&embedder, "indexing", runs);
        stop.store(true, Ordering::Relaxed);
        let indexing = indexer
            .join()
            .map_err(|_| "the indexing thread panicked".to_owned());
        (times, indexing)
    });
    let under_load = under_load?;
    let indexing = indexing??;
    report("queries while indexing", &under_load);
    let passes = passes.load(Ordering::Relaxed);
    println!(
        "background indexing: {passes} passes of {} texts in {:.2}s = {:.1} texts/s",
        refs.len(),
        indexing.as_secs_f64(),
        (passes * refs.len()) as f64 / indexing.as_secs_f64()
    );
    Ok(())
}

/// The times in milliseconds of `runs` fresh queries, one after the other, sorted; each text
/// is new to the query cache.
fn time_queries(embedder: &Embedder, phase: &str, runs: usize) -> droply_index::Result<Vec<f64>> {
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let query = format!("find a rust developer in berlin {phase} {i}");
        let start = Instant::now();
        embedder.embed_query(&query)?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// Prints the median, p90, p99 and maximum of sorted, non-empty `times`.
fn report(label: &str, times: &[f64]) {
    let at = |fraction: f64| times[((times.len() - 1) as f64 * fraction).round() as usize];
    println!(
        "{label}: {} queries, median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}

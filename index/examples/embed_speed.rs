//! Times the embedder on the profile-text fixture: `cargo run --release -p droply-index
//! --example embed_speed [-- BATCH_SIZE [PRECISION]]` (precision `f32` or `int8`). For
//! quick profiling; the criterion bench in `benches/benches/embed.rs` is the reference
//! measurement.

use std::time::Instant;

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
    embedder.embed_batch(&refs[..64])?;
    let passes = if std::env::var_os("QUERY_ONLY").is_some() {
        0
    } else {
        2
    };
    for _ in 0..passes {
        let start = Instant::now();
        let out = embedder.embed_batch(&refs)?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "batch {batch}: {} texts in {secs:.2}s = {:.1} texts/s",
            out.len(),
            out.len() as f64 / secs
        );
    }
    let runs: usize = std::env::var("QUERY_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let _ = embedder.embed("find a Rust developer in Berlin");
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "query 8 tokens: median {:.2} ms, p90 {:.2} ms",
        times[runs / 2],
        times[runs * 9 / 10]
    );
    Ok(())
}

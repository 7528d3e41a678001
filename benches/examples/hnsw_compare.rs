//! Our vector index against hnswlib on the same vectors: writes the clustered points and
//! queries to a file that `benches/python/hnswlib_compare.py` reads, builds our index
//! with the same parameters (M=16, ef_construction=200), and prints one JSON line with
//! build time and, per ef, single-thread q/s and recall@10 against an exact scan.
//!
//!     cargo run --release -p droply-benches --example hnsw_compare -- POINTS FILE
//!
//! `benches/compare_hnsw.sh` runs both sides and prints the ratios. `EF_CONSTRUCTION`
//! in the environment builds ours with another `ef_construction` (hnswlib's stays 200).

use std::io::Write;
use std::time::Instant;

use droply_benches::{DIMENSION, clustered, exact_top10, vector_index_with};
use droply_index::VectorConfig;

const QUERIES: usize = 200;
const EFS: [usize; 6] = [16, 32, 64, 96, 128, 192];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let points: usize = args.next().map_or(Ok(100_000), |v| v.parse())?;
    let file = args
        .next()
        .unwrap_or_else(|| "/tmp/droply-vectors.f32".to_owned());
    let data = clustered(points, 1);
    let queries = clustered(QUERIES, 2);
    write_vectors(&file, &data, &queries)?;
    let truth: Vec<Vec<u64>> = queries.iter().map(|q| exact_top10(&data, q)).collect();

    let mut config = VectorConfig::default();
    if let Ok(ef) = std::env::var("EF_CONSTRUCTION") {
        config.ef_construction = ef.parse()?;
    }
    let ef_construction = config.ef_construction;
    let started = Instant::now();
    let index = vector_index_with(&data, config)?;
    let build_s = started.elapsed().as_secs_f64();

    let mut per_ef = Vec::new();
    for ef in EFS {
        let mut found = 0usize;
        let started = Instant::now();
        let rounds = 5;
        for round in 0..rounds {
            for (query, expected) in queries.iter().zip(&truth) {
                let hits = index.search_with_ef(query, 10, None, ef)?;
                if round == 0 {
                    found += hits
                        .iter()
                        .filter(|h| expected.contains(&h.key.get()))
                        .count();
                }
            }
        }
        let qps = (rounds * QUERIES) as f64 / started.elapsed().as_secs_f64();
        let recall = found as f64 / (10 * QUERIES) as f64;
        per_ef.push(format!(
            r#"{{"ef":{ef},"qps":{qps:.0},"recall@10":{recall:.4}}}"#
        ));
    }
    println!(
        r#"{{"engine":"droply","points":{points},"ef_construction":{ef_construction},"build_s":{build_s:.2},"search":[{}]}}"#,
        per_ef.join(",")
    );
    Ok(())
}

/// `points` and `queries` as: u32 point count, u32 query count, u32 dimension, then every
/// value as little-endian f32, points first.
fn write_vectors(path: &str, points: &[Vec<f32>], queries: &[Vec<f32>]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for n in [points.len(), queries.len(), DIMENSION] {
        out.write_all(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes())?;
    }
    for v in points.iter().chain(queries) {
        for x in v {
            out.write_all(&x.to_le_bytes())?;
        }
    }
    out.flush()
}

//! Measures what a restart costs with a large vector index: builds N clustered
//! 384-d unit vectors (default 100,000), saves a snapshot, then times reopening it
//! and the first search. `cargo run --release -p droply-index --example
//! vector_startup [-- N]`.

use std::time::Instant;

use droply_index::vector::normalize;
use droply_index::{VectorConfig, VectorEntry, VectorIndex};
use droply_models::UserId;
use rand::{Rng, SeedableRng};

const DIMENSION: usize = 384;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let centres: Vec<Vec<f32>> = (0..100)
        .map(|_| {
            (0..DIMENSION)
                .map(|_| rng.random_range(-1.0f32..1.0))
                .collect()
        })
        .collect();
    let vectors: Vec<Vec<f32>> = (0..count)
        .map(|_| {
            let centre = &centres[rng.random_range(0..centres.len())];
            let mut v: Vec<f32> = centre
                .iter()
                .map(|c| c + rng.random_range(-0.35f32..0.35))
                .collect();
            normalize(&mut v);
            v
        })
        .collect();
    let dir = tempfile::tempdir()?;
    let config = VectorConfig::default();
    let started = Instant::now();
    let index = VectorIndex::<UserId>::in_memory(DIMENSION, config.clone())?;
    let entries: Vec<VectorEntry<'_, UserId>> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| VectorEntry {
            key: UserId::new(i as u64 + 1),
            version: 1,
            vector: v,
        })
        .collect();
    for chunk in entries.chunks(5_000) {
        index.upsert(chunk)?;
    }
    index.commit(1)?;
    println!(
        "built {count} vectors in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    index.save_to(dir.path(), 1)?;
    println!("saved in {:.2} s", started.elapsed().as_secs_f64());
    drop(index);

    let started = Instant::now();
    let reopened = VectorIndex::<UserId>::open(dir.path(), DIMENSION, config)?;
    let opened = started.elapsed();
    let hits = reopened.search(&vectors[0], 10, None)?;
    println!(
        "reopened {} vectors in {:.2} s (first search {:.2} ms after), top hit is itself: {}",
        reopened.len(),
        opened.as_secs_f64(),
        (started.elapsed() - opened).as_secs_f64() * 1000.0,
        hits.first().map(|h| h.key) == Some(UserId::new(1))
    );
    Ok(())
}

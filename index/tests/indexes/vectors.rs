//! The vector index against an exact scan, through updates, deletes and reloads.

use droply_index::{DocNumber, VectorConfig, VectorEntry, VectorIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DIM: usize = 384;

/// `n` unit vectors around `clusters` random centres (deterministic). Each cluster
/// spreads along 16 directions of its own plus a little isotropic noise: a low intrinsic
/// dimension, as sentence embeddings have.
fn clustered(n: usize, clusters: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let random_vector = |rng: &mut StdRng| -> Vec<f32> {
        (0..DIM).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    };
    let centres: Vec<(Vec<f32>, Vec<Vec<f32>>)> = (0..clusters)
        .map(|_| {
            (
                random_vector(&mut rng),
                (0..16).map(|_| random_vector(&mut rng)).collect(),
            )
        })
        .collect();
    (0..n)
        .map(|_| {
            let (centre, directions) = &centres[rng.random_range(0..clusters)];
            let mut v = centre.clone();
            for direction in directions {
                let a = rng.random_range(-0.5f32..0.5);
                v.iter_mut().zip(direction).for_each(|(x, d)| *x += a * d);
            }
            v.iter_mut()
                .for_each(|x| *x += rng.random_range(-0.1f32..0.1));
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            v
        })
        .collect()
}

fn graph_only() -> VectorConfig {
    VectorConfig {
        exact_scan_below: 0,
        ..VectorConfig::default()
    }
}

/// An index that always scans exactly: the truth the graph is measured against.
fn exact_only() -> VectorIndex<DocNumber> {
    VectorIndex::in_memory(
        DIM,
        VectorConfig {
            exact_scan_below: usize::MAX,
            ..VectorConfig::default()
        },
    )
    .expect("index")
}

fn fill(index: &VectorIndex<DocNumber>, vectors: &[Vec<f32>]) {
    let entries: Vec<VectorEntry<'_, DocNumber>> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| VectorEntry {
            key: DocNumber(i as u64),
            version: 1,
            vector: v,
        })
        .collect();
    index.upsert(&entries).expect("upsert");
}

fn recall_at_10(
    index: &VectorIndex<DocNumber>,
    exact: &VectorIndex<DocNumber>,
    queries: &[Vec<f32>],
) -> f32 {
    let mut found = 0;
    for q in queries {
        let truth: Vec<DocNumber> = exact
            .search(q, 10, None)
            .expect("exact")
            .into_iter()
            .map(|h| h.key)
            .collect();
        let got: Vec<DocNumber> = index
            .search(q, 10, None)
            .expect("graph")
            .into_iter()
            .map(|h| h.key)
            .collect();
        found += truth.iter().filter(|k| got.contains(k)).count();
    }
    found as f32 / (queries.len() * 10) as f32
}

#[test]
fn graph_search_recalls_the_exact_neighbours() {
    let vectors = clustered(4000, 40, 1);
    let queries = clustered(100, 40, 2);
    let graph = VectorIndex::in_memory(DIM, graph_only()).expect("index");
    let exact = exact_only();
    fill(&graph, &vectors);
    fill(&exact, &vectors);
    for ef in [16, 32, 64, 128, 256] {
        let mut found = 0;
        for q in &queries {
            let truth: Vec<DocNumber> = exact
                .search(q, 10, None)
                .expect("exact")
                .into_iter()
                .map(|h| h.key)
                .collect();
            let got: Vec<DocNumber> = graph
                .search_with_ef(q, 10, None, ef)
                .expect("graph")
                .into_iter()
                .map(|h| h.key)
                .collect();
            found += truth.iter().filter(|k| got.contains(k)).count();
        }
        println!(
            "ef {ef}: recall@10 {:.4}",
            found as f32 / (queries.len() * 10) as f32
        );
    }
    let recall = recall_at_10(&graph, &exact, &queries);
    println!("recall@10 at default settings over 4000 clustered vectors: {recall:.4}");
    assert!(recall >= 0.98, "recall@10 {recall}");
}

#[test]
fn a_stored_vector_is_its_own_nearest_neighbour() {
    let vectors = clustered(500, 5, 3);
    let index = VectorIndex::in_memory(DIM, graph_only()).expect("index");
    fill(&index, &vectors);
    for (i, v) in vectors.iter().enumerate().step_by(25) {
        let hits = index.search(v, 1, None).expect("search");
        assert_eq!(hits[0].key, DocNumber(i as u64));
        assert!((hits[0].score - 1.0).abs() < 1e-4);
    }
}

#[test]
fn updates_and_deletes_are_never_returned_stale() {
    let vectors = clustered(600, 6, 4);
    let index = VectorIndex::in_memory(DIM, graph_only()).expect("index");
    fill(&index, &vectors);
    // Move doc 0 onto doc 1's vector, delete doc 2.
    index
        .upsert(&[VectorEntry {
            key: DocNumber(0),
            version: 2,
            vector: &vectors[1],
        }])
        .expect("update");
    index.remove(&[DocNumber(2)]).expect("remove");
    let hits = index.search(&vectors[0], 600, None).expect("search");
    assert!(hits.iter().all(|h| h.key != DocNumber(2)));
    assert_eq!(
        hits.iter().filter(|h| h.key == DocNumber(0)).count(),
        1,
        "one entry per id"
    );
    let near_1: Vec<DocNumber> = index
        .search(&vectors[1], 2, None)
        .expect("search")
        .into_iter()
        .map(|h| h.key)
        .collect();
    assert!(near_1.contains(&DocNumber(0)) && near_1.contains(&DocNumber(1)));
    assert_eq!(index.version(DocNumber(0)), Some(2));
    assert_eq!(index.len(), 599);
    assert_eq!(index.stats().tombstones, 2);
}

#[test]
fn writes_after_the_graph_was_frozen_are_found_at_once_and_never_stale() {
    // 3,000 vectors: the graph is frozen; the 50 written after it are scanned
    // beside the frozen links until there are enough to freeze again.
    let vectors = clustered(3050, 10, 9);
    let index = VectorIndex::in_memory(DIM, graph_only()).expect("index");
    let exact = exact_only();
    // Built on one thread, so the graph (and the recall below) is the same every run,
    // whatever else runs beside this test.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(|| fill(&index, &vectors[..3000]));
    for (i, v) in vectors.iter().enumerate().skip(3000) {
        index
            .upsert(&[VectorEntry {
                key: DocNumber(i as u64),
                version: 1,
                vector: v,
            }])
            .expect("upsert");
    }
    fill(&exact, &vectors);
    for (i, v) in vectors.iter().enumerate().skip(3000).step_by(7) {
        let hits = index.search(v, 1, None).expect("search");
        assert_eq!(
            hits[0].key,
            DocNumber(i as u64),
            "a fresh vector is its own nearest"
        );
    }
    // Moved and deleted after the freeze: never returned as they were.
    index
        .upsert(&[VectorEntry {
            key: DocNumber(5),
            version: 2,
            vector: &vectors[3001],
        }])
        .expect("move");
    index
        .remove(&[DocNumber(6), DocNumber(3002)])
        .expect("remove");
    let hits = index.search(&vectors[6], 50, None).expect("search");
    assert!(
        hits.iter()
            .all(|h| h.key != DocNumber(6) && h.key != DocNumber(3002))
    );
    let near: Vec<DocNumber> = index
        .search(&vectors[3001], 2, None)
        .expect("search")
        .into_iter()
        .map(|h| h.key)
        .collect();
    assert!(
        near.contains(&DocNumber(5)) && near.contains(&DocNumber(3001)),
        "{near:?}"
    );
    let queries = clustered(60, 10, 10);
    exact
        .remove(&[DocNumber(6), DocNumber(3002)])
        .expect("remove");
    exact
        .upsert(&[VectorEntry {
            key: DocNumber(5),
            version: 2,
            vector: &vectors[3001],
        }])
        .expect("move");
    // Built on one thread (above), it gives 0.988 over these 60 queries every run. Built
    // on every core it differed run to run (0.968-0.990), and CI once saw it under 0.97.
    let recall = recall_at_10(&index, &exact, &queries);
    assert!(recall >= 0.97, "recall@10 {recall}");
}

#[test]
fn filtered_search_returns_only_allowed_ids() {
    let vectors = clustered(3000, 10, 5);
    for exact_scan_below in [0, 4096] {
        let index = VectorIndex::in_memory(
            DIM,
            VectorConfig {
                exact_scan_below,
                ..VectorConfig::default()
            },
        )
        .expect("index");
        fill(&index, &vectors);
        let allowed: Vec<DocNumber> = (0..3000).step_by(7).map(DocNumber).collect();
        let hits = index
            .search(&vectors[0], 10, Some(&allowed))
            .expect("search");
        assert_eq!(hits.len(), 10);
        assert!(hits.iter().all(|h| h.key.0 % 7 == 0));
        assert_eq!(hits[0].key, DocNumber(0));
    }
}

#[test]
fn save_reload_and_log_replay_keep_every_vector() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vectors");
    let vectors = clustered(1500, 15, 6);
    let index = VectorIndex::in_memory(DIM, graph_only()).expect("index");
    fill(&index, &vectors[..1000]);
    index.save_to(&path, 10).expect("save");
    // After the snapshot: changes that only the log holds.
    let more: Vec<VectorEntry<'_, DocNumber>> = (1000..1500)
        .map(|i| VectorEntry {
            key: DocNumber(i as u64),
            version: 1,
            vector: &vectors[i],
        })
        .collect();
    index.upsert(&more).expect("upsert");
    index.remove(&[DocNumber(3)]).expect("remove");
    index.commit(11).expect("commit");
    // Uncommitted: lost on reload.
    index.remove(&[DocNumber(4)]).expect("remove");
    let mut before = index.entries();
    before.push((DocNumber(4), 1));
    before.sort();
    drop(index);

    let reloaded = VectorIndex::<DocNumber>::open(&path, DIM, graph_only()).expect("reopen");
    assert_eq!(reloaded.committed_seq(), 11);
    let mut after = reloaded.entries();
    after.sort();
    assert_eq!(after, before);
    // Every kept vector is found again, from the snapshot and from the log.
    // Among the ten nearest, not first, and with the walk's list as long as the
    // collection: this checks what the reload kept, not the graph's recall (built
    // on several threads, its top hit for a vector of a dense cluster is not always
    // the vector itself, and CI once saw 999 missing from the ten at the default
    // `ef`; recall is measured against an exact scan by the tests above).
    for i in [0usize, 999, 1000, 1499] {
        let hits = reloaded
            .search_with_ef(&vectors[i], 10, None, vectors.len())
            .expect("search");
        assert!(
            hits.iter().any(|hit| hit.key == DocNumber(i as u64)),
            "{i}: {hits:?}"
        );
    }
    // A reloaded index can be saved and reloaded again.
    reloaded.save().expect("save again");
    drop(reloaded);
    let again = VectorIndex::<DocNumber>::open(&path, DIM, graph_only()).expect("reopen");
    assert_eq!(again.len(), 1499);
}

#[test]
fn compaction_drops_tombstones_and_keeps_answers() {
    let vectors = clustered(800, 8, 7);
    let index = VectorIndex::in_memory(
        DIM,
        VectorConfig {
            exact_scan_below: 0,
            min_tombstones_to_compact: 10,
            ..VectorConfig::default()
        },
    )
    .expect("index");
    fill(&index, &vectors);
    let doomed: Vec<DocNumber> = (0..400).map(DocNumber).collect();
    index.remove(&doomed).expect("remove");
    assert!(index.needs_compaction());
    index.commit(1).expect("commit");
    assert_eq!(
        index.stats().tombstones,
        400,
        "commits leave compacting to the caller"
    );
    assert!(index.compact());
    assert_eq!(index.stats().tombstones, 0);
    assert_eq!(index.len(), 400);
    assert_eq!(
        index.search(&vectors[500], 1, None).expect("search")[0].key,
        DocNumber(500)
    );
}

/// Snapshots saved before the graph was built here hold hnsw_rs's dump, not
/// `graph.bin`: such an index opens with its graph rebuilt from the saved vectors.
#[test]
fn a_snapshot_without_a_graph_file_reopens_with_the_graph_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vectors");
    let vectors = clustered(2000, 8, 12);
    let index = VectorIndex::<DocNumber>::in_memory(DIM, graph_only()).expect("index");
    fill(&index, &vectors);
    index.save_to(&path, 5).expect("save");
    drop(index);
    let mut removed = 0;
    for entry in std::fs::read_dir(&path).expect("dir").flatten() {
        let graph = entry.path().join("graph.bin");
        if graph.is_file() {
            std::fs::remove_file(&graph).expect("remove");
            std::fs::write(entry.path().join("graph.hnsw.graph"), b"an old dump").expect("old");
            removed += 1;
        }
    }
    assert_eq!(removed, 1, "one snapshot with a graph file");
    let reopened = VectorIndex::<DocNumber>::open(&path, DIM, graph_only()).expect("reopen");
    assert_eq!((reopened.len(), reopened.committed_seq()), (2000, 5));
    let exact = exact_only();
    fill(&exact, &vectors);
    let queries = clustered(50, 8, 13);
    let recall = recall_at_10(&reopened, &exact, &queries);
    assert!(recall >= 0.97, "recall@10 {recall}");
    // The rebuilt graph was saved on opening, with every point's links.
    let graph_bytes: u64 = std::fs::read_dir(&path)
        .expect("dir")
        .flatten()
        .filter_map(|entry| std::fs::metadata(entry.path().join("graph.bin")).ok())
        .map(|meta| meta.len())
        .sum();
    assert!(
        graph_bytes > 2000 * 8 * 8,
        "graph.bin of {graph_bytes} bytes"
    );
}

/// hnsw_rs, which built the graph then, could not dump an empty graph: saving an empty
/// index (a marketplace with no experts yet) failed, so the search index could never
/// be built from an empty store.
#[test]
fn an_empty_index_saves_and_reopens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vectors");
    let index = VectorIndex::<DocNumber>::in_memory(DIM, graph_only()).expect("index");
    index.save_to(&path, 3).expect("save empty");
    drop(index);
    let reopened = VectorIndex::<DocNumber>::open(&path, DIM, graph_only()).expect("reopen");
    assert_eq!((reopened.len(), reopened.committed_seq()), (0, 3));
    let vectors = clustered(2, 1, 9);
    reopened
        .upsert(&[VectorEntry {
            key: DocNumber(7),
            version: 1,
            vector: &vectors[0],
        }])
        .expect("upsert");
    reopened.commit(4).expect("commit");
    reopened.save().expect("save one");
    drop(reopened);
    let again = VectorIndex::<DocNumber>::open(&path, DIM, graph_only()).expect("reopen");
    assert_eq!(again.len(), 1);
    assert_eq!(
        again.search(&vectors[0], 1, None).expect("search")[0].key,
        DocNumber(7)
    );
}

#[test]
fn writes_during_a_compaction_are_kept() {
    let vectors = clustered(6000, 8, 11);
    let index = VectorIndex::in_memory(
        DIM,
        VectorConfig {
            exact_scan_below: 0,
            min_tombstones_to_compact: 10,
            ..VectorConfig::default()
        },
    )
    .expect("index");
    fill(&index, &vectors);
    let doomed: Vec<DocNumber> = (0..2000).map(DocNumber).collect();
    index.remove(&doomed).expect("remove");
    // Each updated key gets a vector of its own.
    let replacements = clustered(200, 8, 99);
    std::thread::scope(|scope| {
        let compaction = scope.spawn(|| index.compact());
        // Writes while the new graph is being built: the ones touching copied keys
        // and fresh ones must all survive the swap.
        for round in 0..200u64 {
            let key = DocNumber(2000 + round);
            if round % 2 == 0 {
                index.remove(&[key]).expect("remove");
            } else {
                index
                    .upsert(&[VectorEntry {
                        key,
                        version: 7,
                        vector: &replacements[round as usize],
                    }])
                    .expect("upsert");
            }
            index
                .upsert(&[VectorEntry {
                    key: DocNumber(10_000 + round),
                    version: 1,
                    vector: &vectors[(round as usize) % vectors.len()],
                }])
                .expect("insert");
        }
        assert!(compaction.join().expect("compaction thread"));
    });
    assert!(!index.is_compacting());
    // 4000 left after the bulk delete, 100 more removed, 200 new ones.
    assert_eq!(index.len(), 4000 - 100 + 200);
    assert_eq!(index.version(DocNumber(2001)), Some(7));
    assert_eq!(index.version(DocNumber(2000)), None);
    assert_eq!(index.version(DocNumber(10_199)), Some(1));
    for round in (1..200).step_by(2) {
        let hits = index.search(&replacements[round], 1, None).expect("search");
        assert_eq!(
            hits[0].key,
            DocNumber(2000 + round as u64),
            "an updated vector is found by its new value"
        );
    }
    let hits = index.search(&vectors[2000], 100, None).expect("search");
    assert!(
        hits.iter().all(|h| h.key != DocNumber(2000)),
        "a removed one is gone"
    );
    assert!(index.compact(), "a second compaction can run");
    assert_eq!(index.stats().tombstones, 0);
    assert_eq!(index.len(), 4100);
}

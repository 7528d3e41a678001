//! The graph's shape after building, and after saving and loading.

use super::*;
use crate::vector::dot;
use crate::vector::test_vectors::unit_vectors;

const DIM: usize = 32;

fn built(vectors: &[f32]) -> Graph {
    let mut graph = Graph::new(&VectorConfig::default());
    graph.insert(vectors, DIM, vectors.len() / DIM);
    graph
}

/// Every point's links on each layer: (level, lists).
fn links_of(graph: &Graph) -> Vec<(u8, Vec<Vec<Near>>)> {
    let mut all = Vec::new();
    graph.for_each_point(|_, level, lists| {
        all.push((level, lists.iter().cloned().collect()));
        true
    });
    all
}

#[test]
fn every_link_is_within_capacity_to_a_point_on_its_layer_with_about_its_true_score() {
    let vectors = unit_vectors(1_500, DIM, 7);
    let graph = built(&vectors);
    assert_eq!(graph.len(), 1_500);
    let links = links_of(&graph);
    let entry = graph.entry().expect("an entry point");
    let top = links.iter().map(|(level, _)| *level).max().unwrap_or(0);
    assert_eq!(entry.level, top, "the entry point is on the top layer");
    assert!(top >= 1, "1,500 points reach above layer 0");
    for (point, (level, lists)) in (0u32..).zip(&links) {
        assert_eq!(lists.len(), usize::from(*level) + 1);
        for (layer, list) in lists.iter().enumerate() {
            assert!(
                list.len() <= graph.capacity(layer),
                "{point}: {}",
                list.len()
            );
            for link in list {
                assert_ne!(link.point, point, "a link to itself");
                let (their_level, _) = &links[link.point as usize];
                assert!(usize::from(*their_level) >= layer, "a link below its layer");
                let v = |p: u32| &vectors[p as usize * DIM..(p as usize + 1) * DIM];
                // Scored by the int8 codes: within a few thousandths.
                assert!((link.score - dot(v(point), v(link.point))).abs() < 0.01);
            }
        }
    }
    // Layer 0 holds everyone: each point has links and a way in.
    let mut ways_in = vec![0u32; links.len()];
    for (_, lists) in &links {
        for link in &lists[0] {
            ways_in[link.point as usize] += 1;
        }
    }
    assert!(links.iter().all(|(_, lists)| !lists[0].is_empty()));
    assert!(ways_in.iter().all(|&n| n > 0), "a point with no way in");
}

#[test]
fn levels_thin_out_by_a_factor_of_m() {
    let above: usize = (0..100_000).filter(|&p| level_of(p, 16) >= 1).count();
    assert!(
        (5_500..7_000).contains(&above),
        "{above} of 100,000 above layer 0"
    );
    let two_up: usize = (0..100_000).filter(|&p| level_of(p, 16) >= 2).count();
    assert!((250..550).contains(&two_up), "{two_up} two layers up");
    assert_eq!(
        level_of(42, 16),
        level_of(42, 16),
        "drawn from the id alone"
    );
}

#[test]
fn a_graph_grows_by_later_inserts_as_one_built_at_once() {
    let vectors = unit_vectors(600, DIM, 11);
    let mut graph = Graph::new(&VectorConfig::default());
    graph.insert(&vectors, DIM, 10);
    graph.insert(&vectors, DIM, 300);
    graph.insert(&vectors, DIM, 301);
    graph.insert(&vectors, DIM, 600);
    assert_eq!(graph.len(), 600);
    let links = links_of(&graph);
    assert!(links.iter().all(|(_, lists)| !lists[0].is_empty()));
    // Asking for fewer points, or more than the vectors hold, changes nothing.
    graph.insert(&vectors, DIM, 500);
    graph.insert(&vectors, DIM, 601);
    assert_eq!(graph.len(), 600);
}

#[test]
fn a_saved_graph_loads_with_the_same_links_and_a_damaged_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vectors = unit_vectors(300, DIM, 13);
    let graph = built(&vectors);
    graph.save(dir.path()).expect("saved");
    let loaded = Graph::load(dir.path(), &VectorConfig::default(), &vectors, DIM).expect("loaded");
    assert_eq!(loaded.entry(), graph.entry());
    let same = links_of(&loaded)
        .iter()
        .zip(links_of(&graph))
        .all(|(a, b)| {
            a.0 == b.0
                && a.1.len() == b.1.len()
                && a.1.iter().zip(&b.1).all(|(x, y)| {
                    x.iter()
                        .map(|l| (l.point, l.score.to_bits()))
                        .eq(y.iter().map(|l| (l.point, l.score.to_bits())))
                })
        });
    assert!(same, "the links differ after loading");

    let path = dir.path().join(GRAPH_FILE);
    let bytes = std::fs::read(&path).expect("read");
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x10;
    for damaged in [
        flipped,
        bytes[..bytes.len() - 9].to_vec(),
        b"DRPLYHG1".to_vec(),
    ] {
        std::fs::write(&path, &damaged).expect("write");
        let err =
            Graph::load(dir.path(), &VectorConfig::default(), &vectors, DIM).expect_err("damaged");
        assert!(matches!(err, crate::Error::IndexCorrupt { .. }), "{err}");
    }

    let empty = Graph::new(&VectorConfig::default());
    empty.save(dir.path()).expect("saved");
    let loaded = Graph::load(dir.path(), &VectorConfig::default(), &vectors, DIM).expect("loaded");
    assert_eq!((loaded.len(), loaded.entry()), (0, None));
}

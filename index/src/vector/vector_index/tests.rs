//! Unit tests of [`VectorIndex`] that write its log directly: a record that an older
//! version logged with a vector that cannot be normalised (NaN, infinite, all zeros,
//! an overflowing length) replays as its key's removal when the index opens, not a
//! reason to refuse to.

use super::{VectorEntry, VectorIndex, WAL_FILE};
use crate::vector::wal::{Wal, WalRecord};
use crate::{DocNumber, VectorConfig};

const DIM: usize = 32;

/// The unit vector along axis `axis`.
fn axis(axis: usize) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    v[axis % DIM] = 1.0;
    v
}

/// Regression: older versions stored and logged NaN, infinite and zero vectors as they
/// came; replaying such a log must neither fail `open` nor bring the bad vectors back
/// (a NaN one ranked first in every search).
#[test]
fn a_logged_vector_that_cannot_be_normalised_replays_as_its_keys_removal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vectors");
    let index = VectorIndex::<DocNumber>::in_memory(DIM, VectorConfig::default()).expect("index");
    let first = axis(0);
    index
        .upsert(&[VectorEntry {
            key: DocNumber(1),
            version: 1,
            vector: &first,
        }])
        .expect("upsert");
    index.save_to(&path, 1).expect("save");
    drop(index);

    // What an older version's `upsert` logged without checking.
    let mut wal = Wal::open(&path.join(WAL_FILE)).expect("wal");
    wal.append(&[
        WalRecord::Upsert {
            key: 2,
            version: 1,
            vector: vec![f32::NAN; DIM],
        },
        WalRecord::Upsert {
            key: 3,
            version: 1,
            vector: vec![0.0; DIM],
        },
        WalRecord::Upsert {
            key: 4,
            version: 1,
            vector: vec![1e20; DIM],
        },
        // A bad replacement removes the key, as a rebuild would (a text with no
        // vector has none), rather than leaving its earlier vector.
        WalRecord::Upsert {
            key: 1,
            version: 2,
            vector: vec![f32::INFINITY; DIM],
        },
        WalRecord::Upsert {
            key: 5,
            version: 1,
            vector: axis(5),
        },
        WalRecord::Commit { seq: 2 },
    ])
    .expect("append");
    wal.sync().expect("sync");
    drop(wal);

    let reopened = VectorIndex::<DocNumber>::open(&path, DIM, VectorConfig::default())
        .expect("bad records are skipped, not fatal");
    assert_eq!(reopened.committed_seq(), 2);
    let mut entries = reopened.entries();
    entries.sort();
    assert_eq!(entries, vec![(DocNumber(5), 1)]);
    let hits = reopened.search(&axis(5), 10, None).expect("search");
    assert_eq!(
        hits.first().map(|hit| hit.key),
        Some(DocNumber(5)),
        "{hits:?}"
    );
    assert!(hits.iter().all(|hit| hit.score.is_finite()), "{hits:?}");
    // And it saves and reopens cleanly afterwards.
    reopened.save().expect("save again");
    drop(reopened);
    let again =
        VectorIndex::<DocNumber>::open(&path, DIM, VectorConfig::default()).expect("reopen");
    assert_eq!(again.len(), 1);
}

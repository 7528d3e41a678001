//! A profile whose text embeds to no direction (an embedder may answer all zeros for
//! a text without meaning, and the vector index refuses such a vector): the expert is
//! left out of the vectors and found by words, and the rest of the batch is indexed.

use std::time::Duration;

use droply_engine::Store;
use droply_index::ExpertFilters;

use crate::support::{expert, open_hashed};

#[test]
fn a_profile_without_meaning_has_no_vector_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    let gardener = store
        .users()
        .create(expert("gardener", "Gardener", "Roses"))
        .expect("gardener");
    // Nothing the hash embedder counts as a word: its embedding is all zeros.
    let mut blank = expert("blank", "--", "..");
    blank.skills_1 = None;
    blank.bio = String::new();
    blank.service_description = String::new();
    blank.specialty_tags = Vec::new();
    blank.skills_2 = None;
    blank.skills_3 = None;
    let blank = store.users().create(blank).expect("blank");
    let index = open_hashed(dir.path(), &store);
    assert!(
        index.wait_until_applied(store.last_seq(), Duration::from_secs(60)),
        "{:?}",
        index.status()
    );
    assert_eq!(index.status().last_error, None);
    let (text, vectors) = index.entries().expect("entries");
    let texts: Vec<_> = text.iter().map(|(id, _)| *id).collect();
    let vectored: Vec<_> = vectors.iter().map(|(id, _)| *id).collect();
    assert!(
        texts.contains(&gardener.id) && texts.contains(&blank.id),
        "{texts:?}"
    );
    assert_eq!(vectored, vec![gardener.id], "only the profile with meaning");
    let found = index
        .text_search("roses", &ExpertFilters::default(), 5)
        .expect("text search");
    assert_eq!(found.first().map(|hit| hit.0), Some(gardener.id));
}

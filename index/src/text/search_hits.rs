//! Reading hits back as external ids, from the `id` fast field of each segment.

use std::collections::HashSet;

use tantivy::{DocAddress, Score, Searcher};

use crate::{ExternalId, Result};

/// `(score, address)` pairs as `(id, score)`, in the same order.
pub(crate) fn hits_with_ids<K: ExternalId>(
    searcher: &Searcher,
    top: Vec<(Score, DocAddress)>,
) -> Result<Vec<(K, f32)>> {
    let mut columns = Vec::new();
    for segment in searcher.segment_readers() {
        columns.push(segment.fast_fields().u64("id")?);
    }
    Ok(top
        .into_iter()
        .filter_map(|(score, address)| {
            let column = columns.get(address.segment_ord as usize)?;
            column
                .first(address.doc_id)
                .map(|id| (K::from_raw(id), score))
        })
        .collect())
}

/// The ids of a set of documents.
pub(crate) fn ids_of<K: ExternalId>(
    searcher: &Searcher,
    docs: HashSet<DocAddress>,
) -> Result<Vec<K>> {
    let mut columns = Vec::new();
    for segment in searcher.segment_readers() {
        columns.push(segment.fast_fields().u64("id")?);
    }
    Ok(docs
        .into_iter()
        .filter_map(|address| {
            columns
                .get(address.segment_ord as usize)?
                .first(address.doc_id)
                .map(K::from_raw)
        })
        .collect())
}

//! Reading hits back as external ids, from the `id` fast field of each segment, and a
//! collector of the ids of every matching document.

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

/// Collects the `id` of every matching document, straight from the fast field.
pub(crate) struct IdCollector;

/// One segment's ids.
pub(crate) struct SegmentIds {
    column: Option<tantivy::columnar::Column<u64>>,
    ids: Vec<u64>,
}

impl tantivy::collector::SegmentCollector for SegmentIds {
    type Fruit = Vec<u64>;

    fn collect(&mut self, doc: tantivy::DocId, _score: Score) {
        if let Some(id) = self.column.as_ref().and_then(|c| c.first(doc)) {
            self.ids.push(id);
        }
    }

    fn harvest(self) -> Vec<u64> {
        self.ids
    }
}

impl tantivy::collector::Collector for IdCollector {
    type Fruit = Vec<u64>;
    type Child = SegmentIds;

    fn for_segment(
        &self,
        _segment_local_id: tantivy::SegmentOrdinal,
        segment: &tantivy::SegmentReader,
    ) -> tantivy::Result<SegmentIds> {
        Ok(SegmentIds {
            column: segment.fast_fields().u64("id").ok(),
            ids: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<u64>>) -> tantivy::Result<Vec<u64>> {
        Ok(fruits.concat())
    }
}

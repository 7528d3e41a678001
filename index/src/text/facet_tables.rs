//! Facet tables: one segment's facet values read once from its string column into
//! flat arrays (each document's term ordinals, and every ordinal's value), so that
//! counting the facets of a search is an array walk per matched document rather than
//! a column lookup and a dictionary read. Segments never change, so a table stays
//! right for as long as its segment is searched; tables of merged-away segments are
//! dropped by [`FacetTables::retain`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::{DocId, SegmentReader};

/// One segment's values of one facet column.
#[derive(Debug)]
pub(crate) struct SegmentTable {
    /// Document `d`'s ordinals are `ords[offsets[d]..offsets[d + 1]]`.
    offsets: Vec<u32>,
    ords: Vec<u32>,
    /// Ordinal `o`'s value.
    values: Vec<Arc<str>>,
}

impl SegmentTable {
    /// Reads `column` of `segment`; `None` when the segment has no such column.
    fn read(segment: &SegmentReader, column: &str) -> tantivy::Result<Option<Self>> {
        let Some(column) = segment.fast_fields().str(column)? else {
            return Ok(None);
        };
        let max_doc = segment.max_doc() as usize;
        let mut offsets = Vec::with_capacity(max_doc + 1);
        let mut ords = Vec::with_capacity(max_doc);
        offsets.push(0);
        let mut doc_ords: Vec<u32> = Vec::new();
        for doc in 0..segment.max_doc() {
            doc_ords.clear();
            doc_ords.extend(column.term_ords(doc).map(|ord| ord as u32));
            // A value a document holds twice (the same skill ranked twice) counts once.
            doc_ords.sort_unstable();
            doc_ords.dedup();
            ords.extend_from_slice(&doc_ords);
            offsets.push(ords.len() as u32);
        }
        let mut values = Vec::with_capacity(column.num_terms());
        let mut value = String::new();
        for ord in 0..column.num_terms() as u64 {
            value.clear();
            column.ord_to_str(ord, &mut value)?;
            values.push(Arc::from(value.as_str()));
        }
        Ok(Some(SegmentTable {
            offsets,
            ords,
            values,
        }))
    }

    /// The term ordinals of `doc`.
    pub fn ords(&self, doc: DocId) -> &[u32] {
        let doc = doc as usize;
        match (self.offsets.get(doc), self.offsets.get(doc + 1)) {
            (Some(&from), Some(&to)) => &self.ords[from as usize..to as usize],
            _ => &[],
        }
    }

    /// The number of distinct values (ordinals run from 0 to this).
    pub fn num_values(&self) -> usize {
        self.values.len()
    }

    /// The value of ordinal `ord`.
    pub fn value(&self, ord: usize) -> Option<&Arc<str>> {
        self.values.get(ord)
    }
}

/// Each (segment, column)'s table; `None` for a segment without the column.
type Tables = HashMap<(SegmentId, &'static str), Option<Arc<SegmentTable>>>;

/// The tables of the segments searched lately, per segment and column.
#[derive(Debug, Default)]
pub(crate) struct FacetTables {
    tables: Mutex<Tables>,
}

impl FacetTables {
    /// The table of `column` in `segment`, read on first use.
    pub fn table(
        &self,
        segment: &SegmentReader,
        column: &'static str,
    ) -> tantivy::Result<Option<Arc<SegmentTable>>> {
        let key = (segment.segment_id(), column);
        if let Some(table) = self.lock().get(&key) {
            return Ok(table.clone());
        }
        // Read outside the lock: a search of another segment does not wait for it.
        let table = SegmentTable::read(segment, column)?.map(Arc::new);
        self.lock().insert(key, table.clone());
        Ok(table)
    }

    /// Drops the tables of segments other than `segments` (those merged away).
    pub fn retain(&self, segments: &[SegmentReader]) {
        let live: HashSet<SegmentId> = segments.iter().map(SegmentReader::segment_id).collect();
        self.lock().retain(|(segment, _), _| live.contains(segment));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

//! Facet counts: how many of the experts a search matches have each industry,
//! profession, location, skill, specialty tag or currency ([`FacetField`]), and how
//! many of the content items have each content type or category ([`ContentFacet`]).
//! Counted by a tantivy collector over each segment's facet table (term ordinals per
//! document, read once from the facet columns: see `facet_tables`), merged by value,
//! so a count never reads a stored document or a column's dictionary. [`OpenFacets`]
//! keeps a search's counts open, with which documents it counted, so that documents
//! known only later (the vector hits of the same request) can join them once.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::facet_tables::{FacetTables, SegmentTable};

/// A field facets can be counted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FacetField {
    /// The expert's industry.
    Industry,
    /// The expert's profession.
    Profession,
    /// The expert's location.
    Location,
    /// Ranked skills (`skills_1..3`).
    Skills,
    /// Specialty tags.
    SpecialtyTags,
    /// The currency the expert prices in.
    Currency,
}

impl FacetField {
    /// Every facet field.
    pub const ALL: [FacetField; 6] = [
        FacetField::Industry,
        FacetField::Profession,
        FacetField::Location,
        FacetField::Skills,
        FacetField::SpecialtyTags,
        FacetField::Currency,
    ];

    /// The name callers use (`industry`, `specialty_tags`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FacetField::Industry => "industry",
            FacetField::Profession => "profession",
            FacetField::Location => "location",
            FacetField::Skills => "skills",
            FacetField::SpecialtyTags => "specialty_tags",
            FacetField::Currency => "currency",
        }
    }

    /// The field named `name`, if any.
    pub fn parse(name: &str) -> Option<FacetField> {
        FacetField::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A field whose values sit in a string column that facets are counted on.
pub trait FacetColumn: Copy + Send + Sync + 'static {
    /// The column holding the field's values.
    fn column(self) -> &'static str;
}

impl FacetColumn for FacetField {
    fn column(self) -> &'static str {
        match self {
            FacetField::Industry => "industry_facet",
            FacetField::Profession => "profession_facet",
            FacetField::Location => "location_facet",
            FacetField::Skills => "skill_facet",
            FacetField::SpecialtyTags => "tag_facet",
            FacetField::Currency => "currency",
        }
    }
}

/// A field facets can be counted on among content hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentFacet {
    /// What kind of content it is (`video`, `course`, ...).
    ContentType,
    /// The content category's id.
    CategoryId,
}

impl ContentFacet {
    /// Every content facet field.
    pub const ALL: [ContentFacet; 2] = [ContentFacet::ContentType, ContentFacet::CategoryId];

    /// The name callers use (`content_type`, `category_id`).
    pub fn name(self) -> &'static str {
        match self {
            ContentFacet::ContentType => "content_type",
            ContentFacet::CategoryId => "category_id",
        }
    }

    /// The field named `name`, if any.
    pub fn parse(name: &str) -> Option<ContentFacet> {
        ContentFacet::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl FacetColumn for ContentFacet {
    fn column(self) -> &'static str {
        match self {
            ContentFacet::ContentType => "content_type",
            ContentFacet::CategoryId => "category_facet",
        }
    }
}

/// The facet counts of one search.
#[derive(Debug, Clone, PartialEq)]
pub struct FacetCounts<F = FacetField> {
    /// How many documents matched.
    pub total: u64,
    /// Per requested field, values with their counts: most frequent first, ties by value.
    pub fields: Vec<(F, Vec<(String, u64)>)>,
}

impl<F> Default for FacetCounts<F> {
    fn default() -> Self {
        FacetCounts {
            total: 0,
            fields: Vec::new(),
        }
    }
}

/// Counts matched documents and the values of `fields` among them.
#[derive(Clone)]
pub(crate) struct FacetCollector<F = FacetField> {
    pub fields: Vec<F>,
    /// Values kept per field (the most frequent).
    pub max_values: usize,
    /// Where each segment's values are read from.
    pub tables: Arc<FacetTables>,
}

/// One segment's counts: per field, a count per term ordinal; with a bit per
/// document counted when the counts stay open ([`OpenFacets`]).
pub(crate) struct SegmentFacets {
    total: u64,
    tables: Vec<Option<Arc<SegmentTable>>>,
    counts: Vec<Vec<u32>>,
    counted: Option<Vec<u64>>,
}

impl SegmentFacets {
    /// Back to counting nothing.
    fn clear(&mut self) {
        self.total = 0;
        self.counts.iter_mut().for_each(|counts| counts.fill(0));
        if let Some(bits) = self.counted.as_mut() {
            bits.fill(0);
        }
    }

    /// Counts `doc` unless it was counted already (only open counts can tell).
    fn count_once(&mut self, doc: DocId) {
        if self.counted.as_ref().is_some_and(|bits| is_set(bits, doc)) {
            return;
        }
        self.collect(doc, 0.0);
    }
}

fn is_set(bits: &[u64], doc: DocId) -> bool {
    bits.get(doc as usize / 64)
        .is_some_and(|word| word & (1 << (doc % 64)) != 0)
}

impl SegmentCollector for SegmentFacets {
    type Fruit = (u64, Vec<Vec<(Arc<str>, u64)>>);

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(word) = self
            .counted
            .as_mut()
            .and_then(|bits| bits.get_mut(doc as usize / 64))
        {
            *word |= 1 << (doc % 64);
        }
        self.total += 1;
        for (table, counts) in self.tables.iter().zip(&mut self.counts) {
            if let Some(table) = table {
                for &ord in table.ords(doc) {
                    if let Some(count) = counts.get_mut(ord as usize) {
                        *count += 1;
                    }
                }
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        let fields = self
            .tables
            .iter()
            .zip(self.counts)
            .map(|(table, counts)| {
                let Some(table) = table else {
                    return Vec::new();
                };
                counts
                    .into_iter()
                    .enumerate()
                    .filter(|(_, count)| *count > 0)
                    .filter_map(|(ord, count)| {
                        table
                            .value(ord)
                            .map(|value| (Arc::clone(value), u64::from(count)))
                    })
                    .collect()
            })
            .collect();
        (self.total, fields)
    }
}

impl<F: FacetColumn> Collector for FacetCollector<F> {
    type Fruit = FacetCounts<F>;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        self.segment_facets(segment, false)
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        segment_fruits: Vec<(u64, Vec<Vec<(Arc<str>, u64)>>)>,
    ) -> tantivy::Result<FacetCounts<F>> {
        let mut total = 0;
        let mut merged: Vec<HashMap<Arc<str>, u64>> = vec![HashMap::new(); self.fields.len()];
        for (segment_total, fields) in segment_fruits {
            total += segment_total;
            for (into, from) in merged.iter_mut().zip(fields) {
                for (value, count) in from {
                    *into.entry(value).or_default() += count;
                }
            }
        }
        let fields = self
            .fields
            .iter()
            .zip(merged)
            .map(|(field, counts)| {
                let mut values: Vec<(Arc<str>, u64)> = counts.into_iter().collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                values.truncate(self.max_values);
                let values = values
                    .into_iter()
                    .map(|(value, count)| (value.to_string(), count))
                    .collect();
                (*field, values)
            })
            .collect();
        Ok(FacetCounts { total, fields })
    }
}

impl<F: FacetColumn> FacetCollector<F> {
    /// Empty counts for `segment`, with a bit per document when `open`.
    fn segment_facets(
        &self,
        segment: &SegmentReader,
        open: bool,
    ) -> tantivy::Result<SegmentFacets> {
        let mut tables = Vec::with_capacity(self.fields.len());
        let mut counts = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let table = self.tables.table(segment, field.column())?;
            counts.push(vec![0; table.as_ref().map_or(0, |t| t.num_values())]);
            tables.push(table);
        }
        let counted = open.then(|| vec![0; (segment.max_doc() as usize).div_ceil(64)]);
        Ok(SegmentFacets {
            total: 0,
            tables,
            counts,
            counted,
        })
    }

    /// This collector, collecting open counts ([`OpenFacets`]).
    pub(crate) fn open(self) -> OpenFacetCollector<F> {
        OpenFacetCollector(self)
    }
}

/// A search's facet counts, still open to more documents: per segment (in the
/// searcher's order), the counts per value and which documents were counted.
pub(crate) struct OpenFacets<F> {
    collector: FacetCollector<F>,
    segments: Vec<SegmentFacets>,
}

impl<F: FacetColumn> OpenFacets<F> {
    /// Open counts of nothing yet over `segments`.
    pub(crate) fn empty(
        collector: FacetCollector<F>,
        segments: &[SegmentReader],
    ) -> tantivy::Result<Self> {
        let segments = segments
            .iter()
            .map(|segment| collector.segment_facets(segment, true))
            .collect::<tantivy::Result<_>>()?;
        Ok(OpenFacets {
            collector,
            segments,
        })
    }

    /// Forgets every document counted so far.
    pub(crate) fn clear(&mut self) {
        self.segments.iter_mut().for_each(SegmentFacets::clear);
    }

    /// Counts document `doc` of segment `segment` (an ordinal of the searcher the counts
    /// were taken with) unless it was counted already.
    pub(crate) fn count_once(&mut self, segment: usize, doc: DocId) {
        if let Some(facets) = self.segments.get_mut(segment) {
            facets.count_once(doc);
        }
    }

    /// The final counts: the most frequent `max_values` values per field.
    pub(crate) fn close(self) -> tantivy::Result<FacetCounts<F>> {
        let fruits = self
            .segments
            .into_iter()
            .map(SegmentCollector::harvest)
            .collect();
        self.collector.merge_fruits(fruits)
    }
}

/// [`FacetCollector`] collecting [`OpenFacets`].
pub(crate) struct OpenFacetCollector<F>(FacetCollector<F>);

/// One segment's open counts, as collected, with the segment's ordinal.
pub(crate) struct OpenSegment(SegmentOrdinal, SegmentFacets);

impl SegmentCollector for OpenSegment {
    type Fruit = OpenSegment;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.1.collect(doc, score);
    }

    fn harvest(self) -> OpenSegment {
        self
    }
}

impl<F: FacetColumn> Collector for OpenFacetCollector<F> {
    type Fruit = OpenFacets<F>;
    type Child = OpenSegment;

    fn for_segment(
        &self,
        segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<OpenSegment> {
        Ok(OpenSegment(
            segment_local_id,
            self.0.segment_facets(segment, true)?,
        ))
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, mut segments: Vec<OpenSegment>) -> tantivy::Result<OpenFacets<F>> {
        segments.sort_by_key(|segment| segment.0);
        Ok(OpenFacets {
            collector: self.0.clone(),
            segments: segments.into_iter().map(|s| s.1).collect(),
        })
    }
}

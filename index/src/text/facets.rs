//! Facet counts: how many of the experts a search matches have each industry,
//! profession, location, skill, specialty tag or currency ([`FacetField`]), and how
//! many of the content items have each content type or category ([`ContentFacet`]).
//! Counted by a tantivy collector over each segment's facet table (term ordinals per
//! document, read once from the facet columns: see `facet_tables`), merged by value,
//! so a count never reads a stored document or a column's dictionary.

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
pub(crate) struct FacetCollector<F = FacetField> {
    pub fields: Vec<F>,
    /// Values kept per field (the most frequent).
    pub max_values: usize,
    /// Where each segment's values are read from.
    pub tables: Arc<FacetTables>,
}

/// One segment's counts: per field, a count per term ordinal.
pub(crate) struct SegmentFacets {
    total: u64,
    tables: Vec<Option<Arc<SegmentTable>>>,
    counts: Vec<Vec<u32>>,
}

impl SegmentCollector for SegmentFacets {
    type Fruit = (u64, Vec<Vec<(Arc<str>, u64)>>);

    fn collect(&mut self, doc: DocId, _score: Score) {
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
        let mut tables = Vec::with_capacity(self.fields.len());
        let mut counts = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let table = self.tables.table(segment, field.column())?;
            counts.push(vec![0; table.as_ref().map_or(0, |t| t.num_values())]);
            tables.push(table);
        }
        Ok(SegmentFacets {
            total: 0,
            tables,
            counts,
        })
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

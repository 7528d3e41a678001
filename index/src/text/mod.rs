//! The text index (tantivy): experts' profiles ([`ExpertTextIndex`]) and published
//! content ([`ContentTextIndex`]), each in an index of its own, searched with BM25 over
//! boosted fields with typo tolerance and filtered on fast fields, and any document
//! collection ([`DocumentIndex`]) for evaluation on public benchmarks.
//!
//! `analyzer` is the one analyzer of every text field; `expert_schema` and
//! `content_schema` the fields and their boosts; `expert_doc` and `content_doc` what
//! goes in and the filters; `query_builder` turns words and filters into queries, with
//! `typos` finding the terms near a misspelt word; `commit_payload` keeps the sequence
//! number atomic with a commit; `index_files` creates, opens and commits an index
//! directory; `search_hits` reads hits back as ids (only ids are kept, nothing is
//! stored); `facets` counts values among the matches; `filter_cache` keeps the experts
//! recent filters allow.

mod analyzer;
mod commit_payload;
mod content_doc;
mod content_index;
mod content_schema;
mod counted_search;
mod document_index;
mod expert_doc;
mod expert_index;
mod expert_schema;
mod facet_tables;
mod facets;
mod filter_cache;
mod index_files;
mod query_builder;
mod search_hits;
mod typos;

pub use analyzer::{ANALYZER, terms, value_has_term};
pub use content_doc::{ContentDoc, ContentFilters};
pub use content_index::{ContentTextIndex, CountedContentHits};
pub use content_schema::CONTENT_SCHEMA_VERSION;
pub use counted_search::CountedSearch;
pub use document_index::DocumentIndex;
pub use expert_doc::{ExpertDoc, ExpertFilters, PriceRange};
pub use expert_index::ExpertTextIndex;
pub use expert_schema::EXPERT_SCHEMA_VERSION;
pub use facets::{ContentFacet, FacetColumn, FacetCounts, FacetField};

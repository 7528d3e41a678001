//! The text index (tantivy): experts' profiles ([`ExpertTextIndex`]) searched with BM25
//! over boosted fields with typo tolerance and filtered on fast fields, and any document
//! collection ([`DocumentIndex`]) for evaluation on public benchmarks.
//!
//! `analyzer` is the one analyzer of every text field; `expert_schema` the fields and
//! their boosts; `expert_doc` what goes in and the filters; `query_builder` turns words
//! and filters into queries; `commit_payload` keeps the sequence number atomic with a
//! commit; `search_hits` reads hits back as ids (only ids are kept, nothing is stored);
//! `facets` counts values among the matched experts.

mod analyzer;
mod commit_payload;
mod document_index;
mod expert_doc;
mod expert_index;
mod expert_schema;
mod facets;
mod query_builder;
mod search_hits;

pub use analyzer::{ANALYZER, terms};
pub use document_index::DocumentIndex;
pub use expert_doc::{ExpertDoc, ExpertFilters, PriceRange};
pub use expert_index::ExpertTextIndex;
pub use expert_schema::EXPERT_SCHEMA_VERSION;
pub use facets::{FacetCounts, FacetField};

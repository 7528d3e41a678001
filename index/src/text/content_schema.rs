//! The content index's tantivy schema: the analysed title and description with their
//! BM25 boosts, keyword and numeric fast fields for filtering (type, category, creator,
//! currency, price), facet columns, and the id and version. Nothing is stored: a hit is
//! read back as its id from a fast field.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing,
    TextOptions,
};

use super::analyzer::ANALYZER;

/// Bumped whenever the schema or the analyzer changes; an index of another version
/// is rebuilt.
pub const CONTENT_SCHEMA_VERSION: u32 = 1;

/// Handles of every field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContentFields {
    pub id: Field,
    pub version: Field,
    pub title: Field,
    pub description: Field,
    pub content_type: Field,
    pub category_id: Field,
    pub category_facet: Field,
    pub creator: Field,
    pub currency: Field,
    pub price: Field,
}

/// The text fields a query searches, with their boosts, and whether typos are forgiven
/// in them.
pub(crate) fn searched_fields(f: &ContentFields) -> Vec<(Field, f32, bool)> {
    vec![(f.title, 3.0, true), (f.description, 1.0, false)]
}

/// The schema and its field handles.
pub(crate) fn content_schema() -> (Schema, ContentFields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let number = NumericOptions::default().set_indexed().set_fast();
    let fields = ContentFields {
        id: b.add_u64_field("id", INDEXED | FAST),
        version: b.add_u64_field("version", FAST),
        title: b.add_text_field("title", text.clone()),
        description: b.add_text_field("description", text),
        // The type's API name is lower-case already: one column filters and counts.
        content_type: b.add_text_field("content_type", STRING | FAST),
        category_id: b.add_u64_field("category_id", number.clone()),
        // The category id as text, read from its column only: never searched.
        category_facet: b.add_text_field("category_facet", TextOptions::default().set_fast("raw")),
        creator: b.add_u64_field("creator", number.clone()),
        currency: b.add_text_field("currency", STRING | FAST),
        price: b.add_i64_field("price_minor", number),
    };
    (b.build(), fields)
}

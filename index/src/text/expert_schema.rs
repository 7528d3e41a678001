//! The expert index's tantivy schema: analysed text fields with their BM25 boosts,
//! keyword and numeric fast fields for filtering and sorting, facet columns holding the
//! values as written, and the id and version.
//! Nothing is stored: a hit is read back as its id from a fast field.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing,
    TextOptions,
};

use super::analyzer::ANALYZER;

/// Bumped whenever the schema, the analyzer or what a document writes into the fields
/// changes; an index of another version is rebuilt. 3: `location_kw` holds each
/// comma-separated part of a location too, and an expert without a rate is indexed at
/// a rate of zero.
pub const EXPERT_SCHEMA_VERSION: u32 = 3;

/// Handles of every field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExpertFields {
    pub id: Field,
    pub version: Field,
    pub name: Field,
    pub profession: Field,
    pub bio: Field,
    pub skill: [Field; 3],
    pub skills_text: Field,
    pub tags: Field,
    pub industry: Field,
    pub location: Field,
    pub service: Field,
    pub content: Field,
    pub categories: Field,
    pub industry_kw: Field,
    pub profession_kw: Field,
    pub location_kw: Field,
    pub skill_kw: Field,
    pub tag_kw: Field,
    pub category_id: Field,
    pub currency: Field,
    pub hourly_rate: Field,
    pub rating: Field,
    pub rating_count: Field,
    pub is_available: Field,
    pub is_bookable: Field,
    pub is_featured: Field,
    pub industry_facet: Field,
    pub profession_facet: Field,
    pub location_facet: Field,
    pub skill_facet: Field,
    pub tag_facet: Field,
}

/// The text fields a query searches, with their boosts, and whether typos are forgiven
/// in them.
pub(crate) fn searched_fields(f: &ExpertFields) -> Vec<(Field, f32, bool)> {
    vec![
        (f.profession, 3.0, true),
        (f.skill[0], 3.0, true),
        (f.skill[1], 2.5, true),
        (f.skill[2], 2.0, true),
        (f.tags, 2.5, true),
        (f.name, 2.0, true),
        (f.skills_text, 1.5, false),
        (f.industry, 1.5, true),
        (f.categories, 1.2, false),
        (f.location, 1.0, true),
        (f.service, 1.0, false),
        (f.bio, 0.8, false),
        (f.content, 0.6, false),
    ]
}

/// The schema and its field handles.
pub(crate) fn expert_schema() -> (Schema, ExpertFields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let keyword = STRING | FAST;
    // Facet values as written (trimmed), read from columns only: never searched.
    let facet = TextOptions::default().set_fast("raw");
    let number = NumericOptions::default().set_indexed().set_fast();
    let fields = ExpertFields {
        id: b.add_u64_field("id", INDEXED | FAST),
        version: b.add_u64_field("version", FAST),
        name: b.add_text_field("name", text.clone()),
        profession: b.add_text_field("profession", text.clone()),
        bio: b.add_text_field("bio", text.clone()),
        skill: [
            b.add_text_field("skills_1", text.clone()),
            b.add_text_field("skills_2", text.clone()),
            b.add_text_field("skills_3", text.clone()),
        ],
        skills_text: b.add_text_field("skills", text.clone()),
        tags: b.add_text_field("specialty_tags", text.clone()),
        industry: b.add_text_field("industry", text.clone()),
        location: b.add_text_field("location", text.clone()),
        service: b.add_text_field("service_description", text.clone()),
        content: b.add_text_field("content_description", text.clone()),
        categories: b.add_text_field("categories", text),
        industry_kw: b.add_text_field("industry_kw", keyword.clone()),
        profession_kw: b.add_text_field("profession_kw", keyword.clone()),
        location_kw: b.add_text_field("location_kw", keyword.clone()),
        skill_kw: b.add_text_field("skill_kw", keyword.clone()),
        tag_kw: b.add_text_field("tag_kw", keyword.clone()),
        category_id: b.add_u64_field("category_id", number.clone()),
        currency: b.add_text_field("currency", keyword),
        hourly_rate: b.add_i64_field("hourly_rate_minor", number.clone()),
        rating: b.add_f64_field("rating", number.clone()),
        rating_count: b.add_u64_field("rating_count", number.clone()),
        is_available: b.add_bool_field("is_available", number.clone()),
        is_bookable: b.add_bool_field("is_bookable", number.clone()),
        is_featured: b.add_bool_field("is_featured", number),
        industry_facet: b.add_text_field("industry_facet", facet.clone()),
        profession_facet: b.add_text_field("profession_facet", facet.clone()),
        location_facet: b.add_text_field("location_facet", facet.clone()),
        skill_facet: b.add_text_field("skill_facet", facet.clone()),
        tag_facet: b.add_text_field("tag_facet", facet),
    };
    (b.build(), fields)
}

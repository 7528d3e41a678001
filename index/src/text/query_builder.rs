//! Turning a user's words and filters into tantivy queries: every analysed term is
//! looked up in every searched field with that field's boost and BM25 scoring (the
//! scores add up); words of five letters or more that the index does not know (a likely
//! typo) also match with one typo (nine or more: two), at a quarter of the field's
//! boost. Filters never change scores.

use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, RangeQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::analyzer::{keyword, terms};
use super::expert_doc::{ExpertFilters, PriceRange};
use super::expert_schema::ExpertFields;

/// Words at least this long (in characters) match with one typo.
const ONE_TYPO_FROM: usize = 5;
/// Words at least this long match with two typos.
const TWO_TYPOS_FROM: usize = 9;
/// The share of a field's boost a typo-tolerant match gets.
const TYPO_BOOST: f32 = 0.25;
/// The most words of one query that also match with typos: each builds a
/// Levenshtein automaton per typo-tolerant field, so a long query of unknown
/// words would otherwise cost hundreds of them.
pub(crate) const MAX_TYPO_WORDS: usize = 8;

/// The BM25 query for `text` over `fields` (field, boost, typo tolerant), `None` when
/// the text has no searchable term. `forgive_typos` says which terms also match with
/// typos (`None`: none do).
pub(crate) fn text_query(
    text: &str,
    fields: &[(Field, f32, bool)],
    forgive_typos: Option<&dyn Fn(&str) -> bool>,
) -> Option<Box<dyn Query>> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut typo_words = 0;
    for (term, word_len) in terms(text) {
        if !seen.insert(term.clone()) {
            continue;
        }
        let typos = typo_words < MAX_TYPO_WORDS
            && word_len >= ONE_TYPO_FROM
            && forgive_typos.is_some_and(|f| f(&term));
        typo_words += usize::from(typos);
        for &(field, boost, fuzzy_field) in fields {
            let exact = TermQuery::new(
                Term::from_field_text(field, &term),
                IndexRecordOption::WithFreqs,
            );
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(exact), boost)),
            ));
            if typos && fuzzy_field {
                let distance = if word_len >= TWO_TYPOS_FROM { 2 } else { 1 };
                let fuzzy =
                    FuzzyTermQuery::new(Term::from_field_text(field, &term), distance, true);
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(fuzzy), boost * TYPO_BOOST)),
                ));
            }
        }
    }
    if clauses.is_empty() {
        return None;
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// [`text_query`] in which the words that no typo-tolerant field of the index behind
/// `searcher` knows (a likely typo) also match with typos; a known word is taken as
/// spelled right, sparing the typo automaton.
pub(crate) fn typo_tolerant_query(
    searcher: &Searcher,
    text: &str,
    fields: &[(Field, f32, bool)],
) -> Option<Box<dyn Query>> {
    let unknown = |term: &str| {
        !searcher.segment_readers().iter().any(|segment| {
            fields
                .iter()
                .filter(|(_, _, fuzzy)| *fuzzy)
                .any(|(field, _, _)| {
                    segment
                        .inverted_index(*field)
                        .ok()
                        .and_then(|index| index.terms().get(term.as_bytes()).ok().flatten())
                        .is_some()
                })
        })
    };
    text_query(text, fields, Some(&unknown))
}

/// `matched` or any document whose `id_field` is one of `ids` (facet counts over the
/// words' matches plus the vector hits); `matched` alone when `ids` is empty.
pub(crate) fn or_ids(
    matched: Option<Box<dyn Query>>,
    id_field: Field,
    ids: impl Iterator<Item = u64>,
) -> Option<Box<dyn Query>> {
    let terms: Vec<Term> = ids.map(|id| Term::from_field_u64(id_field, id)).collect();
    if terms.is_empty() {
        return matched;
    }
    let ids = Box::new(TermSetQuery::new(terms));
    Some(match matched {
        Some(text) => Box::new(BooleanQuery::new(vec![
            (Occur::Should, text),
            (Occur::Should, ids),
        ])),
        None => ids,
    })
}

/// Any document whose u64 `field` holds one of `values`.
pub(crate) fn any_u64(field: Field, values: impl Iterator<Item = u64>) -> Box<dyn Query> {
    let clauses = values
        .map(|value| {
            let query: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_u64(field, value),
                IndexRecordOption::Basic,
            ));
            (Occur::Should, query)
        })
        .collect();
    Box::new(BooleanQuery::new(clauses))
}

/// Any document priced within one of `ranges`: its `currency` keyword is the range's
/// currency and its i64 `amount` lies within the bounds.
pub(crate) fn any_price(ranges: &[PriceRange], currency: Field, amount: Field) -> Box<dyn Query> {
    let clauses = ranges
        .iter()
        .map(|range| {
            let currency: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(currency, range.currency.as_str()),
                IndexRecordOption::Basic,
            ));
            // An unbounded range still requires an amount (tantivy refuses a range with no bound).
            let lower = Bound::Included(Term::from_field_i64(
                amount,
                range.min_minor.unwrap_or(i64::MIN),
            ));
            let upper = range.max_minor.map_or(Bound::Unbounded, |v| {
                Bound::Included(Term::from_field_i64(amount, v))
            });
            let within: Box<dyn Query> = Box::new(RangeQuery::new(lower, upper));
            let both: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                (Occur::Must, currency),
                (Occur::Must, within),
            ]));
            (Occur::Should, both)
        })
        .collect();
    Box::new(BooleanQuery::new(clauses))
}

/// `must` as one unscored query, `None` when it is empty (everything allowed).
pub(crate) fn all_of(must: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    if must.is_empty() {
        return None;
    }
    let clauses = must.into_iter().map(|q| (Occur::Must, q)).collect();
    Some(Box::new(ConstScoreQuery::new(
        Box::new(BooleanQuery::new(clauses)),
        0.0,
    )))
}

/// Any document whose keyword `field` holds one of `values` (compared as keywords).
pub(crate) fn any_keyword(field: Field, values: &[String]) -> Box<dyn Query> {
    let clauses = values
        .iter()
        .map(|value| {
            let query: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, &keyword(value)),
                IndexRecordOption::Basic,
            ));
            (Occur::Should, query)
        })
        .collect();
    Box::new(BooleanQuery::new(clauses))
}

fn is_true(field: Field) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_bool(field, true),
        IndexRecordOption::Basic,
    ))
}

/// The filters as one query matching the experts they allow, `None` when they allow all.
pub(crate) fn filter_query(filters: &ExpertFilters, f: &ExpertFields) -> Option<Box<dyn Query>> {
    let mut must: Vec<Box<dyn Query>> = Vec::new();
    for (field, values) in [
        (f.industry_kw, &filters.industries),
        (f.profession_kw, &filters.professions),
        (f.location_kw, &filters.locations),
        (f.skill_kw, &filters.skills),
        (f.tag_kw, &filters.specialty_tags),
    ] {
        if !values.is_empty() {
            must.push(any_keyword(field, values));
        }
    }
    if !filters.categories.is_empty() {
        must.push(any_u64(
            f.category_id,
            filters.categories.iter().map(|id| id.get()),
        ));
    }
    if !filters.prices.is_empty() {
        must.push(any_price(&filters.prices, f.currency, f.hourly_rate));
    }
    if let Some(min) = filters.min_rating {
        let lower = Bound::Included(Term::from_field_f64(f.rating, f64::from(min)));
        must.push(Box::new(RangeQuery::new(lower, Bound::Unbounded)));
    }
    if let Some(min) = filters.min_rating_count {
        let lower = Bound::Included(Term::from_field_u64(f.rating_count, u64::from(min)));
        must.push(Box::new(RangeQuery::new(lower, Bound::Unbounded)));
    }
    if filters.available_only {
        must.push(is_true(f.is_available));
    }
    if filters.bookable_only {
        must.push(is_true(f.is_bookable));
    }
    if filters.featured_only {
        must.push(is_true(f.is_featured));
    }
    all_of(must)
}

/// `text` (scored) restricted by `filter` (unscored); all documents when both are absent.
pub(crate) fn combine(
    text: Option<Box<dyn Query>>,
    filter: Option<Box<dyn Query>>,
) -> Box<dyn Query> {
    match (text, filter) {
        (Some(text), Some(filter)) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, text),
            (Occur::Must, filter),
        ])),
        (Some(text), None) => text,
        (None, Some(filter)) => filter,
        (None, None) => Box::new(AllQuery),
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{Schema, TEXT};

    use super::*;

    /// Regression: a 500-character query of unknown long words built a typo
    /// automaton for every word in every typo-tolerant field (~400).
    #[test]
    fn a_long_query_of_unknown_words_builds_few_typo_automata() {
        let mut schema = Schema::builder();
        let name = schema.add_text_field("name", TEXT);
        let bio = schema.add_text_field("bio", TEXT);
        let fields = [(name, 2.0, true), (bio, 1.0, true)];
        let words: Vec<String> = (0..60).map(|n| format!("unknownword{n:03}")).collect();
        let text = words.join(" ");
        let everything_unknown = |_: &str| true;
        let query = text_query(&text, &fields, Some(&everything_unknown)).expect("a query");
        let automata = format!("{query:?}").matches("FuzzyTermQuery").count();
        assert_eq!(automata, MAX_TYPO_WORDS * fields.len());
        let short = text_query("unknownword", &fields, Some(&everything_unknown)).expect("query");
        assert_eq!(format!("{short:?}").matches("FuzzyTermQuery").count(), 2);
    }
}

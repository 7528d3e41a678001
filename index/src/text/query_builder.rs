//! Turning a user's words and filters into tantivy queries: every analysed term is
//! looked up in every searched field with that field's boost and BM25 scoring (the
//! scores add up); words of five letters or more that the index does not know (a likely
//! typo) also match the terms it knows within one typo (nine or more: two), at a
//! quarter of the field's boost (`typos`). Filters never change scores.
//!
//! A term is not looked up in a typo-tolerant field that its typo dictionary says does
//! not hold it: such a clause would match nothing, yet weighing it (document
//! frequencies, a BM25 cache) and opening its postings in every segment was a sixth
//! of a search's time.

use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, Query, RangeQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::analyzer::{keyword, location_key, terms};
use super::expert_doc::{ExpertFilters, PriceRange};
use super::expert_schema::ExpertFields;
use super::typos::{TypoDictionaries, Typos};

/// Words at least this long (in characters) match with one typo.
const ONE_TYPO_FROM: usize = 5;
/// Words at least this long match with two typos.
const TWO_TYPOS_FROM: usize = 9;
/// The share of a field's boost a typo-tolerant match gets.
const TYPO_BOOST: f32 = 0.25;
/// The most words of one query that also match with typos: each runs a Levenshtein
/// automaton over every typo-tolerant field's terms, so a long query of unknown words
/// would otherwise cost hundreds of walks.
pub(crate) const MAX_TYPO_WORDS: usize = 8;

/// The BM25 query for `text` over `fields` (field, boost, typo tolerant), `None` when
/// the text has no searchable term. With `typos_in`, the words that no typo-tolerant
/// field of that searcher's index knows (a likely typo) also match its terms within
/// their typos; a known word is taken as spelled right.
pub(crate) fn text_query(
    text: &str,
    fields: &[(Field, f32, bool)],
    typos_in: Option<(&Searcher, &TypoDictionaries)>,
) -> Option<Box<dyn Query>> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut searchable = false;
    let mut typo_words = 0;
    let scored = |field: Field, term: &str, boost: f32| -> (Occur, Box<dyn Query>) {
        let query = TermQuery::new(
            Term::from_field_text(field, term),
            IndexRecordOption::WithFreqs,
        );
        (
            Occur::Should,
            Box::new(BoostQuery::new(Box::new(query), boost)),
        )
    };
    for (term, word_len) in terms(text) {
        if !seen.insert(term.clone()) {
            continue;
        }
        searchable = true;
        // The typo-tolerant fields holding the term.
        let holding = typos_in
            .map(|(searcher, dictionaries)| (dictionaries, dictionaries.holding(searcher, &term)));
        let absent_from = |field: Field| {
            holding.is_some_and(|(dictionaries, holding)| !dictionaries.may_hold(holding, field))
        };
        // The typo-tolerant fields' terms near the word, per field.
        let unknown = holding.is_some_and(|(_, holding)| holding.is_empty());
        let near = typos_in
            .filter(|_| typo_words < MAX_TYPO_WORDS && word_len >= ONE_TYPO_FROM && unknown)
            .map(|(searcher, dictionaries)| {
                typo_words += 1;
                let distance = if word_len >= TWO_TYPOS_FROM { 2 } else { 1 };
                let near = Typos::new(&term, distance).terms(searcher, dictionaries);
                (dictionaries, near)
            });
        for &(field, boost, fuzzy_field) in fields {
            if !absent_from(field) {
                clauses.push(scored(field, &term, boost));
            }
            let Some((dictionaries, near)) = near.as_ref().filter(|_| fuzzy_field) else {
                continue;
            };
            let field_near = dictionaries.position(field).and_then(|n| near.get(n));
            for near in field_near.into_iter().flatten() {
                clauses.push(scored(field, near, boost * TYPO_BOOST));
            }
        }
    }
    if !searchable {
        return None;
    }
    if clauses.is_empty() {
        // Words, none of which any field holds: they match nothing.
        return Some(Box::new(EmptyQuery));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// [`text_query`] tolerating typos in the words the index behind `searcher` does not
/// know (its typo-tolerant fields' terms in `dictionaries`).
pub(crate) fn typo_tolerant_query(
    searcher: &Searcher,
    dictionaries: &TypoDictionaries,
    text: &str,
    fields: &[(Field, f32, bool)],
) -> Option<Box<dyn Query>> {
    text_query(text, fields, Some((searcher, dictionaries)))
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
/// currency and its i64 `amount` lies within the bounds. Free documents hold an amount
/// of zero (content priced at zero, experts without a rate), so a range with no
/// minimum, or a minimum of zero, keeps them and a positive minimum leaves them out.
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
        (f.skill_kw, &filters.skills),
        (f.tag_kw, &filters.specialty_tags),
    ] {
        if !values.is_empty() {
            must.push(any_keyword(field, values));
        }
    }
    if !filters.locations.is_empty() {
        // A location holds its whole value and each comma-separated part as keywords.
        let keys: Vec<String> = filters.locations.iter().map(|v| location_key(v)).collect();
        must.push(any_keyword(f.location_kw, &keys));
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
    use tantivy::collector::{Count, TopDocs};
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, TantivyDocument};

    use super::*;

    /// A pseudo-random word of `len` consonants (no vowel, so the stemmer leaves it
    /// alone), far from the other `n`s' words.
    fn word(n: u64, len: usize) -> String {
        const LETTERS: &[u8] = b"bcdfghjklmnpqrtvwxz";
        let mut state = n.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                LETTERS[(state >> 33) as usize % LETTERS.len()] as char
            })
            .collect()
    }

    /// Regression: a 500-character query of unknown long words ran a typo automaton
    /// for every word in every typo-tolerant field (~400).
    #[test]
    fn a_long_query_of_unknown_words_runs_few_typo_automata() {
        let mut schema = Schema::builder();
        let name = schema.add_text_field("name", TEXT);
        let bio = schema.add_text_field("bio", TEXT);
        let index = Index::create_in_ram(schema.build());
        let words: Vec<String> = (0..60).map(|n| word(n, 12)).collect();
        // The index knows each word with one letter more: one typo away.
        let near = |w: &str| format!("{w}z");
        let mut writer = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        for w in &words {
            let mut doc = TantivyDocument::default();
            doc.add_text(name, near(w));
            doc.add_text(bio, near(w));
            writer.add_document(doc).expect("add");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let fields = [(name, 2.0, true), (bio, 1.0, true)];
        let dictionaries = TypoDictionaries::new(&fields);
        let typos_in = Some((&searcher, &dictionaries));

        let query = text_query(&words.join(" "), &fields, typos_in).expect("a query");
        let shown = format!("{query:?}");
        let matched: Vec<&String> = words
            .iter()
            .filter(|w| shown.contains(&format!("\"{}\"", near(w))))
            .collect();
        assert_eq!(
            matched,
            words.iter().take(MAX_TYPO_WORDS).collect::<Vec<_>>()
        );
        for w in &words[..MAX_TYPO_WORDS] {
            assert_eq!(
                shown.matches(&format!("\"{}\"", near(w))).count(),
                fields.len()
            );
        }
        assert!(
            !shown.contains("Fuzzy"),
            "typos are ordinary terms, not automaton queries"
        );

        let exact = text_query(&words.join(" "), &fields, None).expect("a query");
        assert!(
            !format!("{exact:?}").contains(&near(&words[0])),
            "no typos asked"
        );
        let known = text_query(&near(&words[0]), &fields, typos_in).expect("a query");
        assert_eq!(
            format!("{known:?}").matches("TermQuery").count(),
            fields.len(),
            "a known word is taken as spelled right"
        );
    }

    #[test]
    fn leaves_out_the_fields_that_do_not_hold_a_term() {
        let mut schema = Schema::builder();
        let name = schema.add_text_field("name", TEXT);
        let bio = schema.add_text_field("bio", TEXT);
        let notes = schema.add_text_field("notes", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        for (n, b, x) in [
            ("rust", "python rust", "golang"),
            ("python", "ocaml", "rust"),
            ("java", "java", "python golang"),
        ] {
            let mut doc = TantivyDocument::default();
            doc.add_text(name, n);
            doc.add_text(bio, b);
            doc.add_text(notes, x);
            writer.add_document(doc).expect("add");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        // `notes` is not typo tolerant: its dictionary knows nothing of it.
        let fields = [(name, 2.0, true), (bio, 1.0, true), (notes, 0.5, false)];
        let dictionaries = TypoDictionaries::new(&fields);
        let typos_in = Some((&searcher, &dictionaries));
        let clauses = |text: &str| {
            let query = text_query(text, &fields, typos_in).expect("a query");
            format!("{query:?}").matches("TermQuery").count()
        };

        assert_eq!(clauses("golang"), 1, "in notes only: notes alone");
        assert_eq!(
            clauses("ocaml"),
            2,
            "bio, and notes that no dictionary rules out"
        );
        assert_eq!(clauses("rust python"), 6);
        // Left-out clauses matched nothing: the same documents, the same scores.
        let top = TopDocs::with_limit(10).order_by_score();
        for text in ["golang", "ocaml", "rust python java golang"] {
            let pruned = text_query(text, &fields, typos_in).expect("a query");
            let whole = text_query(text, &fields, None).expect("a query");
            assert_eq!(
                searcher.search(&*pruned, &top).expect("search"),
                searcher.search(&*whole, &top).expect("search"),
                "{text}"
            );
        }
        // Words no field holds (too short to be typos) match nothing, unlike no words.
        let unknown = text_query("zzz qqq", &fields, typos_in).expect("words");
        assert_eq!(searcher.search(&*unknown, &Count).expect("count"), 0);
        assert!(
            text_query("the of", &fields, typos_in).is_none(),
            "stop words only"
        );
    }
}

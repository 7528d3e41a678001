//! The analyzer every text field uses: split on non-alphanumerics, drop very long
//! tokens, lowercase, fold accents to ASCII, drop English stop words, stem (English).

use std::collections::{HashMap, HashSet};

use tantivy::Index;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, TokenStream,
};

/// The analyzer's name in tantivy's tokenizer manager.
pub const ANALYZER: &str = "droply_en";

/// The analyzer's definition.
pub fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .dynamic();
    let builder = match StopWordFilter::new(Language::English) {
        Some(stop_words) => builder.filter_dynamic(stop_words),
        None => builder,
    };
    builder
        .filter_dynamic(Stemmer::new(Language::English))
        .build()
}

/// Registers the analyzer with `index` (needed on every open).
pub fn register(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

thread_local! {
    /// One analyzer per thread: building one (stop-word set, stemmer) costs more than
    /// analysing a query.
    static ANALYZER_CACHE: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(analyzer());
}

/// The analysed terms of `text`, each with the length of the word it came from (in
/// characters), in order.
pub fn terms(text: &str) -> Vec<(String, usize)> {
    ANALYZER_CACHE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut analyzer) => terms_with(&mut analyzer, text),
        Err(_) => terms_with(&mut analyzer(), text),
    })
}

fn terms_with(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize)> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let token = stream.token();
        let original = text
            .get(token.offset_from..token.offset_to)
            .map_or(0, |w| w.chars().count());
        out.push((token.text.clone(), original));
    }
    out
}

/// Values this long or longer are analysed on every call rather than remembered.
const REMEMBERED_VALUE_BYTES: usize = 96;

/// How many short values each thread remembers the terms of; a full memory starts over.
const REMEMBERED_VALUES: usize = 2048;

thread_local! {
    /// The terms of short values, by value: see [`value_has_term`].
    static VALUE_TERMS: std::cell::RefCell<HashMap<Box<str>, Box<[String]>>> =
        std::cell::RefCell::new(HashMap::new());
}

/// Whether any analysed term of `value` is in `wanted`. Meant for short values drawn
/// from a small vocabulary (skills, tags, professions, places), whose terms each
/// thread remembers: the ranker asks this of every hit's values on every page, and
/// stemming the same few hundred values again was 7.7% of a loaded server's time.
pub fn value_has_term(value: &str, wanted: &HashSet<String>) -> bool {
    // A query has a few terms: comparing each is cheaper than hashing.
    let any_wanted = |terms: &[String]| {
        terms
            .iter()
            .any(|term| wanted.iter().any(|want| want == term))
    };
    let analysed = || -> Box<[String]> { terms(value).into_iter().map(|(term, _)| term).collect() };
    if value.len() >= REMEMBERED_VALUE_BYTES {
        return any_wanted(&analysed());
    }
    VALUE_TERMS.with(|cell| {
        let Ok(mut remembered) = cell.try_borrow_mut() else {
            return any_wanted(&analysed());
        };
        if let Some(terms) = remembered.get(value) {
            return any_wanted(terms);
        }
        let terms = analysed();
        let found = any_wanted(&terms);
        if remembered.len() >= REMEMBERED_VALUES {
            remembered.clear();
        }
        remembered.insert(value.into(), terms);
        found
    })
}

/// Lowercased, trimmed keyword form used by exact-match filter fields.
pub fn keyword(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A location's comma-separated parts in keyword form, empty ones left out.
fn location_parts(text: &str) -> impl Iterator<Item = String> {
    text.split(',').map(keyword).filter(|part| !part.is_empty())
}

/// The keyword form a location filter value is looked up by: its comma-separated
/// parts, each trimmed and lowercased, joined with `", "` (`"Berlin ,Germany"` is
/// `"berlin, germany"`).
pub(crate) fn location_key(text: &str) -> String {
    location_parts(text).collect::<Vec<_>>().join(", ")
}

/// Every keyword a location is found under: the whole value ([`location_key`]) and
/// each of its comma-separated parts, so that `Berlin`, `Germany` and
/// `Berlin, Germany` all find "Berlin, Germany" (a part matches whole: `Berl` and
/// `York` find nothing). None for a blank location.
pub(crate) fn location_keys(text: &str) -> Vec<String> {
    let mut keys = vec![location_key(text)];
    for part in location_parts(text) {
        if !keys.contains(&part) {
            keys.push(part);
        }
    }
    keys.retain(|key| !key.is_empty());
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_found_under_its_whole_value_and_each_comma_part() {
        assert_eq!(
            location_keys(" Berlin ,  Germany "),
            vec!["berlin, germany", "berlin", "germany"]
        );
        assert_eq!(location_keys("New York"), vec!["new york"]);
        assert_eq!(location_keys("Paris, Paris"), vec!["paris, paris", "paris"]);
        assert_eq!(location_keys(" , "), Vec::<String>::new());
        assert_eq!(location_key("BERLIN,germany"), "berlin, germany");
        assert_eq!(location_key(" Berlin "), "berlin");
    }

    #[test]
    fn finds_wanted_terms_in_values_remembered_or_not() {
        let wanted: HashSet<String> = terms("consulting in Zürich")
            .into_iter()
            .map(|(term, _)| term)
            .collect();
        let long = format!("{} consultants", "word ".repeat(30));
        assert!(long.len() >= REMEMBERED_VALUE_BYTES);
        // Twice each: analysed, then remembered (or analysed again when long).
        for _ in 0..2 {
            assert!(value_has_term("Management Consultant", &wanted));
            assert!(value_has_term("ZURICH", &wanted));
            assert!(!value_has_term("Rust", &wanted));
            assert!(!value_has_term("", &wanted));
            assert!(value_has_term(&long, &wanted));
        }
        assert!(!value_has_term("Management Consultant", &HashSet::new()));
        // A full memory starts over and still answers.
        for i in 0..=REMEMBERED_VALUES {
            assert!(!value_has_term(&format!("skill{i}"), &wanted));
        }
        VALUE_TERMS.with(|cell| assert!(cell.borrow().len() <= REMEMBERED_VALUES));
        assert!(value_has_term("Management Consultant", &wanted));
    }

    #[test]
    fn stems_lowercases_and_drops_stop_words() {
        let terms: Vec<String> = terms("The Consultants of Zürich")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(terms, vec!["consult", "zurich"]);
    }
}

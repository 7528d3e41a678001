//! The analyzer every text field uses: split on non-alphanumerics, drop very long
//! tokens, lowercase, fold accents to ASCII, drop English stop words, stem (English).

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

/// Lowercased, trimmed keyword form used by exact-match filter fields.
pub fn keyword(text: &str) -> String {
    text.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_lowercases_and_drops_stop_words() {
        let terms: Vec<String> = terms("The Consultants of Zürich")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(terms, vec!["consult", "zurich"]);
    }
}

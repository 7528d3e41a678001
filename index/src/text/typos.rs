//! Typo tolerance: the terms an index knows within one or two typos of a word it does
//! not know. One Levenshtein automaton is built per word (transpositions count as one
//! typo) and run over the term dictionary of each typo-tolerant field in each segment;
//! the nearest terms, then the most common, are kept (at most [`MAX_TYPO_TERMS`] per
//! field) and searched as ordinary terms.
//!
//! Ordinary terms keep a query a union of term scorers, which tantivy scores with a
//! specialised loop; an automaton query in the union (tantivy's `FuzzyTermQuery`) made
//! every clause a dynamic scorer and cost several times the query's other terms.

use std::collections::HashMap;
use std::sync::OnceLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::Searcher;
use tantivy::schema::Field;

/// The most terms one misspelt word matches in one field: the nearest, then the most
/// common. A short word of common letters can be near hundreds.
pub(crate) const MAX_TYPO_TERMS: usize = 16;

/// A word's automaton: accepts the terms within its typos.
pub(crate) struct Typos(DFA);

impl Typos {
    /// The automaton of `term` accepting up to `distance` typos (1 or 2).
    pub(crate) fn new(term: &str, distance: u8) -> Self {
        static ONE: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
        static TWO: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
        let builder = match distance {
            0 | 1 => ONE.get_or_init(|| LevenshteinAutomatonBuilder::new(1, true)),
            _ => TWO.get_or_init(|| LevenshteinAutomatonBuilder::new(2, true)),
        };
        Typos(builder.build_dfa(term))
    }

    /// The terms of `field` in any segment of `searcher` this automaton accepts, the
    /// nearest first, then the most common, at most [`MAX_TYPO_TERMS`].
    pub(crate) fn terms(&self, searcher: &Searcher, field: Field) -> Vec<String> {
        // Each term with its typos and its documents over all segments.
        let mut found: HashMap<String, (u8, u64)> = HashMap::new();
        for segment in searcher.segment_readers() {
            let Ok(index) = segment.inverted_index(field) else {
                continue;
            };
            let Ok(mut stream) = index.terms().search(self).into_stream() else {
                continue;
            };
            while let Some((key, info)) = stream.next() {
                let (Ok(term), Distance::Exact(typos)) =
                    (std::str::from_utf8(key), self.0.eval(key))
                else {
                    continue;
                };
                let entry = found.entry(term.to_owned()).or_insert((typos, 0));
                entry.1 += u64::from(info.doc_freq);
            }
        }
        let mut terms: Vec<(String, (u8, u64))> = found.into_iter().collect();
        terms.sort_by(|(a, (a_typos, a_docs)), (b, (b_typos, b_docs))| {
            (a_typos, b_docs, a).cmp(&(b_typos, a_docs, b))
        });
        terms.truncate(MAX_TYPO_TERMS);
        terms.into_iter().map(|(term, _)| term).collect()
    }
}

impl tantivy_fst::Automaton for Typos {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, TantivyDocument};

    use super::*;

    #[test]
    fn keeps_the_nearest_terms_then_the_most_common() {
        let mut schema = Schema::builder();
        let bio = schema.add_text_field("bio", TEXT);
        let other = schema.add_text_field("other", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        let add = |writer: &tantivy::IndexWriter, text: &str, times: usize| {
            for _ in 0..times {
                let mut doc = TantivyDocument::default();
                doc.add_text(bio, text);
                writer.add_document(doc).expect("add");
            }
        };
        // One typo away, in one document.
        add(&writer, "photographer", 1);
        // Two typos away, each in more documents the later its letter.
        let letters = "bcdfghjklmnpqrstvwxz";
        for (i, letter) in letters.chars().enumerate() {
            add(&writer, &format!("photograph{letter}{letter}"), i + 1);
        }
        // Three typos away: never.
        add(&writer, "photogrzzzzz", 50);
        writer.commit().expect("commit");
        // A second segment repeats a term: it is one term, its documents added up.
        add(&writer, "photographbb", 30);
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 2);

        let terms = Typos::new("photographe", 2).terms(&searcher, bio);
        assert_eq!(terms.len(), MAX_TYPO_TERMS);
        assert_eq!(terms[0], "photographer", "the nearest first");
        assert_eq!(
            terms[1], "photographbb",
            "1 + 30 documents, the most common"
        );
        let by_count: Vec<String> = letters
            .chars()
            .rev()
            .map(|l| format!("photograph{l}{l}"))
            .filter(|t| t != "photographbb")
            .take(MAX_TYPO_TERMS - 2)
            .collect();
        assert_eq!(terms[2..], by_count[..]);
        assert!(!terms.iter().any(|t| t.starts_with("photogrz")));

        assert_eq!(
            Typos::new("photographe", 1).terms(&searcher, bio),
            ["photographer"],
            "one typo allowed"
        );
        assert!(
            Typos::new("photographe", 2)
                .terms(&searcher, other)
                .is_empty()
        );
    }
}

//! Typo tolerance: the terms an index knows within one or two typos of a word it does
//! not know. One Levenshtein automaton is built per word (transpositions count as one
//! typo) and run once per segment over that segment's typo dictionary, every term of
//! its typo-tolerant fields with the fields holding it ([`TypoDictionaries`]); each
//! field's nearest terms, then its most common, are kept (at most [`MAX_TYPO_TERMS`]
//! per field) and searched as ordinary terms.
//!
//! Ordinary terms keep a query a union of term scorers, which tantivy scores with a
//! specialised loop; an automaton query in the union (tantivy's `FuzzyTermQuery`) made
//! every clause a dynamic scorer and cost several times the query's other terms. One
//! walk over a segment's dictionary, rather than one per field, keeps a misspelt word
//! from costing a walk per field (the fields share most of their words).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::index::SegmentId;
use tantivy::schema::Field;
use tantivy::{Searcher, SegmentReader};
use tantivy_fst::{IntoStreamer, Map, Streamer};

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

    /// The terms this automaton accepts in each typo-tolerant field of `dictionaries`
    /// (in their order), over every segment of `searcher`: the nearest first, then the
    /// most common, at most [`MAX_TYPO_TERMS`] per field.
    pub(crate) fn terms(
        &self,
        searcher: &Searcher,
        dictionaries: &TypoDictionaries,
    ) -> Vec<Vec<String>> {
        // Per field, each term with its typos and its documents over all segments.
        let mut found: Vec<HashMap<String, (u8, u64)>> =
            vec![HashMap::new(); dictionaries.fields.len()];
        for segment in searcher.segment_readers() {
            let Ok(dictionary) = dictionaries.of(segment) else {
                continue;
            };
            let mut stream = dictionary.search(self).into_stream();
            while let Some((key, held_by)) = stream.next() {
                let (Ok(term), Distance::Exact(typos)) =
                    (std::str::from_utf8(key), self.0.eval(key))
                else {
                    continue;
                };
                for (n, field) in dictionaries.fields.iter().enumerate() {
                    if held_by & (1 << n) == 0 {
                        continue;
                    }
                    let Some(docs) = doc_freq(segment, *field, key) else {
                        continue;
                    };
                    let entry = found[n].entry(term.to_owned()).or_insert((typos, 0));
                    entry.1 += u64::from(docs);
                }
            }
        }
        found.into_iter().map(nearest_then_most_common).collect()
    }
}

/// The documents of `segment` whose `field` holds `term`.
fn doc_freq(segment: &SegmentReader, field: Field, term: &[u8]) -> Option<u32> {
    let index = segment.inverted_index(field).ok()?;
    let info = index.terms().get(term).ok()??;
    Some(info.doc_freq)
}

/// The nearest terms, then the most common, at most [`MAX_TYPO_TERMS`].
fn nearest_then_most_common(found: HashMap<String, (u8, u64)>) -> Vec<String> {
    let mut terms: Vec<(String, (u8, u64))> = found.into_iter().collect();
    terms.sort_by(|(a, (a_typos, a_docs)), (b, (b_typos, b_docs))| {
        (a_typos, b_docs, a).cmp(&(b_typos, a_docs, b))
    });
    terms.truncate(MAX_TYPO_TERMS);
    terms.into_iter().map(|(term, _)| term).collect()
}

/// The typo-tolerant fields holding a term, as bits (bit `n` for the `n`th field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldSet(u64);

impl FieldSet {
    /// Whether no typo-tolerant field holds the term: the index does not know it.
    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A segment's typo dictionary: every term of the typo-tolerant fields, its value the
/// fields holding it (bit `n` for the `n`th field).
type Dictionary = Arc<Map<Vec<u8>>>;

/// The typo dictionary of each searched segment of one index, built once per segment
/// (segments never change) and dropped with it by [`TypoDictionaries::refresh`].
pub(crate) struct TypoDictionaries {
    /// The typo-tolerant fields, at most 64.
    fields: Vec<Field>,
    segments: Mutex<HashMap<SegmentId, Dictionary>>,
}

impl TypoDictionaries {
    /// Dictionaries over the typo-tolerant fields of `searched` (field, boost, typo
    /// tolerant).
    pub(crate) fn new(searched: &[(Field, f32, bool)]) -> Self {
        let fields: Vec<Field> = searched
            .iter()
            .filter(|(_, _, fuzzy)| *fuzzy)
            .map(|(field, _, _)| *field)
            .collect();
        assert!(
            fields.len() <= 64,
            "a typo dictionary marks at most 64 fields"
        );
        TypoDictionaries {
            fields,
            segments: Mutex::default(),
        }
    }

    /// The position of `field` among the typo-tolerant fields.
    pub(crate) fn position(&self, field: Field) -> Option<usize> {
        self.fields.iter().position(|f| *f == field)
    }

    /// The typo-tolerant fields holding `term` in any segment of `searcher`; all of
    /// them when a segment's dictionary cannot be read (nothing is ruled out then).
    pub(crate) fn holding(&self, searcher: &Searcher, term: &str) -> FieldSet {
        let mut fields = 0;
        for segment in searcher.segment_readers() {
            match self.of(segment) {
                Ok(dictionary) => fields |= dictionary.get(term).unwrap_or(0),
                Err(_) => return FieldSet(u64::MAX),
            }
        }
        FieldSet(fields)
    }

    /// Whether `field` may hold a term that the typo-tolerant fields in `holding` hold:
    /// false only for a typo-tolerant field not among them.
    pub(crate) fn may_hold(&self, holding: FieldSet, field: Field) -> bool {
        self.position(field)
            .is_none_or(|n| holding.0 & (1 << n) != 0)
    }

    /// Builds the dictionaries of `segments` not built yet and drops those of the
    /// segments merged away, so that searches find them ready.
    pub(crate) fn refresh(&self, segments: &[SegmentReader]) -> tantivy::Result<()> {
        let live: HashSet<SegmentId> = segments.iter().map(SegmentReader::segment_id).collect();
        self.lock().retain(|segment, _| live.contains(segment));
        for segment in segments {
            self.of(segment)?;
        }
        Ok(())
    }

    /// [`TypoDictionaries::refresh`] after a commit of the `index` index: the commit
    /// stands if a dictionary cannot be built (a search builds it when it needs it).
    pub(crate) fn refresh_after_commit(&self, segments: &[SegmentReader], index: &str) {
        if let Err(err) = self.refresh(segments) {
            tracing::warn!(%err, index, "could not build a typo dictionary");
        }
    }

    /// The dictionary of `segment`, built on first use.
    fn of(&self, segment: &SegmentReader) -> tantivy::Result<Dictionary> {
        if let Some(dictionary) = self.lock().get(&segment.segment_id()) {
            return Ok(Arc::clone(dictionary));
        }
        // Built outside the lock: a search of another segment does not wait for it.
        let dictionary = Arc::new(self.build(segment)?);
        self.lock()
            .insert(segment.segment_id(), Arc::clone(&dictionary));
        Ok(dictionary)
    }

    fn build(&self, segment: &SegmentReader) -> tantivy::Result<Map<Vec<u8>>> {
        let mut terms: Vec<(Vec<u8>, u64)> = Vec::new();
        for (n, field) in self.fields.iter().enumerate() {
            let index = segment.inverted_index(*field)?;
            let mut stream = index.terms().stream()?;
            while stream.advance() {
                terms.push((stream.key().to_vec(), 1 << n));
            }
        }
        terms.sort_unstable();
        let mut merged: Vec<(Vec<u8>, u64)> = Vec::with_capacity(terms.len());
        for (term, field) in terms {
            match merged.last_mut() {
                Some((last, fields)) if *last == term => *fields |= field,
                _ => merged.push((term, field)),
            }
        }
        Map::from_iter(merged)
            .map_err(|err| tantivy::TantivyError::InternalError(format!("typo dictionary: {err}")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Dictionary>> {
        self.segments.lock().unwrap_or_else(PoisonError::into_inner)
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
        // In the other field only, one typo away.
        let mut doc = TantivyDocument::default();
        doc.add_text(other, "photographex");
        writer.add_document(doc).expect("add");
        writer.commit().expect("commit");
        // A second segment repeats a term: it is one term, its documents added up.
        add(&writer, "photographbb", 30);
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let fields = [(bio, 1.0, true), (other, 1.0, true)];
        let dictionaries = TypoDictionaries::new(&fields);

        let [terms, in_other]: [Vec<String>; 2] = Typos::new("photographe", 2)
            .terms(&searcher, &dictionaries)
            .try_into()
            .expect("one list per field");
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
        assert_eq!(in_other, ["photographex"], "each field its own terms");

        assert_eq!(
            Typos::new("photographe", 1).terms(&searcher, &dictionaries),
            [vec!["photographer"], vec!["photographex"]],
            "one typo allowed"
        );
        let in_other = dictionaries.holding(&searcher, "photographex");
        assert!(!dictionaries.may_hold(in_other, bio) && dictionaries.may_hold(in_other, other));
        let in_bio = dictionaries.holding(&searcher, "photographer");
        assert!(dictionaries.may_hold(in_bio, bio) && !dictionaries.may_hold(in_bio, other));
        let second_segment = dictionaries.holding(&searcher, "photographbb");
        assert!(!second_segment.is_empty() && dictionaries.may_hold(second_segment, bio));
        let unknown = dictionaries.holding(&searcher, "photographe");
        assert!(unknown.is_empty() && !dictionaries.may_hold(unknown, bio));
        let only_bio = TypoDictionaries::new(&[(bio, 1.0, true), (other, 1.0, false)]);
        let in_other = only_bio.holding(&searcher, "photographex");
        assert!(in_other.is_empty(), "not typo tolerant");
        assert!(
            only_bio.may_hold(in_other, other),
            "a field it does not mark may"
        );
        assert_eq!(only_bio.position(other), None);
    }
}

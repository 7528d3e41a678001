//! [`FilterCache`]: the documents each recent filter allows in each segment, kept as a
//! bit set, as Lucene's query cache keeps them. People narrow searches by a few
//! filters over and over (an industry, available experts), so a filter's postings are
//! intersected once per segment rather than once per request, and the request's
//! passes (the words, the vector candidates) read the set.
//!
//! A segment never changes, so its set stays right for as long as the segment is
//! searched; deleted documents stay in it, as the collectors skip them. Sets of
//! merged-away segments are dropped by [`FilterCache::retain`], and the least recently
//! used go past [`MAX_SETS`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::query::{
    BitSetDocSet, ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::{BitSet, DocId, Score, SegmentReader, TantivyError};

/// The most (segment, filter) sets kept: 12.5 KB each for 100,000 documents.
const MAX_SETS: usize = 512;

/// A filter's key: its query, as `Debug` prints it (every term and bound).
type FilterKey = Arc<str>;

#[derive(Default)]
struct Sets {
    sets: HashMap<(SegmentId, FilterKey), (Arc<BitSet>, u64)>,
    /// Ticks at every use, for the least recently used.
    clock: u64,
}

/// The allowed documents of recent filters, per segment (see the module docs).
#[derive(Default)]
pub(crate) struct FilterCache {
    sets: Mutex<Sets>,
}

impl FilterCache {
    /// `filter`, answered from this cache.
    pub(crate) fn cached(self: &Arc<Self>, filter: Box<dyn Query>) -> Box<dyn Query> {
        Box::new(CachedFilter {
            key: Arc::from(format!("{filter:?}")),
            filter,
            cache: Arc::clone(self),
        })
    }

    /// Drops the sets of segments other than `segments` (those merged away).
    pub(crate) fn retain(&self, segments: &[SegmentReader]) {
        let live: HashSet<SegmentId> = segments.iter().map(SegmentReader::segment_id).collect();
        self.lock()
            .sets
            .retain(|(segment, _), _| live.contains(segment));
    }

    /// The documents of `segment` that `weight` (the filter of `key`) matches.
    fn allowed(
        &self,
        key: &FilterKey,
        segment: &SegmentReader,
        weight: &dyn Weight,
    ) -> tantivy::Result<Arc<BitSet>> {
        let entry = (segment.segment_id(), Arc::clone(key));
        {
            let mut sets = self.lock();
            sets.clock += 1;
            let now = sets.clock;
            if let Some((set, used)) = sets.sets.get_mut(&entry) {
                *used = now;
                return Ok(Arc::clone(set));
            }
        }
        // Gathered outside the lock: other searches do not wait for it.
        let mut docs = BitSet::with_max_value(segment.max_doc());
        weight.for_each_no_score(segment, &mut |batch| {
            for &doc in batch {
                docs.insert(doc);
            }
        })?;
        let docs = Arc::new(docs);
        let mut sets = self.lock();
        if sets.sets.len() >= MAX_SETS {
            let oldest = sets
                .sets
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(entry, _)| entry.clone());
            if let Some(oldest) = oldest {
                sets.sets.remove(&oldest);
            }
        }
        let now = sets.clock;
        sets.sets.insert(entry, (Arc::clone(&docs), now));
        Ok(docs)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sets> {
        self.sets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().sets.len()
    }
}

/// A filter (unscored) whose documents come from a [`FilterCache`].
struct CachedFilter {
    key: FilterKey,
    filter: Box<dyn Query>,
    cache: Arc<FilterCache>,
}

impl Clone for CachedFilter {
    fn clone(&self) -> Self {
        CachedFilter {
            key: Arc::clone(&self.key),
            filter: self.filter.box_clone(),
            cache: Arc::clone(&self.cache),
        }
    }
}

impl std::fmt::Debug for CachedFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cached({})", self.key)
    }
}

impl Query for CachedFilter {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let unscored = match scoring.searcher() {
            Some(searcher) => EnableScoring::disabled_from_searcher(searcher),
            None => EnableScoring::disabled_from_schema(scoring.schema()),
        };
        Ok(Box::new(CachedFilterWeight {
            key: Arc::clone(&self.key),
            weight: self.filter.weight(unscored)?,
            cache: Arc::clone(&self.cache),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a tantivy::Term, bool)) {
        self.filter.query_terms(visitor);
    }
}

struct CachedFilterWeight {
    key: FilterKey,
    weight: Box<dyn Weight>,
    cache: Arc<FilterCache>,
}

impl Weight for CachedFilterWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let allowed = self.cache.allowed(&self.key, reader, &*self.weight)?;
        let docs = BitSetDocSet::from(BitSet::clone(&allowed));
        Ok(Box::new(ConstScorer::new(docs, 0.0)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if !self
            .cache
            .allowed(&self.key, reader, &*self.weight)?
            .contains(doc)
        {
            return Err(TantivyError::InvalidArgument(format!(
                "Document #({doc}) does not match"
            )));
        }
        Ok(Explanation::new("allowed by the filter", 0.0))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use tantivy::collector::{Count, DocSetCollector, TopDocs};
    use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, TermQuery};
    use tantivy::schema::{INDEXED, IndexRecordOption, Schema, TEXT};
    use tantivy::{DocAddress, Index, IndexWriter, Searcher, TantivyDocument, Term};

    use super::*;

    fn term_query(term: Term) -> Box<dyn Query> {
        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
    }

    fn both(a: Box<dyn Query>, b: Box<dyn Query>) -> Box<dyn Query> {
        Box::new(BooleanQuery::new(vec![(Occur::Must, a), (Occur::Must, b)]))
    }

    #[test]
    fn answers_as_the_filter_does_and_forgets_merged_segments() {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let group = schema.add_u64_field("group", INDEXED);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        let words = ["alpha", "beta", "alpha beta", "gamma"];
        let add = |writer: &IndexWriter, n: u64| {
            let mut doc = TantivyDocument::default();
            doc.add_text(body, words[n as usize % words.len()]);
            doc.add_u64(group, n % 3);
            writer.add_document(doc).expect("add");
        };
        for n in 0..300 {
            add(&writer, n);
        }
        writer.commit().expect("first segment");
        for n in 300..600 {
            add(&writer, n);
        }
        writer.delete_term(Term::from_field_u64(group, 2));
        writer.commit().expect("second segment");
        let reader = index.reader().expect("reader");
        let searcher: Searcher = reader.searcher();

        let filter: Box<dyn Query> = Box::new(ConstScoreQuery::new(
            term_query(Term::from_field_u64(group, 1)),
            0.0,
        ));
        let cache = Arc::new(FilterCache::default());
        let cached = cache.cached(filter.box_clone());
        let words = term_query(Term::from_field_text(body, "alpha"));
        let plain = both(words.box_clone(), filter.box_clone());
        let through_cache = both(words.box_clone(), cached.box_clone());
        for _ in 0..2 {
            // The second time from the cache: the same documents and scores.
            let top = TopDocs::with_limit(1_000).order_by_score();
            let theirs: Vec<(Score, DocAddress)> = searcher.search(&*plain, &top).expect("plain");
            let ours: Vec<(Score, DocAddress)> =
                searcher.search(&*through_cache, &top).expect("cached");
            assert_eq!(ours, theirs);
            assert_eq!(ours.len(), 100, "alpha in half, group 1 in a third of 600");
            let set = |q: &dyn Query| -> HashSet<DocAddress> {
                searcher.search(q, &DocSetCollector).expect("docs")
            };
            assert_eq!(set(&*cached), set(&*filter));
            assert_eq!(
                searcher.search(&*cached, &Count).expect("count"),
                200,
                "deleted documents are not counted"
            );
        }
        assert_eq!(cache.len(), 2, "one set per segment");
        let allowed = searcher.search(&*cached, &DocSetCollector).expect("docs");
        let excluded = DocAddress::new(0, 0);
        assert!(!allowed.contains(&excluded));
        assert!(cached.explain(&searcher, excluded).is_err());
        let kept = *allowed.iter().next().expect("an allowed document");
        assert_eq!(
            cached.explain(&searcher, kept).expect("explained").value(),
            0.0
        );

        // Another filter has sets of its own.
        let other = cache.cached(Box::new(ConstScoreQuery::new(
            term_query(Term::from_field_u64(group, 0)),
            0.0,
        )));
        assert_eq!(searcher.search(&*other, &Count).expect("count"), 200);
        assert_eq!(cache.len(), 4);

        writer.wait_merging_threads().expect("merged");
        let mut writer: IndexWriter = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        let segments = index.searchable_segment_ids().expect("segments");
        writer.merge(&segments).wait().expect("merge");
        writer.commit().expect("commit");
        reader.reload().expect("reload");
        let searcher = reader.searcher();
        cache.retain(searcher.segment_readers());
        assert_eq!(cache.len(), 0, "the merged-away segments' sets are gone");
        assert_eq!(searcher.search(&*cached, &Count).expect("count"), 200);
        assert_eq!(cache.len(), 1);
    }
}

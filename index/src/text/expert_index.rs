//! [`ExpertTextIndex`]: experts' profiles in tantivy, searched with BM25 over boosted
//! fields and filtered on fast fields. One writer (the indexer) upserts, removes and
//! commits with a sequence number; any number of readers search the last commit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use droply_models::UserId;
use tantivy::collector::TopDocs;
use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::analyzer::{self, keyword, location_keys};
use super::counted_search::CountedSearch;
use super::expert_doc::{ExpertDoc, ExpertFilters};
use super::expert_schema::{EXPERT_SCHEMA_VERSION, ExpertFields, expert_schema, searched_fields};
use super::facet_tables::FacetTables;
use super::facets::{FacetCollector, FacetCounts, FacetField, OpenFacets};
use super::filter_cache::FilterCache;
use super::index_files::{commit_with_seq, create_in_dir, open_in_dir, versioned_entries};
use super::query_builder::{combine, filter_query, typo_tolerant_query};
use super::search_hits::{IdCollector, hits_with_ids};
use super::typos::TypoDictionaries;
use crate::{Error, ExternalId, Result};

/// Memory the writer buffers before flushing a segment.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// The expert text index.
pub struct ExpertTextIndex {
    dir: PathBuf,
    fields: ExpertFields,
    searched: Vec<(Field, f32, bool)>,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    committed_seq: AtomicU64,
    /// Each searched segment's facet values, read once.
    facet_tables: Arc<FacetTables>,
    /// Each searched segment's terms of the typo-tolerant fields, for typo tolerance.
    typo_dictionaries: TypoDictionaries,
    /// The experts recent filters allow, per segment.
    filter_cache: Arc<FilterCache>,
}

impl std::fmt::Debug for ExpertTextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpertTextIndex")
            .field("dir", &self.dir)
            .finish()
    }
}

impl ExpertTextIndex {
    /// Creates an empty index in `dir`, replacing whatever was there.
    pub fn create(dir: &Path) -> Result<Self> {
        let (schema, _) = expert_schema();
        let index = create_in_dir(dir, schema)?;
        let text = Self::assemble(dir, index, 0)?;
        text.commit(0)?;
        Ok(text)
    }

    /// Opens the index in `dir`. A missing or damaged index, or one of another schema
    /// version, is an [`Error::IndexCorrupt`].
    pub fn open(dir: &Path) -> Result<Self> {
        let corrupt = |reason: String| Error::IndexCorrupt {
            path: dir.to_owned(),
            reason,
        };
        let (schema, _) = expert_schema();
        let (index, seq) = open_in_dir(dir, &schema, EXPERT_SCHEMA_VERSION)?;
        let text = Self::assemble(dir, index, seq).map_err(|err| corrupt(err.to_string()))?;
        // Reading every segment's id column catches damaged segment files now, not mid-search.
        text.entries().map_err(|err| corrupt(err.to_string()))?;
        // Read now, so that the first searches after a restart find them ready.
        text.typo_dictionaries
            .refresh(text.reader.searcher().segment_readers())
            .map_err(|err| corrupt(err.to_string()))?;
        Ok(text)
    }

    fn assemble(dir: &Path, index: Index, seq: u64) -> Result<Self> {
        analyzer::register(&index);
        let (_, fields) = expert_schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let searched = searched_fields(&fields);
        Ok(ExpertTextIndex {
            dir: dir.to_owned(),
            typo_dictionaries: TypoDictionaries::new(&searched),
            searched,
            fields,
            reader,
            writer: Mutex::new(writer),
            committed_seq: AtomicU64::new(seq),
            facet_tables: Arc::default(),
            filter_cache: Arc::default(),
        })
    }

    /// Where the index lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sequence number of the last commit.
    pub fn committed_seq(&self) -> u64 {
        self.committed_seq.load(Ordering::SeqCst)
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn document(&self, doc: &ExpertDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, doc.id.to_raw());
        d.add_u64(f.version, doc.version);
        d.add_text(f.name, &doc.name);
        d.add_text(f.profession, &doc.profession);
        d.add_text(f.bio, &doc.bio);
        for (field, skill) in f.skill.iter().zip(&doc.ranked_skills) {
            d.add_text(*field, skill);
            if !skill.trim().is_empty() {
                d.add_text(f.skill_kw, keyword(skill));
                d.add_text(f.skill_facet, skill.trim());
            }
        }
        d.add_text(f.skills_text, &doc.skills_text);
        for tag in &doc.specialty_tags {
            d.add_text(f.tags, tag);
            d.add_text(f.tag_kw, keyword(tag));
            d.add_text(f.tag_facet, tag.trim());
        }
        d.add_text(f.industry, &doc.industry);
        d.add_text(f.location, &doc.location);
        d.add_text(f.service, &doc.service_description);
        d.add_text(f.content, &doc.content_description);
        for name in &doc.category_names {
            d.add_text(f.categories, name);
        }
        for id in &doc.category_ids {
            d.add_u64(f.category_id, id.get());
        }
        d.add_text(f.industry_kw, keyword(&doc.industry));
        d.add_text(f.profession_kw, keyword(&doc.profession));
        // Found by its whole value and by each comma-separated part ("Berlin, Germany"
        // by `Berlin` and `Germany`); the facet counts whole values.
        for key in location_keys(&doc.location) {
            d.add_text(f.location_kw, key);
        }
        for (field, value) in [
            (f.industry_facet, &doc.industry),
            (f.profession_facet, &doc.profession),
            (f.location_facet, &doc.location),
        ] {
            if !value.trim().is_empty() {
                d.add_text(field, value.trim());
            }
        }
        if let Some(currency) = doc.currency {
            d.add_text(f.currency, currency.as_str());
        }
        // A free expert (no rate) is priced at zero, as free content is: inside every
        // price range that admits zero, outside one with a positive minimum.
        d.add_i64(f.hourly_rate, doc.hourly_rate_minor.unwrap_or(0));
        d.add_f64(f.rating, doc.rating.map_or(0.0, f64::from));
        d.add_u64(f.rating_count, u64::from(doc.rating_count));
        d.add_bool(f.is_available, doc.is_available);
        d.add_bool(f.is_bookable, doc.is_bookable);
        d.add_bool(f.is_featured, doc.is_featured);
        d
    }

    /// Adds or replaces documents (visible after the next commit).
    pub fn upsert(&self, docs: &[ExpertDoc]) -> Result<()> {
        let writer = self.lock_writer();
        for doc in docs {
            writer.delete_term(Term::from_field_u64(self.fields.id, doc.id.to_raw()));
            writer.add_document(self.document(doc))?;
        }
        Ok(())
    }

    /// Removes documents (absent ids are ignored; visible after the next commit).
    pub fn remove(&self, ids: &[UserId]) -> Result<()> {
        let writer = self.lock_writer();
        for id in ids {
            writer.delete_term(Term::from_field_u64(self.fields.id, id.to_raw()));
        }
        Ok(())
    }

    /// Commits every change so far as the state at sequence number `seq` (durable and
    /// atomic with the sequence number) and makes it visible to searches.
    pub fn commit(&self, seq: u64) -> Result<()> {
        commit_with_seq(&mut self.lock_writer(), seq, EXPERT_SCHEMA_VERSION)?;
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        self.facet_tables.retain(searcher.segment_readers());
        self.filter_cache.retain(searcher.segment_readers());
        // Built here, by the indexer, rather than by the first search to need them.
        self.typo_dictionaries
            .refresh_after_commit(searcher.segment_readers(), "expert");
        self.committed_seq.store(seq, Ordering::SeqCst);
        Ok(())
    }

    /// Experts matching `text` (BM25 over the boosted fields, typo tolerant) and the
    /// filters, best first, at most `limit`. An empty `text` lists the experts the
    /// filters allow, with score 0.
    pub fn search(
        &self,
        text: &str,
        filters: &ExpertFilters,
        limit: usize,
    ) -> Result<Vec<(UserId, f32)>> {
        let searcher = self.reader.searcher();
        let query = combine(self.words_query(&searcher, text), self.filter(filters));
        let top = searcher.search(&*query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        hits_with_ids(&searcher, top)
    }

    /// The filters as one unscored query answered from the filter cache, `None` when
    /// they allow every expert.
    fn filter(&self, filters: &ExpertFilters) -> Option<Box<dyn Query>> {
        filter_query(filters, &self.fields).map(|filter| self.filter_cache.cached(filter))
    }

    /// The scored query for `text`, typo tolerant for the words the index does not know.
    fn words_query(&self, searcher: &tantivy::Searcher, text: &str) -> Option<Box<dyn Query>> {
        typo_tolerant_query(searcher, &self.typo_dictionaries, text, &self.searched)
    }

    /// [`ExpertTextIndex::search`] that also counts every expert the words match within
    /// `filters`, and the values of `fields` among them, keeping the counts open for
    /// the experts a vector pass finds ([`CountedSearch::finish`]).
    pub fn search_counting(
        &self,
        text: &str,
        filters: &ExpertFilters,
        limit: usize,
        fields: &[FacetField],
        max_values: usize,
    ) -> Result<CountedSearch> {
        let searcher = self.reader.searcher();
        let words = self.words_query(&searcher, text);
        let filter = self.filter(filters);
        let searched_words = words.is_some();
        let query = combine(words, filter.as_ref().map(|f| f.box_clone()));
        let collectors = (
            TopDocs::with_limit(limit.max(1)).order_by_score(),
            self.facet_collector(fields, max_values).open(),
        );
        let (top, counts) = searcher.search(&*query, &collectors)?;
        Ok(CountedSearch {
            hits: hits_with_ids(&searcher, top)?,
            searcher,
            counts,
            filter,
            id_field: self.fields.id,
            words: searched_words,
        })
    }

    /// [`ExpertTextIndex::search_counting`], finished with the experts `also` lists
    /// (the vector hits).
    pub fn search_counted(
        &self,
        text: &str,
        filters: &ExpertFilters,
        limit: usize,
        fields: &[FacetField],
        max_values: usize,
        also: &[UserId],
    ) -> Result<(Vec<(UserId, f32)>, FacetCounts)> {
        self.search_counting(text, filters, limit, fields, max_values)?
            .finish(also)
    }

    /// Counts the experts matching `text` (any of its terms, typo tolerant) or listed in
    /// `also`, within `filters`, and the values of `fields` among them (at most
    /// `max_values` per field). An empty `text` with no `also` counts every expert the
    /// filters allow.
    pub fn facet_counts(
        &self,
        text: &str,
        filters: &ExpertFilters,
        also: &[UserId],
        fields: &[FacetField],
        max_values: usize,
    ) -> Result<FacetCounts> {
        let searcher = self.reader.searcher();
        let words = self.words_query(&searcher, text);
        let filter = self.filter(filters);
        let collector = self.facet_collector(fields, max_values);
        let searched_words = words.is_some();
        let counts = if !searched_words && !also.is_empty() {
            // The listed experts alone count: no pass over the filters' experts.
            OpenFacets::empty(collector, searcher.segment_readers())?
        } else {
            let query = combine(words, filter.as_ref().map(|f| f.box_clone()));
            searcher.search(&*query, &collector.open())?
        };
        let search = CountedSearch {
            searcher,
            hits: Vec::new(),
            counts,
            filter,
            id_field: self.fields.id,
            words: searched_words,
        };
        Ok(search.finish(also)?.1)
    }

    fn facet_collector(&self, fields: &[FacetField], max_values: usize) -> FacetCollector {
        FacetCollector {
            fields: fields.to_vec(),
            max_values,
            tables: Arc::clone(&self.facet_tables),
        }
    }

    /// Every expert the filters allow (all of them for empty filters), in no order.
    pub fn matching_ids(&self, filters: &ExpertFilters) -> Result<Vec<UserId>> {
        let query = combine(None, self.filter(filters));
        let ids = self.reader.searcher().search(&*query, &IdCollector)?;
        Ok(ids.into_iter().map(UserId::from_raw).collect())
    }

    /// Every indexed expert with the version of its document.
    pub fn entries(&self) -> Result<Vec<(UserId, u64)>> {
        versioned_entries(&self.reader.searcher())
    }

    /// The number of indexed experts.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether no expert is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

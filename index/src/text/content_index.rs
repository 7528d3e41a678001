//! [`ContentTextIndex`]: published content in tantivy, in an index of its own (content
//! ids and user ids are separate id spaces), searched with BM25 over the title and the
//! description and filtered on fast fields. One writer (the indexer) upserts, removes
//! and commits with a sequence number; any number of readers search the last commit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use droply_models::ContentId;
use tantivy::collector::TopDocs;
use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::analyzer::{self, keyword};
use super::content_doc::{ContentDoc, ContentFilters};
use super::content_schema::{
    CONTENT_SCHEMA_VERSION, ContentFields, content_schema, searched_fields,
};
use super::facet_tables::FacetTables;
use super::facets::{ContentFacet, FacetCollector, FacetCounts};
use super::index_files::{commit_with_seq, create_in_dir, open_in_dir, versioned_entries};
use super::query_builder::{
    all_of, any_keyword, any_price, any_u64, combine, or_ids, typo_tolerant_query,
};
use super::search_hits::{IdCollector, hits_with_ids};
use super::typos::TypoDictionaries;
use crate::{Error, ExternalId, Result};

/// Content hits, best first, with the counts of everything the words matched.
pub type CountedContentHits = (Vec<(ContentId, f32)>, FacetCounts<ContentFacet>);

/// Memory the writer buffers before flushing a segment.
const WRITER_MEMORY: usize = 32 * 1024 * 1024;

/// The content text index.
pub struct ContentTextIndex {
    dir: PathBuf,
    fields: ContentFields,
    searched: Vec<(Field, f32, bool)>,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    committed_seq: AtomicU64,
    /// Each searched segment's facet values, read once.
    facet_tables: Arc<FacetTables>,
    /// Each searched segment's terms of the typo-tolerant fields, for typo tolerance.
    typo_dictionaries: TypoDictionaries,
}

impl std::fmt::Debug for ContentTextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentTextIndex")
            .field("dir", &self.dir)
            .finish()
    }
}

impl ContentTextIndex {
    /// Creates an empty index in `dir`, replacing whatever was there.
    pub fn create(dir: &Path) -> Result<Self> {
        let (schema, _) = content_schema();
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
        let (schema, _) = content_schema();
        let (index, seq) = open_in_dir(dir, &schema, CONTENT_SCHEMA_VERSION)?;
        let text = Self::assemble(dir, index, seq).map_err(|err| corrupt(err.to_string()))?;
        text.entries().map_err(|err| corrupt(err.to_string()))?;
        // Read now, so that the first searches after a restart find them ready.
        text.typo_dictionaries
            .refresh(text.reader.searcher().segment_readers())
            .map_err(|err| corrupt(err.to_string()))?;
        Ok(text)
    }

    fn assemble(dir: &Path, index: Index, seq: u64) -> Result<Self> {
        analyzer::register(&index);
        let (_, fields) = content_schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let searched = searched_fields(&fields);
        Ok(ContentTextIndex {
            dir: dir.to_owned(),
            typo_dictionaries: TypoDictionaries::new(&searched),
            searched,
            fields,
            reader,
            writer: Mutex::new(writer),
            committed_seq: AtomicU64::new(seq),
            facet_tables: Arc::default(),
        })
    }

    /// The sequence number of the last commit.
    pub fn committed_seq(&self) -> u64 {
        self.committed_seq.load(Ordering::SeqCst)
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn document(&self, doc: &ContentDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, doc.id.to_raw());
        d.add_u64(f.version, doc.version);
        d.add_text(f.title, &doc.title);
        d.add_text(f.description, &doc.description);
        d.add_text(f.content_type, keyword(&doc.content_type));
        if let Some(category) = doc.category_id {
            d.add_u64(f.category_id, category.get());
            d.add_text(f.category_facet, category.get().to_string());
        }
        d.add_u64(f.creator, doc.creator.get());
        d.add_text(f.currency, doc.currency.as_str());
        d.add_i64(f.price, doc.price_minor);
        d
    }

    /// Adds or replaces documents (visible after the next commit).
    pub fn upsert(&self, docs: &[ContentDoc]) -> Result<()> {
        let writer = self.lock_writer();
        for doc in docs {
            writer.delete_term(Term::from_field_u64(self.fields.id, doc.id.to_raw()));
            writer.add_document(self.document(doc))?;
        }
        Ok(())
    }

    /// Removes documents (absent ids are ignored; visible after the next commit).
    pub fn remove(&self, ids: &[ContentId]) -> Result<()> {
        let writer = self.lock_writer();
        for id in ids {
            writer.delete_term(Term::from_field_u64(self.fields.id, id.to_raw()));
        }
        Ok(())
    }

    /// Commits every change so far as the state at sequence number `seq` (durable and
    /// atomic with the sequence number) and makes it visible to searches.
    pub fn commit(&self, seq: u64) -> Result<()> {
        commit_with_seq(&mut self.lock_writer(), seq, CONTENT_SCHEMA_VERSION)?;
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        self.facet_tables.retain(searcher.segment_readers());
        // Built here, by the indexer, rather than by the first search to need them.
        self.typo_dictionaries
            .refresh_after_commit(searcher.segment_readers(), "content");
        self.committed_seq.store(seq, Ordering::SeqCst);
        Ok(())
    }

    /// The filters as one unscored query, `None` when they allow everything.
    fn filter_query(&self, filters: &ContentFilters) -> Option<Box<dyn Query>> {
        let f = &self.fields;
        let mut must: Vec<Box<dyn Query>> = Vec::new();
        if !filters.content_types.is_empty() {
            must.push(any_keyword(f.content_type, &filters.content_types));
        }
        if !filters.categories.is_empty() {
            must.push(any_u64(
                f.category_id,
                filters.categories.iter().map(|id| id.get()),
            ));
        }
        if !filters.creators.is_empty() {
            must.push(any_u64(
                f.creator,
                filters.creators.iter().map(|id| id.get()),
            ));
        }
        if !filters.prices.is_empty() {
            must.push(any_price(&filters.prices, f.currency, f.price));
        }
        all_of(must)
    }

    /// Content matching `text` (BM25 over title and description, typo tolerant in the
    /// title) and the filters, best first, at most `limit`. An empty `text` lists the
    /// items the filters allow, with score 0.
    pub fn search(
        &self,
        text: &str,
        filters: &ContentFilters,
        limit: usize,
    ) -> Result<Vec<(ContentId, f32)>> {
        Ok(self.search_counted(text, filters, limit, &[], 0)?.0)
    }

    /// [`ContentTextIndex::search`] that also counts, in the same pass (one
    /// typo-tolerant query, not two), every item the words match and the values of
    /// `fields` among them.
    pub fn search_counted(
        &self,
        text: &str,
        filters: &ContentFilters,
        limit: usize,
        fields: &[ContentFacet],
        max_values: usize,
    ) -> Result<CountedContentHits> {
        let searcher = self.reader.searcher();
        let query = combine(
            typo_tolerant_query(&searcher, &self.typo_dictionaries, text, &self.searched),
            self.filter_query(filters),
        );
        let collectors = (
            TopDocs::with_limit(limit.max(1)).order_by_score(),
            FacetCollector {
                fields: fields.to_vec(),
                max_values,
                tables: Arc::clone(&self.facet_tables),
            },
        );
        let (top, counts) = searcher.search(&*query, &collectors)?;
        Ok((hits_with_ids(&searcher, top)?, counts))
    }

    /// Counts the items matching `text` (any of its terms, typo tolerant) or listed in
    /// `also`, within `filters`, and the values of `fields` among them (at most
    /// `max_values` per field). An empty `text` with no `also` counts every item the
    /// filters allow.
    pub fn facet_counts(
        &self,
        text: &str,
        filters: &ContentFilters,
        also: &[ContentId],
        fields: &[ContentFacet],
        max_values: usize,
    ) -> Result<FacetCounts<ContentFacet>> {
        let searcher = self.reader.searcher();
        let matched = or_ids(
            typo_tolerant_query(&searcher, &self.typo_dictionaries, text, &self.searched),
            self.fields.id,
            also.iter().map(|id| id.to_raw()),
        );
        let query = combine(matched, self.filter_query(filters));
        let collector = FacetCollector {
            fields: fields.to_vec(),
            max_values,
            tables: Arc::clone(&self.facet_tables),
        };
        Ok(searcher.search(&*query, &collector)?)
    }

    /// Every item the filters allow (all of them for empty filters), in no order.
    pub fn matching_ids(&self, filters: &ContentFilters) -> Result<Vec<ContentId>> {
        let query = combine(None, self.filter_query(filters));
        let ids = self.reader.searcher().search(&*query, &IdCollector)?;
        Ok(ids.into_iter().map(ContentId::from_raw).collect())
    }

    /// Every indexed item with the version of its document.
    pub fn entries(&self) -> Result<Vec<(ContentId, u64)>> {
        versioned_entries(&self.reader.searcher())
    }

    /// The number of indexed items.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether no item is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

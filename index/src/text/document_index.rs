//! [`DocumentIndex`]: any collection of documents (title + text) in tantivy with plain
//! BM25 over one analysed `contents` field (title and text together, as Anserini's
//! "flat" BEIR baseline indexes them), keyed by [`DocNumber`]. The matching issue's
//! evaluation runs public benchmarks (BEIR) through it.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

use super::analyzer::{self, ANALYZER};
use super::query_builder::text_query;
use super::search_hits::hits_with_ids;
use crate::{DocNumber, Error, ExternalId, Result};

/// A document collection index.
pub struct DocumentIndex {
    index: Index,
    key: Field,
    contents: Field,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
}

impl std::fmt::Debug for DocumentIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentIndex").finish_non_exhaustive()
    }
}

impl DocumentIndex {
    fn schema() -> (Schema, Field, Field) {
        let mut b = Schema::builder();
        let key = b.add_u64_field("id", INDEXED | FAST);
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let contents = b.add_text_field("contents", text);
        (b.build(), key, contents)
    }

    /// An empty index in `dir` (replacing what was there), or in memory when `dir` is `None`.
    pub fn create(dir: Option<&Path>) -> Result<Self> {
        let (schema, key, contents) = Self::schema();
        let index = match dir {
            Some(dir) => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir).map_err(Error::file(dir))?;
                }
                std::fs::create_dir_all(dir).map_err(Error::file(dir))?;
                let directory = MmapDirectory::open(dir).map_err(|err| Error::Text(err.into()))?;
                Index::create(directory, schema, Default::default())?
            }
            None => Index::create_in_ram(schema),
        };
        analyzer::register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4);
        let writer = index.writer_with_num_threads(threads, 64 * 1024 * 1024 * threads)?;
        Ok(DocumentIndex {
            index,
            key,
            contents,
            reader,
            writer: Mutex::new(writer),
        })
    }

    /// Adds one document (searchable after [`DocumentIndex::commit`]).
    pub fn add(&self, key: DocNumber, title: &str, text: &str) -> Result<()> {
        let mut doc = TantivyDocument::default();
        doc.add_u64(self.key, key.to_raw());
        doc.add_text(self.contents, title);
        doc.add_text(self.contents, text);
        self.writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add_document(doc)?;
        Ok(())
    }

    /// Makes the added documents searchable.
    pub fn commit(&self) -> Result<()> {
        self.writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// The `limit` best documents for `query` by BM25, best first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<(DocNumber, f32)>> {
        let Some(query) = text_query(query, &[(self.contents, 1.0, false)], None) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let top = searcher.search(&*query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        hits_with_ids(&searcher, top)
    }

    /// The number of documents searchable.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether no document is searchable.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The underlying tantivy index (for inspection).
    pub fn tantivy(&self) -> &Index {
        &self.index
    }
}

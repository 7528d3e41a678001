//! Evaluating a BEIR collection through the product's own indexes and fusion: the
//! documents go into a [`DocumentIndex`] (tantivy BM25) and a [`VectorIndex`] (HNSW)
//! of their sentence embeddings, each query is answered in the chosen mode, and the
//! metrics are averaged over the judged queries. Document embeddings are cached on disk
//! (keyed by the model and the corpus), so re-running with other settings is quick.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use droply_index::{
    DocNumber, DocumentIndex, TextEmbedder, VectorConfig, VectorEntry, VectorIndex,
};
use serde::Serialize;

use super::beir::BeirDataset;
use super::metrics::{mrr_at, ndcg_at, percentile, recall_at};
use droply_engine::matching::{Fusion, fuse};
use droply_engine::search_index::stable_hash;
use droply_engine::{Error, Result};

/// Candidates taken from each index per query (recall is measured at 100).
const DEPTH: usize = 100;
/// Documents embedded per call.
const EMBED_BATCH: usize = 64;

/// Which ranking answers the queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalMode {
    /// BM25 only.
    Bm25,
    /// Vectors only.
    Vector,
    /// Both, fused.
    Hybrid,
}

impl EvalMode {
    /// Parses `bm25`, `vector` or `hybrid`.
    pub fn parse(name: &str) -> Option<EvalMode> {
        match name {
            "bm25" => Some(EvalMode::Bm25),
            "vector" => Some(EvalMode::Vector),
            "hybrid" => Some(EvalMode::Hybrid),
            _ => None,
        }
    }

    /// The mode's name.
    pub fn name(self) -> &'static str {
        match self {
            EvalMode::Bm25 => "bm25",
            EvalMode::Vector => "vector",
            EvalMode::Hybrid => "hybrid",
        }
    }
}

/// The metrics of one run, printed as one JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// What was evaluated.
    pub dataset: String,
    /// The mode.
    pub mode: &'static str,
    /// The fusion method (hybrid).
    pub fusion: &'static str,
    /// The vector share (hybrid).
    pub semantic_ratio: f32,
    /// Judged queries run.
    pub queries: usize,
    /// Mean nDCG@10.
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    /// Mean recall@100.
    #[serde(rename = "recall@100")]
    pub recall_100: f64,
    /// Mean reciprocal rank within 10.
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
    /// Per-query latency percentiles in milliseconds (embedding the query included).
    pub latency_ms: Latency,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Latency {
    /// The percentiles of `samples` (milliseconds).
    pub fn of(samples: &[f64]) -> Latency {
        Latency {
            p50: percentile(samples, 50.0),
            p95: percentile(samples, 95.0),
            p99: percentile(samples, 99.0),
        }
    }
}

/// A collection indexed both ways, ready to answer queries.
pub struct BeirIndexes {
    name: String,
    text: DocumentIndex,
    vectors: VectorIndex<DocNumber>,
    ids: Vec<String>,
}

impl std::fmt::Debug for BeirIndexes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeirIndexes")
            .field("name", &self.name)
            .field("documents", &self.ids.len())
            .finish_non_exhaustive()
    }
}

impl BeirIndexes {
    /// Indexes `dataset` (named `name`) with `embedder`; embeddings are read from or
    /// written to `cache_dir` when given. `progress` hears (embedded, total).
    pub fn build(
        name: &str,
        dataset: &BeirDataset,
        embedder: &dyn TextEmbedder,
        cache_dir: Option<&Path>,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Self> {
        let text = DocumentIndex::create(None)?;
        for (i, doc) in dataset.corpus.iter().enumerate() {
            text.add(DocNumber(i as u64), &doc.title, &doc.text)?;
        }
        text.commit()?;
        let passages: Vec<String> = dataset
            .corpus
            .iter()
            .map(|d| format!("{} {}", d.title, d.text).trim().to_owned())
            .collect();
        let embeddings = cached_embeddings(&passages, embedder, cache_dir, progress)?;
        let config = VectorConfig::default();
        let vectors = VectorIndex::in_memory(embedder.dimension(), config)?;
        let entries: Vec<VectorEntry<'_, DocNumber>> = embeddings
            .iter()
            .enumerate()
            .map(|(i, v)| VectorEntry {
                key: DocNumber(i as u64),
                version: 0,
                vector: v,
            })
            .collect();
        vectors.upsert(&entries)?;
        vectors.commit(1)?;
        Ok(BeirIndexes {
            name: name.to_owned(),
            text,
            vectors,
            ids: dataset.corpus.iter().map(|d| d.id.clone()).collect(),
        })
    }

    /// Runs every judged query of `dataset` in `mode` and averages the metrics.
    pub fn evaluate(
        &self,
        dataset: &BeirDataset,
        embedder: &dyn TextEmbedder,
        mode: EvalMode,
        fusion: Fusion,
        semantic_ratio: f32,
    ) -> Result<EvalReport> {
        let (mut ndcg, mut recall, mut mrr) = (0.0, 0.0, 0.0);
        let mut latencies = Vec::with_capacity(dataset.queries.len());
        for query in &dataset.queries {
            let started = Instant::now();
            let ranked = self.rank(&query.text, embedder, mode, fusion, semantic_ratio)?;
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            let ranked: Vec<&str> = ranked
                .iter()
                .filter_map(|n| self.ids.get(n.0 as usize).map(String::as_str))
                .collect();
            let grades: HashMap<&str, u32> = dataset
                .qrels
                .get(&query.id)
                .map(|g| g.iter().map(|(k, v)| (k.as_str(), *v)).collect())
                .unwrap_or_default();
            ndcg += ndcg_at(&ranked, &grades, 10);
            recall += recall_at(&ranked, &grades, 100);
            mrr += mrr_at(&ranked, &grades, 10);
        }
        let n = dataset.queries.len().max(1) as f64;
        Ok(EvalReport {
            dataset: self.name.clone(),
            mode: mode.name(),
            fusion: fusion.name(),
            semantic_ratio: match mode {
                EvalMode::Bm25 => 0.0,
                EvalMode::Vector => 1.0,
                EvalMode::Hybrid => semantic_ratio,
            },
            queries: dataset.queries.len(),
            ndcg_10: ndcg / n,
            recall_100: recall / n,
            mrr_10: mrr / n,
            latency_ms: Latency::of(&latencies),
        })
    }

    /// The documents for `query`, best first.
    pub fn rank(
        &self,
        query: &str,
        embedder: &dyn TextEmbedder,
        mode: EvalMode,
        fusion: Fusion,
        semantic_ratio: f32,
    ) -> Result<Vec<DocNumber>> {
        let text = if mode == EvalMode::Vector {
            Vec::new()
        } else {
            self.text.search(query, DEPTH)?
        };
        let vector = if mode == EvalMode::Bm25 {
            Vec::new()
        } else {
            let q = embedder.embed_query_text(query)?;
            self.vectors
                .search(&q, DEPTH, None)?
                .into_iter()
                .map(|h| (h.key, h.score))
                .collect()
        };
        let ratio = match mode {
            EvalMode::Bm25 => 0.0,
            EvalMode::Vector => 1.0,
            EvalMode::Hybrid => semantic_ratio,
        };
        Ok(fuse(&text, &vector, ratio, fusion)
            .into_iter()
            .map(|h| h.key)
            .collect())
    }
}

const CACHE_MAGIC: &[u8; 8] = b"DRPLYVEC";

/// The embeddings of `passages`, from the cache when it holds this model's vectors of
/// exactly these passages, else computed (and cached).
fn cached_embeddings(
    passages: &[String],
    embedder: &dyn TextEmbedder,
    cache_dir: Option<&Path>,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<Vec<f32>>> {
    let mut key = embedder.fingerprint().as_bytes().to_vec();
    for passage in passages {
        key.extend_from_slice(&stable_hash(passage.as_bytes()).to_le_bytes());
    }
    let path: Option<PathBuf> =
        cache_dir.map(|dir| dir.join(format!("embeddings-{:016x}.f32", stable_hash(&key))));
    let dimension = embedder.dimension();
    if let Some(path) = &path
        && let Some(vectors) = read_cache(path, passages.len(), dimension)
    {
        return Ok(vectors);
    }
    // Longest first, so each batch holds passages of similar length.
    let mut order: Vec<usize> = (0..passages.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(passages[i].len()));
    let mut vectors = vec![Vec::new(); passages.len()];
    for (done, chunk) in order.chunks(EMBED_BATCH).enumerate() {
        let texts: Vec<&str> = chunk.iter().map(|&i| passages[i].as_str()).collect();
        for (&i, vector) in chunk.iter().zip(embedder.embed_texts(&texts)?) {
            vectors[i] = vector;
        }
        progress(
            ((done + 1) * EMBED_BATCH).min(passages.len()),
            passages.len(),
        );
    }
    if let Some(path) = &path {
        write_cache(path, &vectors, dimension)?;
    }
    Ok(vectors)
}

fn read_cache(path: &Path, count: usize, dimension: usize) -> Option<Vec<Vec<f32>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .read_to_end(&mut bytes)
        .ok()?;
    let body = bytes.strip_prefix(CACHE_MAGIC.as_slice())?;
    if body.len() != count * dimension * 4 {
        return None;
    }
    Some(
        body.chunks_exact(dimension * 4)
            .map(|row| {
                row.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            })
            .collect(),
    )
}

fn write_cache(path: &Path, vectors: &[Vec<f32>], dimension: usize) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    out.write_all(CACHE_MAGIC)?;
    for vector in vectors {
        if vector.len() != dimension {
            return Err(Error::Invalid(
                "an embedding has the wrong length".to_owned(),
            ));
        }
        for value in vector {
            out.write_all(&value.to_le_bytes())?;
        }
    }
    out.into_inner()
        .map_err(|err| Error::Io(err.into_error()))?
        .sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

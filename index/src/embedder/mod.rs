//! The sentence embedder: sentence-transformers' all-MiniLM-L6-v2 (BERT, 6 layers, 384
//! dimensions) run with candle, with the reference pipeline's output: WordPiece tokens
//! truncated at 256, the BERT forward pass, mean pooling over the tokens, L2
//! normalisation.
//!
//! [`Embedder`] is the entry point. `model_files` finds, fetches and verifies the weights;
//! `tokenize` sets up the tokenizer; `weights`, `forward`, `attention` (with
//! `attention_kernels`), `fused_ops`, `kernels`, `small_matmul` (with `f16_kernels`) and
//! `pooling` are an inference-only forward pass written for the CPU: texts sorted by
//! length, packed without padding, one batch per thread, candle matmuls (a
//! weight-streaming kernel for a query's few rows, split between the caller and a
//! helper thread by `spin_join`) and one fused pass for everything in between; `simd`
//! compiles those passes for the CPU's vector width; `precision`,
//! `calibration`, `int8_matmul` and `int8_kernels` are the opt-in int8 batch path;
//! `query_cache` keeps recent query embeddings; `query_batch` runs concurrent queries'
//! forward passes as one batch; and `query_pool` runs them on a rayon pool of their own,
//! apart from bulk embedding on the global pool.

mod attention;
#[cfg(target_arch = "x86_64")]
mod attention_kernels;
mod calibration;
#[cfg(target_arch = "x86_64")]
mod f16_kernels;
mod forward;
mod fused_ops;
#[cfg(target_arch = "x86_64")]
mod int8_kernels;
mod int8_matmul;
mod kernels;
pub mod model_files;
mod pooling;
mod precision;
mod pypi_wheel;
mod query_batch;
mod query_cache;
mod query_pool;
pub(crate) mod simd;
mod small_matmul;
mod spin_join;
mod tokenize;
mod weights;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;

pub use model_files::{
    ModelFiles, ModelSources, WEIGHTS_SHA256, default_data_dir, default_model_dir, ensure_model,
    model_dir_in,
};
pub use precision::{Precision, kernels};
use query_batch::QueryBatcher;
pub use query_cache::QueryCache;
pub use tokenize::MAX_TOKENS;

use crate::{Error, Result};

/// Length of every embedding.
pub const DIMENSION: usize = 384;
/// Texts per forward pass unless [`Embedder::with_batch_size`] says otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 32;
/// Query embeddings kept unless [`Embedder::with_query_cache`] says otherwise.
pub const DEFAULT_QUERY_CACHE: usize = 4096;

/// Turns texts into unit-length 384-dimensional embeddings with all-MiniLM-L6-v2.
///
/// Cheap to share: every method takes `&self`, and one embedder serves many threads.
#[derive(Debug)]
pub struct Embedder {
    weights: weights::BertWeights,
    tokenizer: tokenize::TextTokenizer,
    model_id: String,
    batch_size: usize,
    cache: Mutex<QueryCache>,
    batcher: QueryBatcher<Vec<u32>, Vec<f32>>,
}

impl Embedder {
    /// Loads the model from `dir`, first fetching it there from this machine's sources
    /// ([`ModelSources::from_env`]) if `dir` does not hold it.
    pub fn load(dir: &Path) -> Result<Self> {
        let files = ensure_model(dir, &ModelSources::from_env())?;
        Self::from_files(&files)
    }

    /// Loads the model from verified files.
    pub fn from_files(files: &ModelFiles) -> Result<Self> {
        let config = weights::BertConfig::from_file(&files.config())?;
        if config.hidden_size != DIMENSION {
            return Err(Error::ModelFormat(format!(
                "hidden size {}, expected {DIMENSION}",
                config.hidden_size
            )));
        }
        let weights = weights::BertWeights::load(&files.weights(), config)?;
        let tokenizer = tokenize::TextTokenizer::from_file(&files.tokenizer())?;
        Ok(Embedder {
            weights,
            tokenizer,
            model_id: format!("{}@sha256:{WEIGHTS_SHA256}", model_files::MODEL_NAME),
            batch_size: DEFAULT_BATCH_SIZE,
            cache: Mutex::new(QueryCache::new(DEFAULT_QUERY_CACHE)),
            batcher: QueryBatcher::new(),
        })
    }

    /// Sets how many texts go through one forward pass (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Sets the arithmetic of the batch path (see [`Precision`]). `Int8` calibrates and
    /// quantises the weights once, here, on a CPU with VNNI (AVX-512 VNNI or AVX-VNNI);
    /// without it the int8 path would be no faster than f32, so the embedder stays in f32
    /// ([`Embedder::precision`] says which runs).
    pub fn with_precision(mut self, precision: Precision) -> Result<Self> {
        self.weights.set_precision(Precision::F32, &[])?;
        if precision == Precision::Int8 && precision.supported() {
            let sequences = calibration::TEXTS
                .iter()
                .map(|text| self.tokenizer.encode(text))
                .collect::<Result<Vec<_>>>()?;
            let sequences: Vec<&[u32]> = sequences.iter().map(Vec::as_slice).collect();
            let ranges = forward::input_ranges(&self.weights, &sequences)?;
            self.weights.set_precision(Precision::Int8, &ranges)?;
        }
        Ok(self)
    }

    /// The arithmetic of the batch path.
    pub fn precision(&self) -> Precision {
        self.weights.precision()
    }

    /// Sets how many query embeddings [`Embedder::embed_query`] keeps (0 keeps none).
    pub fn with_query_cache(self, capacity: usize) -> Self {
        Embedder {
            cache: Mutex::new(QueryCache::new(capacity)),
            ..self
        }
    }

    /// Which model this is: its name and the sha256 of its weights, e.g.
    /// `all-MiniLM-L6-v2@sha256:53aa…`. An index records it to know which model built it.
    /// The int8 path keeps it: its vectors share the f32 ones' space (within cosine 0.995,
    /// checked against the golden vectors), so an index built in int8 serves f32 queries.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The number of tokens the model sees for `text`: `[CLS]` and `[SEP]` included,
    /// at most [`MAX_TOKENS`].
    pub fn token_count(&self, text: &str) -> Result<usize> {
        Ok(self.tokenizer.encode(text)?.len())
    }

    /// The embeddings of `texts`, in the same order, each [`DIMENSION`] values of unit
    /// length (all zeros only for a text the model sees as empty of meaning, never NaN).
    ///
    /// The texts are sorted by length and cut into batches of similar lengths, and the
    /// batches run in parallel on rayon's global pool (queries have a pool of their own); the
    /// result does not depend on the batching.
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let sequences: Vec<Vec<u32>> = texts
            .par_iter()
            .map(|text| self.tokenizer.encode(text))
            .collect::<Result<_>>()?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        // Longest first: the costliest batches start first and the short ones fill in.
        order.sort_by_key(|&i| std::cmp::Reverse(sequences[i].len()));
        let batches: Vec<&[usize]> = order.chunks(self.batch_size).collect();
        let embedded: Vec<Vec<Vec<f32>>> = batches
            .par_iter()
            .map(|batch| {
                let ids: Vec<&[u32]> = batch.iter().map(|&i| sequences[i].as_slice()).collect();
                forward::embed_sequences(&self.weights, &ids)
            })
            .collect::<Result<_>>()?;
        let mut out = vec![Vec::new(); texts.len()];
        for (batch, vectors) in batches.iter().zip(embedded) {
            for (&i, vector) in batch.iter().zip(vectors) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    /// The embedding of one text, computed now.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>> {
        let ids = self.tokenizer.encode(text)?;
        let mut vectors = on_pool(|| forward::embed_sequences(&self.weights, &[&ids]))?;
        vectors
            .pop()
            .ok_or_else(|| Error::ModelFormat("the forward pass returned nothing".to_owned()))
    }

    /// The embedding of a search query, from the query cache when it was embedded recently.
    /// Queries embedded at the same time by several threads share one forward pass.
    pub fn embed_query(&self, text: &str) -> Result<Arc<[f32]>> {
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(text)
        {
            return Ok(hit);
        }
        let ids = self.tokenizer.encode(text)?;
        let batched = self.batcher.run(ids, |batch| {
            let sequences: Vec<&[u32]> = batch.iter().map(Vec::as_slice).collect();
            on_pool(|| forward::embed_sequences(&self.weights, &sequences)).ok()
        });
        let vector: Arc<[f32]> = match batched {
            Some(vector) => Arc::from(vector),
            // The batch failed: alone, this query's own error (if any) comes out.
            None => Arc::from(self.embed(text)?),
        };
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(text.to_owned(), Arc::clone(&vector));
        Ok(vector)
    }
}

/// Runs a query's forward pass on a worker of the query pool (`query_pool`), not on rayon's
/// global pool, where it would wait behind bulk embedding's batches. On a worker rather than
/// the caller's thread: concurrent queries batched together can have more rows than the
/// few-row kernel takes, and then run candle's matmul, which splits its work on the current
/// rayon pool: called from a thread outside the pool, it would hand all of it to the pool
/// and put the caller to sleep until it is done, two thread switches per matmul.
fn on_pool<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    query_pool::install(work)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::sync::{Arc, Condvar, Mutex, PoisonError};
    use std::thread;
    use std::time::Duration;

    use super::{on_pool, query_pool};

    /// Holds every worker of rayon's global pool until dropped, as a bulk `embed_batch`
    /// does with batches of hundreds of milliseconds each.
    struct BusyGlobalPool {
        released: Arc<(Mutex<bool>, Condvar)>,
    }

    impl BusyGlobalPool {
        fn occupy() -> Self {
            let released = Arc::new((Mutex::new(false), Condvar::new()));
            let workers = rayon::current_num_threads();
            let (started_tx, started_rx) = mpsc::channel();
            for _ in 0..workers {
                let released = Arc::clone(&released);
                let started = started_tx.clone();
                rayon::spawn(move || {
                    let _ = started.send(());
                    let (lock, condvar) = &*released;
                    let mut done = lock.lock().unwrap_or_else(PoisonError::into_inner);
                    while !*done {
                        done = condvar.wait(done).unwrap_or_else(PoisonError::into_inner);
                    }
                });
            }
            for _ in 0..workers {
                started_rx.recv().expect("a global worker starts its job");
            }
            BusyGlobalPool { released }
        }
    }

    impl Drop for BusyGlobalPool {
        fn drop(&mut self) {
            let (lock, condvar) = &*self.released;
            *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
            condvar.notify_all();
        }
    }

    #[test]
    fn a_query_forward_pass_runs_on_the_query_pool_not_behind_bulk_embedding() {
        let busy = BusyGlobalPool::occupy();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let ran_on = on_pool(|| thread::current().name().map(str::to_owned));
            let _ = tx.send(ran_on);
        });
        let ran_on = rx.recv_timeout(Duration::from_secs(10));
        drop(busy);
        let ran_on = ran_on
            .expect("the query's forward pass waited behind the busy global pool")
            .expect("the forward pass ran on an unnamed thread");
        assert!(
            ran_on.starts_with(query_pool::THREAD_PREFIX),
            "the forward pass ran on {ran_on}"
        );
    }
}

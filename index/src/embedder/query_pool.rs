//! The query pool: a rayon pool of its own for the forward passes of search queries, apart
//! from rayon's global pool, where bulk embedding (`Embedder::embed_batch`, run by index
//! rebuilds and re-embedding) and the vector graph build run. A query's forward pass on the
//! global pool waited in its queue behind whole batches, each hundreds of milliseconds, while
//! the indexer re-embedded many profiles; on this pool it starts at once and the OS shares the
//! cores between the two. Candle's matmul splits its work on the current pool, so a query's
//! nested parallel matmuls stay here too. The pool is built on first use, one thread per core
//! the machine offers, named `droply-query-{n}`; if it cannot be built, queries run on the
//! global pool as before, and a warning says so.

use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::thread;

use rayon::{ThreadPool, ThreadPoolBuilder};

/// The start of every query pool thread's name.
pub(crate) const THREAD_PREFIX: &str = "droply-query-";

/// Runs `work` on a worker of the query pool (on rayon's global pool if the query pool could
/// not be built), and returns its result. Called from a query pool worker, it runs `work`
/// there and then.
pub(crate) fn install<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    match pool() {
        Some(pool) => pool.install(work),
        None => rayon::scope(|_| work()),
    }
}

/// The query pool, built on first call; `None` if it could not be built.
fn pool() -> Option<&'static ThreadPool> {
    static POOL: OnceLock<Option<ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        match ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|n| format!("{THREAD_PREFIX}{n}"))
            .build()
        {
            Ok(pool) => Some(pool),
            Err(err) => {
                tracing::warn!(
                    %err,
                    threads,
                    "could not build the query pool; queries share rayon's global pool"
                );
                None
            }
        }
    })
    .as_ref()
}

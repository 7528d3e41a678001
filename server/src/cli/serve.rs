//! `droply serve`: opens the store (loading the demo marketplace into an empty
//! one with `--demo`), loads the sentence model (fetching it into the model
//! directory when missing, as `droply reindex` does), opens the search index
//! and the matcher over it, serves the HTTP API until Ctrl-C or SIGTERM, then
//! stops the search indexer and flushes the store. Expired sign-in sessions are
//! swept every 10 minutes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use droply_engine::accounts::sweep_expired_sessions;
use droply_engine::import::import_rows;
use droply_engine::matching::{Matcher, MatcherConfig};
use droply_engine::search_index::{RebuildProgress, SearchIndexConfig};
use droply_engine::{SearchIndex, Store};
use droply_index::Embedder;
use droply_lab::demo::{DemoConfig, generate};
use indicatif::{ProgressBar, ProgressStyle};

use super::data_dir::DataDirArgs;
use super::model::model_dir;
use crate::http::{AppState, router};
use crate::{Error, Result};

/// Arguments of `droply serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the store lives.
    #[command(flatten)]
    pub data: DataDirArgs,
    /// Address to listen on.
    #[arg(long, env = "DROPLY_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Load the generated demo marketplace when the store is empty.
    #[arg(long, env = "DROPLY_DEMO")]
    pub demo: bool,
    /// How many experts the demo marketplace has.
    #[arg(long, env = "DROPLY_DEMO_EXPERTS", default_value_t = 10_000)]
    pub demo_experts: usize,
    /// Directory of the sentence model files, fetched there if missing
    /// [default: <data-dir>/models/all-MiniLM-L6-v2].
    #[arg(long, env = "DROPLY_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
}

/// Query embeddings kept in the embedder's cache.
const QUERY_CACHE: usize = 4096;

/// Runs `droply serve`.
pub fn run(args: ServeArgs) -> Result<()> {
    let store = args.data.open_store()?;
    if args.demo && store.users().count() == 0 {
        load_demo(&store, args.demo_experts)?;
    }
    let index = open_search(&args, &store)?;
    let matcher = Arc::new(Matcher::new(
        store.clone(),
        Arc::clone(&index),
        MatcherConfig::default(),
    ));
    let state = AppState::new(store.clone()).with_matcher(matcher);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|err| Error::Config(format!("cannot listen on {}: {err}", args.addr)))?;
        tracing::info!(addr = %listener.local_addr()?, data_dir = %args.data.data_dir.display(), "droply listening");
        let sweeper = tokio::spawn(sweep_sessions_periodically(store.clone()));
        axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        sweeper.abort();
        Ok::<(), Error>(())
    });
    // Let go of the request threads (and the state they hold) before stopping the
    // indexer, so that nothing searches a stopped index; stop it even if serving failed.
    drop(runtime);
    index.shutdown();
    drop(index);
    served?;
    store.flush()?;
    tracing::info!("store flushed, bye");
    Ok(())
}

/// Loads the sentence model and opens the search index over `store`; the index
/// loads or rebuilds itself and follows the store in the background (`/ready`
/// answers 503 until it has caught up).
fn open_search(args: &ServeArgs, store: &Store) -> Result<Arc<SearchIndex>> {
    let dir = model_dir(args.model_dir.as_deref(), &args.data.data_dir);
    tracing::info!(model_dir = %dir.display(), "loading the sentence model");
    let embedder = Embedder::load(&dir)
        .map_err(|err| {
            Error::Config(format!(
                "search needs the sentence model (run `droply model fetch --dir {}` first): {err}",
                dir.display()
            ))
        })?
        .with_query_cache(QUERY_CACHE);
    let config = SearchIndexConfig {
        progress: Some(Arc::new(log_rebuild_progress())),
        ..SearchIndexConfig::default()
    };
    let index = SearchIndex::open(
        &args.data.data_dir,
        store.clone(),
        Arc::new(embedder),
        config,
    )?;
    Ok(Arc::new(index))
}

/// Logs a rebuild's progress at every tenth of the way (search answers 503 until done).
fn log_rebuild_progress() -> impl Fn(RebuildProgress) + Send + Sync {
    let last_tenth = AtomicU64::new(u64::MAX);
    move |progress: RebuildProgress| {
        let tenth = (progress.done * 10)
            .checked_div(progress.total)
            .unwrap_or(10);
        if last_tenth.swap(tenth, Ordering::Relaxed) != tenth {
            tracing::info!(
                done = progress.done,
                total = progress.total,
                "building the search index"
            );
        }
    }
}

fn load_demo(store: &Store, experts: usize) -> Result<()> {
    let config = DemoConfig {
        experts,
        ..DemoConfig::default()
    };
    tracing::info!(experts, "generating the demo marketplace");
    let market = generate(&config);
    let rows: Vec<_> = market.rows().collect();
    let bar = ProgressBar::new(rows.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} loading demo [{bar:40}] {pos}/{len} rows ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let stats = import_rows(store, rows, |done| bar.set_position(done))?;
    bar.finish_and_clear();
    tracing::info!(rows = stats.rows, "demo marketplace loaded");
    Ok(())
}

/// How often expired sign-in sessions are deleted.
const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// Deletes expired sign-in sessions now and then every
/// [`SESSION_SWEEP_EVERY`], on the blocking pool; a failed sweep is logged
/// and retried at the next tick.
async fn sweep_sessions_periodically(store: Store) {
    let mut every = tokio::time::interval(SESSION_SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let store = store.clone();
        let swept = tokio::task::spawn_blocking(move || {
            sweep_expired_sessions(&store, droply_models::Timestamp::now())
        })
        .await;
        match swept {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!(%err, "sweeping expired sessions failed"),
            Err(err) => tracing::warn!(%err, "the session sweep did not finish"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

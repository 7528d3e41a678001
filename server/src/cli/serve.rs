//! `droply serve`: opens the store (loading the demo marketplace into an empty
//! one with `--demo`), serves the HTTP API until Ctrl-C or SIGTERM, then
//! flushes the store. Expired sign-in sessions are swept every 10 minutes.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use droply_engine::Store;
use droply_engine::accounts::sweep_expired_sessions;
use droply_engine::demo::{DemoConfig, generate};
use droply_engine::import::import_rows;
use indicatif::{ProgressBar, ProgressStyle};

use super::data_dir::DataDirArgs;
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
}

/// Runs `droply serve`.
pub fn run(args: ServeArgs) -> Result<()> {
    let store = args.data.open_store()?;
    if args.demo && store.users().count() == 0 {
        load_demo(&store, args.demo_experts)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|err| Error::Config(format!("cannot listen on {}: {err}", args.addr)))?;
        tracing::info!(addr = %listener.local_addr()?, data_dir = %args.data.data_dir.display(), "droply listening");
        let sweeper = tokio::spawn(sweep_sessions_periodically(store.clone()));
        axum::serve(listener, router(AppState::new(store.clone())))
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        sweeper.abort();
        Ok::<(), Error>(())
    })?;
    store.flush()?;
    tracing::info!("store flushed, bye");
    Ok(())
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

//! `droply serve`: reads its settings and binds its address first, so that a
//! bad setting or a port in use fails before the data directory is
//! touched; then takes the data directory ([`DataDirArgs::open_store`]: its
//! lock, and its store, loading the demo marketplace with `--demo` into an
//! empty one, or finishing a load a crash cut short:
//! [`super::demo::load_unless_loaded`]), opens the engine over it (the
//! sentence model, the search index following the store, the background
//! jobs: the session sweep the hold sweep and, with Stripe configured, the
//! payment sweep; with Daily.co configured, the video room job; with Google
//! configured, the calendar sync), serves the HTTP API under the limits of
//! its flags ([`LimitArgs`]) until Ctrl-C or SIGTERM, then shuts the engine
//! down: the indexer stops and the store is flushed. Bad combinations of
//! flags are refused before anything is bound ([`ServeArgs::validate`]).
//! Ctrl-C and SIGTERM are caught from the moment the runtime exists: one
//! during start-up stops it after the step under way (opening the store,
//! the demo load, opening the engine) and flushes the store; while serving,
//! the server stops accepting, lets requests finish for the grace period,
//! drops what is left (open WebSockets among it), waits at most
//! [`BLOCKING_WORK_GRACE`] for blocking work, then stops the engine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use droply_engine::content::ContentConfig;
use droply_engine::import::unfinished_import;
use droply_engine::search_index::{RebuildProgress, SearchIndexConfig};
use droply_engine::{Engine, EngineConfig, SearchSetup, Store};
use droply_lab::demo::DemoConfig;
use tokio_util::sync::CancellationToken;

use super::calendar::CalendarArgs;
use super::data_dir::DataDirArgs;
use super::demo::{load_unless_loaded, serve_experts};
use super::limits::LimitArgs;
use super::payments::PaymentArgs;
use super::store_marker::Access;
use super::video::VideoArgs;
use crate::pages::PageSettings;
use crate::startup::serve_until;
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
    /// Load the generated demo marketplace when the store is empty, or
    /// finish loading it when a crash cut an earlier load short.
    #[arg(long, env = "DROPLY_DEMO")]
    pub demo: bool,
    /// How many experts the demo marketplace has.
    #[arg(long, env = "DROPLY_DEMO_EXPERTS", default_value_t = 10_000, value_parser = serve_experts())]
    pub demo_experts: usize,
    /// Directory of the sentence model files
    /// [default: <data-dir>/models/all-MiniLM-L6-v2].
    #[arg(long, env = "DROPLY_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// The limits on connections, requests, rates and password hashing.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Stripe and the money rules.
    #[command(flatten)]
    pub payments: PaymentArgs,
    /// Daily.co and the meeting window.
    #[command(flatten)]
    pub video: VideoArgs,
    /// Google Calendar and the token key.
    #[command(flatten)]
    pub calendar: CalendarArgs,
    /// The largest content file one may upload, in bytes.
    #[arg(long, env = "DROPLY_CONTENT_MAX_FILE_BYTES", default_value_t = ContentConfig::default().max_file_bytes)]
    pub content_max_file_bytes: u64,
    /// The largest content preview one may upload, in bytes.
    #[arg(long, env = "DROPLY_CONTENT_MAX_PREVIEW_BYTES", default_value_t = ContentConfig::default().max_preview_bytes)]
    pub content_max_preview_bytes: u64,
    /// Behind an HTTPS `--public-url`, how long browsers keep to HTTPS
    /// (`Strict-Transport-Security`'s `max-age`), in seconds: at most two
    /// years (63072000); 0 has them forget the policy.
    #[arg(long, env = "DROPLY_HSTS_MAX_AGE", value_name = "SECONDS", default_value_t = PageSettings::HSTS_MAX_AGE_DEFAULT)]
    pub hsts_max_age: u64,
    /// Whether the HSTS policy binds every subdomain of the public URL's
    /// host too (`includeSubDomains`); `false` when some of them are still
    /// served over plain HTTP.
    #[arg(long, env = "DROPLY_HSTS_INCLUDE_SUBDOMAINS", value_name = "true|false", default_value_t = true, action = clap::ArgAction::Set)]
    pub hsts_include_subdomains: bool,
}

impl ServeArgs {
    /// Refuses, naming the flag, the settings `droply serve` cannot run
    /// under ([`LimitArgs::validate`]; the URL flags were checked when they
    /// were read); called before the address is bound.
    pub fn validate(&self) -> Result<()> {
        self.limits.validate()
    }

    /// How the pages are served ([`PaymentArgs::page_settings`], with the
    /// call page's ICE servers and the HSTS policy); an HSTS `max-age` over
    /// two years is a configuration error.
    pub fn page_settings(&self) -> Result<PageSettings> {
        PageSettings {
            ice_servers: self.video.webrtc_ice_servers.clone(),
            ..self.payments.page_settings()
        }
        .with_hsts(self.hsts_max_age, self.hsts_include_subdomains)
    }
}

/// How often expired sign-in sessions are deleted.
const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// How often bookings whose unpaid hold lapsed are cancelled.
const HOLD_SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often drop-ins past their end are recorded as ended.
const DROPIN_SWEEP_EVERY: Duration = Duration::from_secs(60);

/// How often the cached expert stats are saved for a warm restart.
const STATS_SAVE_EVERY: Duration = Duration::from_secs(5 * 60);

/// How long, once the HTTP side has stopped, shutdown waits for blocking
/// work still running (a store write, a Stripe, Daily or Google call, an
/// upload being written) before it stops the engine and flushes the store
/// anyway; what is still running then is abandoned when the process exits.
pub const BLOCKING_WORK_GRACE: Duration = Duration::from_secs(10);

/// Runs `droply serve`.
pub fn run(args: ServeArgs) -> Result<()> {
    args.validate()?;
    let payments = args.payments.config()?;
    let video = args.video.config()?;
    let calendar = args.calendar.config()?;
    let pages = args.page_settings()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // From here on Ctrl-C and SIGTERM stop start-up between its steps, or
    // the serving, and the store is flushed either way.
    let stop = listen_for_shutdown(&runtime);
    let listener = runtime
        .block_on(async { crate::serve_loop::bind(args.addr) })
        .map_err(|err| Error::Config(format!("cannot listen on {}: {err}", args.addr)))?;
    // Held until the end: the engine is shut down and the store flushed by then.
    let (_data_dir_lock, store) = args.data.open_store(Access::Write)?;
    if stop.is_cancelled() {
        return stopped_during_start_up(&store);
    }
    if args.demo {
        let demo = DemoConfig {
            experts: args.demo_experts,
            ..DemoConfig::default()
        };
        load_unless_loaded(&store, &args.data.data_dir, &demo, &payments)?;
    } else if let Some(unfinished) = unfinished_import(&store)? {
        tracing::warn!(
            %unfinished,
            "the store holds an unfinished import: run it again to finish it"
        );
    }
    if stop.is_cancelled() {
        return stopped_during_start_up(&store);
    }
    let config = args.limits.apply_to(EngineConfig {
        search: SearchSetup::Model(args.model_dir.clone()),
        search_index: SearchIndexConfig {
            progress: Some(Arc::new(log_rebuild_progress())),
            ..SearchIndexConfig::default()
        },
        session_sweep_every: Some(SESSION_SWEEP_EVERY),
        hold_sweep_every: Some(HOLD_SWEEP_EVERY),
        dropin_sweep_every: Some(DROPIN_SWEEP_EVERY),
        stats_save_every: Some(STATS_SAVE_EVERY),
        payments,
        video,
        calendar,
        content: ContentConfig {
            max_file_bytes: args.content_max_file_bytes,
            max_preview_bytes: args.content_max_preview_bytes,
            ..ContentConfig::default()
        },
        ..EngineConfig::new(&args.data.data_dir)
    });
    let limits = args.limits.limits();
    let engine = Engine::over(store, config)?;
    let served = if stop.is_cancelled() {
        tracing::info!("stopped during start-up, before serving");
        Ok(())
    } else {
        runtime.block_on(async {
            tracing::info!(addr = %listener.local_addr()?, data_dir = %args.data.data_dir.display(), "droply listening");
            serve_until(listener, engine.clone(), &limits, pages, stop.cancelled_owned()).await
        })
    };
    // Stop the runtime's tasks (and let go of the state they hold) before
    // stopping the engine; wait a bounded time for blocking work, so that a
    // stuck call cannot keep the store from being flushed before an
    // orchestrator's SIGKILL. Blocking work still running after that is
    // abandoned: it may meet a stopped index or engine and fail, and nothing
    // it does was acknowledged. Stop the engine even if serving failed.
    runtime.shutdown_timeout(BLOCKING_WORK_GRACE);
    let stopped = engine.shutdown();
    served?;
    stopped?;
    tracing::info!("store flushed, bye");
    Ok(())
}

/// Ends a start-up a signal cut short before the engine was opened: the
/// store is flushed (the lock is let go by the caller).
fn stopped_during_start_up(store: &Store) -> Result<()> {
    tracing::info!("stopped during start-up");
    store.flush()?;
    tracing::info!("store flushed, bye");
    Ok(())
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

/// Listens for Ctrl-C and SIGTERM from now on, so that neither ends the
/// process unflushed: the first one cancels the token returned, which
/// start-up checks between its steps and serving stops on.
fn listen_for_shutdown(runtime: &tokio::runtime::Runtime) -> CancellationToken {
    let stop = CancellationToken::new();
    // The signal streams are made now, in the runtime (they need its
    // driver): a signal from this moment on is caught, not fatal.
    let _entered = runtime.enter();
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    let cancel = stop.clone();
    runtime.spawn(async move {
        for first in [true, false] {
            #[cfg(unix)]
            tokio::select! {
                () = received(&mut terminate) => {},
                () = received(&mut interrupt) => {},
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            if first {
                tracing::info!("shutting down (a second Ctrl-C or SIGTERM exits at once)");
                cancel.cancel();
            }
        }
        // A second signal: the operator does not want to wait for the
        // grace period; every acknowledged write is already durable.
        tracing::warn!("second signal: exiting without waiting");
        std::process::exit(130);
    });
    stop
}

/// Resolves when `signal` next arrives; never when it could not be
/// listened for.
#[cfg(unix)]
async fn received(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    /// `droply serve` with `flags`, parsed.
    fn serve(flags: &[&str]) -> super::ServeArgs {
        let mut argv = vec!["droply", "serve"];
        argv.extend_from_slice(flags);
        match Cli::try_parse_from(argv).expect("flags").command {
            Command::Serve(args) => *args,
            _ => panic!("not serve"),
        }
    }

    /// The HSTS value `droply serve` sends with `flags` behind HTTPS.
    fn hsts(flags: &[&str]) -> String {
        let mut with_url = vec!["--public-url", "https://droply.example"];
        with_url.extend_from_slice(flags);
        let pages = serve(&with_url).page_settings().expect("page settings");
        assert!(pages.secure_cookies);
        pages.strict_transport.to_str().expect("ASCII").to_owned()
    }

    /// Regression: the HSTS policy was fixed at a year with
    /// `includeSubDomains`: a site with plain-HTTP subdomains could not
    /// leave them out, nor could a site shorten or end the policy.
    #[test]
    fn serve_hsts_flags_set_the_policy_and_default_to_a_year_with_subdomains() {
        assert_eq!(hsts(&[]), "max-age=31536000; includeSubDomains");
        assert_eq!(
            hsts(&["--hsts-include-subdomains", "false"]),
            "max-age=31536000"
        );
        assert_eq!(
            hsts(&["--hsts-include-subdomains", "true", "--hsts-max-age", "0"]),
            "max-age=0; includeSubDomains"
        );
        assert_eq!(
            hsts(&[
                "--hsts-max-age",
                "63072000",
                "--hsts-include-subdomains=false"
            ]),
            "max-age=63072000"
        );
    }

    #[test]
    fn the_default_serve_flags_are_valid() {
        serve(&[]).validate().expect("defaults");
    }

    /// Regression: `droply serve --live-idle-timeout 20s` (the ping
    /// interval) started, and closed every quiet WebSocket before its ping.
    #[test]
    fn an_idle_timeout_not_longer_than_the_ping_interval_is_refused_at_start() {
        let err = serve(&["--live-idle-timeout", "20s"])
            .validate()
            .expect_err("refused")
            .to_string();
        assert!(err.contains("--live-idle-timeout"), "{err}");
        let err = serve(&["--max-connections", "0"])
            .validate()
            .expect_err("refused")
            .to_string();
        assert!(err.contains("--max-connections"), "{err}");
    }

    #[test]
    fn a_public_url_without_a_scheme_is_refused() {
        let err = Cli::try_parse_from(["droply", "serve", "--public-url", "droply.example"])
            .expect_err("no scheme")
            .to_string();
        assert!(err.contains("--public-url"), "{err}");
        let pages = serve(&["--public-url", " https://droply.example"])
            .page_settings()
            .expect("page settings");
        assert!(pages.secure_cookies);
        assert_eq!(
            pages.public_origin.as_deref(),
            Some("https://droply.example")
        );
    }

    #[test]
    fn serve_refuses_an_hsts_max_age_over_two_years_at_start() {
        let args = serve(&["--hsts-max-age", "63072001"]);
        let err = args.page_settings().expect_err("refused").to_string();
        assert!(err.contains("--hsts-max-age"), "{err}");
        let mut argv = vec!["droply", "serve", "--hsts-include-subdomains", "maybe"];
        assert!(Cli::try_parse_from(argv.clone()).is_err());
        argv.truncate(2);
        argv.extend(["--hsts-max-age", "-1"]);
        assert!(Cli::try_parse_from(argv).is_err());
    }
}

//! [`Engine`]: the one object the service talks to. It owns the store, the
//! search index and the matcher over it, the sign-in throttle, the permits
//! that bound password hashing, the slot policy, payments and the background
//! jobs, all opened from one [`EngineConfig`], and
//! offers one method per use case (`register`, `search`, `create_booking`,
//! ...). Callers never wire the parts themselves; the server adds only HTTP.
//!
//! Every method is blocking (sled, tantivy and candle are): async callers run
//! them on a blocking pool. Cloning an engine is cheap and shares everything.
//!
//! The use cases are grouped by what they touch: `accounts` (sign-up, sign-in,
//! profiles, favorites, interactions), `availability` (rules, exceptions,
//! slots), `bookings`, and `search` (search, matches, recommendations).
//! `payments` holds the money use cases (onboarding, webhooks, payouts),
//! `reviews` the clients' ratings of their sessions, `content` the content
//! creators sell, `dropins` the live Q&A sessions experts host, `video`
//! the calls of booked sessions (Daily rooms, meeting tokens, webhooks,
//! recordings, the WebRTC fallback), `calendar` the Google Calendar
//! connection and sync.
//! `config` is how an engine is opened, `jobs` its background threads,
//! `readiness` whether search has caught up once, and `verify` whether
//! everything derived agrees with the rows.

mod accounts;
mod availability;
mod bookings;
mod calendar;
mod config;
mod content;
mod dropins;
mod jobs;
mod payments;
mod readiness;
mod reviews;
mod search;
mod verify;
mod video;

pub use accounts::{LATEST_REWARDS, RewardsSummary};
pub use bookings::BookingCreated;
pub use config::{DataDir, EngineConfig, SearchSetup};
pub use content::{ContentBought, ContentDetails, ContentFile};
pub use payments::Earnings;
pub use search::{MAX_MATCHES_PER_CALL, Readiness, Recommendation, SearchReadinessInfo};
pub use verify::VerifyReport;

use std::sync::{Arc, Mutex, PoisonError};

use droply_index::Embedder;

use crate::accounts::{
    HashingPermits, LoginThrottle, sweep_expired_sessions, sweep_login_attempts,
};
use crate::availability::SlotPolicy;
use crate::booking::expire_unpaid_holds;
use crate::calendar::CalendarSync;
use crate::content::{ContentConfig, ContentFiles, ViewCounter, sweep_counted_views};
use crate::dropins::end_overdue_dropins;
use crate::matching::Matcher;
use crate::payments::Payments;
use crate::reviews::ReviewPolicy;
use crate::store::SecretKeyCell;
use crate::video::{DailyClient, VideoConfig, room_sweep};
use crate::{Error, Result, SearchIndex, Store};
use jobs::Job;
use readiness::SearchReadiness;

/// The engine: the store of record and everything derived from it.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    data_dir: DataDir,
    search: Option<Search>,
    login_throttle: LoginThrottle,
    password_hashing: HashingPermits,
    slot_policy: SlotPolicy,
    payments: Payments,
    reviews: ReviewPolicy,
    content: ContentConfig,
    content_files: ContentFiles,
    content_views: ViewCounter,
    /// The store's secret key that socket tickets' keys derive from, read
    /// once: an open relay re-checks its ticket every few seconds.
    socket_tickets: SecretKeyCell,
    video: Video,
    calendar: Arc<CalendarSync>,
    jobs: Mutex<Vec<Job>>,
}

/// Video: its configuration and, when Daily is on, the Daily client.
#[derive(Debug)]
struct Video {
    config: VideoConfig,
    daily: Option<Arc<DailyClient>>,
}

/// The search index, the matcher over it, and whether it has caught up once.
#[derive(Debug)]
struct Search {
    index: Arc<SearchIndex>,
    matcher: Arc<Matcher>,
    readiness: SearchReadiness,
}

impl Engine {
    /// Opens the store in the data directory (creating both when missing),
    /// then the engine over it; see [`Engine::over`].
    pub fn open(config: EngineConfig) -> Result<Engine> {
        let store = Engine::open_store(&config.data_dir)?;
        Engine::over(store, config)
    }

    /// Opens (or creates) only the store of `data_dir`: for commands that
    /// load rows before the engine starts (`droply import`, `serve --demo`).
    pub fn open_store(data_dir: &DataDir) -> Result<Store> {
        std::fs::create_dir_all(data_dir.path())?;
        Store::open(data_dir.store())
    }

    /// The engine over an open `store`: loads the sentence model and opens
    /// the search index (which loads or rebuilds itself and then follows the
    /// store in the background) when search is on, and starts the background
    /// jobs (the session sweep and the hold sweep, when configured; with the
    /// session sweep, this node's sweep of `content/`). A
    /// missing model is an [`Error::Config`] that says how to fetch it.
    pub fn over(store: Store, config: EngineConfig) -> Result<Engine> {
        let search = open_search(&store, &config)?;
        let payments = Payments::new(&store, config.payments.clone())?;
        let calendar = Arc::new(CalendarSync::new(config.calendar.clone())?);
        let content_files = ContentFiles::open(config.data_dir.path(), &store)?;
        let daily = match &config.video.daily {
            Some(daily) => Some(Arc::new(DailyClient::new(daily)?)),
            None => None,
        };
        if config.sweep_orphan_files {
            let orphans = content_files.sweep_orphans()?;
            if orphans > 0 {
                tracing::info!(orphans, "deleted content files no row points at");
            }
        }
        // Both keep their counts in the store, so every node sharing it
        // counts the same attempts and views.
        let login_throttle = LoginThrottle::new(config.login_throttle, store.clone());
        let content_views = ViewCounter::new(store.clone(), config.content.daily_viewers);
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                data_dir: config.data_dir,
                search,
                login_throttle,
                password_hashing: HashingPermits::new(config.password_hashing),
                slot_policy: config.slot_policy,
                payments,
                reviews: config.reviews,
                content: config.content,
                content_files,
                content_views,
                socket_tickets: SecretKeyCell::default(),
                video: Video {
                    config: config.video.clone(),
                    daily,
                },
                calendar,
                jobs: Mutex::new(Vec::new()),
            }),
        };
        if let (Some(every), Some(search)) = (config.stats_save_every, &engine.inner.search) {
            let matcher = Arc::clone(&search.matcher);
            let path = engine.inner.data_dir.stats();
            let job = Job::every("stats-save", every, move || {
                matcher.save_stats(&path).map(drop)
            })?;
            engine.jobs().push(job);
        }
        // Per node, not store-wide: each node sweeps its own `content/`,
        // where it keeps copies of files other nodes may delete or replace.
        // At the session sweep's pace (the binary's housekeeping); never in
        // a command that only reads.
        if let Some(every) = config.session_sweep_every
            && config.sweep_orphan_files
        {
            let files = engine.inner.content_files.clone();
            let job = Job::every("content-file-sweep", every, move || {
                let orphans = files.sweep_local_orphans(ContentFiles::LOCAL_ORPHAN_GRACE)?;
                if orphans > 0 {
                    tracing::info!(orphans, "deleted local content files no row names");
                }
                Ok(())
            })?;
            engine.jobs().push(job);
        }
        let store = &engine.inner.store;
        let mut store_jobs = Vec::new();
        if let Some(every) = config.session_sweep_every {
            store_jobs.push(Job::store_wide("session-sweep", every, store, |store| {
                let now = droply_models::Timestamp::now();
                sweep_expired_sessions(store, now)?;
                sweep_login_attempts(store, now)?;
                sweep_counted_views(store, now).map(drop)
            })?);
        }
        if let Some(every) = config.hold_sweep_every {
            let policy = config.slot_policy;
            store_jobs.push(Job::store_wide("hold-sweep", every, store, move |store| {
                expire_unpaid_holds(store, droply_models::Timestamp::now(), &policy).map(drop)
            })?);
        }
        if let Some(every) = config.dropin_sweep_every {
            store_jobs.push(Job::store_wide("dropin-sweep", every, store, |store| {
                end_overdue_dropins(store, droply_models::Timestamp::now()).map(drop)
            })?);
        }
        if let Some(every) = config.payments.sweep_every {
            let payments = engine.inner.payments.clone();
            let policy = config.slot_policy;
            store_jobs.push(Job::store_wide(
                "payments-sweep",
                every,
                store,
                move |store| {
                    // Each step runs even when another fails (a store error in
                    // the payouts must not keep given-up intents payable).
                    let now = droply_models::Timestamp::now();
                    self::payments::payment_sweep(&payments, store, &policy, now).map(drop)
                },
            )?);
        }
        if let (Some(every), Some(daily)) = (config.video.sweep_every, &engine.inner.video.daily) {
            let daily = Arc::clone(daily);
            let video = config.video.clone();
            store_jobs.push(Job::store_wide(
                "video-rooms",
                every,
                store,
                move |store| {
                    room_sweep(store, &daily, &video, droply_models::Timestamp::now()).map(drop)
                },
            )?);
        }
        if let Some(every) = config.calendar.sync_every
            && engine.inner.calendar.is_on()
        {
            let calendar = Arc::clone(&engine.inner.calendar);
            store_jobs.push(Job::store_wide(
                "calendar-sync",
                every,
                store,
                move |store| {
                    calendar
                        .sync_all(store, droply_models::Timestamp::now())
                        .map(drop)
                },
            )?);
        }
        engine.jobs().extend(store_jobs);
        Ok(engine)
    }

    /// The store of record.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The data directory.
    pub fn data_dir(&self) -> &DataDir {
        &self.inner.data_dir
    }

    /// The search index, when this engine serves search.
    pub fn search_index(&self) -> Option<&Arc<SearchIndex>> {
        self.inner.search.as_ref().map(|search| &search.index)
    }

    /// The rules of slots and bookings (buffers, notice, grid, booking
    /// lengths, unpaid holds).
    pub fn slot_policy(&self) -> &SlotPolicy {
        &self.inner.slot_policy
    }

    /// Payments: the configuration and the Stripe gateway.
    pub fn payments(&self) -> &Payments {
        &self.inner.payments
    }

    /// The matcher, or [`Error::SearchUnavailable`] when this engine has no
    /// search or its index is still being built (answering from no index
    /// would look like "nothing matches").
    pub fn matcher(&self) -> Result<&Arc<Matcher>> {
        let search = self.inner.search.as_ref().ok_or_else(|| {
            Error::SearchUnavailable("search is not available on this server".to_owned())
        })?;
        if !search.index.is_loaded() {
            return Err(Error::SearchUnavailable(
                "the search index is still being built; try again shortly".to_owned(),
            ));
        }
        Ok(&search.matcher)
    }

    /// Stops the background jobs and the search indexer, then flushes the
    /// store. Safe to call more than once; the engine answers nothing that
    /// needs search afterwards.
    pub fn shutdown(&self) -> Result<()> {
        for mut job in self.jobs().drain(..) {
            job.stop();
        }
        if let Some(search) = &self.inner.search {
            if let Err(err) = search.matcher.save_stats(&self.inner.data_dir.stats()) {
                tracing::warn!(%err, "could not save the cached expert stats");
            }
            search.index.shutdown();
        }
        self.inner.store.flush()
    }

    /// Whether this node runs the store-wide background jobs now: `None`
    /// when it has none configured, else whether it leads them
    /// ([`Store::leads_jobs`]; a standby node takes over when the leader is
    /// gone).
    pub fn leads_store_jobs(&self) -> Result<Option<bool>> {
        if !self.jobs().iter().any(Job::is_store_wide) {
            return Ok(None);
        }
        self.inner.store.leads_jobs().map(Some)
    }

    fn jobs(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        self.inner
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Loads the embedder and opens the search index and the matcher, as the
/// configuration says.
fn open_search(store: &Store, config: &EngineConfig) -> Result<Option<Search>> {
    let embedder: Arc<dyn droply_index::TextEmbedder> = match &config.search {
        config::SearchSetup::Off => return Ok(None),
        config::SearchSetup::Embedder(embedder) => Arc::clone(embedder),
        config::SearchSetup::Model(dir) => {
            let dir = dir.clone().unwrap_or_else(|| config.data_dir.model());
            tracing::info!(model_dir = %dir.display(), "loading the sentence model");
            let embedder = Embedder::load(&dir).map_err(|err| {
                Error::Config(format!(
                    "search needs the sentence model (run `droply model fetch --dir {}` first): {err}",
                    dir.display()
                ))
            })?;
            Arc::new(embedder.with_query_cache(config.query_cache))
        }
    };
    let index = Arc::new(SearchIndex::open(
        config.data_dir.path(),
        store.clone(),
        embedder,
        config.search_index.clone(),
    )?);
    let matcher_config = crate::matching::MatcherConfig {
        slot_policy: config.slot_policy,
        ..config.matcher.clone()
    };
    let matcher = Arc::new(Matcher::new(
        store.clone(),
        Arc::clone(&index),
        matcher_config,
    ));
    match matcher.load_stats(&config.data_dir.stats()) {
        Ok(0) => {}
        Ok(loaded) => tracing::info!(loaded, "cached expert stats loaded"),
        Err(err) => tracing::warn!(%err, "could not load the saved expert stats; starting cold"),
    }
    Ok(Some(Search {
        readiness: SearchReadiness::new(store.last_seq()),
        index,
        matcher,
    }))
}

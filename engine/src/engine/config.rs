//! How an [`Engine`](super::Engine) is opened: the data directory's layout,
//! whether and with which sentence model it serves search, and the policies
//! every use case shares. Defaults are the product's; every field can be set
//! by the binary's configuration or by a test.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use droply_index::TextEmbedder;
use droply_index::embedder::model_dir_in;

use crate::accounts::{HashingLimits, LoginThrottleConfig};
use crate::availability::SlotPolicy;
use crate::calendar::CalendarConfig;
use crate::content::ContentConfig;
use crate::matching::MatcherConfig;
use crate::payments::PaymentsConfig;
use crate::reviews::ReviewPolicy;
use crate::search_index::SearchIndexConfig;
use crate::video::VideoConfig;

/// Where everything of one Droply lives: `store/` (the sled store),
/// `search/` (the derived indexes), `content/` (files creators sell),
/// `models/` (sentence model files), and two files the command line keeps:
/// `.lock` (held by the `droply` process using the directory) and
/// `store-instance` (the instance key of the store the directory belongs to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir(PathBuf);

impl DataDir {
    /// The data directory at `path` (created when the engine opens).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DataDir(path.into())
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Where the sled store lives.
    pub fn store(&self) -> PathBuf {
        self.0.join("store")
    }

    /// Where the search indexes live.
    pub fn search(&self) -> PathBuf {
        crate::search_index::search_dir(&self.0)
    }

    /// Where the matcher's cached expert stats are saved between runs.
    pub fn stats(&self) -> PathBuf {
        self.search().join("stats.bin")
    }

    /// Where the sentence model's files are kept by default.
    pub fn model(&self) -> PathBuf {
        model_dir_in(&self.0)
    }

    /// The file a `droply` process holds a lock on while it uses this directory.
    pub fn lock_file(&self) -> PathBuf {
        self.0.join(".lock")
    }

    /// The file that names the store this directory belongs to: its
    /// instance key ([`Store::instance_key`](crate::Store::instance_key)).
    pub fn store_marker(&self) -> PathBuf {
        self.0.join("store-instance")
    }
}

/// Whether the engine serves search, and with what embedder.
#[derive(Clone, Default)]
pub enum SearchSetup {
    /// No search index: search routes answer `SearchUnavailable`.
    #[default]
    Off,
    /// Load all-MiniLM-L6-v2 from this directory (`None`: the data
    /// directory's `models/all-MiniLM-L6-v2`).
    Model(Option<PathBuf>),
    /// Embed with this embedder (tests, evaluations).
    Embedder(Arc<dyn TextEmbedder>),
}

impl std::fmt::Debug for SearchSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchSetup::Off => f.write_str("Off"),
            SearchSetup::Model(dir) => f.debug_tuple("Model").field(dir).finish(),
            SearchSetup::Embedder(_) => f.write_str("Embedder(..)"),
        }
    }
}

/// Everything [`Engine::open`](super::Engine::open) needs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The data directory.
    pub data_dir: DataDir,
    /// Search on or off, and the embedder.
    pub search: SearchSetup,
    /// How the search index is built and follows the store.
    pub search_index: SearchIndexConfig,
    /// Query embeddings kept in the embedder's cache (a loaded model only).
    pub query_cache: usize,
    /// Ranking settings. Its `slot_policy` is replaced by [`EngineConfig::slot_policy`],
    /// so that bookings and ranking read one policy.
    pub matcher: MatcherConfig,
    /// The rules of slots and bookings: buffers, notice and grid, booking
    /// lengths, and how long and how many unpaid bookings may hold slots.
    pub slot_policy: SlotPolicy,
    /// How often expired sign-in sessions are deleted in the background
    /// (`None`: never; the binary sets it, tests usually do not).
    pub session_sweep_every: Option<Duration>,
    /// How often bookings whose unpaid hold lapsed are cancelled in the
    /// background (`None`: never; the binary sets it). A lapsed hold blocks
    /// nobody even before the sweep cancels it.
    pub hold_sweep_every: Option<Duration>,
    /// How often drop-ins past the time they end by themselves are recorded
    /// as ended in the background (`None`: never; the binary sets it). One
    /// past that time refuses joins and messages even before the sweep.
    pub dropin_sweep_every: Option<Duration>,
    /// How often the matcher's cached expert stats are saved for the next start
    /// (`None`: only at shutdown; the binary sets it).
    pub stats_save_every: Option<Duration>,
    /// How many password hashes (sign-up, sign-in) run at once, and how long
    /// one waits for a turn before it is refused as overloaded.
    pub password_hashing: HashingLimits,
    /// Failed sign-ins allowed per (client, email) pair, for how long, and
    /// how many pairs are remembered.
    pub login_throttle: LoginThrottleConfig,
    /// Stripe (or none), the platform fee, the earnings hold, the refund
    /// policy and the payment sweeps.
    pub payments: PaymentsConfig,
    /// How long after a session it may be reviewed.
    pub reviews: ReviewPolicy,
    /// Content file limits and view counting.
    pub content: ContentConfig,
    /// Daily.co (or none: the WebRTC fallback), the meeting window and the
    /// room job.
    pub video: VideoConfig,
    /// Google Calendar (or none), the token key and the sync's timing.
    pub calendar: CalendarConfig,
    /// Whether opening deletes the files under `content/` that no content
    /// row names (what a crash left). `droply verify`, which only reads,
    /// turns it off.
    pub sweep_orphan_files: bool,
}

impl EngineConfig {
    /// The product's defaults over `data_dir`, without search and without
    /// background jobs.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        EngineConfig {
            data_dir: DataDir::new(data_dir),
            search: SearchSetup::Off,
            search_index: SearchIndexConfig::default(),
            query_cache: 4096,
            matcher: MatcherConfig::default(),
            slot_policy: SlotPolicy::default(),
            session_sweep_every: None,
            hold_sweep_every: None,
            dropin_sweep_every: None,
            stats_save_every: None,
            password_hashing: HashingLimits::default(),
            login_throttle: LoginThrottleConfig::default(),
            payments: PaymentsConfig::default(),
            reviews: ReviewPolicy::default(),
            content: ContentConfig::default(),
            video: VideoConfig::default(),
            calendar: CalendarConfig::default(),
            sweep_orphan_files: true,
        }
    }
}

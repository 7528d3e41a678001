//! Droply's engine: the sled store (the source of truth) with a typed
//! repository per entity, the search index that follows the store, the
//! matching engine over it, and the domain services, all behind one
//! [`Engine`] opened from one [`EngineConfig`]. The modules stay public for
//! the engine's own tests, the benches and the lab (the demo marketplace
//! generator and the evaluation, in the `droply-lab` crate on top of this
//! one); the service uses the [`Engine`].

/// Declares the id of an engine-internal row (sessions, payments, ledger
/// entries, ...): a typed id like the model's, that the store keys rows by.
macro_rules! engine_record_id {
    ($(#[$meta:meta])* pub struct $name:ident;) => {
        droply_models::typed_id! {
            $(#[$meta])*
            pub struct $name;
        }

        impl $crate::store::RecordId for $name {
            fn raw(self) -> u64 {
                self.get()
            }
            fn from_raw(raw: u64) -> Self {
                $name::new(raw)
            }
        }
    };
}

pub mod accounts;
pub mod availability;
pub mod booking;
pub mod calendar;
pub mod codes;
pub mod content;
pub mod dropins;
pub mod embedding;
mod engine;
pub mod error;
pub mod idempotency_key;
pub mod import;
pub mod matching;
pub mod payments;
pub mod records;
pub mod reviews;
pub mod search_index;
pub mod store;
#[cfg(test)]
mod test_rows;
pub mod video;

pub use engine::{
    BookingCreated, ContentBought, ContentDetails, ContentFile, DataDir, Earnings, Engine,
    EngineConfig, LATEST_REWARDS, MAX_MATCHES_PER_CALL, Readiness, Recommendation, RewardsSummary,
    SearchReadinessInfo, SearchSetup, VerifyReport,
};
pub use error::{Error, Result};
pub use search_index::SearchIndex;
pub use store::{Page, PageRequest, Store};

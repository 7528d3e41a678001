//! Droply's engine: the sled store (the source of truth) with a typed
//! repository per entity, the search index that follows the store, the
//! matching engine over it, and the domain services. The demo marketplace
//! generator and the evaluation live in the `droply-lab` crate, on top of
//! this one.

pub mod accounts;
pub mod availability;
pub mod booking;
pub mod error;
pub mod import;
pub mod matching;
pub mod records;
pub mod search_index;
pub mod store;

pub use error::{Error, Result};
pub use search_index::SearchIndex;
pub use store::{Page, PageRequest, Store};

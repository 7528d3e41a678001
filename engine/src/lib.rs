//! Droply's engine: the sled store (the source of truth) with a typed
//! repository per entity, and the demo marketplace generator. Matching and the
//! domain services build on these.

pub mod accounts;
pub mod availability;
pub mod booking;
pub mod demo;
pub mod error;
pub mod import;
pub mod records;
pub mod search_index;
pub mod store;

pub use error::{Error, Result};
pub use search_index::SearchIndex;
pub use store::{Page, PageRequest, Store};

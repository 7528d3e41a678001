//! One module per page or group of pages, each with its own router.

pub mod auth;
pub mod search;

//! One module per page or group of pages, each with its own router.

pub mod account;
pub mod auth;
pub mod content;
pub mod dropin;
pub mod search;

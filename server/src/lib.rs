//! The Droply service: the `droply` command line and the HTTP API over the engine.
//!
//! `cli` holds one module per command, `http` the API, `telemetry` installs the
//! log subscriber, and `error` the crate's one error type.

pub mod cli;
pub mod error;
pub mod http;
pub mod telemetry;

pub use error::{Error, Result};

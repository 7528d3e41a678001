//! The Droply service: the `droply` command line and the HTTP API over the engine.
//!
//! `cli` holds one module per command, `http` the API, `startup` serves an
//! engine over HTTP (for `droply serve` and the tests alike), `telemetry`
//! installs the log subscriber, and `error` the crate's one error type.

pub mod cli;
pub mod error;
pub mod http;
pub mod startup;
pub mod telemetry;

pub use error::{Error, Result};

//! The Droply service: the `droply` command line and the HTTP API over the engine.
//!
//! `cli` holds one module per command, `http` the API, `pages` the web pages over the same engine, `startup` serves an
//! engine over HTTP (for `droply serve` and the tests alike) through the
//! accept loop of `serve_loop` and the connection cap of `connection_slots`,
//! `limits` every limit enforced at the edge, `telemetry` installs the log
//! subscriber, and `error` the crate's one error type.

mod busy_body;
pub mod cli;
pub mod connection_slots;
pub mod error;
pub mod http;
pub mod limits;
pub mod pages;
pub mod serve_loop;
pub mod startup;
pub mod telemetry;

pub use error::{Error, Result};

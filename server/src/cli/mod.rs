//! The `droply` command line: one module per command.

mod calendar;
mod data_dir;
mod demo;
mod dir_lock;
mod embed;
mod eval;
mod import;
mod limits;
mod migrate;
mod model;
mod payments;
mod reindex;
mod secret_values;
mod serve;
mod store_marker;
mod urls;
mod verify;
mod video;

use clap::{Parser, Subcommand};

use crate::Result;
use crate::telemetry::LogFormat;

/// Droply: find, book and pay experts. Search engine, store and HTTP service.
#[derive(Debug, Parser)]
#[command(name = "droply", version, about)]
pub struct Cli {
    /// How log lines on stderr are written: `text` for people, `json` (one object
    /// per line) for log collectors.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = LogFormat::Text,
        env = "DROPLY_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `droply`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Embed JSON lines `{"text": ...}` from stdin into `{"embedding": [...]}` lines on stdout.
    Embed(embed::EmbedArgs),
    /// Manage the sentence model files.
    Model(model::ModelArgs),
    /// Run the HTTP service.
    Serve(Box<serve::ServeArgs>),
    /// Load a JSON-lines file of users and related rows into the store.
    Import(import::ImportArgs),
    /// Write the generated demo marketplace as JSON lines.
    Demo(demo::DemoArgs),
    /// Rebuild the search indexes from the store.
    Reindex(reindex::ReindexArgs),
    /// Measure ranking quality on a BEIR dataset or the demo marketplace.
    Eval(eval::EvalArgs),
    /// Check that the store's indexes and the search index agree with the rows.
    Verify(verify::VerifyArgs),
    /// Copy a whole store into an empty one (sled into PostgreSQL or back), checked row by row.
    Migrate(migrate::MigrateArgs),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Embed(args) => embed::run(args),
        Command::Model(args) => model::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Import(args) => import::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Reindex(args) => reindex::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Migrate(args) => migrate::run(args),
    }
}

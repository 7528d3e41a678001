//! `droply import FILE`: loads a JSON-lines file of users and related rows
//! into the store, with a progress bar on stderr. Paid content purchases
//! imported without payments get theirs, with their ledger rows and
//! referral rewards, under the default fee and referral rules.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use clap::Args;
use droply_engine::import::import_lines;
use droply_engine::payments::{PaymentsConfig, open_imported_sales};
use indicatif::{ProgressBar, ProgressStyle};

use super::data_dir::DataDirArgs;
use super::store_marker::Access;
use crate::Result;

/// Arguments of `droply import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The JSON-lines file: one `{"kind": "...", "row": {...}}` per line.
    pub file: PathBuf,
    /// Where the store lives.
    #[command(flatten)]
    pub data: DataDirArgs,
}

/// Runs `droply import`.
pub fn run(args: ImportArgs) -> Result<()> {
    let (_data_dir_lock, store) = args.data.open_store(Access::Write)?;
    let file = File::open(&args.file)?;
    let total = file.metadata()?.len();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let stats = import_lines(&store, BufReader::new(file), |bytes| {
        bar.set_position(bytes)
    })?;
    bar.finish_and_clear();
    let sales = open_imported_sales(&store, &PaymentsConfig::default())?;
    for (kind, rows) in &stats.rows_by_kind {
        println!("{:<24} {rows}", kind.name());
    }
    println!("imported {} rows from {}", stats.rows, args.file.display());
    if sales > 0 {
        println!("opened the payments and ledger rows of {sales} paid content sales");
    }
    Ok(())
}

//! `droply import FILE`: loads a JSON-lines file of users and related rows
//! into the store, with a progress bar on stderr. Paid content purchases
//! imported without payments get theirs, with their ledger rows and
//! referral rewards, under the default fee and referral rules.
//!
//! An import killed midway (kill -9, power loss) or stopped by a bad line
//! is finished by running it again: the store records how far it got, in
//! the same transaction as each batch, and the rerun skips the rows already
//! committed (the file must begin with them: a fixed later line is fine).
//! While one is unfinished another file is refused, unless
//! `--abandon-unfinished` lets the unfinished one go (its rows stay).
//!
//! Running a completed import again is safe: a file with exactly the rows
//! of an import the store completed (recognised by their hash chain,
//! whatever the file is called) is reported as already imported and writes
//! nothing, while a different file whose rows clash with the store's is
//! refused on the first of them, with its line.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use clap::Args;
use droply_engine::import::{
    abandon_unfinished_import, already_imported, complete_import, import_lines,
};
use droply_engine::payments::{PaymentsConfig, open_imported_sales};
use indicatif::{ProgressBar, ProgressStyle};

use super::data_dir::DataDirArgs;
use super::store_marker::Access;
use crate::{Error, Result};

/// Arguments of `droply import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The JSON-lines file: one `{"kind": "...", "row": {...}}` per line
    /// (may be left out with `--abandon-unfinished`, which then only abandons).
    #[arg(required_unless_present = "abandon_unfinished")]
    pub file: Option<PathBuf>,
    /// Forget the store's unfinished import first (when its file is lost or
    /// not to be finished): the rows it committed stay, and FILE, if given,
    /// is imported afresh.
    #[arg(long)]
    pub abandon_unfinished: bool,
    /// Where the store lives.
    #[command(flatten)]
    pub data: DataDirArgs,
}

/// Runs `droply import`.
pub fn run(args: ImportArgs) -> Result<()> {
    // The file is opened before the store, so a mistyped one creates no
    // data directory.
    let first_read = args.file.as_deref().map(open_file).transpose()?;
    let (_data_dir_lock, store) = args.data.open_store(Access::Write)?;
    if args.abandon_unfinished {
        match abandon_unfinished_import(&store)? {
            Some(abandoned) => println!("abandoned {abandoned}; its rows stay"),
            None => println!("no unfinished import to abandon"),
        }
    }
    let (Some(path), Some(first_read)) = (&args.file, first_read) else {
        return Ok(());
    };
    let source = path.display().to_string();
    if let Some(done) = already_imported(&store, BufReader::new(first_read))? {
        println!("already imported, nothing to do: {source} holds the rows of {done}");
        return Ok(());
    }
    let file = open_file(path)?;
    let total = file.metadata()?.len();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let stats = import_lines(&store, &source, BufReader::new(file), |bytes| {
        bar.set_position(bytes)
    })?;
    bar.finish_and_clear();
    // Opening sales is idempotent, so a rerun after a crash here opens the
    // rest; only then is the import recorded as complete.
    let sales = open_imported_sales(&store, &PaymentsConfig::default())?;
    complete_import(&store, &stats)?;
    if stats.skipped > 0 {
        println!(
            "resumed an unfinished import: its first {} rows were committed before",
            stats.skipped
        );
    }
    for (kind, rows) in &stats.rows_by_kind {
        println!("{:<24} {rows}", kind.name());
    }
    println!("imported {} rows from {source}", stats.rows);
    if sales > 0 {
        println!("opened the payments and ledger rows of {sales} paid content sales");
    }
    Ok(())
}

/// Opens the file to import; an error names it.
fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|err| Error::Config(format!("cannot read {}: {err}", path.display())))
}

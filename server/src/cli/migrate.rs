//! `droply migrate --from STORE --to STORE`: copies a whole store into an
//! empty one, sled into PostgreSQL or back, keeping every id, then reads
//! every row back from the copy and compares it with the original. The
//! store's instance key, secret key (under which the sign-in throttle's and
//! the counted views' rows are keyed) and import marker go with the rows,
//! so an import cut short before the copy is finished by running it again
//! against the copy. The content files go along: from the data directory
//! into the database, or back, each checked against its row's size and
//! hash. The id counter goes along too, so no id of a row deleted before
//! the copy is given again. Run it with the service stopped: the data
//! directory's lock refuses it while a `droply` process holds the
//! directory, a PostgreSQL source is refused while a node runs on it, and
//! the copy fails if the source changed while it ran. The target is marked
//! as a copy under way until rows and files are copied and checked: one cut
//! short is refused by `serve` and by another migrate until it is emptied.
//! The data directory's search index manifest is removed (the copy's change
//! feed is numbered anew), so the next `serve` rebuilds the index. Prints
//! one JSON line: rows per entity, rows checked, files copied, the id
//! counter and the import marker carried (never the secret key). A store's
//! URL may carry its password: a bad `--from` or `--to` is refused without
//! repeating it.

use std::path::PathBuf;

use clap::Args;
use droply_engine::content::{check_files_to_copy, copy_files};
use droply_engine::records::StoreCopy;
use droply_engine::search_index::Manifest;
use droply_engine::store::StoreLocation;
use droply_engine::{DataDir, Store};

use super::dir_lock::DataDirLock;
use super::secret_values::store_location;
use crate::Result;

/// Arguments of `droply migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The store to copy: `sled:DIR` or a `postgres://` URL.
    #[arg(long, value_parser = store_location())]
    pub from: StoreLocation,
    /// The empty store to copy into: `sled:DIR` or a `postgres://` URL.
    #[arg(long, value_parser = store_location())]
    pub to: StoreLocation,
    /// The data directory whose `content/` holds the sled side's content
    /// files.
    #[arg(long, env = "DROPLY_DATA_DIR", default_value = "droply-data")]
    pub data_dir: PathBuf,
}

/// Runs `droply migrate`.
pub fn run(args: MigrateArgs) -> Result<()> {
    let layout = DataDir::new(&args.data_dir);
    let _data_dir_lock = DataDirLock::take(&layout)?;
    let from = Store::open_at(&args.from)?;
    let to = Store::open_at(&args.to)?;
    check_files_to_copy(&from, &to, &args.data_dir)?;
    // Holds the source's jobs lease (PostgreSQL) until `from` drops, at the end.
    let copy = StoreCopy::start(&from, &to)?;
    // The copy's change feed is numbered anew: an index that followed the
    // source's would be trusted at the wrong place. The next serve rebuilds.
    let search = layout.search();
    if search.exists() {
        Manifest::remove(&search)?;
    }
    let report = copy.copy_rows()?;
    let files = copy_files(&from, &to, &args.data_dir)?;
    to.flush()?;
    copy.finish()?;
    if let Some(unfinished) = report.import.as_ref().filter(|import| !import.complete) {
        tracing::warn!(
            %unfinished,
            "the copy holds an unfinished import: run it again against the copy to finish it"
        );
    }
    let rows: serde_json::Map<String, serde_json::Value> = report
        .rows
        .iter()
        .map(|(entity, rows)| ((*entity).to_owned(), (*rows).into()))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "from": from.describe(),
            "to": to.describe(),
            "rows": report.total(),
            "checked": report.checked,
            "next_id": report.next_id,
            "files": files,
            "by_entity": rows,
            "import": report.import,
        })
    );
    Ok(())
}

//! `droply migrate --from STORE --to STORE`: copies a whole store into an
//! empty one, sled into PostgreSQL or back, keeping every id, then reads
//! every row back from the copy and compares it with the original. The
//! store's instance key, secret key (under which the sign-in throttle's and
//! the counted views' rows are keyed) and import marker go with the rows,
//! so an import cut short before the copy is finished by running it again
//! against the copy. The content files go along: from the data directory
//! into the database, or back, each checked against its row's size and
//! hash. Run it with the service stopped (the data directory's lock refuses
//! it while a `droply` process holds the directory). Prints one JSON line:
//! rows per entity, rows checked, files copied, the import marker carried
//! (never the secret key). A store's URL may carry its password: a bad
//! `--from` or `--to` is refused without repeating it.

use std::path::PathBuf;

use clap::Args;
use droply_engine::content::{check_files_to_copy, copy_files};
use droply_engine::records::copy_store;
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
    let _data_dir_lock = DataDirLock::take(&DataDir::new(&args.data_dir))?;
    let from = Store::open_at(&args.from)?;
    let to = Store::open_at(&args.to)?;
    check_files_to_copy(&from, &to, &args.data_dir)?;
    let report = copy_store(&from, &to)?;
    let files = copy_files(&from, &to, &args.data_dir)?;
    to.flush()?;
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
            "files": files,
            "by_entity": rows,
            "import": report.import,
        })
    );
    Ok(())
}

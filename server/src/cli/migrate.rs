//! `droply migrate --from STORE --to STORE`: copies a whole store into an
//! empty one, sled into PostgreSQL or back, keeping every id, then reads
//! every row back from the copy and compares it with the original. Run it
//! with the service stopped. Prints one JSON line: rows per entity, rows
//! checked.

use clap::Args;
use droply_engine::Store;
use droply_engine::records::copy_store;
use droply_engine::store::StoreLocation;

use crate::Result;

/// Arguments of `droply migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The store to copy: `sled:DIR` or a `postgres://` URL.
    #[arg(long)]
    pub from: StoreLocation,
    /// The empty store to copy into: `sled:DIR` or a `postgres://` URL.
    #[arg(long)]
    pub to: StoreLocation,
}

/// Runs `droply migrate`.
pub fn run(args: MigrateArgs) -> Result<()> {
    let from = Store::open_at(&args.from)?;
    let to = Store::open_at(&args.to)?;
    let report = copy_store(&from, &to)?;
    to.flush()?;
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
            "by_entity": rows,
        })
    );
    Ok(())
}

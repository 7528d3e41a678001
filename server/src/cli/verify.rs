//! `droply verify`: opens a data directory (refused while the service, or
//! any other `droply` process, holds it) and checks that everything
//! derived agrees with the rows: the store's relationship indexes and
//! unique keys, and, unless `--no-search`, the search index against a
//! rebuild once it has caught up. Prints one JSON line; fails when anything
//! disagrees. Crash tests run it after each kill. It only reads: it never
//! sweeps `content/` and never marks a data directory for its store (a
//! directory another store's marker names is refused).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use droply_engine::{Engine, EngineConfig, SearchSetup};

use super::data_dir::DataDirArgs;
use super::store_marker::Access;
use crate::{Error, Result};

/// The longest `--wait-secs` (a week): a larger one overflowed the clock
/// ("overflow when adding duration to instant").
const MAX_WAIT_SECS: u64 = 7 * 24 * 3600;

/// Arguments of `droply verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Where the store and the indexes live.
    #[command(flatten)]
    pub data: DataDirArgs,
    /// Directory of the model files [default: <data-dir>/models/all-MiniLM-L6-v2].
    #[arg(long, env = "DROPLY_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// Check the store only.
    #[arg(long)]
    pub no_search: bool,
    /// How long the search index may take to catch up, in seconds (at most
    /// a week).
    #[arg(
        long,
        default_value_t = 120,
        value_parser = clap::value_parser!(u64).range(0..=MAX_WAIT_SECS)
    )]
    pub wait_secs: u64,
}

/// Runs `droply verify`.
pub fn run(args: VerifyArgs) -> Result<()> {
    let (_data_dir_lock, store) = args.data.open_store(Access::ReadOnly)?;
    let search = if args.no_search {
        SearchSetup::Off
    } else {
        SearchSetup::Model(args.model_dir.clone())
    };
    let config = EngineConfig {
        search,
        sweep_orphan_files: false,
        ..EngineConfig::new(&args.data.data_dir)
    };
    let engine = Engine::over(store, config)?;
    let verified = engine.verify(Duration::from_secs(args.wait_secs));
    engine.shutdown()?;
    let report = verified?;
    let search_problems: &[String] = report
        .search
        .as_ref()
        .map_or(&[], |parity| parity.problems.as_slice());
    println!(
        "{}",
        serde_json::json!({
            "consistent": report.is_consistent(),
            "rows": report.store.rows,
            "entries": report.store.entries,
            "store_problems": report.store.problems,
            "experts": report.search.as_ref().map(|parity| parity.experts),
            "content": report.search.as_ref().map(|parity| parity.content),
            "search_problems": search_problems,
        })
    );
    if report.is_consistent() {
        Ok(())
    } else {
        Err(Error::Config(
            "the data directory is inconsistent (see the report)".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::MAX_WAIT_SECS;
    use crate::cli::Cli;

    fn verify_waiting(secs: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(["droply", "verify", "--wait-secs", secs])
    }

    /// Regression: `verify --wait-secs 18446744073709551615` panicked with
    /// "overflow when adding duration to instant".
    #[test]
    fn a_wait_past_the_bound_is_refused() {
        let past = (MAX_WAIT_SECS + 1).to_string();
        for refused in ["18446744073709551615", past.as_str()] {
            let err = verify_waiting(refused).expect_err(refused).to_string();
            assert!(err.contains("--wait-secs"), "{err}");
        }
        verify_waiting(&MAX_WAIT_SECS.to_string()).expect("the most");
        verify_waiting("0").expect("no wait");
    }
}

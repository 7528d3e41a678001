//! `droply demo`: writes a generated demo marketplace as JSON lines for
//! `droply import`, and optionally its ground truth (for ranking
//! evaluation) and the expert profile texts an index would embed. One
//! bound on its size, [`MAX_USERS`], holds here and for `serve --demo`
//! ([`serve_experts`]), whose loading of the marketplace lives here too
//! ([`load_unless_loaded`]): into an empty store, or finishing a load that
//! a crash cut short, never skipping a half-loaded one.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use clap::builder::RangedU64ValueParser;
use droply_engine::Store;
use droply_engine::content::ContentFiles;
use droply_engine::import::{complete_import, import_rows_resumable, unfinished_import};
use droply_engine::payments::{PaymentsConfig, open_imported_sales, reward_sweep};
use droply_lab::demo::{DemoConfig, DemoMarketplace, content_file, profile_text, try_generate};
use droply_models::User;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::{Error, Result};

/// Most users one run may generate.
const MAX_USERS: usize = 5_000_000;

/// The values `serve --demo-experts` takes: 1 up to what keeps the
/// marketplace, with the demo's clients, within [`MAX_USERS`] (a larger
/// count overflowed or exhausted memory in the generator).
pub fn serve_experts() -> RangedU64ValueParser<usize> {
    let most = MAX_USERS.saturating_sub(DemoConfig::default().clients);
    RangedU64ValueParser::<usize>::new().range(1..=u64::try_from(most).unwrap_or(u64::MAX))
}

/// The source an import of the demo marketplace `config` is recorded under
/// (what an error about an unfinished import names).
fn demo_source(config: &DemoConfig) -> String {
    format!(
        "the demo marketplace ({} experts, {} clients, seed {})",
        config.experts, config.clients, config.seed
    )
}

/// Loads the demo marketplace `config` into `store` for `serve --demo`,
/// unless it is there: into an empty store, or finishing the store's
/// unfinished import (a load a crash cut short), which the demo's rows
/// must continue or it is refused, naming it. A store with users and no
/// unfinished import is left as it is. Returns whether it loaded.
pub fn load_unless_loaded(
    store: &Store,
    data_dir: &Path,
    config: &DemoConfig,
    payments: &PaymentsConfig,
) -> Result<bool> {
    let unfinished = unfinished_import(store)?;
    // A store that cannot say how many users it holds is never taken for empty.
    if unfinished.is_none() && store.try_count::<User>()? > 0 {
        return Ok(false);
    }
    if let Some(unfinished) = &unfinished {
        tracing::info!(%unfinished, "finishing an unfinished import with the demo marketplace");
    }
    load(store, data_dir, config, payments)?;
    Ok(true)
}

/// Generates the demo marketplace into `store` (resuming after the rows an
/// earlier, unfinished load committed), and the files of its content under
/// `data_dir` and in a shared store (written before the engine opens, so
/// its sweep of unrecorded files finds them recorded). Its paid sales are
/// opened under `payments`' rules (payments, ledger rows, referral
/// rewards), and the rewards whose hold was over at the demo's `now` are
/// credited. Each step after the rows is idempotent, and the import is
/// marked complete only after the last, so a rerun after a crash anywhere
/// finishes the load.
fn load(
    store: &Store,
    data_dir: &Path,
    config: &DemoConfig,
    payments: &PaymentsConfig,
) -> Result<()> {
    tracing::info!(experts = config.experts, "generating the demo marketplace");
    let market = try_generate(config)?;
    let rows: Vec<_> = market.rows().collect();
    let bar = ProgressBar::new(rows.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} loading demo [{bar:40}] {pos}/{len} rows ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let stats = import_rows_resumable(store, &demo_source(config), rows, |done| {
        bar.set_position(done)
    })?;
    bar.finish_and_clear();
    let sales = open_imported_sales(store, payments)?;
    let rewards = reward_sweep(store, &payments.referrals, config.now)?;
    let files = ContentFiles::open(data_dir, store)?;
    for content in &market.content {
        files.place(&content.file_path, &content_file(content))?;
    }
    complete_import(store, &stats)?;
    tracing::info!(
        rows = stats.rows,
        resumed_after = stats.skipped,
        files = market.content.len(),
        sales,
        rewards_credited = rewards,
        "demo marketplace loaded"
    );
    Ok(())
}

/// Arguments of `droply demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the JSON lines (one `{"kind": ..., "row": ...}` per line).
    #[arg(long)]
    pub out: PathBuf,
    /// How many experts to generate.
    #[arg(long, default_value_t = 10_000)]
    pub experts: usize,
    /// How many clients to generate.
    #[arg(long, default_value_t = 2_000)]
    pub clients: usize,
    /// Seed of every random choice; the same seed gives the same file.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also write the ground truth (interest profiles, held-out favourites,
    /// judged evaluation queries) as JSON to this file.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Also write the first experts' profile texts, one `{"text": ...}` per line.
    #[arg(long)]
    pub profile_texts: Option<PathBuf>,
    /// How many profile texts to write.
    #[arg(long, default_value_t = 2_000)]
    pub profile_texts_limit: usize,
}

/// One line of the profile-text fixture.
#[derive(Serialize)]
struct TextLine<'a> {
    text: &'a str,
}

/// Runs `droply demo`.
pub fn run(args: DemoArgs) -> Result<()> {
    let users = args.experts.saturating_add(args.clients);
    if users == 0 || users > MAX_USERS {
        return Err(Error::Config(format!(
            "--experts plus --clients must be 1 to {MAX_USERS}, not {users}"
        )));
    }
    let config = DemoConfig {
        experts: args.experts,
        clients: args.clients,
        seed: args.seed,
        ..DemoConfig::default()
    };
    let started = Instant::now();
    let market = try_generate(&config)?;
    let generated = started.elapsed();

    let rows = write_to(&args.out, |out| market.write_jsonl(out))?;
    println!(
        "wrote {rows} rows to {} ({} users, {} favorites, {} interactions, {} bookings; generated in {:.2} s)",
        args.out.display(),
        market.users.len(),
        market.favorites.len(),
        market.interactions.len(),
        market.bookings.len(),
        generated.as_secs_f64()
    );
    if let Some(path) = &args.truth {
        write_to(path, |out| market.truth.write_json(out))?;
        println!(
            "wrote the truth ({} clients, {} queries) to {}",
            market.truth.clients.len(),
            market.truth.queries.len(),
            path.display()
        );
    }
    if let Some(path) = &args.profile_texts {
        let lines = write_to(path, |out| {
            write_profile_texts(&market, args.profile_texts_limit, out)
        })?;
        println!("wrote {lines} profile texts to {}", path.display());
    }
    Ok(())
}

/// Creates `path` and hands `write` a buffered writer to it.
fn write_to<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<T>,
) -> Result<T> {
    let mut out = BufWriter::new(File::create(path)?);
    let value = write(&mut out)?;
    out.flush()?;
    Ok(value)
}

/// Writes the profile texts of the first `limit` experts.
fn write_profile_texts(
    market: &DemoMarketplace,
    limit: usize,
    out: &mut impl Write,
) -> std::io::Result<u64> {
    let mut lines = 0;
    for expert in market.experts().take(limit) {
        let text = profile_text(expert);
        serde_json::to_writer(&mut *out, &TextLine { text: &text })
            .map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        lines += 1;
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use droply_engine::Store;
    use droply_engine::import::{BATCH_ROWS, ImportRow, import_rows_resumable, unfinished_import};
    use droply_engine::payments::PaymentsConfig;
    use droply_engine::records::copy_store;
    use droply_lab::demo::{DemoConfig, try_generate};
    use droply_models::User;

    use super::{MAX_USERS, demo_source, load_unless_loaded};
    use crate::cli::Cli;

    fn serve_demo(experts: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(["droply", "serve", "--demo", "--demo-experts", experts])
    }

    /// Regression: `serve --demo --demo-experts 18446744073709551615` (or
    /// 100000000) panicked or aborted in the generator, where `droply demo`
    /// refuses more than [`MAX_USERS`] users.
    #[test]
    fn serve_demo_experts_are_held_to_the_demo_bound() {
        let most = MAX_USERS - DemoConfig::default().clients;
        let past = (most + 1).to_string();
        for refused in ["18446744073709551615", "100000000", past.as_str(), "0"] {
            let err = serve_demo(refused).expect_err(refused).to_string();
            assert!(err.contains("--demo-experts"), "{err}");
        }
        serve_demo(&most.to_string()).expect("the most");
        serve_demo("2000").expect("a small one");
    }

    /// Rows per entity, every entity the store keeps (through a copy, which
    /// counts them).
    fn entity_counts(store: &Store) -> Vec<(&'static str, usize)> {
        let copy = Store::open_temporary().expect("a store to count into");
        copy_store(store, &copy).expect("copy").rows
    }

    /// Regression: `serve --demo` killed while loading (kill -9, power
    /// loss) left a half-loaded store, and every later start took it for
    /// loaded (it has users) and served half the demo for good.
    #[test]
    fn serve_demo_finishes_a_load_a_crash_cut_short() {
        let config = DemoConfig {
            experts: 300,
            clients: 10,
            ..DemoConfig::default()
        };
        let payments = PaymentsConfig::default();
        let rows: Vec<ImportRow> = try_generate(&config).expect("demo").rows().collect();
        assert!(rows.len() > BATCH_ROWS + 10, "{} demo rows", rows.len());

        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path().join("store")).expect("store");
        // Cut short in its second batch, as a kill there leaves it: a row
        // already in fails that batch, so only the first one is committed.
        let mut cut: Vec<ImportRow> = rows[..BATCH_ROWS + 10].to_vec();
        cut.push(rows[0].clone());
        import_rows_resumable(&store, &demo_source(&config), cut, |_| {})
            .expect_err("the second batch fails");
        let unfinished = unfinished_import(&store)
            .expect("read")
            .expect("unfinished");
        assert_eq!(unfinished.rows_done, BATCH_ROWS as u64);
        assert!(store.try_count::<User>().expect("users") > 0, "half loaded");

        assert!(
            load_unless_loaded(&store, dir.path(), &config, &payments).expect("finish"),
            "a half-loaded demo is finished, not skipped"
        );
        assert_eq!(unfinished_import(&store).expect("read"), None);
        assert!(
            !load_unless_loaded(&store, dir.path(), &config, &payments).expect("again"),
            "a loaded demo is loaded once"
        );
        let report = store.verify_integrity().expect("check");
        assert!(report.is_consistent(), "{:?}", report.problems);

        let whole_dir = tempfile::tempdir().expect("tempdir");
        let whole = Store::open(whole_dir.path().join("store")).expect("store");
        assert!(load_unless_loaded(&whole, whole_dir.path(), &config, &payments).expect("load"));
        assert_eq!(entity_counts(&store), entity_counts(&whole));
    }

    /// A demo of another size does not continue an unfinished load: it is
    /// refused, naming the unfinished one, and nothing is written.
    #[test]
    fn serve_demo_refuses_to_finish_another_demo_s_load() {
        let config = DemoConfig {
            experts: 300,
            clients: 10,
            ..DemoConfig::default()
        };
        let rows: Vec<ImportRow> = try_generate(&config).expect("demo").rows().collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path().join("store")).expect("store");
        let mut cut: Vec<ImportRow> = rows[..BATCH_ROWS + 1].to_vec();
        cut.push(rows[0].clone());
        import_rows_resumable(&store, &demo_source(&config), cut, |_| {})
            .expect_err("the second batch fails");
        let users = store.try_count::<User>().expect("users");

        let other = DemoConfig {
            experts: 310,
            ..config
        };
        let refused = load_unless_loaded(&store, dir.path(), &other, &PaymentsConfig::default())
            .expect_err("another demo");
        let message = refused.to_string();
        assert!(
            message.contains("unfinished import") && message.contains("300 experts"),
            "{message}"
        );
        assert_eq!(store.try_count::<User>().expect("users"), users);
    }
}

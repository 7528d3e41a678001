//! `droply demo`: writes a generated demo marketplace as JSON lines for
//! `droply import`, and optionally its ground truth (for ranking
//! evaluation) and the expert profile texts an index would embed. One
//! bound on its size, [`MAX_USERS`], holds here and for `serve --demo`
//! ([`serve_experts`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use clap::builder::RangedU64ValueParser;
use droply_lab::demo::{DemoConfig, DemoMarketplace, profile_text, try_generate};
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
    use droply_lab::demo::DemoConfig;

    use super::MAX_USERS;
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
}

//! `droply eval`: measures ranking quality and prints one JSON line per run.
//!
//! - `--dataset DIR --qrels FILE` indexes a BEIR-format collection through the product's
//!   text and vector indexes and fusion, runs its judged queries and reports nDCG@10,
//!   recall@100, MRR@10 and latency percentiles. Document embeddings are cached under
//!   `<data-dir>/eval`. Several `--semantic-ratio` values (comma-separated) print one
//!   line each, for tuning.
//! - `--demo` generates the demo marketplace into `<data-dir>/eval-demo-<experts>-<seed>`
//!   (kept for the next run of the same size), indexes it and runs the domain evaluation
//!   (search modes, signals, personalization).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use droply_engine::embedding::{Precision, TextEmbedder};
use droply_engine::import::import_rows;
use droply_engine::matching::{Fusion, Matcher, MatcherConfig, SignalWeights};
use droply_engine::search_index::SearchIndexConfig;
use droply_engine::{SearchIndex, Store};
use droply_lab::demo::{DemoConfig, try_generate};
use droply_lab::eval::{BeirDataset, BeirIndexes, EvalMode, evaluate_demo};

use super::data_dir::DataDirArgs;
use super::demo::serve_experts;
use super::model::{load_embedder, model_dir};
use crate::{Error, Result};

/// Arguments of `droply eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A BEIR-format folder (corpus.jsonl, queries.jsonl).
    #[arg(long, required_unless_present = "demo")]
    pub dataset: Option<PathBuf>,
    /// The judgements (TSV: query-id, corpus-id, score).
    #[arg(long, required_unless_present = "demo")]
    pub qrels: Option<PathBuf>,
    /// Evaluate the matcher on the generated demo marketplace instead.
    #[arg(long, conflicts_with_all = ["dataset", "qrels"])]
    pub demo: bool,
    /// Experts in the demo marketplace (the bound of `serve --demo-experts`).
    #[arg(long, default_value_t = 2000, value_parser = serve_experts())]
    pub demo_experts: usize,
    /// Where caches and the demo store go.
    #[command(flatten)]
    pub data: DataDirArgs,
    /// bm25, vector or hybrid.
    #[arg(long, default_value = "hybrid")]
    pub mode: String,
    /// rrf or normalized.
    #[arg(long, default_value = "normalized")]
    pub fusion: String,
    /// The vector share in hybrid mode; a comma-separated list runs each.
    #[arg(long, default_value = "0.5")]
    pub semantic_ratio: String,
    /// Signal weights for the demo evaluation, as JSON (`{"diversity": 0.01}`).
    #[arg(long)]
    pub signal_weights: Option<String>,
    /// Directory of the model files.
    #[arg(long, env = "DROPLY_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// The arithmetic of the embedding batches: `f32`, or `int8` (faster, for bulk
    /// indexing; its vectors stay within cosine 0.995 of the f32 ones).
    #[arg(long, default_value_t = Precision::F32)]
    pub precision: Precision,
}

/// Runs `droply eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let dir = model_dir(args.model_dir.as_deref(), &args.data.data_dir);
    let embedder = load_embedder(&dir, args.precision)?.with_query_cache(4096);
    if args.demo {
        return run_demo(&args, Arc::new(embedder));
    }
    let (Some(dataset), Some(qrels)) = (&args.dataset, &args.qrels) else {
        return Err(Error::Config(
            "--dataset and --qrels are required".to_owned(),
        ));
    };
    let mode = EvalMode::parse(&args.mode).ok_or_else(|| {
        Error::Config(format!(
            "--mode {:?}: use bm25, vector or hybrid",
            args.mode
        ))
    })?;
    let fusion = Fusion::parse(&args.fusion).ok_or_else(|| {
        Error::Config(format!("--fusion {:?}: use rrf or normalized", args.fusion))
    })?;
    let ratios = args
        .semantic_ratio
        .split(',')
        .map(|r| match r.trim().parse::<f32>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
            _ => Err(Error::Config(format!(
                "--semantic-ratio {r:?}: use numbers from 0 to 1"
            ))),
        })
        .collect::<Result<Vec<f32>>>()?;
    let data = BeirDataset::load(dataset, qrels)?;
    let name = dataset.file_name().map_or_else(
        || "dataset".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let cache = embedding_cache(&args.data.data_dir, embedder.precision());
    let indexes = BeirIndexes::build(&name, &data, &embedder, Some(&cache), &|done, total| {
        if done % 512 < 64 || done == total {
            eprintln!("embedded {done}/{total} documents");
        }
    })?;
    for ratio in ratios {
        let report = indexes.evaluate(&data, &embedder, mode, fusion, ratio)?;
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| Error::Config(e.to_string()))?
        );
    }
    Ok(())
}

/// Where the document embeddings of the precision that runs are cached: `eval`, or
/// `eval-int8` for int8. It is the precision the embedder runs, not the one asked for: on a
/// CPU without VNNI an int8 request runs in f32, and its embeddings are f32 ones.
fn embedding_cache(data_dir: &Path, running: Precision) -> PathBuf {
    data_dir.join(match running {
        Precision::F32 => "eval",
        Precision::Int8 => "eval-int8",
    })
}

fn run_demo(args: &EvalArgs, embedder: Arc<dyn TextEmbedder>) -> Result<()> {
    let weights = match &args.signal_weights {
        Some(json) => serde_json::from_str(json)
            .map_err(|err| Error::Config(format!("--signal-weights: {err}")))?,
        None => SignalWeights::default(),
    };
    let config = DemoConfig {
        experts: args.demo_experts,
        clients: (args.demo_experts / 5).max(100),
        ..DemoConfig::default()
    };
    let market = try_generate(&config)?;
    // The store and indexes are kept between runs of the same size (re-ranking settings
    // can then be compared without re-embedding); another size starts over.
    let dir = args
        .data
        .data_dir
        .join(format!("eval-demo-{}-{}", config.experts, config.seed));
    let mut store = Store::open(dir.join("store"))?;
    if store.users().count() != config.experts + config.clients {
        drop(store);
        std::fs::remove_dir_all(&dir)?;
        store = Store::open(dir.join("store"))?;
        import_rows(&store, market.rows(), |_| {})?;
        eprintln!(
            "imported the demo marketplace; indexing {} experts",
            config.experts
        );
    }
    let index = Arc::new(SearchIndex::open(
        &dir,
        store.clone(),
        embedder,
        SearchIndexConfig::default(),
    )?);
    if !index.wait_until_applied(store.last_seq(), Duration::from_secs(3600)) {
        return Err(Error::Config(
            "indexing the demo marketplace did not finish".to_owned(),
        ));
    }
    let matcher = Matcher::new(
        store,
        Arc::clone(&index),
        MatcherConfig {
            now: Some(config.now),
            stats_ttl: Duration::from_secs(3600),
            // Every candidate with its whole record: quality must not depend on
            // what an earlier query happened to cache.
            cold_stats_per_request: usize::MAX,
            weights,
            ..MatcherConfig::default()
        },
    );
    let report = evaluate_demo(&matcher, &market.truth)?;
    println!(
        "{}",
        serde_json::to_string(&report).map_err(|e| Error::Config(e.to_string()))?
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;
    use droply_engine::embedding::Precision;

    use super::embedding_cache;
    use crate::cli::Cli;

    /// The cache folder is chosen by the precision that runs (the caller passes
    /// `embedder.precision()`, not `--precision`: an int8 request that ran in f32, with
    /// no VNNI, filed f32 embeddings under `eval-int8`).
    #[test]
    fn the_embedding_cache_follows_the_precision_that_runs() {
        let data = Path::new("data");
        assert_eq!(embedding_cache(data, Precision::F32), data.join("eval"));
        assert_eq!(
            embedding_cache(data, Precision::Int8),
            data.join("eval-int8")
        );
    }

    /// Regression: `eval --demo-experts` had no bound, and a huge count
    /// overflowed in the generator.
    #[test]
    fn demo_experts_are_held_to_the_demo_bound() {
        for experts in ["18446744073709551615", "0"] {
            let parsed =
                Cli::try_parse_from(["droply", "eval", "--demo", "--demo-experts", experts]);
            assert!(parsed.is_err(), "--demo-experts {experts} was taken");
        }
        assert!(
            Cli::try_parse_from(["droply", "eval", "--demo", "--demo-experts", "2000"]).is_ok()
        );
    }
}

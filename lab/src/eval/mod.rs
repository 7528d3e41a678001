//! Evaluation: how good the ranking is, measured the way the field measures it.
//!
//! `beir` reads a public benchmark in BEIR format; `collection` indexes it through the
//! product's own text and vector indexes and fusion and scores the queries; `metrics`
//! holds nDCG, recall, MRR and percentiles; `domain` evaluates the full matcher on the
//! generated demo marketplace against its ground truth.

mod beir;
mod collection;
mod domain;
mod metrics;

pub use beir::{BeirDataset, BeirDoc, BeirQuery, Qrels, read_qrels};
pub use collection::{BeirIndexes, EvalMode, EvalReport, Latency};
pub use domain::{DomainReport, evaluate_demo};
pub use metrics::{mrr_at, ndcg_at, percentile, recall_at};

//! Reading a BEIR-format dataset: `corpus.jsonl` (`_id`, `title`, `text`),
//! `queries.jsonl` (`_id`, `text`) and a qrels TSV (`query-id`, `corpus-id`, `score`,
//! with a header line). Errors name the file and line.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use droply_engine::{Error, Result};

/// One document of the corpus.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BeirDoc {
    /// The dataset's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Title (may be empty).
    #[serde(default)]
    pub title: String,
    /// Body.
    #[serde(default)]
    pub text: String,
}

/// One query.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BeirQuery {
    /// The dataset's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// What is asked.
    pub text: String,
}

/// Judgements: query id -> document id -> grade (above 0 is relevant).
pub type Qrels = HashMap<String, HashMap<String, u32>>;

/// A dataset: documents, the judged queries and their judgements.
#[derive(Debug, Clone)]
pub struct BeirDataset {
    /// Every document.
    pub corpus: Vec<BeirDoc>,
    /// The queries that have judgements, in file order.
    pub queries: Vec<BeirQuery>,
    /// The judgements.
    pub qrels: Qrels,
}

impl BeirDataset {
    /// Loads `dir/corpus.jsonl`, `dir/queries.jsonl` and `qrels`; keeps only the queries
    /// judged in `qrels`.
    pub fn load(dir: &Path, qrels: &Path) -> Result<Self> {
        let corpus: Vec<BeirDoc> = read_jsonl(&dir.join("corpus.jsonl"))?;
        let qrels = read_qrels(qrels)?;
        let queries: Vec<BeirQuery> = read_jsonl::<BeirQuery>(&dir.join("queries.jsonl"))?
            .into_iter()
            .filter(|q| qrels.contains_key(&q.id))
            .collect();
        if queries.is_empty() {
            return Err(Error::Invalid(
                "no query of queries.jsonl is judged in the qrels file".to_owned(),
            ));
        }
        Ok(BeirDataset {
            corpus,
            queries,
            qrels,
        })
    }
}

fn open(path: &Path) -> Result<std::io::BufReader<std::fs::File>> {
    let file = std::fs::File::open(path)
        .map_err(|err| Error::Invalid(format!("{}: {err}", path.display())))?;
    Ok(std::io::BufReader::new(file))
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for (number, line) in open(path)?.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|err| {
            Error::Invalid(format!("{} line {}: {err}", path.display(), number + 1))
        })?);
    }
    Ok(out)
}

/// Reads a qrels TSV; a first line that does not end in a number is a header.
pub fn read_qrels(path: &Path) -> Result<Qrels> {
    let mut qrels = Qrels::new();
    for (number, line) in open(path)?.lines().enumerate() {
        let line = line?;
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        if line.trim().is_empty() {
            continue;
        }
        let bad = || {
            Error::Invalid(format!(
                "{} line {}: expected query-id, corpus-id, score",
                path.display(),
                number + 1
            ))
        };
        let [query, doc, score] = fields.as_slice() else {
            return Err(bad());
        };
        let Ok(score) = score.parse::<i64>() else {
            if number == 0 {
                continue; // header
            }
            return Err(bad());
        };
        if score > 0 {
            qrels
                .entry((*query).to_owned())
                .or_default()
                .insert((*doc).to_owned(), u32::try_from(score).unwrap_or(u32::MAX));
        }
    }
    Ok(qrels)
}

//! The golden test: every reference text embeds within cosine 0.999 of the vector
//! sentence-transformers computed for it.

use serde_json::Value;

use crate::support::{cosine, embedder, golden_copy, golden_file};

#[test]
fn the_kept_copy_of_the_golden_file_is_the_shared_one() {
    let copy = std::fs::read(golden_copy()).expect("data/fixtures/minilm_reference.json");
    let used = std::fs::read(golden_file()).expect("golden file");
    assert_eq!(
        copy, used,
        "data/fixtures/minilm_reference.json differs from shared/golden"
    );
}

struct Reference {
    text: String,
    tokens: usize,
    embedding: Vec<f32>,
}

fn references() -> Vec<Reference> {
    let path = golden_file();
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let json: Value = serde_json::from_str(&text).expect("golden file is JSON");
    assert_eq!(
        json["model_safetensors_sha256"],
        droply_index::embedder::WEIGHTS_SHA256
    );
    json["texts"]
        .as_array()
        .expect("texts array")
        .iter()
        .map(|item| Reference {
            text: item["text"].as_str().expect("text").to_owned(),
            tokens: item["tokens"].as_u64().expect("tokens") as usize,
            embedding: item["embedding"]
                .as_array()
                .expect("embedding")
                .iter()
                .map(|v| v.as_f64().expect("float") as f32)
                .collect(),
        })
        .collect()
}

#[test]
fn every_golden_text_matches_its_reference() {
    let embedder = embedder();
    let references = references();
    assert!(references.len() >= 20, "too few golden texts");
    let texts: Vec<&str> = references.iter().map(|r| r.text.as_str()).collect();
    let batch = embedder.embed_batch(&texts).expect("embed golden texts");
    let mut failures = Vec::new();
    let mut worst = f32::INFINITY;
    for (reference, got) in references.iter().zip(&batch) {
        assert_eq!(got.len(), droply_index::DIMENSION);
        assert_eq!(
            embedder.token_count(&reference.text).expect("tokenize"),
            reference.tokens,
            "{:?}",
            reference.text
        );
        let similarity = cosine(got, &reference.embedding);
        worst = worst.min(similarity);
        if similarity < 0.999 {
            failures.push(format!("{similarity:.6} {:?}", reference.text));
        }
    }
    eprintln!(
        "{} golden texts, lowest cosine {worst:.6}",
        references.len()
    );
    assert!(
        failures.is_empty(),
        "below cosine 0.999:\n{}",
        failures.join("\n")
    );
}

#[test]
fn queries_match_their_references_one_by_one() {
    let embedder = embedder();
    for reference in references().iter().filter(|r| r.tokens <= 12) {
        let got = embedder.embed_query(&reference.text).expect("embed query");
        let similarity = cosine(&got, &reference.embedding);
        assert!(similarity >= 0.999, "{similarity} for {:?}", reference.text);
    }
}

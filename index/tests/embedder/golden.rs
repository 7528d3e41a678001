//! The golden test: every reference text embeds within cosine 0.999 of the vector
//! sentence-transformers computed for it, and within 0.995 on the opt-in int8 path.

use droply_index::embedder::Precision;
use serde_json::Value;

use crate::support::{cosine, embedder, golden_copy, golden_file, int8_embedder};

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
    assert_golden(embedder(), 0.999);
}

#[test]
fn int8_batches_stay_within_cosine_0_995_of_every_reference() {
    let embedder = int8_embedder();
    // Without VNNI the embedder keeps to f32 (and says so); with it, this is the int8 path.
    let expected = if Precision::Int8.supported() {
        Precision::Int8
    } else {
        Precision::F32
    };
    assert_eq!(embedder.precision(), expected);
    eprintln!("int8 requested, {} runs", embedder.precision());
    assert_golden(embedder, 0.995);
}

/// Embeds every golden text in one batch with `embedder` and checks each against its
/// reference: the same tokens, and at least cosine `floor`.
fn assert_golden(embedder: &droply_index::Embedder, floor: f32) {
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
        if similarity < floor {
            failures.push(format!("{similarity:.6} {:?}", reference.text));
        }
    }
    eprintln!(
        "{} golden texts, lowest cosine {worst:.6}",
        references.len()
    );
    assert!(
        failures.is_empty(),
        "below cosine {floor}:\n{}",
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

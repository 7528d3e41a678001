//! Whether the search index holds exactly what a rebuild from the store
//! would: every expert once in the text index at its current document
//! version, and once in the vector index at its current embedding version,
//! and nobody else. Crash tests and `droply verify` ask this after the
//! index has caught up with the store.

use std::collections::BTreeMap;

use droply_models::{User, UserId};

use super::expert_document::expert_document;
use super::handle::SearchIndex;
use super::profile_text::embedding_version;
use crate::{Result, Store};

/// The differences between the indexes and the store, in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexParity {
    /// Experts the store has.
    pub experts: usize,
    /// Every disagreement; empty when the indexes equal a rebuild.
    pub problems: Vec<String>,
}

impl IndexParity {
    /// True when the indexes equal a rebuild from the store.
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What a rebuild from `store` would hold: (text versions, vector versions).
pub fn expected_entries(store: &Store) -> Result<(BTreeMap<UserId, u64>, BTreeMap<UserId, u64>)> {
    let mut text = BTreeMap::new();
    let mut vectors = BTreeMap::new();
    for user in store.iter::<User>() {
        let user = user?;
        if user.is_expert() {
            text.insert(user.id, expert_document(store, &user)?.version);
            vectors.insert(user.id, embedding_version(&user));
        }
    }
    Ok((text, vectors))
}

impl SearchIndex {
    /// Compares the indexes with what a rebuild from `store` would hold
    /// (call once the index has applied the store's last change).
    pub fn parity_with(&self, store: &Store) -> Result<IndexParity> {
        let (want_text, want_vectors) = expected_entries(store)?;
        let (text, vectors) = self.entries()?;
        let mut problems = Vec::new();
        for (name, got, want) in [
            ("text", text, &want_text),
            ("vector", vectors, &want_vectors),
        ] {
            let entries = got.len();
            let got: BTreeMap<UserId, u64> = got.into_iter().collect();
            if got.len() != entries {
                problems.push(format!("an expert is in the {name} index twice"));
            }
            for (id, version) in want {
                match got.get(id) {
                    None => problems.push(format!("expert {id} is missing from the {name} index")),
                    Some(v) if v != version => problems.push(format!(
                        "expert {id} is stale in the {name} index ({v} != {version})"
                    )),
                    Some(_) => {}
                }
            }
            for id in got.keys().filter(|id| !want.contains_key(id)) {
                problems.push(format!("user {id} is in the {name} index but is no expert"));
            }
        }
        Ok(IndexParity {
            experts: want_text.len(),
            problems,
        })
    }
}

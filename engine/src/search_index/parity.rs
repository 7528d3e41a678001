//! Whether the search index holds exactly what a rebuild from the store
//! would: every expert once in the expert text index at its current document
//! version, and once in the expert vector index at its current embedding
//! version, and nobody else; likewise every published content item in the
//! content indexes, and no draft, archived or deleted one. Crash tests and
//! `droply verify` ask this after the index has caught up with the store.

use std::collections::BTreeMap;
use std::fmt::Display;

use droply_models::{Content, ContentId, User, UserId};

use super::content_document::{content_document, content_embedding_version, is_searchable};
use super::expert_document::expert_document;
use super::handle::SearchIndex;
use super::profile_text::embedding_version;
use crate::{Result, Store};

/// The differences between the indexes and the store, in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexParity {
    /// Experts the store has.
    pub experts: usize,
    /// Published content items the store has.
    pub content: usize,
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

/// What a rebuild from `store` would hold of content: (text versions, vector versions).
pub fn expected_content_entries(
    store: &Store,
) -> Result<(BTreeMap<ContentId, u64>, BTreeMap<ContentId, u64>)> {
    let mut text = BTreeMap::new();
    let mut vectors = BTreeMap::new();
    for content in store.iter::<Content>() {
        let content = content?;
        if is_searchable(&content) {
            text.insert(content.id, content_document(&content).version);
            vectors.insert(content.id, content_embedding_version(&content));
        }
    }
    Ok((text, vectors))
}

/// Adds to `problems` how the index's `got` entries differ from `want`; `what` names
/// the kind ("expert", "content") and `index` the index ("text", "vector").
fn compare<K: Ord + Copy + Display>(
    what: &str,
    index: &str,
    got: Vec<(K, u64)>,
    want: &BTreeMap<K, u64>,
    problems: &mut Vec<String>,
) {
    let entries = got.len();
    let got: BTreeMap<K, u64> = got.into_iter().collect();
    if got.len() != entries {
        problems.push(format!("a {what} is in the {index} index twice"));
    }
    for (id, version) in want {
        match got.get(id) {
            None => problems.push(format!("{what} {id} is missing from the {index} index")),
            Some(v) if v != version => problems.push(format!(
                "{what} {id} is stale in the {index} index ({v} != {version})"
            )),
            Some(_) => {}
        }
    }
    for id in got.keys().filter(|id| !want.contains_key(id)) {
        problems.push(format!(
            "{what} {id} is in the {index} index but should not be (gone, or not searchable)"
        ));
    }
}

impl SearchIndex {
    /// Compares the indexes with what a rebuild from `store` would hold
    /// (call once the index has applied the store's last change).
    pub fn parity_with(&self, store: &Store) -> Result<IndexParity> {
        let (want_text, want_vectors) = expected_entries(store)?;
        let (want_content_text, want_content_vectors) = expected_content_entries(store)?;
        let (text, vectors) = self.entries()?;
        let (content_text, content_vectors) = self.content_entries()?;
        let mut problems = Vec::new();
        compare("expert", "text", text, &want_text, &mut problems);
        compare("expert", "vector", vectors, &want_vectors, &mut problems);
        compare(
            "content",
            "text",
            content_text,
            &want_content_text,
            &mut problems,
        );
        compare(
            "content",
            "vector",
            content_vectors,
            &want_content_vectors,
            &mut problems,
        );
        Ok(IndexParity {
            experts: want_text.len(),
            content: want_content_text.len(),
            problems,
        })
    }
}

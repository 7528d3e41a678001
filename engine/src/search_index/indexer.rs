//! The indexer thread: opens or rebuilds the indexes, then follows the change feed.
//!
//! Each round takes up to `batch_changes` feed entries after the applied sequence
//! number, reads the current row of every user and content item they touch (a category
//! change touches its experts), and applies the result: experts are upserted
//! (re-embedded only when their embedded text changed), everyone else removed; published
//! content is upserted (re-embedded only when its title or description changed), drafts,
//! archived and deleted items removed. The vector indexes commit first, then the text
//! indexes; the applied number is the smallest of the four, so a crash between them
//! replays the batch, which is harmless because applying reads current rows. The store
//! is flushed before the indexes commit, so they never reflect a write a crash could
//! undo, and indexes found ahead of their store are rebuilt. Before they commit, the
//! manifest records the mark of the batch's last change; on open, a store whose change
//! at that number is another one (restored from an older copy, then written past the
//! index's position) has the indexes rebuilt too. When replaced and removed vectors pile up, the vector graph is compacted on a
//! thread of its own while the indexer goes on following the feed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use droply_index::{ContentDoc, ExpertDoc};
use droply_models::{CategoryId, Content, ContentId, User, UserId};

use super::change_mark::ChangeMark;
use super::content_document::{content_document, is_searchable};
use super::expert_document::{expert_document, has_category};
use super::manifest::Manifest;
use super::rebuild::{embed_content_into, embed_into, open_saved, rebuild, write_manifest};
use super::shared::{Indexes, Shared};
use super::status::IndexState;
use crate::store::{Change, EntityKind};
use crate::{Error, Result, Store};

/// Runs until `shared.stop` is set.
pub(crate) fn run(shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let indexes = match shared.indexes() {
            Some(indexes) => indexes,
            None => match load_or_rebuild(shared) {
                Ok(indexes) => indexes,
                Err(err) => {
                    tracing::error!(%err, "the search index could not be built; retrying");
                    shared.set_error(Some(err.to_string()));
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            },
        };
        match follow_once(shared, &indexes) {
            Ok(()) => compact_in_background(&indexes),
            Err(FollowError::Rebuild(reason)) => {
                tracing::warn!(%reason, "the search index must be rebuilt");
                shared.install(None);
                if let Err(err) = rebuild_now(shared, &reason) {
                    shared.set_error(Some(err.to_string()));
                }
            }
            Err(FollowError::Failed(err)) => {
                tracing::error!(%err, "applying changes to the search index failed; retrying");
                shared.set_error(Some(err.to_string()));
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Starts compacting the vector graph on its own thread when tombstones have piled up,
/// so that following the store never waits for a rebuild of the graph.
fn compact_in_background(indexes: &Arc<Indexes>) {
    let experts = indexes.vectors.needs_compaction() && !indexes.vectors.is_compacting();
    let content =
        indexes.content_vectors.needs_compaction() && !indexes.content_vectors.is_compacting();
    if !experts && !content {
        return;
    }
    let indexes = Arc::clone(indexes);
    let started = std::thread::Builder::new()
        .name("vector-compaction".to_owned())
        .spawn(move || {
            if experts {
                indexes.vectors.compact();
            }
            if content {
                indexes.content_vectors.compact();
            }
        });
    if let Err(err) = started {
        tracing::warn!(%err, "could not start compacting the vector graph");
    }
}

fn load_or_rebuild(shared: &Arc<Shared>) -> Result<Arc<Indexes>> {
    shared.set_state(IndexState::Opening);
    let saved = match open_saved(&shared.dir, shared.embedder.as_ref(), &shared.config) {
        Ok((indexes, manifest)) => match out_of_step(&shared.store, &indexes, &manifest)? {
            None => Ok(indexes),
            Some(reason) => Err(reason),
        },
        Err(reason) => Err(reason),
    };
    match saved {
        Ok(indexes) => {
            let indexes = Arc::new(indexes);
            tracing::info!(
                applied_seq = indexes.applied_seq(),
                experts = indexes.text.len(),
                "search index loaded"
            );
            shared.start_following(&indexes);
            Ok(indexes)
        }
        Err(reason) => rebuild_now(shared, &reason),
    }
}

/// Why saved indexes cannot go on following `store` (they are rebuilt), `None` when
/// they can. Refused: indexes that committed a sequence number the store does not have
/// (a store restored from an older copy), since what they hold may be rows the store
/// never kept; and indexes whose manifest marks a last applied change the store has
/// not got at that number (a store restored from an older copy and written past the
/// index's position), since the rows the abandoned changes touched would stay wrong.
fn out_of_step(store: &Store, indexes: &Indexes, manifest: &Manifest) -> Result<Option<String>> {
    let (newest, last) = (indexes.newest_seq(), store.last_seq());
    if newest > last {
        return Ok(Some(format!(
            "the index reflects change {newest}, the store ends at {last}"
        )));
    }
    match &manifest.last_change {
        Some(mark) => {
            let mismatch = mark.mismatch(store)?;
            if let Some(reason) = &mismatch {
                tracing::warn!(
                    %reason,
                    seq = mark.seq,
                    "the saved search index does not match the store"
                );
            }
            Ok(mismatch)
        }
        // Unknown (a manifest written before marks were kept, or an empty store): the
        // sequence numbers alone are checked, as before, so that upgrading does not
        // rebuild every deployment's index; the next batch applied records a mark.
        None => Ok(None),
    }
}

fn rebuild_now(shared: &Arc<Shared>, reason: &str) -> Result<Arc<Indexes>> {
    tracing::info!(%reason, "rebuilding the search index from the store");
    let progress = |p| shared.report_progress(reason, p);
    let indexes = Arc::new(rebuild(
        &shared.dir,
        &shared.store,
        shared.embedder.as_ref(),
        &shared.config,
        &progress,
    )?);
    shared.set_error(None);
    shared.start_following(&indexes);
    Ok(indexes)
}

enum FollowError {
    Rebuild(String),
    Failed(Error),
}

impl<E: Into<Error>> From<E> for FollowError {
    fn from(err: E) -> Self {
        FollowError::Failed(err.into())
    }
}

/// Waits for changes and applies one batch of them.
fn follow_once(shared: &Shared, indexes: &Indexes) -> std::result::Result<(), FollowError> {
    let applied = indexes.applied_seq();
    let store = &shared.store;
    let last = store.wait_for_changes(applied, shared.config.poll_interval);
    if last <= applied {
        return Ok(());
    }
    let changes = store.changes_since(applied, shared.config.batch_changes.max(1))?;
    let contiguous = changes.first().is_some_and(|c| c.seq == applied + 1);
    if !contiguous {
        return Err(FollowError::Rebuild(format!(
            "the change feed no longer holds sequence number {}",
            applied + 1
        )));
    }
    let Some(final_change) = changes.last() else {
        return Ok(());
    };
    let touched = touched(shared, &changes)?;
    apply(shared, indexes, &touched, &ChangeMark::of(final_change))?;
    shared.publish_applied(indexes.applied_seq());
    shared.set_error(None);
    Ok(())
}

/// The users and content items whose index entries a batch of changes may alter.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    pub users: BTreeSet<UserId>,
    pub content: BTreeSet<ContentId>,
}

/// What a batch of changes touches. Content documents hold nothing of other rows (the
/// creator and category are ids), so only content changes touch content.
fn touched(shared: &Shared, changes: &[Change]) -> Result<Touched> {
    let mut users = BTreeSet::new();
    let mut content = BTreeSet::new();
    let mut categories: Vec<CategoryId> = Vec::new();
    for change in changes {
        match change.kind {
            EntityKind::User => {
                users.insert(UserId::new(change.id));
            }
            EntityKind::Content => {
                content.insert(ContentId::new(change.id));
            }
            EntityKind::Category => categories.push(CategoryId::new(change.id)),
            _ => {}
        }
    }
    if !categories.is_empty() {
        // Rare: a renamed category changes the documents of every expert listing it.
        for user in shared.store.iter::<User>() {
            let user = user?;
            if categories.iter().any(|c| has_category(&user, *c)) {
                users.insert(user.id);
            }
        }
    }
    Ok(Touched { users, content })
}

/// Brings the entries of what was `touched` in line with their current rows and
/// commits every index as the state at the change `last`: the manifest records its
/// mark first, then the vector indexes commit, then the text indexes.
pub(crate) fn apply(
    shared: &Shared,
    indexes: &Indexes,
    touched: &Touched,
    last: &ChangeMark,
) -> Result<()> {
    let up_to = last.seq;
    let mut experts: Vec<User> = Vec::new();
    let mut gone: Vec<UserId> = Vec::new();
    for id in &touched.users {
        match shared.store.users().find(*id)? {
            Some(user) if user.is_expert() => experts.push(user),
            _ => gone.push(*id),
        }
    }
    let mut published: Vec<Content> = Vec::new();
    let mut unlisted: Vec<ContentId> = Vec::new();
    for id in &touched.content {
        match shared.store.contents().find(*id)? {
            Some(content) if is_searchable(&content) => published.push(content),
            _ => unlisted.push(*id),
        }
    }
    let docs: Vec<ExpertDoc> = experts
        .iter()
        .map(|user| expert_document(&shared.store, user))
        .collect::<Result<_>>()?;
    let content_docs: Vec<ContentDoc> = published.iter().map(content_document).collect();
    // The rows read may include writes not yet on disk (a writer flushes after its
    // commit is visible); make them durable before any index commits what it read,
    // so that no index ever holds a row a crash could take back.
    shared.store.flush()?;
    // Recorded before any index commits `up_to`, so the mark is never behind what an
    // index holds: on open, the store must still have this very change.
    write_manifest(&shared.dir, shared.embedder.as_ref(), Some(last.clone()))?;
    let refs: Vec<&User> = experts.iter().collect();
    embed_into(&indexes.vectors, shared.embedder.as_ref(), &refs)?;
    indexes.vectors.remove(&gone)?;
    indexes.vectors.commit(up_to)?;
    let refs: Vec<&Content> = published.iter().collect();
    embed_content_into(&indexes.content_vectors, shared.embedder.as_ref(), &refs)?;
    indexes.content_vectors.remove(&unlisted)?;
    indexes.content_vectors.commit(up_to)?;
    indexes.text.upsert(&docs)?;
    indexes.text.remove(&gone)?;
    indexes.text.commit(up_to)?;
    indexes.content_text.upsert(&content_docs)?;
    indexes.content_text.remove(&unlisted)?;
    indexes.content_text.commit(up_to)?;
    Ok(())
}

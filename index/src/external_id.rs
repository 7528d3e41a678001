//! The ids callers give the indexes. Each index keys its documents by an [`ExternalId`]
//! (a `UserId` for experts, a `ContentId` for content, a [`DocNumber`] for an arbitrary
//! document collection) and keeps its own internal numbering (tantivy doc addresses,
//! hnsw data ids) to itself. Experts and content live in indexes of their own, so the
//! two id spaces never meet.

use std::hash::Hash;

use droply_models::{ContentId, UserId};

/// An id an index can be keyed by: a newtype around a `u64`.
pub trait ExternalId: Copy + Eq + Hash + Ord + Send + Sync + std::fmt::Debug + 'static {
    /// The raw value, as stored on disk.
    fn to_raw(self) -> u64;
    /// The id with this raw value (the inverse of [`ExternalId::to_raw`]).
    fn from_raw(raw: u64) -> Self;
}

impl ExternalId for UserId {
    fn to_raw(self) -> u64 {
        self.get()
    }
    fn from_raw(raw: u64) -> Self {
        UserId::new(raw)
    }
}

impl ExternalId for ContentId {
    fn to_raw(self) -> u64 {
        self.get()
    }
    fn from_raw(raw: u64) -> Self {
        ContentId::new(raw)
    }
}

/// The position of a document in an arbitrary collection (for example a BEIR corpus),
/// assigned by whoever loads the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocNumber(pub u64);

impl ExternalId for DocNumber {
    fn to_raw(self) -> u64 {
        self.0
    }
    fn from_raw(raw: u64) -> Self {
        DocNumber(raw)
    }
}

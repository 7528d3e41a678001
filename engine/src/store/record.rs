//! What the store needs to know about an entity: its id, how it is indexed,
//! which of its values are unique, and how to read older row formats.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec;
use super::tree_id::{EntityKind, IndexName, UniqueName};
use crate::{Error, Result};

/// A typed id that the store can turn into a key.
pub trait RecordId:
    Copy + Eq + Ord + std::hash::Hash + std::fmt::Debug + Send + Sync + 'static
{
    /// The raw number.
    fn raw(self) -> u64;
    /// The id for a raw number.
    fn from_raw(raw: u64) -> Self;
}

/// One secondary-index entry of a row: the key without the trailing row id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexEntry {
    /// The index the entry belongs to.
    pub index: IndexName,
    /// Owner id and sort parts; the store appends the row id.
    pub prefix: Vec<u8>,
}

impl IndexEntry {
    /// The common entry: rows of one owner, in time order.
    pub fn owner_at(index: IndexName, owner: u64, at: droply_models::Timestamp) -> Self {
        IndexEntry {
            index,
            prefix: super::KeyBuilder::new().u64(owner).time(at).build(),
        }
    }
}

/// One unique value of a row: no two rows may hold the same key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UniqueEntry {
    /// The unique key the value belongs to.
    pub unique: UniqueName,
    /// The normalised value.
    pub key: Vec<u8>,
    /// The value as a person would write it, for error messages.
    pub shown: String,
}

/// The `NotFound` error for row `id` of `R`.
pub(crate) fn not_found<R: Record>(id: R::Id) -> Error {
    Error::NotFound {
        entity: R::KIND.name(),
        id: id.raw(),
    }
}

/// An entity the store keeps in a tree of its own.
///
/// Contract: `index_entries` and `unique_entries` depend only on the row's
/// fields, so the store can recompute them for the old and the new version of
/// a row and write the difference in the same transaction as the row.
pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The row's typed id.
    type Id: RecordId;
    /// Which entity this is.
    const KIND: EntityKind;
    /// The current on-disk format of this entity's rows.
    const FORMAT: u8 = 1;

    /// The row's id.
    fn id(&self) -> Self::Id;
    /// Sets the id the store allocated for a new row.
    fn set_id(&mut self, id: Self::Id);
    /// Checks the row's own rules before it is written.
    fn validate(&self) -> Result<()>;
    /// The user whose derived data this row feeds (the expert of a booking or
    /// an interaction, the owner of availability), named in the change feed
    /// when the row is deleted so that followers still know whose it was.
    fn owner(&self) -> Option<u64> {
        None
    }
    /// The row's relationship-index entries.
    fn index_entries(&self) -> Vec<IndexEntry> {
        Vec::new()
    }
    /// The row's unique values.
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        Vec::new()
    }
    /// Reads a row written in an older format; the default knows none.
    fn upgrade(format: u8, _payload: &[u8]) -> Result<Self> {
        Err(Error::Corrupt(format!(
            "{} row has unknown format {format}",
            Self::KIND.name()
        )))
    }

    /// Encodes the row for disk in the current format.
    fn encode(&self) -> Result<Vec<u8>> {
        codec::encode(Self::FORMAT, self)
    }

    /// Decodes a row from disk, upgrading older formats.
    fn decode(bytes: &[u8]) -> Result<Self> {
        let (format, payload) = codec::split(bytes)?;
        if format == Self::FORMAT {
            codec::decode_payload(payload)
        } else {
            Self::upgrade(format, payload)
        }
    }
}

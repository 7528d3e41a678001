//! `Recording`: a recording Daily made of a booking's call, kept by its
//! Daily id (unique) under the booking (`idx/recordings_by_booking`)
//! (engine-internal). Only the id is stored: a download link is fetched
//! from Daily when one of the two parties asks ([`recording_link`]) and is
//! never stored.

use droply_models::{BookingId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::daily_client::{DailyClient, RecordingLink};
use crate::booking::booking_for;
use crate::store::{
    EntityKind, IndexEntry, IndexName, PageRequest, Record, Store, UniqueEntry, UniqueName,
};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies a [`Recording`] row.
    pub struct RecordingRowId;
}

/// The most recordings listed for one booking.
pub const MAX_RECORDINGS: usize = 100;

/// One recording of a booking's call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    /// Primary key.
    pub id: RecordingRowId,
    /// The booking whose call it recorded.
    pub booking_id: BookingId,
    /// Daily's recording id (unique).
    pub recording_id: String,
    /// When the recording started, as Daily said.
    pub started_at: Option<Timestamp>,
    /// Its length in seconds, as Daily said.
    pub duration_secs: Option<u32>,
    /// When Daily told us it was ready.
    pub received_at: Timestamp,
}

/// Whether `id` can be a Daily recording id: 1 to 64 letters, digits,
/// dashes and underscores (Daily's are UUIDs), so it is safe in a URL path.
pub fn is_recording_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Record for Recording {
    type Id = RecordingRowId;
    const KIND: EntityKind = EntityKind::Recording;

    fn id(&self) -> RecordingRowId {
        self.id
    }
    fn set_id(&mut self, id: RecordingRowId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        if !is_recording_id(&self.recording_id) {
            return Err(Error::Invalid(format!(
                "{:?} is not a recording id",
                self.recording_id
            )));
        }
        Ok(())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::RecordingsByBooking,
            self.booking_id.get(),
            self.received_at,
        )]
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::RecordingId,
            key: self.recording_id.as_bytes().to_vec(),
            shown: self.recording_id.clone(),
        }]
    }
}

/// The recordings of booking `id`, oldest first, for its booker or
/// provider (`NotFound` for anyone else).
pub fn recordings_of(store: &Store, id: BookingId, viewer: UserId) -> Result<Vec<Recording>> {
    booking_for(store, id, viewer)?;
    Ok(store
        .list_index::<Recording>(
            IndexName::RecordingsByBooking,
            &id.to_be_bytes(),
            &PageRequest::first(MAX_RECORDINGS),
        )?
        .items)
}

/// A short-lived download link of recording `recording_id` of booking
/// `id`, fetched from Daily now, for its booker or provider. `NotFound`
/// for anyone else, and for a recording that is not this booking's;
/// `VideoNotConfigured` without Daily.
pub fn recording_link(
    store: &Store,
    client: Option<&DailyClient>,
    id: BookingId,
    recording_id: &str,
    viewer: UserId,
) -> Result<RecordingLink> {
    booking_for(store, id, viewer)?;
    let not_found = || Error::NotFound {
        entity: "recording of booking",
        id: id.get(),
    };
    if !is_recording_id(recording_id) {
        return Err(not_found());
    }
    let row = store
        .lookup_unique(UniqueName::RecordingId, recording_id.as_bytes())?
        .map(|raw| store.require::<Recording>(RecordingRowId::new(raw)))
        .transpose()?
        .filter(|row| row.booking_id == id)
        .ok_or_else(not_found)?;
    let client = client.ok_or(Error::VideoNotConfigured)?;
    Ok(client.recording_link(&row.recording_id)?)
}

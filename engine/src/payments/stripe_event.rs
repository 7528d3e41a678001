//! `StripeEvent`: a webhook event that was applied, by Stripe's event id
//! (unique), written in the same transaction as the event's effect, so a
//! redelivered event is recognised and changes nothing (engine-internal).

use droply_models::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::store::{EntityKind, Record, UniqueEntry, UniqueName};

engine_record_id! {
    /// Identifies a [`StripeEvent`].
    pub struct StripeEventRowId;
}

/// One applied event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeEvent {
    /// Primary key.
    pub id: StripeEventRowId,
    /// Stripe's `evt_...`.
    pub event_id: String,
    /// Its type, e.g. `payment_intent.succeeded`.
    pub kind: String,
    /// What it did, in words (`"ignored: not ours"`, `"booking 7 confirmed"`).
    pub outcome: String,
    /// When it was applied.
    pub received_at: Timestamp,
}

impl Record for StripeEvent {
    type Id = StripeEventRowId;
    const KIND: EntityKind = EntityKind::StripeEvent;

    fn id(&self) -> StripeEventRowId {
        self.id
    }
    fn set_id(&mut self, id: StripeEventRowId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::StripeEventId,
            key: self.event_id.as_bytes().to_vec(),
            shown: self.event_id.clone(),
        }]
    }
}

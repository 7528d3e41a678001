//! Bookings as records: listed by booker and by provider, in start-time
//! order, and, while they await payment, by when they were made.

use droply_models::{Booking, BookingId, UserId};

use super::Repo;
use crate::Result;
use crate::availability::awaits_payment;
use crate::store::{EntityKind, IndexEntry, IndexName, KeyBuilder, Page, PageRequest, Record};

impl Record for Booking {
    type Id = BookingId;
    const KIND: EntityKind = EntityKind::Booking;

    record_basics!(BookingId);
    fn owner(&self) -> Option<u64> {
        Some(self.provider_id.get())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        let mut entries = vec![
            IndexEntry::owner_at(
                IndexName::BookingsByBooker,
                self.user_id.get(),
                self.start_time,
            ),
            IndexEntry::owner_at(
                IndexName::BookingsByProvider,
                self.provider_id.get(),
                self.start_time,
            ),
        ];
        if awaits_payment(self) {
            entries.push(IndexEntry {
                index: IndexName::UnpaidHolds,
                prefix: KeyBuilder::new().time(self.created_at).build(),
            });
        }
        entries
    }
}

impl Repo<'_, Booking> {
    /// Bookings made by `booker`, by start time.
    pub fn by_booker(&self, booker: UserId, page: &PageRequest) -> Result<Page<Booking>> {
        self.by_index(IndexName::BookingsByBooker, &booker.to_be_bytes(), page)
    }

    /// Bookings awaiting payment, oldest made first.
    pub fn unpaid_holds(&self, page: &PageRequest) -> Result<Page<Booking>> {
        self.by_index(IndexName::UnpaidHolds, &[], page)
    }

    /// Bookings with `provider`, by start time.
    pub fn by_provider(&self, provider: UserId, page: &PageRequest) -> Result<Page<Booking>> {
        self.by_index(IndexName::BookingsByProvider, &provider.to_be_bytes(), page)
    }
}

//! Referrals and their rewards as records: referrals by referrer and by the
//! referred user; rewards by booking and by referrer.

use droply_models::{BookingId, Referral, ReferralId, ReferralReward, ReferralRewardId, UserId};

use super::Repo;
use crate::Result;
use crate::store::{EntityKind, IndexEntry, IndexName, KeyBuilder, Page, PageRequest, Record};

impl Record for Referral {
    type Id = ReferralId;
    const KIND: EntityKind = EntityKind::Referral;
    record_basics!(ReferralId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![
            IndexEntry::owner_at(
                IndexName::ReferralsByReferrer,
                self.referrer_id.get(),
                self.created_at,
            ),
            IndexEntry::owner_at(
                IndexName::ReferralsByReferred,
                self.referred_user_id.get(),
                self.created_at,
            ),
        ]
    }
}

impl Record for ReferralReward {
    type Id = ReferralRewardId;
    const KIND: EntityKind = EntityKind::ReferralReward;
    record_basics!(ReferralRewardId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        let mut entries = vec![IndexEntry::owner_at(
            IndexName::RewardsByReferrer,
            self.referrer_id.get(),
            self.created_at,
        )];
        if let Some(booking) = self.booking_id {
            entries.push(IndexEntry {
                index: IndexName::RewardsByBooking,
                prefix: KeyBuilder::new().u64(booking.get()).build(),
            });
        }
        entries
    }
}

impl Repo<'_, Referral> {
    /// The referrals `referrer` made, in time order.
    pub fn by_referrer(&self, referrer: UserId, page: &PageRequest) -> Result<Page<Referral>> {
        self.by_index(
            IndexName::ReferralsByReferrer,
            &referrer.to_be_bytes(),
            page,
        )
    }

    /// The referrals that brought `user`.
    pub fn by_referred(&self, user: UserId, page: &PageRequest) -> Result<Page<Referral>> {
        self.by_index(IndexName::ReferralsByReferred, &user.to_be_bytes(), page)
    }
}

impl Repo<'_, ReferralReward> {
    /// The rewards earned by `booking`.
    pub fn by_booking(
        &self,
        booking: BookingId,
        page: &PageRequest,
    ) -> Result<Page<ReferralReward>> {
        self.by_index(IndexName::RewardsByBooking, &booking.to_be_bytes(), page)
    }

    /// The rewards of `referrer`, in time order.
    pub fn by_referrer(
        &self,
        referrer: UserId,
        page: &PageRequest,
    ) -> Result<Page<ReferralReward>> {
        self.by_index(IndexName::RewardsByReferrer, &referrer.to_be_bytes(), page)
    }
}

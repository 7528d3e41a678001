//! Referrals and their rewards as records: referrals by referrer and by the
//! referred user; rewards by booking, by content purchase, by referrer, and
//! while pending (oldest first, what the reward sweep reads). Reward rows
//! of format 1 (before content-sale rewards) are read as format 2.

use droply_models::{
    BookingId, Money, Referral, ReferralId, ReferralReward, ReferralRewardId, RewardStatus,
    RewardType, Timestamp, UserId,
};
use serde::Deserialize;

use super::Repo;
use crate::store::{
    EntityKind, IndexEntry, IndexName, KeyBuilder, Page, PageRequest, Record, codec,
};
use crate::{Error, Result};

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
    const FORMAT: u8 = 2;
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
        if let Some(purchase) = self.content_purchase_id {
            entries.push(IndexEntry {
                index: IndexName::RewardsByPurchase,
                prefix: KeyBuilder::new().u64(purchase.get()).build(),
            });
        }
        if self.status == RewardStatus::Pending {
            entries.push(IndexEntry {
                index: IndexName::PendingRewards,
                prefix: KeyBuilder::new().time(self.created_at).build(),
            });
        }
        entries
    }

    fn upgrade(format: u8, payload: &[u8]) -> Result<Self> {
        if format != 1 {
            return Err(Error::Corrupt(format!(
                "referral reward row has unknown format {format}"
            )));
        }
        let old: RewardV1 = codec::decode_payload(payload)?;
        Ok(ReferralReward {
            id: old.id,
            referrer_id: old.referrer_id,
            referred_user_id: old.referred_user_id,
            booking_id: old.booking_id,
            reward_amount: old.reward_amount,
            reward_type: old.reward_type,
            status: old.status,
            created_at: old.created_at,
            paid_at: old.paid_at,
            content_purchase_id: None,
        })
    }
}

/// A reward row as format 1 wrote it.
#[derive(Deserialize)]
struct RewardV1 {
    id: ReferralRewardId,
    referrer_id: UserId,
    referred_user_id: UserId,
    booking_id: Option<BookingId>,
    reward_amount: Money,
    reward_type: RewardType,
    status: RewardStatus,
    created_at: Timestamp,
    paid_at: Option<Timestamp>,
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

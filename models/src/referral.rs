//! Referrals: who brought whom to Droply ([`Referral`]) and what the
//! referrer earned for it ([`ReferralReward`]).

use serde::{Deserialize, Serialize};

use crate::{
    BookingId, ContentPurchaseId, Error, Money, ReferralCode, ReferralId, ReferralRewardId,
    ReferralStatus, Result, RewardStatus, RewardType, Timestamp, UserId,
};

/// One user referring another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    /// Primary key.
    pub id: ReferralId,
    /// Who referred.
    pub referrer_id: UserId,
    /// Who was referred.
    pub referred_user_id: UserId,
    /// The code used at sign-up.
    pub referral_code: ReferralCode,
    /// When the referred user signed up.
    pub created_at: Timestamp,
    /// State of the referral.
    pub status: ReferralStatus,
}

impl Referral {
    /// Checks that nobody refers themselves.
    pub fn validate(&self) -> Result<()> {
        if self.referrer_id == self.referred_user_id {
            return Err(Error::invalid(
                "referred_user_id",
                "a user cannot refer themselves",
            ));
        }
        Ok(())
    }
}

/// A reward the referrer earned from a referral.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralReward {
    /// Primary key.
    pub id: ReferralRewardId,
    /// Who earns.
    pub referrer_id: UserId,
    /// Whose activity earned it.
    pub referred_user_id: UserId,
    /// The booking that earned it; required for booking rewards, `None`
    /// for sign-up and content-sale rewards.
    pub booking_id: Option<BookingId>,
    /// How much (not negative).
    pub reward_amount: Money,
    /// What earned it.
    pub reward_type: RewardType,
    /// State of the reward.
    pub status: RewardStatus,
    /// When it was earned.
    pub created_at: Timestamp,
    /// When it was paid; set exactly when `status` is `paid`.
    pub paid_at: Option<Timestamp>,
    /// The content purchase that earned it; required for content-sale
    /// rewards.
    pub content_purchase_id: Option<ContentPurchaseId>,
}

impl ReferralReward {
    /// Checks: no self-referral, amount not negative, booking present for
    /// booking rewards, `paid_at` set iff paid and not before `created_at`.
    pub fn validate(&self) -> Result<()> {
        if self.referrer_id == self.referred_user_id {
            return Err(Error::invalid(
                "referred_user_id",
                "a user cannot refer themselves",
            ));
        }
        if self.reward_amount.is_negative() {
            return Err(Error::invalid("reward_amount", "must not be negative"));
        }
        if self.reward_type.needs_booking() && self.booking_id.is_none() {
            return Err(Error::invalid(
                "booking_id",
                "is required for booking rewards",
            ));
        }
        if self.reward_type == RewardType::ContentSale && self.content_purchase_id.is_none() {
            return Err(Error::invalid(
                "content_purchase_id",
                "is required for content-sale rewards",
            ));
        }
        let paid = self.status == RewardStatus::Paid;
        match self.paid_at {
            None if paid => Err(Error::invalid(
                "paid_at",
                "must be set when the reward is paid",
            )),
            Some(_) if !paid => Err(Error::invalid(
                "paid_at",
                "must only be set when the reward is paid",
            )),
            Some(at) if at < self.created_at => {
                Err(Error::invalid("paid_at", "must not be before created_at"))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn referral_rules() {
        let mut r = Referral {
            id: ReferralId::new(1),
            referrer_id: UserId::new(1),
            referred_user_id: UserId::new(2),
            referral_code: ReferralCode::parse("ANNA2027").expect("code"),
            created_at: Timestamp::now(),
            status: ReferralStatus::Pending,
        };
        assert_eq!(r.validate(), Ok(()));
        r.referred_user_id = r.referrer_id;
        assert!(r.validate().is_err());
    }

    #[test]
    fn reward_rules() {
        let now = Timestamp::now();
        let mut r = ReferralReward {
            id: ReferralRewardId::new(1),
            referrer_id: UserId::new(1),
            referred_user_id: UserId::new(2),
            booking_id: None,
            reward_amount: Money::new(500, Currency::EUR),
            reward_type: RewardType::Signup,
            status: RewardStatus::Pending,
            created_at: now,
            paid_at: None,
            content_purchase_id: None,
        };
        assert_eq!(r.validate(), Ok(()));
        r.reward_type = RewardType::ContentSale;
        assert!(r.validate().is_err());
        r.content_purchase_id = Some(ContentPurchaseId::new(4));
        assert_eq!(r.validate(), Ok(()));
        r.reward_type = RewardType::FirstBooking;
        assert!(r.validate().is_err());
        r.booking_id = Some(BookingId::new(9));
        assert_eq!(r.validate(), Ok(()));
        r.status = RewardStatus::Paid;
        assert!(r.validate().is_err());
        r.paid_at = Some(now);
        assert_eq!(r.validate(), Ok(()));
        r.reward_amount = Money::new(-1, Currency::EUR);
        assert!(r.validate().is_err());
    }
}

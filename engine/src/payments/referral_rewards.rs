//! Referral rewards: what a referrer earns when the people they brought
//! pay. Two rules, each a share of the platform's fee: the referred
//! client's first completed paid booking, and their content purchases
//! within some months of signing up; a referral earns at most a cap.
//! A sale of the referrer's own (the referred client books them, or buys
//! their content) earns no reward: they earn on it as its seller already,
//! and the first-booking reward waits for a session with another expert.
//! A reward is created exactly once per (rule, booking or purchase), in
//! the transaction that completes the booking or applies the payment;
//! it waits `pending` through the hold (the refund window), then the
//! reward sweep credits it to the referrer through the ledger (the
//! platform pays it out of its fees). A reward is a share of the fee the
//! platform keeps: a partial refund before it is credited lowers what is
//! credited. A full refund of the payment behind it cancels a pending
//! reward and takes a credited one back; should that refund fail, the
//! reward is pending again and credited by the next sweep. A closed
//! account earns no reward (nobody could pay it out): none is created for
//! it, and the sweep cancels one still pending. Rewards are
//! paid only in the referrer's own currency, the one their balances are
//! kept in: money is never exchanged, so a sale in another currency earns
//! no reward. The cap alone is one amount in a base currency (100.00 USD by
//! default), stated in each reward's currency through the engine's rate
//! table and rounded down to what can be paid out in it
//! ([`ReferralRules::cap_in`], the one place that does it): about ₫2,564,000
//! or ¥14,925 by default, never 10,000 minor units of whatever currency the
//! reward is in.

use droply_models::{
    Booking, ContentPurchase, Currency, Money, PaymentStatus, Referral, ReferralReward,
    ReferralRewardId, ReferralStatus, RewardStatus, RewardType, Timestamp, User, UserId,
};

use super::amount::{AmountUse, round_down_for};
use super::ledger::{self, Balances};
use super::payment::Payment;
use super::subject::PaymentFor;
use crate::matching::RateTable;
use crate::store::{IndexName, KeyBuilder, MAX_PAGE_SIZE, PageRequest, Store, Txn};
use crate::{Error, Result};

/// The reward rules.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferralRules {
    /// The referrer's share, in basis points of the platform's fee, of the
    /// referred client's first completed paid booking (0: no reward).
    pub first_booking_fee_share_bps: u32,
    /// The referrer's share, in basis points of the platform's fee, of the
    /// referred user's content purchases (0: no reward).
    pub content_fee_share_bps: u32,
    /// For how many months after sign-up content purchases earn rewards.
    pub content_months: u32,
    /// The most one referral earns its referrer, in a base currency
    /// (100.00 USD by default): a reward in another currency is capped at
    /// this amount converted with `rates` ([`ReferralRules::cap_in`]).
    pub cap: Money,
    /// The exchange rates the cap is converted with (the matcher's default
    /// table by default); only the cap is converted, never a reward.
    pub rates: RateTable,
    /// Days a reward waits, pending, before it is credited.
    pub hold_days: u32,
}

impl ReferralRules {
    /// The most one referral earns in `currency`: the cap converted with the
    /// rate table, rounded down to the currency's minor unit and to what
    /// Stripe pays out in it (whole units of HUF and TWD; any thousandth of a
    /// three-decimal currency, whose last-digit rule binds charges only), as
    /// a reward is paid out from the referrer's balance. Never negative. A
    /// currency without a rate gets no cap to spend, so no reward (logged):
    /// [`ReferralRules::check`] refuses such a table at start, so only rules
    /// made in code get here.
    pub fn cap_in(&self, currency: Currency) -> Money {
        let Some(cap) = self.rates.convert_down(self.cap, currency) else {
            tracing::warn!(%currency, base = %self.cap.currency, "no referral reward: the rate table cannot state the referral cap in this currency");
            return Money::zero(currency);
        };
        round_down_for(
            Money::new(cap.amount_minor.max(0), currency),
            AmountUse::Payout,
        )
    }

    /// Refuses, at start, rules whose cap cannot be stated in every supported
    /// currency: a rate table missing the cap's currency or any other.
    pub fn check(&self) -> Result<()> {
        let missing = self.rates.missing();
        if missing.is_empty() {
            return Ok(());
        }
        let codes: Vec<&str> = missing.iter().map(Currency::as_str).collect();
        Err(Error::Config(format!(
            "the referral cap ({}) cannot be converted: the rate table has no rate for {}",
            self.cap,
            codes.join(", ")
        )))
    }

    /// A reward of `kind`'s share of the platform's `fee` (a sign-up reward
    /// is no share of a payment).
    fn share_of(&self, kind: RewardType, fee: Money) -> Result<Money> {
        let bps = match kind {
            RewardType::FirstBooking | RewardType::Booking => self.first_booking_fee_share_bps,
            RewardType::ContentSale => self.content_fee_share_bps,
            RewardType::Signup => 0,
        };
        Ok(fee.checked_mul_ratio(i64::from(bps), 10_000)?)
    }
}

impl Default for ReferralRules {
    fn default() -> Self {
        ReferralRules {
            first_booking_fee_share_bps: 5_000,
            content_fee_share_bps: 2_000,
            content_months: 12,
            cap: Money::new(10_000, Currency::USD),
            rates: RateTable::default(),
            hold_days: 14,
        }
    }
}

/// The referral that brought `user`, if any.
fn referral_of(txn: &Txn<'_>, user: UserId) -> Result<Option<Referral>> {
    Ok(txn
        .list_index::<Referral>(IndexName::ReferralsByReferred, &user.to_be_bytes())?
        .into_iter()
        .next())
}

/// The rewards `referrer` earned through `referred` so far, any status.
fn rewards_of(txn: &Txn<'_>, referrer: UserId, referred: UserId) -> Result<Vec<ReferralReward>> {
    Ok(txn
        .list_index::<ReferralReward>(IndexName::RewardsByReferrer, &referrer.to_be_bytes())?
        .into_iter()
        .filter(|reward| reward.referred_user_id == referred)
        .collect())
}

/// What a reward of `kind` is worth: its rule's share of `fee`, within
/// what the referral's cap leaves beside the other rewards `earned`.
fn amount_for(
    rules: &ReferralRules,
    earned: &[ReferralReward],
    fee: Money,
    kind: RewardType,
) -> Result<Money> {
    let share = rules.share_of(kind, fee)?;
    let left = cap_left(rules, earned, fee.currency)?;
    Ok(Money::new(share.amount_minor.min(left), fee.currency))
}

/// What the referral's cap leaves, in minor units of `currency`, beside the
/// rewards `earned` that still stand (never below zero). Summed with checked
/// money arithmetic, as every other sum of money: a total past the `i64`
/// range is an overflow error, never a wrapped or saturated amount.
fn cap_left(rules: &ReferralRules, earned: &[ReferralReward], currency: Currency) -> Result<i64> {
    let used = earned
        .iter()
        .filter(|r| r.status != RewardStatus::Cancelled && r.reward_amount.currency == currency)
        .try_fold(Money::zero(currency), |sum, r| {
            sum.checked_add(r.reward_amount)
        })?;
    Ok(rules
        .cap_in(currency)
        .checked_sub(used)?
        .amount_minor
        .max(0))
}

/// Whether `referrer` can be credited money in `currency`: their own
/// currency, and their balances' (the ledger keeps one per user).
fn pays_in(referrer: &User, currency: Currency) -> bool {
    let balances = Balances::of_user(referrer);
    referrer.currency == currency
        && (balances.is_zero() || balances.total_earnings.currency == currency)
}

/// Creates `referral`'s reward of `amount` for a sale by `seller` (the
/// booked expert or the content's creator), paid for by `source`: the one
/// place every reward is made, for bookings, purchases and imported sales
/// alike. None for a sale of the referrer's own: they earn as its seller,
/// and a share of the fee on top would pay them twice for one sale.
fn create(
    txn: &mut Txn<'_>,
    mut referral: Referral,
    kind: RewardType,
    amount: Money,
    source: PaymentFor,
    seller: UserId,
) -> Result<()> {
    if !amount.is_positive() {
        return Ok(());
    }
    if referral.referrer_id == seller {
        tracing::debug!(referrer = %seller, %source, "no referral reward: the referrer is the seller");
        return Ok(());
    }
    let referrer: User = txn.require(referral.referrer_id)?;
    if referrer.is_closed() {
        tracing::debug!(referrer = %referrer.id, "no referral reward: the referrer's account is closed");
        return Ok(());
    }
    if !pays_in(&referrer, amount.currency) {
        tracing::debug!(referrer = %referrer.id, currency = %amount.currency, "no referral reward: the sale is in another currency than the referrer's");
        return Ok(());
    }
    txn.create(ReferralReward {
        id: ReferralRewardId::new(0),
        referrer_id: referral.referrer_id,
        referred_user_id: referral.referred_user_id,
        booking_id: source.booking(),
        reward_amount: amount,
        reward_type: kind,
        status: RewardStatus::Pending,
        created_at: txn.now(),
        paid_at: None,
        content_purchase_id: source.purchase(),
    })?;
    if referral.status == ReferralStatus::Pending {
        referral.status = ReferralStatus::Qualified;
        txn.update(referral)?;
    }
    Ok(())
}

/// Inside the transaction completing `booking`: the first-booking reward
/// of its client's referrer, when the session was paid, is the client's
/// first to earn one and is not with the referrer themselves.
pub(crate) fn on_booking_completed(
    txn: &mut Txn<'_>,
    rules: &ReferralRules,
    booking: &Booking,
) -> Result<()> {
    if rules.first_booking_fee_share_bps == 0 {
        return Ok(());
    }
    let Some(referral) = referral_of(txn, booking.user_id)? else {
        return Ok(());
    };
    let Some(payment) = super::payment_of(txn, booking.id)? else {
        return Ok(());
    };
    if !matches!(
        payment.status,
        PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
    ) {
        return Ok(());
    }
    let earned = rewards_of(txn, referral.referrer_id, referral.referred_user_id)?;
    if earned
        .iter()
        .any(|r| r.reward_type == RewardType::FirstBooking)
    {
        return Ok(());
    }
    let amount = amount_for(
        rules,
        &earned,
        ledger::fee_kept(&payment)?,
        RewardType::FirstBooking,
    )?;
    create(
        txn,
        referral,
        RewardType::FirstBooking,
        amount,
        payment.pays_for,
        payment.payee,
    )
}

/// Inside the transaction granting `purchase` (paid by `payment`): the
/// content-sale reward of its buyer's referrer, within the window, unless
/// the referrer made the content.
pub(crate) fn on_purchase_paid(
    txn: &mut Txn<'_>,
    rules: &ReferralRules,
    purchase: &ContentPurchase,
    payment: &Payment,
) -> Result<()> {
    if rules.content_fee_share_bps == 0 {
        return Ok(());
    }
    let Some(referral) = referral_of(txn, purchase.buyer_id)? else {
        return Ok(());
    };
    // Calendar months from the sign-up (12 of them end on its anniversary).
    let window_end =
        super::payouts::plus_calendar_months(referral.created_at, rules.content_months);
    if purchase.created_at > window_end {
        return Ok(());
    }
    let prefix = KeyBuilder::new().u64(purchase.id.get()).build();
    if txn.count_index(IndexName::RewardsByPurchase, &prefix)? > 0 {
        return Ok(());
    }
    let earned = rewards_of(txn, referral.referrer_id, referral.referred_user_id)?;
    let amount = amount_for(
        rules,
        &earned,
        ledger::fee_kept(payment)?,
        RewardType::ContentSale,
    )?;
    create(
        txn,
        referral,
        RewardType::ContentSale,
        amount,
        payment.pays_for,
        payment.payee,
    )
}

/// Inside the transaction that refunded `payment` in full: its rewards are
/// cancelled, and those already credited taken back through the ledger.
pub(crate) fn on_refunded(txn: &mut Txn<'_>, payment: &Payment) -> Result<()> {
    for mut reward in rewards_for(txn, payment)? {
        match reward.status {
            RewardStatus::Cancelled => continue,
            RewardStatus::Paid => ledger::record_referral_reward(txn, &reward, false)?,
            RewardStatus::Pending => {}
        }
        reward.status = RewardStatus::Cancelled;
        reward.paid_at = None;
        txn.update(reward)?;
    }
    Ok(())
}

/// Inside the transaction where a full refund of `payment` failed after
/// all (the payment stands again): the rewards that refund cancelled are
/// pending again, for the sweep to credit at what they are worth then. A
/// reward in a currency its referrer has left since stays cancelled: it
/// could never be credited, and pending it would hold their currency for
/// good; so does one whose referrer's account is closed since.
pub(crate) fn on_refund_undone(txn: &mut Txn<'_>, payment: &Payment) -> Result<()> {
    for mut reward in rewards_for(txn, payment)? {
        if reward.status != RewardStatus::Cancelled {
            continue;
        }
        let referrer: User = txn.require(reward.referrer_id)?;
        if !referrer.is_closed() && pays_in(&referrer, reward.reward_amount.currency) {
            reward.status = RewardStatus::Pending;
            txn.update(reward)?;
        }
    }
    Ok(())
}

/// The rewards earned by what `payment` paid for, any status.
fn rewards_for(txn: &Txn<'_>, payment: &Payment) -> Result<Vec<ReferralReward>> {
    let (index, id) = match payment.pays_for {
        PaymentFor::Booking(id) => (IndexName::RewardsByBooking, id.get()),
        PaymentFor::Purchase(id) => (IndexName::RewardsByPurchase, id.get()),
    };
    txn.list_index::<ReferralReward>(index, &KeyBuilder::new().u64(id).build())
}

/// What pending `reward` is worth when credited: at most its amount, its
/// rule's share of the fee the platform still keeps of the payment behind
/// it, and what the referral's cap leaves beside its other rewards.
fn worth_now(txn: &Txn<'_>, rules: &ReferralRules, reward: &ReferralReward) -> Result<Money> {
    let source = match (reward.booking_id, reward.content_purchase_id) {
        (_, Some(purchase)) => Some(PaymentFor::Purchase(purchase)),
        (Some(booking), None) => Some(PaymentFor::Booking(booking)),
        (None, None) => None,
    };
    let mut worth = reward.reward_amount;
    if let Some(payment) = source
        .map(|s| super::payment_for(txn, s))
        .transpose()?
        .flatten()
    {
        let share = rules.share_of(reward.reward_type, ledger::fee_kept(&payment)?)?;
        if share.currency == worth.currency {
            worth.amount_minor = worth.amount_minor.min(share.amount_minor);
        }
    }
    let mut others = rewards_of(txn, reward.referrer_id, reward.referred_user_id)?;
    others.retain(|other| other.id != reward.id);
    worth.amount_minor = worth
        .amount_minor
        .min(cap_left(rules, &others, worth.currency)?);
    Ok(worth)
}

/// Whether `referrer` has rewards still pending.
pub(crate) fn has_pending_rewards(txn: &Txn<'_>, referrer: UserId) -> Result<bool> {
    let rewards: Vec<ReferralReward> =
        txn.list_index(IndexName::RewardsByReferrer, &referrer.to_be_bytes())?;
    Ok(rewards
        .iter()
        .any(|reward| reward.status == RewardStatus::Pending))
}

/// Credits every pending reward whose hold is over at `now`; how many (one
/// whose referrer's account is closed is cancelled instead: nobody can pay
/// it out). The
/// pending ones are read oldest first, page by page up to the first still
/// held, so rewards that cannot be credited yet never hide newer ones.
pub fn reward_sweep(store: &Store, rules: &ReferralRules, now: Timestamp) -> Result<usize> {
    let hold = chrono::TimeDelta::days(i64::from(rules.hold_days));
    let mut due: Vec<ReferralRewardId> = Vec::new();
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let got = store.list_index::<ReferralReward>(IndexName::PendingRewards, &[], &page)?;
        let before = due.len();
        due.extend(
            got.items
                .iter()
                .filter(|reward| reward.created_at.saturating_add(hold) <= now)
                .map(|reward| reward.id),
        );
        let all_due = due.len() - before == got.items.len();
        match got.next {
            Some(cursor) if all_due => page = PageRequest::first(MAX_PAGE_SIZE).after(Some(cursor)),
            _ => break,
        }
    }
    let mut credited = 0;
    for id in due {
        credited += store.write(|txn| {
            let mut reward: ReferralReward = txn.require(id)?;
            if reward.status != RewardStatus::Pending {
                return Ok(0);
            }
            let referrer: User = txn.require(reward.referrer_id)?;
            if referrer.is_closed() {
                // Nobody can pay out a closed account's balance.
                reward.status = RewardStatus::Cancelled;
                txn.update(reward)?;
                return Ok(0);
            }
            if !pays_in(&referrer, reward.reward_amount.currency) {
                tracing::warn!(reward = %reward.id, "referral reward left pending: the referrer's balance is now kept in another currency");
                return Ok(0);
            }
            reward.reward_amount = worth_now(txn, rules, &reward)?;
            if !reward.reward_amount.is_positive() {
                reward.status = RewardStatus::Cancelled;
                txn.update(reward)?;
                return Ok(0);
            }
            ledger::record_referral_reward(txn, &reward, true)?;
            reward.status = RewardStatus::Paid;
            reward.paid_at = Some(txn.now());
            let reward = txn.update(reward)?;
            if let Some(mut referral) = txn
                .list_index::<Referral>(
                    IndexName::ReferralsByReferred,
                    &reward.referred_user_id.to_be_bytes(),
                )?
                .into_iter()
                .next()
                && referral.status != ReferralStatus::Rewarded
            {
                referral.status = ReferralStatus::Rewarded;
                txn.update(referral)?;
            }
            Ok(1)
        })?;
    }
    Ok(credited)
}

#[cfg(test)]
mod tests;

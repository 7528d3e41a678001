//! Tests of `referral_rewards`.

use droply_models::{BookingId, BookingStatus, ContentPurchaseId, ContentType, ReferralId};

use super::*;
use crate::content::NewContent;
use crate::payments::{PaymentsConfig, create_payment};
use crate::test_rows::{booking, user};

fn money(minor: i64, code: &str) -> Money {
    Money::new(minor, Currency::parse(code).expect("currency"))
}

/// A standing first-booking reward of `amount` (pending).
fn earned(amount: Money) -> ReferralReward {
    ReferralReward {
        id: ReferralRewardId::new(1),
        referrer_id: UserId::new(1),
        referred_user_id: UserId::new(2),
        booking_id: None,
        reward_amount: amount,
        reward_type: RewardType::FirstBooking,
        status: RewardStatus::Pending,
        created_at: Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").expect("instant"),
        paid_at: None,
        content_purchase_id: None,
    }
}

fn first_booking_reward(rules: &ReferralRules, fee: Money) -> Money {
    amount_for(rules, &[], fee, RewardType::FirstBooking).expect("reward")
}

/// Regression: the cap was 10,000 minor units of whatever currency the
/// reward was in: 100 USD, but ¥10,000 (about 67 USD) and ₫10,000 (about
/// 0.40 USD), so a VND referrer's half of the fee on a ₫2,000,000 booking
/// was cut to ₫10,000.
#[test]
fn a_vnd_first_booking_reward_is_not_cut_to_ten_thousand_dong() {
    let rules = ReferralRules::default();
    let fee = money(2_000_000, "VND")
        .checked_mul_ratio(1_500, 10_000)
        .expect("fee");
    assert_eq!(fee, money(300_000, "VND"), "the platform's 15 %");
    assert_eq!(
        first_booking_reward(&rules, fee),
        money(150_000, "VND"),
        "half the fee, far below 100 USD in dong"
    );
    // 100 USD at 0.000039 USD a dong, rounded down.
    assert_eq!(rules.cap_in(fee.currency), money(2_564_102, "VND"));
}

#[test]
fn the_cap_is_100_usd_stated_in_each_rewards_currency() {
    let rules = ReferralRules::default();
    assert_eq!(rules.cap, money(10_000, "USD"));
    rules.check().expect("the default table has every currency");
    // USD: still 100.00.
    assert_eq!(
        first_booking_reward(&rules, money(1_000_000, "USD")),
        money(10_000, "USD")
    );
    // JPY: 100 USD at 0.0067 USD a yen is ¥14,925 (it was ¥10,000).
    assert_eq!(
        first_booking_reward(&rules, money(100_000, "JPY")),
        money(14_925, "JPY")
    );
    // EUR: 92.59, no longer 100.00 (108 USD).
    assert_eq!(
        first_booking_reward(&rules, money(1_000_000, "EUR")),
        money(9_259, "EUR")
    );
    // KWD: thousandths, 30.674 (Stripe pays them out to the thousandth;
    // the last-digit rule binds charges only).
    assert_eq!(
        rules.cap_in(Currency::parse("KWD").expect("KWD")),
        money(30_674, "KWD")
    );
    // HUF and TWD are paid out in whole units: 35,714 HUF, 3,225 TWD.
    assert_eq!(
        rules.cap_in(Currency::parse("HUF").expect("HUF")),
        money(3_571_400, "HUF")
    );
    assert_eq!(
        rules.cap_in(Currency::parse("TWD").expect("TWD")),
        money(322_500, "TWD")
    );
    for currency in Currency::all() {
        assert!(rules.cap_in(currency).is_positive(), "{currency}");
    }
}

#[test]
fn earlier_rewards_use_up_the_cap_in_their_currency() {
    let rules = ReferralRules::default();
    let yen = |minor| money(minor, "JPY");
    let before = [earned(yen(14_000))];
    assert_eq!(
        amount_for(&rules, &before, yen(100_000), RewardType::ContentSale).expect("reward"),
        yen(925),
        "what the ¥14,925 cap leaves"
    );
    let mut cancelled = earned(yen(14_000));
    cancelled.status = RewardStatus::Cancelled;
    assert_eq!(
        amount_for(&rules, &[cancelled], yen(100_000), RewardType::ContentSale).expect("reward"),
        yen(14_925),
        "a cancelled reward uses none of it"
    );
}

/// Rewards whose sum passes the `i64` range (rows imported or written by
/// hand: no rule makes them) are an overflow error, not a sum wrapped to a
/// negative that would leave the whole cap, or more, to pay.
#[test]
fn rewards_summing_past_the_range_are_an_error_not_a_wrapped_cap() {
    let rules = ReferralRules::default();
    let huge = [earned(money(i64::MAX, "USD")), earned(money(1, "USD"))];
    let refused = amount_for(&rules, &huge, money(10_000, "USD"), RewardType::ContentSale)
        .expect_err("overflow");
    assert!(
        matches!(refused, Error::Model(droply_models::Error::Overflow { .. })),
        "{refused:?}"
    );
    // The same rows in another currency use none of the cap in this one.
    let euros = money(10_000, "EUR");
    assert_eq!(
        amount_for(&rules, &huge, euros, RewardType::ContentSale).expect("reward"),
        amount_for(&rules, &[], euros, RewardType::ContentSale).expect("reward")
    );
}

#[test]
fn a_cap_in_another_base_currency_converts_too() {
    let rules = ReferralRules {
        cap: money(5_000, "EUR"),
        ..ReferralRules::default()
    };
    // 50 EUR = 54 USD.
    assert_eq!(rules.cap_in(Currency::USD), money(5_400, "USD"));
    assert_eq!(rules.cap_in(Currency::EUR), money(5_000, "EUR"));
}

/// A currency without a rate gets no absurd cap: the rules are refused at
/// start, and rules made in code anyway give no reward in it.
#[test]
fn a_rate_table_missing_a_currency_is_refused_and_caps_nothing_there() {
    let rules = ReferralRules {
        rates: RateTable::from_json(r#"{"USD": 1.0, "EUR": 1.08}"#).expect("table"),
        ..ReferralRules::default()
    };
    let refused = rules.check().expect_err("a partial table");
    assert!(matches!(refused, Error::Config(_)), "{refused}");
    assert!(refused.to_string().contains("JPY"), "{refused}");
    assert_eq!(rules.cap_in(Currency::JPY), Money::zero(Currency::JPY));
    assert_eq!(
        first_booking_reward(&rules, money(100_000, "JPY")),
        money(0, "JPY")
    );
    assert_eq!(rules.cap_in(Currency::EUR), money(9_259, "EUR"));
}

/// A temporary store where ann, an expert, referred bob, a client;
/// eddie is another expert: the store, ann, bob and eddie.
fn ann_referred_bob() -> (Store, User, User, User) {
    let store = Store::open_temporary().expect("store");
    let (ann, bob, ed) = store
        .write(|txn| {
            let ann = txn.create(user("ann", "Tax Advisor"))?;
            let bob = txn.create(user("bob", ""))?;
            let ed = txn.create(user("eddie", "Tax Advisor"))?;
            let now = txn.now();
            txn.create(Referral {
                id: ReferralId::new(0),
                referrer_id: ann.id,
                referred_user_id: bob.id,
                referral_code: ann.referral_code.clone(),
                created_at: now,
                status: ReferralStatus::Pending,
            })?;
            Ok((ann, bob, ed))
        })
        .expect("rows");
    (store, ann, bob, ed)
}

/// `client`'s paid session with `expert`, completed (its reward made as
/// completing a booking makes it): the booking's id.
fn a_completed_paid_session(store: &Store, client: UserId, expert: UserId) -> BookingId {
    let terms = PaymentsConfig::default().terms();
    store
        .write(|txn| {
            let mut session = booking(client, expert);
            session.status = BookingStatus::Completed;
            session.payment_status = PaymentStatus::Succeeded;
            let session = txn.create(session)?;
            let mut payment = Payment::for_booking(&session, &terms)?;
            payment.status = PaymentStatus::Succeeded;
            create_payment(txn, payment)?;
            on_booking_completed(txn, &ReferralRules::default(), &session)?;
            Ok(session.id)
        })
        .expect("session")
}

/// `buyer`'s paid purchase of a EUR 9 guide by `creator` (its reward
/// made as the webhook makes it): the purchase's id.
fn a_paid_purchase(store: &Store, buyer: UserId, creator: UserId) -> ContentPurchaseId {
    let terms = PaymentsConfig::default().terms();
    store
        .write(|txn| {
            let guide = crate::content::create(
                txn,
                creator,
                NewContent {
                    title: "A guide".to_owned(),
                    description: String::new(),
                    content_type: ContentType::Document,
                    price: Money::new(900, Currency::EUR),
                    category_id: None,
                },
            )?;
            let now = txn.now();
            let purchase = txn.create(ContentPurchase {
                id: ContentPurchaseId::new(0),
                buyer_id: buyer,
                content_id: guide.id,
                amount_paid: guide.price,
                payment_status: PaymentStatus::Succeeded,
                stripe_payment_intent_id: None,
                created_at: now,
            })?;
            let mut payment = Payment::for_purchase(&purchase, creator, &terms)?;
            payment.status = PaymentStatus::Succeeded;
            let payment = create_payment(txn, payment)?;
            on_purchase_paid(txn, &ReferralRules::default(), &purchase, &payment)?;
            Ok(purchase.id)
        })
        .expect("purchase")
}

/// Every reward in `store`.
fn all_rewards(store: &Store) -> Vec<ReferralReward> {
    store
        .iter::<ReferralReward>()
        .map(|reward| reward.expect("reward"))
        .collect()
}

/// Regression: a referrer earned a referral reward, a share of the
/// platform's fee, on their own sale (the client they referred booked
/// them or bought their content), on top of their earning as its seller.
#[test]
fn a_referrer_earns_no_reward_on_a_sale_of_their_own() {
    let (store, ann, bob, _) = ann_referred_bob();
    a_completed_paid_session(&store, bob.id, ann.id);
    a_paid_purchase(&store, bob.id, ann.id);
    let rewards = all_rewards(&store);
    assert!(rewards.is_empty(), "{rewards:?}");
    let referral: Vec<Referral> = store
        .iter::<Referral>()
        .map(|referral| referral.expect("referral"))
        .collect();
    assert_eq!(referral.len(), 1);
    assert_eq!(
        referral[0].status,
        ReferralStatus::Pending,
        "no reward qualifies it"
    );
}

#[test]
fn a_referred_clients_sales_of_another_expert_still_earn_the_referrer() {
    let (store, ann, bob, ed) = ann_referred_bob();
    a_completed_paid_session(&store, bob.id, ann.id);
    let session = a_completed_paid_session(&store, bob.id, ed.id);
    a_paid_purchase(&store, bob.id, ann.id);
    let purchase = a_paid_purchase(&store, bob.id, ed.id);
    let rewards = all_rewards(&store);
    assert_eq!(rewards.len(), 2, "{rewards:?}");
    assert!(rewards.iter().all(|reward| reward.referrer_id == ann.id
        && reward.referred_user_id == bob.id
        && reward.status == RewardStatus::Pending));
    let first = rewards
        .iter()
        .find(|reward| reward.reward_type == RewardType::FirstBooking)
        .expect("the first booking with another expert earns it");
    assert_eq!(first.booking_id, Some(session));
    // Half the platform's 15 % of EUR 125.
    assert_eq!(first.reward_amount, money(937, "EUR"));
    let sale = rewards
        .iter()
        .find(|reward| reward.reward_type == RewardType::ContentSale)
        .expect("another creator's guide earns it");
    assert_eq!(sale.content_purchase_id, Some(purchase));
    // A fifth of the platform's 15 % of EUR 9.
    assert_eq!(sale.reward_amount, money(27, "EUR"));
}

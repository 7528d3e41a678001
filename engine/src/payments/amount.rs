//! Money to Stripe's integer `amount` and back: the one place that knows
//! Stripe's currency rules. Stripe counts most currencies in their ISO minor
//! unit; the exceptions:
//! - zero-decimal currencies (JPY, KRW, CLP, VND, XAF, XOF, ...) are counted
//!   in whole units, as ISO does;
//! - ISK and UGX have no minor unit in ISO 4217, but Stripe still counts
//!   them in hundredths that must be `00` (backwards compatibility);
//! - HUF and TWD are charged with two decimals but paid out in whole units
//!   only, so a payout's amount must be divisible by 100;
//! - three-decimal currencies (BHD, JOD, KWD, OMR, TND) are counted in
//!   thousandths, but a charge's last digit must be 0.
//!
//! A charge must also lie between Stripe's minimum and maximum for its
//! currency ([`check_chargeable`]): what a price, a session's price or an
//! hourly rate is checked against before anyone can be asked to pay it, so
//! that nothing goes on sale, and no booking is made, that Stripe would
//! refuse to charge.
//!
//! Amounts are integers from end to end; nothing here touches a float.

use droply_models::{Currency, Money};

use crate::{Error, Result};

/// What an amount is for: charges and payouts follow different rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountUse {
    /// Money taken from a client (PaymentIntent, refund).
    Charge,
    /// Money sent to an expert (transfer, payout).
    Payout,
}

/// Currencies ISO counts without a minor unit that Stripe counts in
/// hundredths always ending in `00`.
const WHOLE_IN_HUNDREDTHS: [&str; 2] = ["ISK", "UGX"];
/// Two-decimal currencies Stripe pays out in whole units only.
const WHOLE_UNIT_PAYOUTS: [&str; 2] = ["HUF", "TWD"];

fn is_one_of(currency: Currency, codes: &[&str]) -> bool {
    codes.contains(&currency.as_str())
}

/// Stripe's integer amount for `money` used as `purpose`, or `Invalid` when
/// Stripe cannot take it: not positive, or not representable under the
/// currency's rule (a KWD charge of 1.005, a HUF payout of 10.50). Stripe's
/// least and greatest charge are not checked here (a refund may be of any
/// amount): [`check_chargeable`] checks them.
pub fn to_stripe(money: Money, purpose: AmountUse) -> Result<i64> {
    stripe_amount(money, purpose)
        .map_err(|why| Error::Invalid(format!("{money} cannot be sent to Stripe: {why}")))
}

/// [`to_stripe`], with why not in words.
fn stripe_amount(money: Money, purpose: AmountUse) -> std::result::Result<i64, &'static str> {
    if !money.is_positive() {
        return Err("the amount must be positive");
    }
    let currency = money.currency;
    let minor = money.amount_minor;
    if is_one_of(currency, &WHOLE_IN_HUNDREDTHS) {
        return minor.checked_mul(100).ok_or("the amount is too large");
    }
    if currency.minor_unit_digits() == 3 && purpose == AmountUse::Charge && minor % 10 != 0 {
        return Err("a charge's last decimal digit must be 0");
    }
    if is_one_of(currency, &WHOLE_UNIT_PAYOUTS) && purpose == AmountUse::Payout && minor % 100 != 0
    {
        return Err("payouts must be whole units");
    }
    Ok(minor)
}

/// Stripe's minimum charge in each currency of its table of minimum charge
/// amounts (<https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts>),
/// in minor units as we count them (HUF 175.00 is 17,500).
#[rustfmt::skip]
const STRIPE_MINIMUMS: [(&str, i64); 24] = [
    ("AED", 200),   ("AUD", 50),    ("BGN", 100),   ("BRL", 50),
    ("CAD", 50),    ("CHF", 50),    ("CZK", 1_500), ("DKK", 250),
    ("EUR", 50),    ("GBP", 30),    ("HKD", 400),   ("HUF", 17_500),
    ("INR", 50),    ("JPY", 50),    ("MXN", 1_000), ("MYR", 200),
    ("NOK", 300),   ("NZD", 50),    ("PLN", 200),   ("RON", 200),
    ("SEK", 300),   ("SGD", 50),    ("THB", 1_000), ("USD", 50),
];

/// The minimum charge of every supported currency Stripe's table leaves out.
/// Stripe takes a charge in such a currency when it converts to at least the
/// minimum of the platform's settlement currency, at the day's rate. The
/// highest of those minimums is about USD 0.65 (CZK 15.00), so each amount
/// here is a round one worth about USD 1.00 at the reference rates
/// (`RateTable`'s defaults; a test keeps them within USD 1.00 to 1.25):
/// enough to clear any settlement currency's minimum with room for the
/// rate to move, without a float or a rate read at charge time. Minor units
/// as we count them (ISK and UGX have none, BHD, JOD, KWD, OMR and TND three).
#[rustfmt::skip]
const ABOUT_A_DOLLAR: [(&str, i64); 30] = [
    ("ARS", 120_000), ("BHD", 400),       ("CLP", 1_000),   ("CNY", 750),
    ("COP", 420_000), ("EGP", 5_000),     ("IDR", 1_650_000), ("ILS", 400),
    ("ISK", 140),     ("JOD", 750),       ("KES", 14_000),  ("KRW", 1_400),
    ("KWD", 320),     ("MAD", 1_000),     ("NGN", 160_000), ("OMR", 400),
    ("PEN", 400),     ("PHP", 6_000),     ("PKR", 30_000),  ("QAR", 400),
    ("SAR", 400),     ("TND", 3_200),     ("TRY", 3_500),   ("TWD", 3_500),
    ("UAH", 4_500),   ("UGX", 4_000),     ("VND", 26_000),  ("XAF", 650),
    ("XOF", 650),     ("ZAR", 2_000),
];

/// The largest integer `amount` Stripe takes for a charge: eight digits
/// (99,999,999: USD 999,999.99), twelve for IDR.
fn max_stripe_amount(currency: Currency) -> i64 {
    if currency.as_str() == "IDR" {
        999_999_999_999
    } else {
        99_999_999
    }
}

/// The least Stripe charges in `currency`: its entry in Stripe's table, or
/// about one US dollar's worth for a currency the table leaves out. Every
/// supported currency is in one of the two (a test says so); one in neither
/// would have no minimum but its minor unit.
pub fn minimum_charge(currency: Currency) -> Money {
    let code = currency.as_str();
    let minor = STRIPE_MINIMUMS
        .iter()
        .chain(ABOUT_A_DOLLAR.iter())
        .find(|(known, _)| *known == code)
        .map_or(1, |(_, minor)| *minor);
    Money::new(minor, currency)
}

/// The most Stripe charges in `currency`, in our minor units (a charge it
/// can take: a three-decimal currency's ends in 0).
pub fn maximum_charge(currency: Currency) -> Money {
    let most = max_stripe_amount(currency);
    let minor = if is_one_of(currency, &WHOLE_IN_HUNDREDTHS) {
        most / 100
    } else {
        most
    };
    round_down_for(Money::new(minor, currency), AmountUse::Charge)
}

/// Why Stripe would refuse to charge `money`, in words; `None` when it
/// would take it: positive, representable ([`to_stripe`]), at least
/// [`minimum_charge`] and at most [`maximum_charge`].
pub fn charge_refusal(money: Money) -> Option<String> {
    if let Err(why) = stripe_amount(money, AmountUse::Charge) {
        return Some(why.to_owned());
    }
    let least = minimum_charge(money.currency);
    if money.amount_minor < least.amount_minor {
        return Some(format!("Stripe charges no less than {least}"));
    }
    let most = maximum_charge(money.currency);
    if money.amount_minor > most.amount_minor {
        return Some(format!("Stripe charges no more than {most}"));
    }
    None
}

/// Stripe's integer amount for a charge of `money`, or `Invalid` (saying
/// why) when Stripe would refuse it ([`charge_refusal`]). Every price a
/// client can be asked to pay is checked with it when it is set: content's
/// price, a session's price from its expert's rate.
pub fn check_chargeable(money: Money) -> Result<i64> {
    if let Some(why) = charge_refusal(money) {
        return Err(Error::Invalid(format!("{money} cannot be charged: {why}")));
    }
    to_stripe(money, AmountUse::Charge)
}

/// The price of `minutes` at `rate` an hour as it is charged: rounded down
/// to the minor unit, then to what Stripe takes ([`round_down_for`]). What a
/// booking costs, and what a rate is checked by.
pub fn charge_for_minutes(rate: Money, minutes: u16) -> Result<Money> {
    let exact = rate.checked_mul_ratio(i64::from(minutes), 60)?;
    Ok(round_down_for(exact, AmountUse::Charge))
}

/// The `Money` that Stripe's integer `amount` in `currency` stands for;
/// `Invalid` for a negative amount or an ISK/UGX amount not ending in `00`.
pub fn from_stripe(amount: i64, currency: Currency) -> Result<Money> {
    if amount < 0 {
        return Err(Error::Invalid(format!(
            "a Stripe amount of {amount} {currency} is negative"
        )));
    }
    if is_one_of(currency, &WHOLE_IN_HUNDREDTHS) {
        if amount % 100 != 0 {
            return Err(Error::Invalid(format!(
                "a Stripe amount of {amount} {currency} must end in 00"
            )));
        }
        return Ok(Money::new(amount / 100, currency));
    }
    Ok(Money::new(amount, currency))
}

/// The largest amount not above `money` that Stripe accepts as `purpose`
/// (a price is rounded down to it before it is charged): KWD 1.005 becomes
/// 1.000 for a charge, HUF 10.50 becomes 10.00 for a payout.
pub fn round_down_for(money: Money, purpose: AmountUse) -> Money {
    let step = match purpose {
        AmountUse::Charge if money.currency.minor_unit_digits() == 3 => 10,
        AmountUse::Payout if is_one_of(money.currency, &WHOLE_UNIT_PAYOUTS) => 100,
        _ => 1,
    };
    Money::new(
        money.amount_minor - money.amount_minor.rem_euclid(step),
        money.currency,
    )
}

/// Stripe's lower-case currency code (`"eur"`).
pub fn stripe_currency(currency: Currency) -> String {
    currency.as_str().to_ascii_lowercase()
}

/// Our currency for Stripe's code (`"eur"` → EUR); `Invalid` when unknown.
pub fn currency_from_stripe(code: &str) -> Result<Currency> {
    Currency::parse(&code.to_ascii_uppercase()).map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(code: &str, minor: i64) -> Money {
        Money::new(minor, Currency::parse(code).expect("currency"))
    }

    fn code(code: &str) -> Currency {
        Currency::parse(code).expect("currency")
    }

    /// The rule each supported currency follows, written out by hand from
    /// Stripe's currency table, so that a currency added to the list
    /// without a decision here fails the test.
    fn expected_rule(code: &str) -> (&'static str, u8) {
        match code {
            "ISK" | "UGX" => ("whole-in-hundredths", 0),
            "HUF" | "TWD" => ("whole-unit-payouts", 2),
            "BHD" | "JOD" | "KWD" | "OMR" | "TND" => ("three-decimal", 3),
            "CLP" | "JPY" | "KRW" | "VND" | "XAF" | "XOF" => ("zero-decimal", 0),
            "AED" | "ARS" | "AUD" | "BGN" | "BRL" | "CAD" | "CHF" | "CNY" | "COP" | "CZK"
            | "DKK" | "EGP" | "EUR" | "GBP" | "HKD" | "IDR" | "ILS" | "INR" | "KES" | "MAD"
            | "MXN" | "MYR" | "NGN" | "NOK" | "NZD" | "PEN" | "PHP" | "PKR" | "PLN" | "QAR"
            | "RON" | "SAR" | "SEK" | "SGD" | "THB" | "TRY" | "UAH" | "USD" | "ZAR" => {
                ("two-decimal", 2)
            }
            other => panic!("no Stripe rule decided for {other}"),
        }
    }

    #[test]
    fn every_supported_currency_round_trips() {
        for currency in Currency::all() {
            let code = currency.as_str().to_owned();
            let (rule, digits) = expected_rule(&code);
            assert_eq!(currency.minor_unit_digits(), digits, "{code}");
            let price = money(&code, 12_300);
            for purpose in [AmountUse::Charge, AmountUse::Payout] {
                let sent = to_stripe(price, purpose).expect("representable");
                let expected = match rule {
                    "whole-in-hundredths" => 1_230_000,
                    _ => 12_300,
                };
                assert_eq!(sent, expected, "{code} {purpose:?}");
                assert_eq!(from_stripe(sent, currency).ok(), Some(price), "{code} back");
                assert!(to_stripe(money(&code, 0), purpose).is_err(), "{code} zero");
                assert!(
                    to_stripe(money(&code, -5), purpose).is_err(),
                    "{code} negative"
                );
            }
            let odd = money(&code, 12_345);
            let charge = to_stripe(odd, AmountUse::Charge);
            let payout = to_stripe(odd, AmountUse::Payout);
            match rule {
                "three-decimal" => {
                    assert!(charge.is_err(), "{code}: a charge ends in 0");
                    assert_eq!(payout.ok(), Some(12_345), "{code}");
                    assert_eq!(round_down_for(odd, AmountUse::Charge), money(&code, 12_340));
                }
                "whole-unit-payouts" => {
                    assert_eq!(charge.ok(), Some(12_345), "{code}");
                    assert!(payout.is_err(), "{code}: payouts are whole units");
                    assert_eq!(round_down_for(odd, AmountUse::Payout), money(&code, 12_300));
                }
                "whole-in-hundredths" => {
                    assert_eq!(charge.ok(), Some(1_234_500), "{code}");
                    assert!(
                        from_stripe(1_234_550, currency).is_err(),
                        "{code}: ends in 00"
                    );
                }
                _ => {
                    assert_eq!(charge.ok(), Some(12_345), "{code}");
                    assert_eq!(payout.ok(), Some(12_345), "{code}");
                    assert_eq!(round_down_for(odd, AmountUse::Charge), odd);
                }
            }
            assert_eq!(
                currency_from_stripe(&stripe_currency(currency)).expect("code"),
                currency
            );
        }
    }

    #[test]
    fn every_supported_currency_has_one_minimum_stripe_can_take() {
        for currency in Currency::all() {
            let code = currency.as_str().to_owned();
            let entries = STRIPE_MINIMUMS
                .iter()
                .chain(ABOUT_A_DOLLAR.iter())
                .filter(|(known, _)| *known == code)
                .count();
            assert_eq!(entries, 1, "{code}: one minimum, in one table");
            let least = minimum_charge(currency);
            assert!(least.is_positive(), "{code}");
            assert_eq!(charge_refusal(least), None, "{code}: the minimum itself");
            assert_eq!(
                check_chargeable(least).ok(),
                to_stripe(least, AmountUse::Charge).ok()
            );
            let below = Money::new(least.amount_minor - 1, currency);
            assert!(charge_refusal(below).is_some(), "{code}: below the minimum");
            assert!(check_chargeable(below).is_err(), "{code}");
            let most = maximum_charge(currency);
            assert_eq!(charge_refusal(most), None, "{code}: the maximum itself");
            let over = Money::new(most.amount_minor + 10, currency);
            assert!(check_chargeable(over).is_err(), "{code}: over the maximum");
        }
    }

    #[test]
    fn stripes_table_is_kept_as_documented() {
        // Regression: content priced USD 0.30 published and every purchase failed
        // with Stripe's "amount must be at least 50 cents".
        assert!(check_chargeable(money("USD", 30)).is_err());
        assert_eq!(check_chargeable(money("USD", 50)).ok(), Some(50));
        assert_eq!(minimum_charge(Currency::EUR), money("EUR", 50));
        assert_eq!(minimum_charge(Currency::GBP), money("GBP", 30));
        assert!(check_chargeable(money("GBP", 30)).is_ok());
        assert_eq!(minimum_charge(Currency::JPY), money("JPY", 50));
        assert!(check_chargeable(money("JPY", 30)).is_err());
        assert_eq!(minimum_charge(code("HUF")), money("HUF", 17_500));
        assert_eq!(minimum_charge(code("MXN")), money("MXN", 1_000));
        assert_eq!(maximum_charge(Currency::USD), money("USD", 99_999_999));
        assert_eq!(maximum_charge(code("KWD")), money("KWD", 99_999_990));
        assert!(check_chargeable(money("USD", 100_000_000)).is_err());
        // Stripe counts ISK in hundredths: its eight digits hold 999,999 krónur.
        assert_eq!(maximum_charge(code("ISK")), money("ISK", 999_999));
        assert_eq!(
            check_chargeable(money("ISK", 999_999)).ok(),
            Some(99_999_900)
        );
        assert!(check_chargeable(money("ISK", 1_000_000)).is_err());
        // Zero and the currency's own rules are refused as by `to_stripe`.
        assert!(check_chargeable(money("USD", 0)).is_err());
        assert!(check_chargeable(money("USD", -100)).is_err());
        assert!(check_chargeable(money("KWD", 1_005)).is_err());
        assert_eq!(check_chargeable(money("KWD", 1_000)).ok(), Some(1_000));
    }

    /// The minimums of currencies Stripe's table leaves out stand for about
    /// one US dollar at the reference rates: above every settlement
    /// currency's minimum (the highest, CZK 15.00, is about USD 0.65), and
    /// not so high that a cheap price is refused for nothing.
    #[test]
    fn minimums_outside_stripes_table_are_worth_about_a_dollar() {
        let rates = crate::matching::RateTable::default();
        for (code, minor) in ABOUT_A_DOLLAR {
            let currency = Currency::parse(code).expect("supported");
            let cents = rates
                .convert(minor, currency, Currency::USD)
                .expect("a reference rate");
            assert!(
                (100.0..=125.0).contains(&cents),
                "{code} {minor} is worth {cents} US cents"
            );
            if currency.minor_unit_digits() == 3 {
                assert_eq!(minor % 10, 0, "{code}: a charge's last digit is 0");
            }
        }
        let czk = rates
            .convert(1_500, code("CZK"), Currency::USD)
            .expect("rate");
        assert!(czk < 100.0, "the highest of Stripe's minimums: {czk}");
    }

    #[test]
    fn a_sessions_price_is_rounded_down_as_it_is_charged() {
        // Regression: one minor unit an hour priced a 15-minute session at zero,
        // and the booking was confirmed free.
        let zero = charge_for_minutes(money("USD", 1), 15).expect("price");
        assert!(zero.is_zero());
        assert!(check_chargeable(zero).is_err());
        // Regression: JPY 60 an hour made 30-minute sessions of JPY 30, under
        // Stripe's JPY 50.
        let yen = charge_for_minutes(money("JPY", 60), 30).expect("price");
        assert_eq!(yen, money("JPY", 30));
        assert!(check_chargeable(yen).is_err());
        assert_eq!(
            charge_for_minutes(money("USD", 9_000), 45).expect("price"),
            money("USD", 6_750)
        );
        // Three-decimal currencies are charged in tens of their minor unit.
        assert_eq!(
            charge_for_minutes(money("KWD", 10_005), 60).expect("price"),
            money("KWD", 10_000)
        );
    }

    #[test]
    fn overflow_and_bad_codes_are_errors() {
        assert!(to_stripe(money("ISK", i64::MAX / 10), AmountUse::Charge).is_err());
        assert!(from_stripe(-1, Currency::EUR).is_err());
        assert!(currency_from_stripe("xyz").is_err());
    }
}

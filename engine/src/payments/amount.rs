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
/// currency's rule (a KWD charge of 1.005, a HUF payout of 10.50).
pub fn to_stripe(money: Money, purpose: AmountUse) -> Result<i64> {
    let invalid = |why: &str| Error::Invalid(format!("{money} cannot be sent to Stripe: {why}"));
    if !money.is_positive() {
        return Err(invalid("the amount must be positive"));
    }
    let currency = money.currency;
    let minor = money.amount_minor;
    if is_one_of(currency, &WHOLE_IN_HUNDREDTHS) {
        return minor
            .checked_mul(100)
            .ok_or_else(|| invalid("the amount is too large"));
    }
    if currency.minor_unit_digits() == 3 && purpose == AmountUse::Charge && minor % 10 != 0 {
        return Err(invalid("a charge's last decimal digit must be 0"));
    }
    if is_one_of(currency, &WHOLE_UNIT_PAYOUTS) && purpose == AmountUse::Payout && minor % 100 != 0
    {
        return Err(invalid("payouts must be whole units"));
    }
    Ok(minor)
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
    fn overflow_and_bad_codes_are_errors() {
        assert!(to_stripe(money("ISK", i64::MAX / 10), AmountUse::Charge).is_err());
        assert!(from_stripe(-1, Currency::EUR).is_err());
        assert!(currency_from_stripe("xyz").is_err());
    }
}

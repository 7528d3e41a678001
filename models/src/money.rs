//! `Money`: an integer amount of a currency's minor unit (cents), with
//! checked arithmetic that refuses to mix currencies or overflow.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Currency, Error, Result};

/// An amount of money in minor units (`1250` EUR = €12.50).
///
/// Serialises as `{"amount_minor": 1250, "currency": "EUR"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount in the currency's minor unit; may be negative.
    pub amount_minor: i64,
    /// The currency the amount is in.
    pub currency: Currency,
}

impl Money {
    /// An amount in minor units.
    pub const fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    /// Zero in the given currency.
    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// Parses a decimal amount such as `"12.5"` or `"12.50"` in `currency`,
    /// rejecting more fraction digits than the currency has.
    pub fn from_decimal_str(text: &str, currency: Currency) -> Result<Self> {
        let invalid = |reason: &str| Error::invalid("amount", reason.to_owned());
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (major, minor) = digits.split_once('.').unwrap_or((digits, ""));
        let scale = u32::from(currency.minor_unit_digits());
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if major.is_empty() || !all_digits(major) || !all_digits(minor) {
            return Err(invalid("must be a decimal number like 12.50"));
        }
        if minor.len() > scale as usize || (digits.contains('.') && minor.is_empty()) {
            return Err(invalid(
                "too many or missing fraction digits for the currency",
            ));
        }
        let overflow = || invalid("amount is too large");
        let major: i64 = major.parse().map_err(|_| overflow())?;
        let mut fraction: i64 = if minor.is_empty() {
            0
        } else {
            minor.parse().map_err(|_| overflow())?
        };
        for _ in minor.len()..scale as usize {
            fraction *= 10;
        }
        let amount = major
            .checked_mul(10_i64.pow(scale))
            .and_then(|m| m.checked_add(fraction))
            .ok_or_else(overflow)?;
        Ok(Self::new(if negative { -amount } else { amount }, currency))
    }

    fn same_currency(self, other: Self) -> Result<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`; fails on a currency mismatch or overflow.
    pub fn checked_add(self, other: Self) -> Result<Self> {
        self.same_currency(other)?;
        let amount = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or(Error::Overflow {
                what: "money addition",
            })?;
        Ok(Self::new(amount, self.currency))
    }

    /// `self - other`; fails on a currency mismatch or overflow.
    pub fn checked_sub(self, other: Self) -> Result<Self> {
        self.same_currency(other)?;
        let amount = self
            .amount_minor
            .checked_sub(other.amount_minor)
            .ok_or(Error::Overflow {
                what: "money subtraction",
            })?;
        Ok(Self::new(amount, self.currency))
    }

    /// `self * factor`; fails on overflow.
    pub fn checked_mul(self, factor: i64) -> Result<Self> {
        let amount = self
            .amount_minor
            .checked_mul(factor)
            .ok_or(Error::Overflow {
                what: "money multiplication",
            })?;
        Ok(Self::new(amount, self.currency))
    }

    /// `self * numerator / denominator`, rounded toward zero, computed
    /// without intermediate overflow (e.g. a 15 % fee is `(15, 100)`).
    pub fn checked_mul_ratio(self, numerator: i64, denominator: i64) -> Result<Self> {
        let overflow = Error::Overflow {
            what: "money ratio",
        };
        if denominator == 0 {
            return Err(overflow);
        }
        let wide = i128::from(self.amount_minor) * i128::from(numerator) / i128::from(denominator);
        let amount = i64::try_from(wide).map_err(|_| overflow)?;
        Ok(Self::new(amount, self.currency))
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.amount_minor == 0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.amount_minor < 0
    }

    /// Whether the amount is above zero.
    pub const fn is_positive(self) -> bool {
        self.amount_minor > 0
    }

    /// The amount as a decimal number of the currency's major unit, without
    /// the currency: `"12.50"`, `"-0.05"`, `"500"` (JPY, no minor digits),
    /// `"1.005"` (KWD, three). The minor units are split by integer
    /// arithmetic, never through a float; [`Money::from_decimal_str`] reads
    /// it back.
    pub fn decimal_amount(self) -> String {
        let sign = if self.is_negative() { "-" } else { "" };
        format!("{sign}{}", self.magnitude(false))
    }

    /// The amount's magnitude (without its sign) as a decimal number of the
    /// major unit, the whole part grouped in thousands by commas, for people
    /// to read: `"1,234,567.89"`, `"900"` (JPY). The caller places the sign
    /// (before a currency symbol, say).
    pub fn grouped_magnitude(self) -> String {
        self.magnitude(true)
    }

    /// The one place minor units become digits: the whole part (grouped in
    /// thousands when `grouped`), then the fraction zero-padded to the
    /// currency's minor digits, if it has any.
    fn magnitude(self, grouped: bool) -> String {
        let digits = u32::from(self.currency.minor_unit_digits());
        let scale = 10_u64.pow(digits);
        let abs = self.amount_minor.unsigned_abs();
        let whole = abs / scale;
        let whole = if grouped {
            grouped_thousands(whole)
        } else {
            whole.to_string()
        };
        if digits == 0 {
            return whole;
        }
        format!("{whole}.{:0width$}", abs % scale, width = digits as usize)
    }
}

/// `795000` as `795,000`.
fn grouped_thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

impl fmt::Display for Money {
    /// `"EUR 12.50"`, `"JPY 500"`, `"EUR -0.05"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.decimal_amount())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::EUR)
    }

    #[test]
    fn display_respects_minor_digits() {
        assert_eq!(eur(1250).to_string(), "EUR 12.50");
        assert_eq!(eur(5).to_string(), "EUR 0.05");
        assert_eq!(eur(-5).to_string(), "EUR -0.05");
        assert_eq!(Money::new(500, Currency::JPY).to_string(), "JPY 500");
        let kwd = Currency::parse("KWD").expect("KWD");
        assert_eq!(Money::new(1_005, kwd).to_string(), "KWD 1.005");
        assert_eq!(eur(i64::MIN).to_string(), "EUR -92233720368547758.08");
    }

    #[test]
    fn decimal_amount_has_the_currencys_minor_digits() {
        let jpy = Currency::JPY;
        let kwd = Currency::parse("KWD").expect("KWD");
        assert_eq!(Money::zero(Currency::EUR).decimal_amount(), "0.00");
        assert_eq!(eur(1250).decimal_amount(), "12.50");
        assert_eq!(eur(-5).decimal_amount(), "-0.05");
        assert_eq!(eur(123_456_789).decimal_amount(), "1234567.89");
        assert_eq!(Money::zero(jpy).decimal_amount(), "0");
        assert_eq!(Money::new(900, jpy).decimal_amount(), "900");
        assert_eq!(Money::new(-900, jpy).decimal_amount(), "-900");
        assert_eq!(Money::new(1_005, kwd).decimal_amount(), "1.005");
        assert_eq!(Money::new(-7, kwd).decimal_amount(), "-0.007");
        assert_eq!(eur(i64::MIN).decimal_amount(), "-92233720368547758.08");
        for minor in [0, 5, -5, 1250, -1_005, 123_456_789] {
            for currency in [Currency::EUR, jpy, kwd] {
                let money = Money::new(minor, currency);
                assert_eq!(
                    Money::from_decimal_str(&money.decimal_amount(), currency),
                    Ok(money)
                );
            }
        }
    }

    #[test]
    fn grouped_magnitude_groups_thousands_and_drops_the_sign() {
        let jpy = Currency::JPY;
        let kwd = Currency::parse("KWD").expect("KWD");
        assert_eq!(Money::zero(Currency::EUR).grouped_magnitude(), "0.00");
        assert_eq!(eur(99_999).grouped_magnitude(), "999.99");
        assert_eq!(eur(123_456_789).grouped_magnitude(), "1,234,567.89");
        assert_eq!(eur(-123_456_789).grouped_magnitude(), "1,234,567.89");
        assert_eq!(Money::new(1_000, jpy).grouped_magnitude(), "1,000");
        assert_eq!(Money::new(-900, jpy).grouped_magnitude(), "900");
        assert_eq!(Money::new(1_234_005, kwd).grouped_magnitude(), "1,234.005");
        assert_eq!(
            eur(i64::MIN).grouped_magnitude(),
            "92,233,720,368,547,758.08"
        );
    }

    #[test]
    fn add_and_sub() {
        assert_eq!(eur(1000).checked_add(eur(250)), Ok(eur(1250)));
        assert_eq!(eur(1000).checked_sub(eur(1250)), Ok(eur(-250)));
    }

    #[test]
    fn mismatch_is_an_error() {
        let err = eur(1).checked_add(Money::new(1, Currency::USD));
        assert_eq!(
            err,
            Err(Error::CurrencyMismatch {
                left: Currency::EUR,
                right: Currency::USD
            })
        );
        assert!(eur(1).checked_sub(Money::new(1, Currency::USD)).is_err());
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(eur(i64::MAX).checked_add(eur(1)).is_err());
        assert!(eur(i64::MIN).checked_sub(eur(1)).is_err());
        assert!(eur(i64::MAX).checked_mul(2).is_err());
        assert!(eur(1).checked_mul_ratio(1, 0).is_err());
    }

    #[test]
    fn ratio_rounds_toward_zero() {
        assert_eq!(eur(1999).checked_mul_ratio(15, 100), Ok(eur(299)));
        assert_eq!(eur(i64::MAX).checked_mul_ratio(1, 2), Ok(eur(i64::MAX / 2)));
    }

    #[test]
    fn parses_decimal_strings() {
        assert_eq!(
            Money::from_decimal_str("12.5", Currency::EUR),
            Ok(eur(1250))
        );
        assert_eq!(
            Money::from_decimal_str("12.50", Currency::EUR),
            Ok(eur(1250))
        );
        assert_eq!(Money::from_decimal_str("12", Currency::EUR), Ok(eur(1200)));
        assert_eq!(Money::from_decimal_str("-0.05", Currency::EUR), Ok(eur(-5)));
        assert_eq!(
            Money::from_decimal_str("500", Currency::JPY),
            Ok(Money::new(500, Currency::JPY))
        );
        for bad in ["", "12.505", "1.2.3", "abc", "12.", ".5", "1e3", "500.0x"] {
            assert!(
                Money::from_decimal_str(bad, Currency::EUR).is_err(),
                "{bad}"
            );
        }
        assert!(Money::from_decimal_str("5.0", Currency::JPY).is_err());
    }

    #[test]
    fn serde_shape() {
        let json = serde_json::to_string(&eur(1250)).expect("serialize");
        assert_eq!(json, r#"{"amount_minor":1250,"currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).ok(), Some(eur(1250)));
    }
}

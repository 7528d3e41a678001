//! `Currency`: a validated ISO 4217 code from a fixed list of real
//! currencies, knowing how many minor-unit digits it has.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// Supported currencies and their minor-unit digits (ISO 4217).
#[rustfmt::skip]
const KNOWN: &[(&str, u8)] = &[
    ("AED", 2), ("ARS", 2), ("AUD", 2), ("BGN", 2), ("BHD", 3), ("BRL", 2),
    ("CAD", 2), ("CHF", 2), ("CLP", 0), ("CNY", 2), ("COP", 2), ("CZK", 2),
    ("DKK", 2), ("EGP", 2), ("EUR", 2), ("GBP", 2), ("HKD", 2), ("HUF", 2),
    ("IDR", 2), ("ILS", 2), ("INR", 2), ("ISK", 0), ("JOD", 3), ("JPY", 0),
    ("KES", 2), ("KRW", 0), ("KWD", 3), ("MAD", 2), ("MXN", 2), ("MYR", 2),
    ("NGN", 2), ("NOK", 2), ("NZD", 2), ("OMR", 3), ("PEN", 2), ("PHP", 2),
    ("PKR", 2), ("PLN", 2), ("QAR", 2), ("RON", 2), ("SAR", 2), ("SEK", 2),
    ("SGD", 2), ("THB", 2), ("TND", 3), ("TRY", 2), ("TWD", 2), ("UAH", 2),
    ("UGX", 0), ("USD", 2), ("VND", 0), ("XAF", 0), ("XOF", 0), ("ZAR", 2),
];

/// An ISO 4217 currency code such as `EUR`, stored as three ASCII bytes.
///
/// Only codes from a fixed list of real currencies are accepted. Serialises
/// as the code string (`"EUR"`).
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Euro.
    pub const EUR: Self = Self(*b"EUR");
    /// US dollar.
    pub const USD: Self = Self(*b"USD");
    /// Pound sterling.
    pub const GBP: Self = Self(*b"GBP");
    /// Japanese yen (no minor unit).
    pub const JPY: Self = Self(*b"JPY");

    /// Parses an upper-case ISO 4217 code from the supported list.
    pub fn parse(code: &str) -> Result<Self> {
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .map_err(|_| Error::invalid("currency", "must be a 3-letter ISO 4217 code"))?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(Error::invalid("currency", "must be 3 uppercase letters"));
        }
        if Self::lookup(&bytes).is_none() {
            return Err(Error::invalid(
                "currency",
                format!("{code:?} is not a supported ISO 4217 currency"),
            ));
        }
        Ok(Self(bytes))
    }

    fn lookup(bytes: &[u8; 3]) -> Option<&'static (&'static str, u8)> {
        KNOWN.iter().find(|(code, _)| code.as_bytes() == bytes)
    }

    /// The code, e.g. `"EUR"`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// How many digits the minor unit has: 2 for EUR (cents), 0 for JPY,
    /// 3 for KWD.
    pub fn minor_unit_digits(self) -> u8 {
        Self::lookup(&self.0).map_or(2, |(_, digits)| *digits)
    }

    /// Every supported currency, sorted by code.
    pub fn all() -> impl Iterator<Item = Currency> {
        KNOWN.iter().map(|(code, _)| {
            let b = code.as_bytes();
            Currency([b[0], b[1], b[2]])
        })
    }
}

impl Default for Currency {
    /// The platform default, USD.
    fn default() -> Self {
        Self::USD
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_codes() {
        for code in [
            "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN",
            "CZK", "HUF", "INR", "BRL", "MXN", "SGD", "HKD", "KRW", "ZAR", "AED", "ILS", "TRY",
            "CNY", "TWD", "THB", "IDR", "MYR", "PHP", "NGN", "KES", "EGP", "ARS", "CLP", "COP",
        ] {
            let c = Currency::parse(code).expect(code);
            assert_eq!(c.as_str(), code);
        }
    }

    #[test]
    fn rejects_bad_codes() {
        for bad in ["", "EU", "EURO", "eur", "XXX", "ABC", "E1R", "€UR"] {
            assert!(Currency::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn minor_digits() {
        assert_eq!(Currency::EUR.minor_unit_digits(), 2);
        assert_eq!(Currency::JPY.minor_unit_digits(), 0);
        assert_eq!(
            Currency::parse("KRW").map(Currency::minor_unit_digits),
            Ok(0)
        );
        assert_eq!(
            Currency::parse("KWD").map(Currency::minor_unit_digits),
            Ok(3)
        );
    }

    #[test]
    fn known_list_is_sorted_and_valid() {
        let codes: Vec<_> = KNOWN.iter().map(|(c, _)| *c).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        assert!(Currency::all().all(|c| Currency::parse(c.as_str()) == Ok(c)));
    }

    #[test]
    fn serde_as_string() {
        let json = serde_json::to_string(&Currency::EUR).expect("serialize");
        assert_eq!(json, "\"EUR\"");
        assert_eq!(
            serde_json::from_str::<Currency>(&json).ok(),
            Some(Currency::EUR)
        );
        assert!(serde_json::from_str::<Currency>("\"XYZ\"").is_err());
    }
}

//! [`RateTable`]: exchange rates used to read a budget in one currency against hourly
//! rates in others. A budget becomes one price range per known currency; ranges round
//! outwards (the lower bound down, the upper bound up) so no expert inside the budget is
//! lost to rounding.

use std::collections::BTreeMap;

use droply_index::PriceRange;
use droply_models::Currency;
use serde::Deserialize;

use super::query::Budget;
use crate::{Error, Result};

/// How much one major unit of each currency is worth in a common base (any base works,
/// only ratios are used).
#[derive(Debug, Clone, PartialEq)]
pub struct RateTable {
    per_unit: BTreeMap<Currency, f64>,
}

/// Rates in US dollars per unit, close to late-2026 market levels; a deployment sets
/// its own with [`RateTable::from_json`].
const DEFAULT_USD_RATES: &[(&str, f64)] = &[
    ("USD", 1.0),
    ("EUR", 1.08),
    ("GBP", 1.27),
    ("CHF", 1.12),
    ("CAD", 0.73),
    ("AUD", 0.66),
    ("NZD", 0.60),
    ("JPY", 0.0067),
    ("SEK", 0.095),
    ("NOK", 0.093),
    ("DKK", 0.145),
    ("PLN", 0.25),
    ("CZK", 0.043),
    ("INR", 0.012),
    ("SGD", 0.74),
    ("HKD", 0.128),
    ("BRL", 0.18),
    ("MXN", 0.055),
    ("ZAR", 0.054),
    ("AED", 0.272),
    ("ILS", 0.27),
    ("KRW", 0.00072),
    ("CNY", 0.14),
    ("TRY", 0.029),
    ("KES", 0.0077),
    ("NGN", 0.00065),
];

impl Default for RateTable {
    fn default() -> Self {
        let per_unit = DEFAULT_USD_RATES
            .iter()
            .filter_map(|(code, rate)| Currency::parse(code).ok().map(|c| (c, *rate)))
            .collect();
        RateTable { per_unit }
    }
}

impl RateTable {
    /// A table from `{"EUR": 1.08, "USD": 1.0, ...}` (value of one unit in a common base).
    pub fn from_json(text: &str) -> Result<Self> {
        #[derive(Deserialize)]
        struct Rates(BTreeMap<String, f64>);
        let Rates(raw) = serde_json::from_str(text)
            .map_err(|err| Error::Invalid(format!("rate table: {err}")))?;
        let mut per_unit = BTreeMap::new();
        for (code, rate) in raw {
            let currency = Currency::parse(&code)?;
            if !(rate.is_finite() && rate > 0.0) {
                return Err(Error::Invalid(format!(
                    "rate table: {code} must have a positive rate"
                )));
            }
            per_unit.insert(currency, rate);
        }
        Ok(RateTable { per_unit })
    }

    /// Converts `amount_minor` of `from` into minor units of `to`, if both are known.
    pub fn convert(&self, amount_minor: i64, from: Currency, to: Currency) -> Option<f64> {
        if from == to {
            return Some(amount_minor as f64);
        }
        let from_rate = self.per_unit.get(&from)?;
        let to_rate = self.per_unit.get(&to)?;
        let major = amount_minor as f64 / 10f64.powi(i32::from(from.minor_unit_digits()));
        Some(major * from_rate / to_rate * 10f64.powi(i32::from(to.minor_unit_digits())))
    }

    /// The budget as one hourly-rate range per currency: its own exactly, every other
    /// known currency converted and rounded outwards.
    pub fn ranges(&self, budget: &Budget) -> Vec<PriceRange> {
        let mut out = vec![*budget];
        if !self.per_unit.contains_key(&budget.currency) {
            return out;
        }
        for &currency in self.per_unit.keys() {
            if currency == budget.currency {
                continue;
            }
            let convert = |v: i64| self.convert(v, budget.currency, currency);
            out.push(PriceRange {
                currency,
                min_minor: budget.min_minor.and_then(convert).map(|v| v.floor() as i64),
                max_minor: budget.max_minor.and_then(convert).map(|v| v.ceil() as i64),
            });
        }
        out
    }

    /// Whether an hourly rate lies within the budget once converted.
    pub fn within(&self, budget: &Budget, rate_minor: i64, currency: Currency) -> bool {
        let Some(rate) = self.convert(rate_minor, currency, budget.currency) else {
            return false;
        };
        budget.min_minor.is_none_or(|min| rate >= min as f64 - 0.5)
            && budget.max_minor.is_none_or(|max| rate <= max as f64 + 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur_budget(max: i64) -> Budget {
        Budget {
            currency: Currency::EUR,
            min_minor: None,
            max_minor: Some(max),
        }
    }

    #[test]
    fn converts_through_the_base_with_minor_units() {
        let rates =
            RateTable::from_json(r#"{"EUR": 2.0, "USD": 1.0, "JPY": 0.01}"#).expect("table");
        // 10.00 EUR = 20.00 USD = 2000 JPY (no minor unit).
        assert_eq!(
            rates.convert(1000, Currency::EUR, Currency::USD),
            Some(2000.0)
        );
        assert_eq!(
            rates.convert(1000, Currency::EUR, Currency::JPY),
            Some(2000.0)
        );
        assert_eq!(rates.convert(1000, Currency::GBP, Currency::USD), None);
    }

    #[test]
    fn a_budget_becomes_one_range_per_currency_rounded_outwards() {
        let rates = RateTable::from_json(r#"{"EUR": 1.0, "USD": 3.0}"#).expect("table");
        let ranges = rates.ranges(&Budget {
            currency: Currency::EUR,
            min_minor: Some(100),
            max_minor: Some(1000),
        });
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[0].currency, Currency::EUR);
        let usd = ranges
            .iter()
            .find(|r| r.currency == Currency::USD)
            .expect("usd");
        // 1.00 EUR = 0.333 USD -> 33 cents (down); 10.00 EUR = 3.333 USD -> 334 (up).
        assert_eq!(usd.min_minor, Some(33));
        assert_eq!(usd.max_minor, Some(334));
    }

    #[test]
    fn within_compares_in_the_budget_currency() {
        let rates = RateTable::from_json(r#"{"EUR": 1.0, "USD": 0.5}"#).expect("table");
        assert!(rates.within(&eur_budget(5000), 10_000, Currency::USD));
        assert!(!rates.within(&eur_budget(4000), 10_000, Currency::USD));
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(RateTable::from_json(r#"{"EUR": 0}"#).is_err());
        assert!(RateTable::from_json(r#"{"XXX": 1}"#).is_err());
        assert!(RateTable::from_json("[1]").is_err());
    }
}

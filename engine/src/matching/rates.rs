//! [`RateTable`]: exchange rates used to read a budget in one currency against hourly
//! rates in others, and to state one amount (the referral cap) in every currency. A
//! budget becomes one price range per known currency; ranges round outwards (the lower
//! bound down, the upper bound up) so no expert inside the budget is lost to rounding.
//! An amount converted as a limit rounds down to the target's minor unit, so it never
//! allows more than the amount it stands for. The default table has a rate for every
//! supported currency (a test says so), so no currency is left out of a price filter.

use std::collections::BTreeMap;

use droply_index::PriceRange;
use droply_models::{Currency, Money};
use serde::Deserialize;

use super::query::Budget;
use crate::{Error, Result};

/// How much one major unit of each currency is worth in a common base (any base works,
/// only ratios are used).
#[derive(Debug, Clone, PartialEq)]
pub struct RateTable {
    per_unit: BTreeMap<Currency, f64>,
}

/// Reference rates in US dollars per unit of every supported currency, approximate, as
/// set on 2026-12-04 (pegged currencies at their pegs: AED, BHD, JOD, OMR, QAR and SAR
/// to the dollar, BGN, XAF and XOF to the euro). They read budgets across currencies and
/// cap referral rewards; nothing is ever charged or exchanged at them. A deployment sets
/// its own with [`RateTable::from_json`].
#[rustfmt::skip]
const DEFAULT_USD_RATES: &[(&str, f64)] = &[
    ("AED", 0.272),    ("ARS", 0.00085),  ("AUD", 0.66),     ("BGN", 0.552),
    ("BHD", 2.66),     ("BRL", 0.18),     ("CAD", 0.73),     ("CHF", 1.12),
    ("CLP", 0.00105),  ("CNY", 0.14),     ("COP", 0.00025),  ("CZK", 0.043),
    ("DKK", 0.145),    ("EGP", 0.0204),   ("EUR", 1.08),     ("GBP", 1.27),
    ("HKD", 0.128),    ("HUF", 0.0028),   ("IDR", 0.000062), ("ILS", 0.27),
    ("INR", 0.012),    ("ISK", 0.0074),   ("JOD", 1.41),     ("JPY", 0.0067),
    ("KES", 0.0077),   ("KRW", 0.00072),  ("KWD", 3.26),     ("MAD", 0.104),
    ("MXN", 0.055),    ("MYR", 0.23),     ("NGN", 0.00065),  ("NOK", 0.093),
    ("NZD", 0.60),     ("OMR", 2.60),     ("PEN", 0.27),     ("PHP", 0.0175),
    ("PKR", 0.0036),   ("PLN", 0.25),     ("QAR", 0.2747),   ("RON", 0.217),
    ("SAR", 0.2667),   ("SEK", 0.095),    ("SGD", 0.74),     ("THB", 0.030),
    ("TND", 0.32),     ("TRY", 0.029),    ("TWD", 0.031),    ("UAH", 0.024),
    ("UGX", 0.00027),  ("USD", 1.0),      ("VND", 0.000039), ("XAF", 0.001646),
    ("XOF", 0.001646), ("ZAR", 0.054),
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

    /// Whether `currency` has a rate in this table.
    pub fn knows(&self, currency: Currency) -> bool {
        self.per_unit.contains_key(&currency)
    }

    /// The supported currencies ([`Currency::all`]) this table has no rate for, in
    /// code order (none for the default table).
    pub fn missing(&self) -> Vec<Currency> {
        Currency::all().filter(|c| !self.knows(*c)).collect()
    }

    /// `amount` in minor units of `to`, rounded down (toward negative infinity) to a
    /// whole minor unit: what an amount given in one currency allows at most in
    /// another. `None` when either currency has no rate, or the result does not fit.
    pub fn convert_down(&self, amount: Money, to: Currency) -> Option<Money> {
        let converted = self
            .convert(amount.amount_minor, amount.currency, to)?
            .floor();
        Some(Money::new(whole_minor(converted)?, to))
    }

    /// The budget as one hourly-rate range per currency: its own exactly, every other
    /// known currency converted and rounded outwards (a positive minimum to at least
    /// one minor unit). A bound that no longer fits in an `i64` once converted (a huge
    /// budget read in a currency of much smaller units) is clamped to `i64::MAX` (or
    /// `i64::MIN` below zero), outwards like the rounding: no price lies past it, so no
    /// expert inside the budget is lost, and the range is never narrowed by overflow.
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
            // A positive minimum stays positive however small once converted: it
            // leaves free experts (priced at zero) out in every currency.
            let min_minor = budget.min_minor.and_then(|min| {
                let floor = clamped_minor(convert(min)?.floor());
                Some(if min > 0 { floor.max(1) } else { floor })
            });
            let max_minor = budget
                .max_minor
                .and_then(convert)
                .map(|v| clamped_minor(v.ceil()));
            out.push(PriceRange {
                currency,
                min_minor,
                max_minor,
            });
        }
        out
    }

    /// Whether an expert pricing in `currency` at `rate` lies within the budget: a rate
    /// of `None` (free sessions) counts as zero in `currency`, as the text index prices
    /// a free expert (so a budget without a positive minimum keeps them).
    pub fn expert_within(&self, budget: &Budget, rate: Option<Money>, currency: Currency) -> bool {
        let (rate_minor, currency) =
            rate.map_or((0, currency), |rate| (rate.amount_minor, rate.currency));
        self.within(budget, rate_minor, currency)
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

/// A converted amount, already rounded to a whole number of minor units, as an `i64`;
/// `None` when it is not finite or lies outside the `i64` range (an `as` cast would
/// saturate silently instead of failing).
fn whole_minor(rounded: f64) -> Option<i64> {
    // 2^63, the first value past i64::MAX; -2^63 is i64::MIN itself.
    let limit = 2f64.powi(63);
    if !rounded.is_finite() || rounded >= limit || rounded < -limit {
        return None;
    }
    Some(rounded as i64)
}

/// [`whole_minor`] for a price-range bound: one past the `i64` range is clamped to
/// the nearest end of it (outwards, see [`RateTable::ranges`]).
fn clamped_minor(rounded: f64) -> i64 {
    whole_minor(rounded).unwrap_or(if rounded > 0.0 { i64::MAX } else { i64::MIN })
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

    /// Regression: a bound past the `i64` range once converted went through a bare
    /// `as i64`, clamped without a word; it is now checked by the same rule as
    /// `convert_down` and clamped outwards on purpose, never narrowing the range.
    #[test]
    fn a_budget_bound_past_the_i64_range_once_converted_is_clamped_outwards() {
        // One EUR is worth 10^6 USD: any amount past ~9.2e12 EUR cents overflows.
        let rates = RateTable::from_json(r#"{"EUR": 1000000.0, "USD": 1.0}"#).expect("table");
        let usd = |budget: &Budget| {
            rates
                .ranges(budget)
                .into_iter()
                .find(|r| r.currency == Currency::USD)
                .expect("usd")
        };
        let huge = usd(&Budget {
            currency: Currency::EUR,
            min_minor: Some(i64::MAX / 2),
            max_minor: Some(i64::MAX),
        });
        assert_eq!(huge.min_minor, Some(i64::MAX));
        assert_eq!(huge.max_minor, Some(i64::MAX));
        let negative = usd(&Budget {
            currency: Currency::EUR,
            min_minor: Some(i64::MIN),
            max_minor: Some(-1_000_000_000_000_000),
        });
        assert_eq!(negative.min_minor, Some(i64::MIN));
        assert_eq!(negative.max_minor, Some(i64::MIN));
        // Within the range the bounds are converted and rounded as before.
        let fitting = usd(&Budget {
            currency: Currency::EUR,
            min_minor: Some(100),
            max_minor: Some(1_000),
        });
        assert_eq!(fitting.min_minor, Some(100_000_000));
        assert_eq!(fitting.max_minor, Some(1_000_000_000));
        // The same rule refuses the conversion of a limit past the range.
        assert_eq!(
            rates.convert_down(Money::new(i64::MAX, Currency::EUR), Currency::USD),
            None
        );
        assert_eq!(whole_minor(f64::INFINITY), None);
        assert_eq!(whole_minor(f64::NAN), None);
        assert_eq!(whole_minor(2f64.powi(63)), None);
        assert_eq!(whole_minor(-(2f64.powi(63))), Some(i64::MIN));
        assert_eq!(clamped_minor(f64::NEG_INFINITY), i64::MIN);
    }

    #[test]
    fn within_compares_in_the_budget_currency() {
        let rates = RateTable::from_json(r#"{"EUR": 1.0, "USD": 0.5}"#).expect("table");
        assert!(rates.within(&eur_budget(5000), 10_000, Currency::USD));
        assert!(!rates.within(&eur_budget(4000), 10_000, Currency::USD));
    }

    /// Regression: a free expert (no rate) was never within a budget, though a
    /// maximum alone or a minimum of zero admits a session that costs nothing.
    #[test]
    fn a_free_expert_is_within_a_budget_without_a_positive_minimum() {
        let rates = RateTable::from_json(r#"{"EUR": 1.0, "USD": 0.5}"#).expect("table");
        let budget = |min_minor, max_minor| Budget {
            currency: Currency::EUR,
            min_minor,
            max_minor,
        };
        for currency in [Currency::EUR, Currency::USD] {
            assert!(rates.expert_within(&budget(None, Some(5000)), None, currency));
            assert!(rates.expert_within(&budget(Some(0), Some(5000)), None, currency));
            assert!(!rates.expert_within(&budget(Some(1), Some(5000)), None, currency));
        }
        // Regression: a minimum of one EUR cent became a USD range from zero, so a
        // free expert pricing in USD passed a positive minimum in the index.
        let positive = rates.ranges(&budget(Some(1), None));
        assert!(
            positive.iter().all(|range| range.min_minor >= Some(1)),
            "{positive:?}"
        );
        let usd = |minor| Some(Money::new(minor, Currency::USD));
        assert!(rates.expert_within(&eur_budget(5000), usd(10_000), Currency::USD));
        assert!(!rates.expert_within(&eur_budget(4000), usd(10_000), Currency::USD));
    }

    /// Regression: the default table had 26 of the 54 supported currencies, so a price
    /// filter in one of them never matched an expert charging in another (a USD budget
    /// skipped every KWD, VND or HUF expert), and a budget in one of the others matched
    /// only its own currency.
    #[test]
    fn the_default_table_has_a_rate_for_every_supported_currency() {
        let rates = RateTable::default();
        assert_eq!(rates.missing(), Vec::<Currency>::new());
        for currency in Currency::all() {
            assert!(rates.knows(currency), "{currency}");
            let rate = rates.per_unit.get(&currency).copied().unwrap_or_default();
            assert!(rate.is_finite() && rate > 0.0, "{currency}: {rate}");
        }
        let budget = Budget {
            currency: Currency::USD,
            min_minor: None,
            max_minor: Some(20_000),
        };
        let ranges = rates.ranges(&budget);
        assert_eq!(ranges.len(), Currency::all().count());
        let kwd = Currency::parse("KWD").expect("KWD");
        let dinars = ranges
            .iter()
            .find(|r| r.currency == kwd)
            .expect("a KWD range");
        // 200.00 USD at 3.26 USD a dinar: 61.350 KWD (rounded up).
        assert_eq!(dinars.max_minor, Some(61_350));
        assert!(rates.within(&budget, 50_000, kwd), "50.000 KWD is 163 USD");
    }

    #[test]
    fn a_limit_converts_down_to_the_targets_minor_unit() {
        let rates = RateTable::default();
        let usd = |minor| Money::new(minor, Currency::USD);
        let code = |c: &str| Currency::parse(c).expect("currency");
        // 100 USD / 0.0067 = 14925.37 JPY; / 0.000039 = 2564102.56 VND.
        assert_eq!(
            rates.convert_down(usd(10_000), Currency::JPY),
            Some(Money::new(14_925, Currency::JPY))
        );
        assert_eq!(
            rates.convert_down(usd(10_000), code("VND")),
            Some(Money::new(2_564_102, code("VND")))
        );
        // 100 USD / 3.26 = 30.67484 KWD: thousandths, rounded down.
        assert_eq!(
            rates.convert_down(usd(10_000), code("KWD")),
            Some(Money::new(30_674, code("KWD")))
        );
        assert_eq!(
            rates.convert_down(usd(10_000), Currency::USD),
            Some(usd(10_000))
        );
        let partial = RateTable::from_json(r#"{"USD": 1.0}"#).expect("table");
        assert_eq!(partial.convert_down(usd(10_000), Currency::EUR), None);
        assert_eq!(partial.missing().len(), Currency::all().count() - 1);
        assert!(!partial.missing().contains(&Currency::USD));
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(RateTable::from_json(r#"{"EUR": 0}"#).is_err());
        assert!(RateTable::from_json(r#"{"XXX": 1}"#).is_err());
        assert!(RateTable::from_json("[1]").is_err());
    }
}

//! Hourly rates: a US-dollar figure from the profession's range, moved by
//! seniority, scaled to the local market and currency, and rounded to a
//! price a person would actually ask (€85, ¥12,500, ₹4,300).

use droply_models::Money;
use rand::Rng;

use super::vocab::{City, Profession};

/// The hourly rate of an expert with `seniority` in `0..=1`.
pub(crate) fn hourly_rate(
    rng: &mut impl Rng,
    profession: &Profession,
    city: &City,
    seniority: f64,
) -> Money {
    let (low, high) = profession.rate_usd;
    let position = (0.1 + 0.7 * seniority + rng.random_range(-0.2..0.2)).clamp(0.0, 1.0);
    let usd = f64::from(low) + f64::from(high - low) * position;
    // Online sessions flatten local price differences a little.
    let market = 0.45 + 0.55 * city.price_level;
    let local_major = round_price(usd * market * city.usd_fx);
    let scale = 10_i64.pow(u32::from(city.currency.minor_unit_digits()));
    Money::new(local_major.saturating_mul(scale), city.currency)
}

/// Rounds a price in major units: to 1 below 10, to 5 for two and three
/// digits, and to half of the second digit's place above (12,345 →
/// 12,500; 1,874,000 → 1,850,000).
pub(crate) fn round_price(major: f64) -> i64 {
    if !major.is_finite() || major < 1.0 {
        return 1;
    }
    if major < 10.0 {
        return major.round() as i64;
    }
    let digits = major.log10().floor() as i32 + 1;
    let step = if digits <= 3 {
        5.0
    } else {
        5.0 * 10_f64.powi(digits - 3)
    };
    ((major / step).round() * step).max(1.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_like_a_price_list() {
        assert_eq!(round_price(0.3), 1);
        assert_eq!(round_price(7.4), 7);
        assert_eq!(round_price(87.3), 85);
        assert_eq!(round_price(143.0), 145);
        assert_eq!(round_price(12_345.0), 12_500);
        assert_eq!(round_price(4_321.0), 4_300);
        assert_eq!(round_price(1_874_000.0), 1_850_000);
    }
}

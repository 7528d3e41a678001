//! Review histories: how many reviews an expert has (most have none or a
//! handful, a few have hundreds) and how many stars each gave, recorded
//! through `Rating::add_review` so the totals are always possible.

use droply_models::Rating;
use rand::Rng;

use droply_engine::Result;

/// A review history for an expert with `seniority` in `0..=1` whose
/// typical review is `quality` stars (about 3.5 to 5).
pub(crate) fn review_history(rng: &mut impl Rng, seniority: f64, quality: f64) -> Result<Rating> {
    let mut rating = Rating::new();
    if rng.random_bool(0.35) {
        return Ok(rating);
    }
    let ceiling = 30.0 + 570.0 * seniority;
    let u: f64 = rng.random();
    let count = ceiling.powf(u * u).floor() as u32;
    for _ in 0..count.max(1) {
        let stars = if rng.random_bool(0.01) {
            rng.random_range(1..=2)
        } else {
            let noise =
                (rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>() - 1.5) * 1.2;
            (quality + noise).round().clamp(1.0, 5.0) as u8
        };
        rating.add_review(stars)?;
    }
    Ok(rating)
}

/// A typical review score: most experts are good, a few are mediocre.
pub(crate) fn quality(rng: &mut impl Rng) -> f64 {
    let u: f64 = rng.random();
    5.0 - 1.5 * u * u
}

//! [`Codes`]: int8 copies of the points' vectors, which the graph's inserts
//! ([`pair_score`]) and the frozen walk score instead of the f32 vectors.
//!
//! A walk at 100,000 points reads a few thousand vectors scattered through
//! the index, so it waits on memory: 384 f32 values are 24 cache lines, their
//! int8 codes 6. Each vector is scaled so that its largest magnitude becomes
//! 127 and rounded; the query is coded the same way, and a point's score is
//! the integer dot product times the point's scale (the query's own scale is
//! the same for every point, so it is left out: only the order matters). The
//! walk re-scores what it returns in f32 ([`super::frozen`]), so callers see
//! exact scores; the codes decide only which points the walk visits and keeps.

use crate::embedder::simd::simd_dispatch;

/// Values in one cache line.
const LINE: usize = 64;

/// One cache line of codes: a point's codes start on a line of their own, so
/// 384 of them are 6 lines to fetch, not 7.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
pub(crate) struct Line([i8; LINE]);

/// The int8 values of points `0..len()`, each point's padded with zeros to
/// whole lines, and each point's scale (`value ≈ code * scale`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Codes {
    lines_per_point: usize,
    lines: Vec<Line>,
    scales: Vec<f32>,
}

impl Codes {
    /// The codes of the first `len` vectors of `vectors` (point `i` at
    /// `i * dimension`); `None` when `vectors` holds fewer.
    pub fn of(vectors: &[f32], dimension: usize, len: usize) -> Option<Codes> {
        let vectors = vectors.get(..len.checked_mul(dimension)?)?;
        let lines_per_point = dimension.div_ceil(LINE);
        let mut codes = Codes {
            lines_per_point,
            lines: Vec::with_capacity(len * lines_per_point),
            scales: Vec::with_capacity(len),
        };
        codes.extend(vectors, dimension);
        Some(codes)
    }

    /// How many points are coded.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Appends the codes of `vectors`, each `dimension` values long.
    pub fn extend(&mut self, vectors: &[f32], dimension: usize) {
        self.lines_per_point = dimension.div_ceil(LINE);
        for vector in vectors.chunks_exact(dimension.max(1)) {
            let scale = quantize_into(vector, &mut self.lines);
            self.scales.push(scale);
        }
    }

    /// `point`'s codes (empty outside).
    #[inline(always)]
    pub fn lines(&self, point: u32) -> &[Line] {
        let start = point as usize * self.lines_per_point;
        self.lines
            .get(start..start + self.lines_per_point)
            .unwrap_or(&[])
    }

    /// `query`'s codes, for [`Codes::score`].
    pub fn query(&self, query: &[f32]) -> Vec<Line> {
        let mut lines = Vec::with_capacity(self.lines_per_point);
        quantize_into(query, &mut lines);
        lines
    }

    /// `point`'s approximate dot product with the coded query, up to the
    /// query's scale (the same for every point); minus infinity outside.
    #[inline(always)]
    pub fn score(&self, query: &[Line], point: u32) -> f32 {
        let point = point as usize;
        let start = point * self.lines_per_point;
        match (
            self.lines.get(start..start + self.lines_per_point),
            self.scales.get(point),
        ) {
            (Some(code), Some(&scale)) => int8_dot(query, code) as f32 * scale,
            _ => f32::NEG_INFINITY,
        }
    }
}

simd_dispatch! {
    /// The approximate dot product of two coded points, both scales applied
    /// (so comparable with any other pair's); zero outside.
    pub(crate) fn pair_score(codes: &Codes, a: u32, b: u32) -> f32 {
        match (codes.scales.get(a as usize), codes.scales.get(b as usize)) {
            (Some(&scale_a), Some(&scale_b)) => {
                int8_dot(codes.lines(a), codes.lines(b)) as f32 * scale_a * scale_b
            }
            _ => 0.0,
        }
    }
}

/// Appends `vector`'s codes (each in -127..=127, padded with zeros to whole
/// lines) to `out`; returns the scale.
fn quantize_into(vector: &[f32], out: &mut Vec<Line>) -> f32 {
    let largest = vector.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = if largest == 0.0 || !largest.is_finite() {
        0.0
    } else {
        largest / 127.0
    };
    for chunk in vector.chunks(LINE) {
        let mut line = Line([0; LINE]);
        if scale > 0.0 {
            for (code, value) in line.0.iter_mut().zip(chunk) {
                *code = (value / scale).round().clamp(-127.0, 127.0) as i8;
            }
        }
        out.push(line);
    }
    scale
}

/// The dot product of two points' codes, inlined into the (dispatched) walk.
///
/// Written so that LLVM vectorises it into 16-bit multiplies: each lane adds
/// the products of two lines as i16 before widening, which cannot overflow as
/// codes stay within ±127 (2 × 127² = 32,258), then the lanes are widened and
/// summed once per pair of lines.
#[inline(always)]
pub(crate) fn int8_dot(a: &[Line], b: &[Line]) -> i32 {
    let mut total = 0i32;
    let mut pairs_a = a.chunks_exact(2);
    let mut pairs_b = b.chunks_exact(2);
    for (x, y) in (&mut pairs_a).zip(&mut pairs_b) {
        let mut pairs = [0i16; LINE];
        for ((pair, p), q) in pairs.iter_mut().zip(&x[0].0).zip(&y[0].0) {
            *pair = i16::from(*p) * i16::from(*q);
        }
        for ((pair, p), q) in pairs.iter_mut().zip(&x[1].0).zip(&y[1].0) {
            *pair = pair.wrapping_add(i16::from(*p) * i16::from(*q));
        }
        total += widened_sum(&pairs);
    }
    for (x, y) in pairs_a.remainder().iter().zip(pairs_b.remainder()) {
        let mut products = [0i16; LINE];
        for ((product, p), q) in products.iter_mut().zip(&x.0).zip(&y.0) {
            *product = i16::from(*p) * i16::from(*q);
        }
        total += widened_sum(&products);
    }
    total
}

/// The sum of the lanes, each widened to i32 first.
#[inline(always)]
fn widened_sum(lanes: &[i16; LINE]) -> i32 {
    let mut wide = [0i32; LINE];
    for (wide, narrow) in wide.iter_mut().zip(lanes) {
        *wide = i32::from(*narrow);
    }
    wide.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `codes` in lines, the last padded with zeros.
    fn lines(codes: &[i8]) -> Vec<Line> {
        codes
            .chunks(LINE)
            .map(|chunk| {
                let mut line = Line([0; LINE]);
                line.0[..chunk.len()].copy_from_slice(chunk);
                line
            })
            .collect()
    }

    #[test]
    fn the_int8_dot_product_is_the_plain_sum_at_every_length() {
        for len in [0, 1, 127, 128, 129, 255, 256, 384, 385] {
            let a: Vec<i8> = (0..len)
                .map(|i| ((i * 37) % 255) as i32 - 127)
                .map(|v| v as i8)
                .collect();
            let b: Vec<i8> = (0..len)
                .map(|i| 127 - ((i * 11) % 255) as i32)
                .map(|v| v as i8)
                .collect();
            let plain: i32 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| i32::from(*x) * i32::from(*y))
                .sum();
            assert_eq!(int8_dot(&lines(&a), &lines(&b)), plain, "len {len}");
            let extremes = lines(&vec![127i8; len]);
            let negative = lines(&vec![-127i8; len]);
            assert_eq!(int8_dot(&extremes, &negative), -(127 * 127) * len as i32);
        }
    }

    #[test]
    fn coded_scores_of_unit_vectors_are_their_dot_products_within_a_few_thousandths() {
        let dimension = 384;
        let unit = |seed: usize| -> Vec<f32> {
            let v: Vec<f32> = (0..dimension)
                .map(|i| ((i * (seed + 3)) as f32 * 0.731).sin() * (1.0 + ((i + seed) % 7) as f32))
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| x / norm).collect()
        };
        let vectors: Vec<f32> = (0..20).flat_map(unit).collect();
        let codes = Codes::of(&vectors, dimension, 20).expect("coded");
        assert_eq!(codes.len(), 20);
        let query = unit(40);
        let coded = codes.query(&query);
        let query_scale = query.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0;
        for (point, vector) in vectors.chunks_exact(dimension).enumerate() {
            let exact: f32 = query.iter().zip(vector).map(|(q, v)| q * v).sum();
            let approximate = codes.score(&coded, point as u32) * query_scale;
            assert!(
                (exact - approximate).abs() < 0.005,
                "point {point}: {exact} vs {approximate}"
            );
        }
        assert_eq!(codes.score(&coded, 20), f32::NEG_INFINITY);
        assert!(Codes::of(&vectors, dimension, 21).is_none());
        // Two coded points: both scales applied, the dot product itself.
        let vector = |point: usize| &vectors[point * dimension..(point + 1) * dimension];
        for (a, b) in [(0, 1), (3, 17), (5, 5), (19, 2)] {
            let exact: f32 = vector(a).iter().zip(vector(b)).map(|(x, y)| x * y).sum();
            let approximate = pair_score(&codes, a as u32, b as u32);
            assert!(
                (exact - approximate).abs() < 0.005,
                "{a}, {b}: {exact} vs {approximate}"
            );
        }
        assert_eq!(pair_score(&codes, 0, 20), 0.0, "outside");
    }
}

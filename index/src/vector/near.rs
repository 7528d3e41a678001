//! What the graph's walks share: [`Near`], a point with its dot product to the
//! query (or to the point whose link it is), ordered by it; and [`Seen`], the
//! set of points one walk has visited, emptied in one step for the next walk.

use std::cmp::Ordering;

/// A point and its dot product with the query; ordered by score (ties: the
/// lower id is the greater).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Near {
    pub score: f32,
    pub point: u32,
}

impl PartialEq for Near {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Near {}
impl PartialOrd for Near {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Near {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(other.point.cmp(&self.point))
    }
}

/// The points one walk has seen: a stamp per point, so that starting the
/// next walk is one increment, not a clear.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    stamps: Vec<u32>,
    stamp: u32,
}

impl Seen {
    /// Starts a walk over points `0..len`, with none seen.
    pub fn start(&mut self, len: usize) {
        if self.stamps.len() < len {
            self.stamps.resize(len, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.stamps.iter_mut().for_each(|s| *s = 0);
            self.stamp = 1;
        }
    }

    /// Marks `point`; false when it was marked already (or is outside the set).
    #[inline(always)]
    pub fn mark(&mut self, point: u32) -> bool {
        match self.stamps.get_mut(point as usize) {
            Some(stamp) if *stamp != self.stamp => {
                *stamp = self.stamp;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seen_set_starts_empty_for_every_walk() {
        let mut seen = Seen::default();
        seen.start(4);
        assert!(seen.mark(2) && !seen.mark(2));
        seen.start(4);
        assert!(seen.mark(2), "a new walk has seen nothing");
        seen.stamp = u32::MAX;
        seen.start(4);
        assert!(seen.mark(2) && seen.mark(3) && !seen.mark(3));
        assert!(!seen.mark(9), "outside the set");
    }

    #[test]
    fn nearer_is_greater_and_ties_go_to_the_lower_id() {
        let a = Near {
            score: 0.5,
            point: 3,
        };
        let b = Near {
            score: 0.4,
            point: 1,
        };
        let c = Near {
            score: 0.5,
            point: 7,
        };
        assert!(a > b && a > c);
    }
}

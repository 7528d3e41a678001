//! Half-open time intervals and sorted, non-overlapping sets of them, with the
//! union, subtraction and clipping that availability needs.

use droply_models::Timestamp;

/// `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    /// First instant inside.
    pub start: Timestamp,
    /// First instant after.
    pub end: Timestamp,
}

impl Interval {
    /// The interval, or `None` when it would be empty.
    pub fn new(start: Timestamp, end: Timestamp) -> Option<Interval> {
        (start < end).then_some(Interval { start, end })
    }

    /// True when `other` lies entirely inside.
    pub fn contains(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// Sorted, merged intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntervalSet {
    parts: Vec<Interval>,
}

impl IntervalSet {
    /// The union of `intervals`.
    pub fn from_intervals(intervals: impl IntoIterator<Item = Interval>) -> IntervalSet {
        let mut all: Vec<Interval> = intervals.into_iter().collect();
        all.sort();
        let mut parts: Vec<Interval> = Vec::with_capacity(all.len());
        for next in all {
            match parts.last_mut() {
                Some(last) if next.start <= last.end => last.end = last.end.max(next.end),
                _ => parts.push(next),
            }
        }
        IntervalSet { parts }
    }

    /// The merged intervals, in order.
    pub fn parts(&self) -> &[Interval] {
        &self.parts
    }

    /// This set with `other` added.
    pub fn union(&self, other: impl IntoIterator<Item = Interval>) -> IntervalSet {
        IntervalSet::from_intervals(self.parts.iter().copied().chain(other))
    }

    /// This set without anything in `holes`.
    pub fn subtract(&self, holes: impl IntoIterator<Item = Interval>) -> IntervalSet {
        let holes = IntervalSet::from_intervals(holes);
        let mut out = Vec::new();
        for part in &self.parts {
            let mut cursor = part.start;
            for hole in holes
                .parts
                .iter()
                .filter(|h| h.end > part.start && h.start < part.end)
            {
                if hole.start > cursor {
                    out.push(Interval {
                        start: cursor,
                        end: hole.start,
                    });
                }
                cursor = cursor.max(hole.end);
            }
            if cursor < part.end {
                out.push(Interval {
                    start: cursor,
                    end: part.end,
                });
            }
        }
        IntervalSet { parts: out }
    }

    /// This set cut to `window`.
    pub fn clip(&self, window: Interval) -> IntervalSet {
        let parts = self
            .parts
            .iter()
            .filter_map(|p| Interval::new(p.start.max(window.start), p.end.min(window.end)))
            .collect();
        IntervalSet { parts }
    }

    /// True when one part holds all of `wanted`.
    pub fn covers(&self, wanted: &Interval) -> bool {
        self.parts.iter().any(|p| p.contains(wanted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minute: i64) -> Timestamp {
        Timestamp::parse_rfc3339("2027-01-04T00:00:00Z")
            .expect("instant")
            .plus_minutes(minute)
    }

    fn iv(a: i64, b: i64) -> Interval {
        Interval::new(t(a), t(b)).expect("non-empty")
    }

    #[test]
    fn union_merges_overlapping_and_touching_parts() {
        let set = IntervalSet::from_intervals([iv(50, 60), iv(0, 10), iv(10, 20), iv(15, 30)]);
        assert_eq!(set.parts(), &[iv(0, 30), iv(50, 60)]);
    }

    #[test]
    fn subtract_cuts_holes_and_keeps_the_rest() {
        let set = IntervalSet::from_intervals([iv(0, 100)]);
        let cut = set.subtract([iv(10, 20), iv(15, 30), iv(90, 120)]);
        assert_eq!(cut.parts(), &[iv(0, 10), iv(30, 90)]);
        assert!(cut.covers(&iv(30, 60)));
        assert!(!cut.covers(&iv(5, 15)));
    }

    #[test]
    fn clip_keeps_only_the_window() {
        let set = IntervalSet::from_intervals([iv(0, 10), iv(20, 30)]);
        assert_eq!(set.clip(iv(5, 25)).parts(), &[iv(5, 10), iv(20, 25)]);
    }
}

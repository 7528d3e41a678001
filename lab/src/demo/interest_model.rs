//! How a client picks the next expert to look at: mostly someone with one
//! of their skills, in one of their professions or at least their
//! industry, sometimes anyone at all, with a pull towards well-reviewed
//! experts. Activity rows and the held-out truth share this process.

use rand::Rng;

use super::clients::Interest;
use super::experts::ExpertFacts;

/// Experts grouped by skill, profession and industry (as indices into the
/// expert list).
#[derive(Debug, Default)]
pub(crate) struct Pools {
    by_skill: Vec<Vec<u32>>,
    by_profession: Vec<Vec<u32>>,
    by_industry: Vec<Vec<u32>>,
    experts: usize,
}

impl Pools {
    /// Indexes `experts`.
    pub fn new(
        experts: &[ExpertFacts],
        skills: usize,
        professions: usize,
        industries: usize,
    ) -> Self {
        let mut pools = Self {
            by_skill: vec![Vec::new(); skills],
            by_profession: vec![Vec::new(); professions],
            by_industry: vec![Vec::new(); industries],
            experts: experts.len(),
        };
        for (index, expert) in experts.iter().enumerate() {
            let index = index as u32;
            for &skill in &expert.skills {
                if let Some(pool) = pools.by_skill.get_mut(skill as usize) {
                    pool.push(index);
                }
            }
            if let Some(pool) = pools.by_profession.get_mut(expert.profession) {
                pool.push(index);
            }
            if let Some(pool) = pools.by_industry.get_mut(expert.industry) {
                pool.push(index);
            }
        }
        pools
    }

    /// The index of the next expert a client with `interest` looks at;
    /// `None` when there are no experts.
    pub fn pick(
        &self,
        rng: &mut impl Rng,
        interest: &Interest,
        experts: &[ExpertFacts],
    ) -> Option<usize> {
        if self.experts == 0 {
            return None;
        }
        let roll: f64 = rng.random();
        let pool: &[u32] = if roll < 0.45 {
            pick_of(rng, &interest.skills)
                .and_then(|s| self.by_skill.get(s as usize))
                .map_or(&[], Vec::as_slice)
        } else if roll < 0.70 {
            pick_of(rng, &interest.professions)
                .and_then(|p| self.by_profession.get(p))
                .map_or(&[], Vec::as_slice)
        } else if roll < 0.88 {
            self.by_industry
                .get(interest.industry)
                .map_or(&[], Vec::as_slice)
        } else {
            &[]
        };
        let mut draw = || match pool {
            [] => rng.random_range(0..self.experts),
            _ => pool[rng.random_range(0..pool.len())] as usize,
        };
        let (first, second) = (draw(), draw());
        let popular = |i: usize| experts.get(i).map_or(0, |e| e.popularity);
        let prefer_popular = rng.random_bool(0.7);
        Some(if prefer_popular && popular(second) > popular(first) {
            second
        } else {
            first
        })
    }
}

fn pick_of<T: Copy>(rng: &mut impl Rng, items: &[T]) -> Option<T> {
    match items {
        [] => None,
        _ => Some(items[rng.random_range(0..items.len())]),
    }
}

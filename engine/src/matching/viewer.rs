//! What the ranking knows about the person searching ([`ViewerContext`]): the experts
//! they saved, booked and looked at (with those experts' profile vectors), and the
//! experts saved by people who saved the same ones ("clients who saved X also saved Y").
//! Every read is bounded, so a heavy user costs no more than a few milliseconds: only
//! the most recent saves are read, and whether they saved one expert in particular is
//! looked up in the store ([`ViewerContext::has_saved`]). How close an expert is to
//! that history ([`ViewerContext::closeness`]) counts the similar saved and booked
//! experts by kind ([`SimilarSeeds`]), the expert itself left out.

use std::collections::{HashMap, HashSet};

use droply_models::{InteractionType, TimeZone, UserId};

use super::signals::CO_SAVE_MIN_PEOPLE;
use crate::store::PageRequest;
use crate::{Result, SearchIndex, Store};

/// Favourites read for the viewer at most.
const SAVED: usize = 100;
/// Bookings read for the viewer at most.
const BOOKED: usize = 100;
/// Recent interactions read for the viewer at most.
const VIEWED: usize = 200;
/// Saved experts whose other savers are followed (the most recent).
const CO_SAVED_SEEDS: usize = 10;
/// Other savers followed per saved expert.
const CO_SAVERS: usize = 25;
/// Favourites read per other saver.
const CO_SAVER_FAVORITES: usize = 25;

/// Why an expert is in the viewer's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SeedKind {
    /// Booked a session with them.
    Booked,
    /// Saved them.
    Saved,
    /// Opened or clicked their profile.
    Viewed,
}

impl SeedKind {
    /// How strongly this kind of history says "more like this".
    pub fn strength(self) -> f32 {
        match self {
            SeedKind::Booked | SeedKind::Saved => 1.0,
            SeedKind::Viewed => 0.5,
        }
    }
}

/// An expert from the viewer's history, with their profile vector.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The expert.
    pub expert: UserId,
    /// Why they are a seed (the strongest reason).
    pub kind: SeedKind,
    /// Their profile vector.
    pub vector: Vec<f32>,
}

/// The viewer's history, ready for ranking.
#[derive(Debug, Clone, Default)]
pub struct ViewerContext {
    /// Who is searching.
    pub viewer: Option<UserId>,
    /// Where they are, for "free this Thursday".
    pub timezone: Option<TimeZone>,
    /// Experts from their history that are still indexed.
    pub seeds: Vec<Seed>,
    /// Experts they saved (the most recent 100 at most).
    pub saved: HashSet<UserId>,
    /// Whether they may have saved more experts than `saved` holds (see
    /// [`ViewerContext::has_saved`]).
    pub more_saved: bool,
    /// Experts saved by people who saved the same experts, with how many such
    /// people (never fewer than [`CO_SAVE_MIN_PEOPLE`]).
    pub co_saved: HashMap<UserId, u32>,
}

impl ViewerContext {
    /// Nobody in particular.
    pub fn anonymous() -> Self {
        ViewerContext::default()
    }

    /// Reads the history of `viewer`.
    pub fn load(store: &Store, index: &SearchIndex, viewer: UserId) -> Result<Self> {
        let timezone = store.users().find(viewer)?.map(|u| u.timezone);
        let mut kinds: HashMap<UserId, SeedKind> = HashMap::new();
        let mut note = |expert: UserId, kind: SeedKind| {
            if expert != viewer {
                let entry = kinds.entry(expert).or_insert(kind);
                *entry = (*entry).min(kind);
            }
        };
        let favorites = store
            .favorites()
            .by_user(viewer, &PageRequest::first(SAVED).desc())?;
        let more_saved = favorites.next.is_some();
        let favorites = favorites.items;
        for favorite in &favorites {
            note(favorite.favorited_user_id, SeedKind::Saved);
        }
        for booking in store
            .bookings()
            .by_booker(viewer, &PageRequest::first(BOOKED).desc())?
            .items
        {
            note(booking.provider_id, SeedKind::Booked);
        }
        for interaction in store
            .interactions()
            .by_user(viewer, &PageRequest::first(VIEWED).desc())?
            .items
        {
            if matches!(
                interaction.interaction_type,
                InteractionType::View | InteractionType::Click | InteractionType::Message
            ) {
                note(interaction.target_user_id, SeedKind::Viewed);
            }
        }
        let mut seeds: Vec<Seed> = kinds
            .into_iter()
            .filter_map(|(expert, kind)| {
                index.expert_vector(expert).map(|vector| Seed {
                    expert,
                    kind,
                    vector,
                })
            })
            .collect();
        seeds.sort_by_key(|s| (s.kind, s.expert));
        let saved: HashSet<UserId> = favorites.iter().map(|f| f.favorited_user_id).collect();
        let co_saved = co_saved(store, viewer, &favorites, &saved)?;
        Ok(ViewerContext {
            viewer: Some(viewer),
            timezone,
            seeds,
            saved,
            more_saved,
            co_saved,
        })
    }

    /// Whether the viewer saved `expert`, however long ago: answered from `saved`
    /// when it holds every save, else looked up in the store (by the pair's unique
    /// key).
    pub fn has_saved(&self, store: &Store, expert: UserId) -> Result<bool> {
        if self.saved.contains(&expert) {
            return Ok(true);
        }
        match self.viewer {
            Some(viewer) if self.more_saved => {
                Ok(store.favorites().find_pair(viewer, expert)?.is_some())
            }
            _ => Ok(false),
        }
    }

    /// How close `expert`, whose profile vector is `vector`, is to the viewer's
    /// history: the best similarity weighted by the seed's strength, and the saved
    /// and booked experts closer than `similar_above`, by kind. The expert's own seed
    /// (they saved, booked or viewed them) is left out: being like oneself says
    /// nothing.
    pub fn closeness(
        &self,
        expert: UserId,
        vector: &[f32],
        similar_above: f32,
    ) -> (f32, SimilarSeeds) {
        let mut best = 0.0f32;
        let mut similar = SimilarSeeds::default();
        for seed in self.seeds.iter().filter(|seed| seed.expert != expert) {
            let cosine: f32 = seed.vector.iter().zip(vector).map(|(a, b)| a * b).sum();
            best = best.max(cosine * seed.kind.strength());
            if cosine >= similar_above {
                match seed.kind {
                    SeedKind::Booked => similar.booked += 1,
                    SeedKind::Saved => similar.saved += 1,
                    SeedKind::Viewed => {}
                }
            }
        }
        (best, similar)
    }
}

/// The experts of the viewer's history one expert is similar to, by why they are in
/// it (an expert both booked and saved counts as booked). Carried in the personal
/// contribution's value, which [`SimilarSeeds::value`] writes and
/// [`SimilarSeeds::from_value`] reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimilarSeeds {
    /// Similar experts the viewer saved.
    pub saved: u32,
    /// Similar experts the viewer booked.
    pub booked: u32,
}

impl SimilarSeeds {
    /// As a contribution's value: `saved 2, booked 1`.
    pub fn value(self) -> String {
        format!("saved {}, booked {}", self.saved, self.booked)
    }

    /// Reads what [`SimilarSeeds::value`] wrote; `None` for anything else.
    pub fn from_value(value: &str) -> Option<Self> {
        let (saved, booked) = value.strip_prefix("saved ")?.split_once(", booked ")?;
        Some(SimilarSeeds {
            saved: saved.parse().ok()?,
            booked: booked.parse().ok()?,
        })
    }
}

/// Experts saved by other people who saved what `viewer` saved, counted by
/// people: only those at least [`CO_SAVE_MIN_PEOPLE`] people account for.
fn co_saved(
    store: &Store,
    viewer: UserId,
    favorites: &[droply_models::Favorite],
    saved: &HashSet<UserId>,
) -> Result<HashMap<UserId, u32>> {
    let mut others: HashSet<UserId> = HashSet::new();
    for favorite in favorites.iter().take(CO_SAVED_SEEDS) {
        for other in store
            .favorites()
            .by_target(
                favorite.favorited_user_id,
                &PageRequest::first(CO_SAVERS).desc(),
            )?
            .items
        {
            if other.user_id != viewer {
                others.insert(other.user_id);
            }
        }
    }
    let mut counts: HashMap<UserId, u32> = HashMap::new();
    for other in others {
        for favorite in store
            .favorites()
            .by_user(other, &PageRequest::first(CO_SAVER_FAVORITES).desc())?
            .items
        {
            let expert = favorite.favorited_user_id;
            if expert != viewer && !saved.contains(&expert) {
                *counts.entry(expert).or_default() += 1;
            }
        }
    }
    // Fewer people would let the viewer read what one or two others saved,
    // from the ranking or from "for you" itself.
    counts.retain(|_, people| *people >= CO_SAVE_MIN_PEOPLE);
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(expert: u64, kind: SeedKind, vector: [f32; 2]) -> Seed {
        Seed {
            expert: UserId::new(expert),
            kind,
            vector: vector.to_vec(),
        }
    }

    /// Regression: seeds were all counted as saved, and an expert the viewer saved
    /// was "similar to an expert you saved" by being like themselves.
    #[test]
    fn closeness_counts_seeds_by_kind_and_leaves_the_expert_out() {
        let viewer = ViewerContext {
            viewer: Some(UserId::new(1)),
            seeds: vec![
                seed(10, SeedKind::Booked, [1.0, 0.0]),
                seed(11, SeedKind::Saved, [1.0, 0.0]),
                seed(12, SeedKind::Saved, [0.8, 0.6]),
                seed(13, SeedKind::Viewed, [1.0, 0.0]),
                seed(14, SeedKind::Saved, [0.0, 1.0]),
            ],
            ..ViewerContext::anonymous()
        };
        let like: [f32; 2] = [1.0, 0.0];
        let (best, similar) = viewer.closeness(UserId::new(20), &like, 0.75);
        assert!((best - 1.0).abs() < 1e-6, "{best}");
        assert_eq!(
            similar,
            SimilarSeeds {
                saved: 2,
                booked: 1
            }
        );
        // Saved expert 11 is like booked 10 and saved 12, not like itself.
        let (_, similar) = viewer.closeness(UserId::new(11), &like, 0.75);
        assert_eq!(
            similar,
            SimilarSeeds {
                saved: 1,
                booked: 1
            }
        );
        // Only its own seed is close: nothing similar, and no closeness from itself.
        let (best, similar) = viewer.closeness(UserId::new(14), &[0.0, 1.0], 0.75);
        assert_eq!(similar, SimilarSeeds::default());
        assert!(best < 0.7, "{best}");
    }

    /// Regression: "for you" left out only the experts among the viewer's newest
    /// 100 saves, and recommended those saved before.
    #[test]
    fn a_save_older_than_those_read_is_found_in_the_store() {
        use crate::test_rows::user;

        let store = Store::open_temporary().expect("store");
        let ann = store.users().create(user("ann", "")).expect("ann");
        let old = store
            .users()
            .create(user("olga", "Tax Advisor"))
            .expect("olga");
        let recent = store
            .users()
            .create(user("rita", "Tax Advisor"))
            .expect("rita");
        let other = store
            .users()
            .create(user("otto", "Tax Advisor"))
            .expect("otto");
        store
            .favorites()
            .create(droply_models::Favorite {
                id: droply_models::FavoriteId::new(0),
                user_id: ann.id,
                favorited_user_id: old.id,
                created_at: droply_models::Timestamp::parse_rfc3339("2026-01-01T00:00:00Z")
                    .expect("time"),
            })
            .expect("favorite");
        // What `load` read: the newest saves only, and there may be more.
        let partial = ViewerContext {
            viewer: Some(ann.id),
            saved: HashSet::from([recent.id]),
            more_saved: true,
            ..ViewerContext::anonymous()
        };
        assert!(partial.has_saved(&store, recent.id).expect("recent"));
        assert!(partial.has_saved(&store, old.id).expect("old"));
        assert!(!partial.has_saved(&store, other.id).expect("other"));
        // Every save read (as `load` says when the page was not full): the set
        // answers alone, without reading the store.
        let complete = ViewerContext {
            more_saved: false,
            ..partial
        };
        assert!(complete.has_saved(&store, recent.id).expect("recent"));
        assert!(!complete.has_saved(&store, old.id).expect("old, not read"));
    }
}

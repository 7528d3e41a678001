//! What the ranking knows about the person searching ([`ViewerContext`]): the experts
//! they saved, booked and looked at (with those experts' profile vectors), and the
//! experts saved by people who saved the same ones ("clients who saved X also saved Y").
//! Every read is bounded, so a heavy user costs no more than a few milliseconds.

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
    /// Experts they saved.
    pub saved: HashSet<UserId>,
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
            .by_user(viewer, &PageRequest::first(SAVED).desc())?
            .items;
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
            co_saved,
        })
    }

    /// How close `vector` is to the viewer's history: the best similarity weighted by
    /// the seed's strength, and how many saved or booked experts are closer than
    /// `similar_above`.
    pub fn closeness(&self, vector: &[f32], similar_above: f32) -> (f32, u32) {
        let mut best = 0.0f32;
        let mut similar = 0;
        for seed in &self.seeds {
            let cosine: f32 = seed.vector.iter().zip(vector).map(|(a, b)| a * b).sum();
            best = best.max(cosine * seed.kind.strength());
            if seed.kind != SeedKind::Viewed && cosine >= similar_above {
                similar += 1;
            }
        }
        (best, similar)
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

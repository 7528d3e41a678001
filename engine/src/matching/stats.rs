//! What the marketplace knows about an expert's track record ([`ExpertStats`]): recent
//! engagement with recency decay, counted by [`Counted`] (each user once a day per kind
//! of interaction, so a flood of views from one account weighs what one view does; none
//! dated after the present; a save only while it stands), clicks from people the expert
//! was shown to, bookings by outcome, repeat clients, and the earliest open slot. Read
//! from the store's relationship indexes and kept in a [`StatsCache`], aged as time
//! passes, until a change touches the expert (see `freshness`), its earliest slot can no
//! longer be booked, or the time to live runs out; `stats_snapshot` keeps the cache
//! across restarts.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use droply_models::{
    Booking, BookingStatus, InteractionType, Timestamp, User, UserId, UserInteraction,
};

use super::feed_cache::FeedCache;
use super::freshness::Forget;
use crate::availability::{ExpertCalendar, SlotPolicy, SlotQuery, expert_calendar, find_slots};
use crate::store::PageRequest;
use crate::{Result, Store};

/// Interactions read per expert at most (the most recent).
const RECENT_INTERACTIONS: usize = 2000;
/// Engagement loses half its weight in this many days.
const HALF_LIFE_DAYS: f32 = 30.0;
/// How far ahead the earliest open slot is looked for.
pub const SLOT_HORIZON_DAYS: u16 = 60;
/// Experts kept in a cache at most (it is cleared when full).
const CACHE_CAPACITY: usize = 200_000;

/// An expert's track record.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExpertStats {
    /// Clicks in result lists (and acted-upon matches) by people the expert was shown
    /// to (who have a `search_impression` among the interactions read), decayed.
    pub clicks: f32,
    /// Times shown in results, decayed.
    pub impressions: f32,
    /// Every interaction weighted by what it says about interest, decayed.
    pub engagement: f32,
    /// Sessions that took place.
    pub completed: u32,
    /// Sessions that did not take place because someone did not show up.
    pub no_shows: u32,
    /// Distinct clients with a completed session.
    pub clients: u32,
    /// Clients who came back for a second completed session.
    pub repeat_clients: u32,
    /// The first open slot within [`SLOT_HORIZON_DAYS`], if any.
    pub earliest_slot: Option<Timestamp>,
}

impl ExpertStats {
    /// Reads the stats of `expert` as of `now`.
    pub fn load(store: &Store, expert: &User, now: Timestamp, policy: &SlotPolicy) -> Result<Self> {
        let mut stats = ExpertStats::default();
        let interactions = store
            .interactions()
            .by_target(expert.id, &PageRequest::first(RECENT_INTERACTIONS).desc())?;
        // Showings are written only with stored matches, clicks by any client: a click
        // says the expert was chosen when shown only from someone they were shown to, so
        // click-through counts the clicks of those people alone (and stays a rate).
        let shown_to: HashSet<UserId> = interactions
            .items
            .iter()
            .filter(|i| i.interaction_type == InteractionType::SearchImpression)
            .filter(|i| happened_by(i, now))
            .map(|i| i.user_id)
            .collect();
        let mut counted = Counted::new(now);
        for interaction in interactions.items {
            if !counted.first(&interaction) {
                continue;
            }
            let age_days = age_in_days(now, interaction.created_at);
            let decay = 0.5f32.powf(age_days / HALF_LIFE_DAYS);
            match interaction.interaction_type {
                InteractionType::Click if shown_to.contains(&interaction.user_id) => {
                    stats.clicks += decay;
                }
                InteractionType::SearchImpression => stats.impressions += decay,
                _ => {}
            }
            stats.engagement += decay * interest_weight(interaction.interaction_type);
        }
        stats.engagement = stats.engagement.max(0.0);
        // One read of the calendar serves both the booking record and the earliest slot:
        // every booking in it blocks time, but only those the expert gives are theirs.
        let calendar = expert_calendar(store, expert)?;
        stats.add_bookings(expert.id, &calendar.bookings);
        stats.earliest_slot = earliest_slot(expert, &calendar, now, policy)?;
        Ok(stats)
    }

    /// These stats `minutes` later: the decayed counts (clicks, impressions,
    /// engagement) lose what their half-life says; what happened meanwhile is the
    /// change feed's to report.
    pub fn aged(self, minutes: i64) -> Self {
        if minutes <= 0 {
            return self;
        }
        let factor = 0.5f32.powf(minutes as f32 / 1440.0 / HALF_LIFE_DAYS);
        ExpertStats {
            clicks: self.clicks * factor,
            impressions: self.impressions * factor,
            engagement: self.engagement * factor,
            ..self
        }
    }

    /// Counts the sessions `expert` gives among `bookings` by outcome; those they
    /// booked with others as a client (their calendar holds both) are not their record.
    fn add_bookings(&mut self, expert: UserId, bookings: &[Booking]) {
        let mut sessions_per_client: HashMap<UserId, u32> = HashMap::new();
        for booking in bookings.iter().filter(|b| b.provider_id == expert) {
            match booking.status {
                BookingStatus::Completed => {
                    self.completed += 1;
                    *sessions_per_client.entry(booking.user_id).or_default() += 1;
                }
                BookingStatus::NoShow => self.no_shows += 1,
                BookingStatus::Cancelled
                | BookingStatus::PendingPayment
                | BookingStatus::Confirmed => {}
            }
        }
        self.clients = u32::try_from(sessions_per_client.len()).unwrap_or(u32::MAX);
        self.repeat_clients =
            u32::try_from(sessions_per_client.values().filter(|n| **n >= 2).count())
                .unwrap_or(u32::MAX);
    }
}

/// Which (user, target, kind, UTC day) were counted already: engagement, clicks and
/// impressions count each user once a day per kind, however often they repeat it.
#[derive(Debug, Default)]
struct OncePerDay {
    seen: HashSet<(UserId, UserId, InteractionType, i64)>,
}

impl OncePerDay {
    /// True the first time `interaction`'s user, target, kind and UTC day are seen.
    pub(crate) fn first(&mut self, interaction: &UserInteraction) -> bool {
        self.seen.insert((
            interaction.user_id,
            interaction.target_user_id,
            interaction.interaction_type,
            interaction.created_at.utc_day(),
        ))
    }
}

/// How many days before `now` `at` was, in fractions of a day; 0 for an instant
/// after `now` (one within [`CLOCK_SKEW_MINUTES`] counts as new).
pub(crate) fn age_in_days(now: Timestamp, at: Timestamp) -> f32 {
    now.minutes_since(at).max(0) as f32 / 1440.0
}

/// How far after the present an interaction may be dated and still count (as new):
/// the clocks of the nodes writing to one store differ by a little.
const CLOCK_SKEW_MINUTES: i64 = 5;

/// Whether `interaction` may count as of `now`: not on one's own profile, and not
/// dated further after `now` than [`CLOCK_SKEW_MINUTES`] (a clock far ahead, an
/// import): such a row would weigh as new for as long as it stays in the future.
fn happened_by(interaction: &UserInteraction, now: Timestamp) -> bool {
    !interaction.is_self() && interaction.created_at <= now.plus_minutes(CLOCK_SKEW_MINUTES)
}

/// Which interactions count towards engagement, read newest first as of `now`: the one
/// rule of track records and trending. Those that [`happened_by`] `now`, each user once
/// a UTC day per kind and expert ([`OncePerDay`]), and of a user's saves and unsaves of
/// an expert only the newest recorded: a save counts once, at its own age, while it
/// stands; a withdrawn one (newest is an unsave, which weighs nothing) not at all, so
/// unsaving an old save takes away that save and nothing of other people's engagement.
/// Saves and unsaves are recorded once a day each (`accounts::interactions`), so a save
/// made again on the day it was withdrawn counts as withdrawn until a later day's save
/// (as before, when the unsave's -4 cancelled the save's +4).
#[derive(Debug)]
pub(crate) struct Counted {
    now: Timestamp,
    once_a_day: OncePerDay,
    saves_decided: HashSet<(UserId, UserId)>,
}

impl Counted {
    /// Nothing counted yet, as of `now`.
    pub(crate) fn new(now: Timestamp) -> Self {
        Counted {
            now,
            once_a_day: OncePerDay::default(),
            saves_decided: HashSet::new(),
        }
    }

    /// True when `interaction` counts (interactions read newest first).
    pub(crate) fn first(&mut self, interaction: &UserInteraction) -> bool {
        if !happened_by(interaction, self.now) || !self.once_a_day.first(interaction) {
            return false;
        }
        match interaction.interaction_type {
            InteractionType::Favorite | InteractionType::Unfavorite => self
                .saves_decided
                .insert((interaction.user_id, interaction.target_user_id)),
            InteractionType::View
            | InteractionType::Click
            | InteractionType::Book
            | InteractionType::Message
            | InteractionType::Share
            | InteractionType::SearchImpression => true,
        }
    }
}

/// How much one interaction says about interest in the expert. An unsave weighs
/// nothing: it withdraws the save before it (see [`Counted`]).
pub(crate) fn interest_weight(kind: InteractionType) -> f32 {
    match kind {
        InteractionType::View => 1.0,
        InteractionType::Click => 2.0,
        InteractionType::Message | InteractionType::Share => 3.0,
        InteractionType::Favorite => 4.0,
        InteractionType::Unfavorite => 0.0,
        InteractionType::Book => 6.0,
        InteractionType::SearchImpression => 0.0,
    }
}

/// The first bookable slot of `expert` after `now` (in the expert's own days), if the
/// expert can be booked ([`User::is_bookable`]).
fn earliest_slot(
    expert: &User,
    calendar: &ExpertCalendar,
    now: Timestamp,
    policy: &SlotPolicy,
) -> Result<Option<Timestamp>> {
    if !expert.is_bookable() {
        return Ok(None);
    }
    let from = expert.timezone.local_date(now);
    let query = SlotQuery {
        from,
        to: from + chrono::Days::new(u64::from(SLOT_HORIZON_DAYS) - 1),
        viewer_tz: expert.timezone,
        duration_minutes: Some(expert.session_duration.clamp(5, 480)),
        now,
    };
    let slots = find_slots(calendar, &query, policy)?;
    Ok(slots.first().map(|slot| slot.start))
}

/// One cached track record and when (in the matcher's time) it was read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CachedStats {
    /// When the stats were read from the store.
    pub as_of: Timestamp,
    /// The stats as of then.
    pub stats: ExpertStats,
}

/// Stats of recently ranked experts. An entry is served aged to the present (its
/// decayed counts decay on, without a read) until a change touches its expert (see
/// `freshness`), its earliest slot can no longer be booked (`Matcher::stats_of`), or
/// it is older than the time to live.
/// Stats read while a change to their expert committed are not kept (`feed_cache`).
#[derive(Debug)]
pub struct StatsCache {
    ttl: Duration,
    entries: FeedCache<CachedStats>,
}

impl StatsCache {
    /// An empty cache whose entries live `ttl`, caught up with the feed through `seq`.
    pub(crate) fn new(ttl: Duration, seq: u64) -> Self {
        StatsCache {
            ttl,
            entries: FeedCache::new(seq, CACHE_CAPACITY),
        }
    }

    /// The cached stats of `expert` aged to `now`, while fresh (younger than the time
    /// to live and `still_true`).
    pub fn get(
        &self,
        expert: UserId,
        now: Timestamp,
        still_true: impl FnOnce(&ExpertStats) -> bool,
    ) -> Option<ExpertStats> {
        let cached = self.entries.get(expert)?;
        let age = now.signed_duration_since(cached.as_of);
        let fresh = age >= chrono::TimeDelta::zero()
            && age.to_std().is_ok_and(|age| age < self.ttl)
            && still_true(&cached.stats);
        fresh.then(|| cached.stats.aged(age.num_minutes()))
    }

    /// Caches `stats` as `expert`'s, read at `as_of` after the store's change
    /// `read_after` committed, unless a later change has already been forgotten.
    pub(crate) fn insert(
        &self,
        expert: UserId,
        as_of: Timestamp,
        stats: ExpertStats,
        read_after: u64,
    ) {
        self.entries
            .insert(expert, CachedStats { as_of, stats }, read_after);
    }

    /// How many entries are cached.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every cached entry, in no order.
    pub fn entries(&self) -> Vec<(UserId, CachedStats)> {
        self.entries.entries()
    }

    /// Adds `entries` (an entry already cached is kept: it is at least as new).
    pub fn extend(&self, entries: impl IntoIterator<Item = (UserId, CachedStats)>) {
        self.entries.extend(entries);
    }

    /// Drops what `forget` names (their next ranking re-reads them); the feed is
    /// forgotten through `upto`.
    pub(crate) fn forget(&self, forget: &Forget, upto: u64) {
        self.entries.forget(forget, upto);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aging_decays_the_decayed_counts_and_keeps_the_rest() {
        let stats = ExpertStats {
            clicks: 2.0,
            impressions: 40.0,
            engagement: 10.0,
            completed: 3,
            no_shows: 1,
            clients: 2,
            repeat_clients: 1,
            earliest_slot: None,
        };
        let month = (HALF_LIFE_DAYS * 1440.0) as i64;
        let aged = stats.aged(month);
        assert!((aged.engagement - 5.0).abs() < 1e-4, "{aged:?}");
        assert!((aged.clicks - 1.0).abs() < 1e-4 && (aged.impressions - 20.0).abs() < 1e-3);
        assert_eq!((aged.completed, aged.no_shows, aged.clients), (3, 1, 2));
        assert_eq!(stats.aged(0), stats);
        assert_eq!(stats.aged(-5), stats, "a clock gone back ages nothing");
    }

    #[test]
    fn a_cached_entry_is_served_aged_until_its_time_to_live() {
        let cache = StatsCache::new(Duration::from_secs(3600), 0);
        let expert = UserId::new(5);
        let read_at = Timestamp::parse_rfc3339("2026-11-24T09:00:00Z").expect("time");
        let stats = ExpertStats {
            engagement: 8.0,
            ..ExpertStats::default()
        };
        cache.insert(expert, read_at, stats, 0);
        let later = read_at.plus_minutes(30);
        let served = cache.get(expert, later, |_| true).expect("fresh");
        assert!(
            served.engagement < 8.0 && served.engagement > 7.9,
            "{served:?}"
        );
        assert!(cache.get(expert, later, |_| false).is_none());
        assert!(
            cache
                .get(expert, read_at.plus_minutes(61), |_| true)
                .is_none()
        );
        assert!(
            cache
                .get(expert, read_at.plus_minutes(-1), |_| true)
                .is_none()
        );
    }

    /// Regression: the calendar an expert's stats are read from also holds the
    /// sessions they booked with others, and those counted as their own completed
    /// sessions, no-shows and clients.
    #[test]
    fn sessions_an_expert_booked_as_a_client_are_not_their_track_record() {
        use crate::test_rows::{booking, user};

        let store = Store::open_temporary().expect("store");
        let ann = store
            .users()
            .create(user("ann", "Tax Advisor"))
            .expect("ann");
        let bob = store
            .users()
            .create(user("bob", "Tax Advisor"))
            .expect("bob");
        let carl = store.users().create(user("carl", "")).expect("carl");
        for (booker, provider, status) in [
            (carl.id, ann.id, BookingStatus::Completed),
            (ann.id, bob.id, BookingStatus::Completed),
            (ann.id, bob.id, BookingStatus::Completed),
            (ann.id, bob.id, BookingStatus::NoShow),
        ] {
            let mut row = booking(booker, provider);
            row.status = status;
            store.bookings().create(row).expect("booking");
        }
        let now = Timestamp::parse_rfc3339("2027-01-02T00:00:00Z").expect("time");
        let policy = SlotPolicy::default();
        let ann_stats = ExpertStats::load(&store, &ann, now, &policy).expect("ann's stats");
        assert_eq!(
            (
                ann_stats.completed,
                ann_stats.no_shows,
                ann_stats.clients,
                ann_stats.repeat_clients
            ),
            (1, 0, 1, 0),
            "only the session ann gave: {ann_stats:?}"
        );
        let bob_stats = ExpertStats::load(&store, &bob, now, &policy).expect("bob's stats");
        assert_eq!(
            (
                bob_stats.completed,
                bob_stats.no_shows,
                bob_stats.clients,
                bob_stats.repeat_clients
            ),
            (2, 1, 1, 1),
            "ann is bob's returning client: {bob_stats:?}"
        );
    }

    #[test]
    fn stats_read_before_a_forgotten_change_are_not_kept() {
        let cache = StatsCache::new(Duration::from_secs(3600), 10);
        let expert = UserId::new(5);
        let now = Timestamp::parse_rfc3339("2026-11-24T09:00:00Z").expect("time");
        let stats = ExpertStats::default();
        // Change 11 touched the expert while their stats were being read after 10...
        cache.forget(&Forget::Experts(HashSet::from([expert])), 11);
        cache.insert(expert, now, stats, 10);
        assert!(cache.get(expert, now, |_| true).is_none());
        // ...stats read after it are kept, until the next change to the expert.
        cache.insert(expert, now, stats, 11);
        assert!(cache.get(expert, now, |_| true).is_some());
        cache.forget(&Forget::Everything, 12);
        assert!(cache.get(expert, now, |_| true).is_none());
    }
}

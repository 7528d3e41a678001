//! A small marketplace to rank: a store, its search index (bag-of-words embedder) and a
//! matcher whose clock is fixed at [`NOW`].

use std::sync::Arc;
use std::time::Duration;

use droply_engine::matching::{MatchQuery, MatchResults, Matcher, MatcherConfig};
use droply_engine::search_index::SearchIndexConfig;
use droply_engine::{SearchIndex, Store};
use droply_index::TextEmbedder;
use droply_models::{Currency, MatchReason, Money, Rating, Timestamp, User, UserId};

use crate::fixtures::{at, full_user, rule};
use crate::hash_embedder::HashEmbedder;

/// The matcher's present: Tuesday 2026-11-24, 09:00 UTC.
pub const NOW: &str = "2026-11-24T09:00:00Z";

/// One expert's searchable facts.
#[derive(Debug, Clone)]
pub struct Profile {
    pub profession: &'static str,
    pub industry: &'static str,
    pub skills: [&'static str; 3],
    pub tags: Vec<&'static str>,
    pub location: &'static str,
    pub rate: Option<(i64, Currency)>,
    pub rating: Option<(u32, u32)>,
    pub available: bool,
    pub featured: bool,
    pub bio: &'static str,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            profession: "Backend Engineer",
            industry: "Technology",
            skills: ["Rust", "Kubernetes", "PostgreSQL"],
            tags: vec!["payments"],
            location: "Berlin",
            rate: Some((10_000, Currency::EUR)),
            rating: None,
            available: true,
            featured: false,
            bio: "Builds reliable systems.",
        }
    }
}

pub struct Market {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub index: Arc<SearchIndex>,
    pub matcher: Matcher,
    next: usize,
}

impl Market {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path().join("store")).expect("store");
        let embedder: Arc<dyn TextEmbedder> = Arc::new(HashEmbedder::default());
        let config = SearchIndexConfig {
            poll_interval: Duration::from_millis(10),
            ..SearchIndexConfig::default()
        };
        let index = Arc::new(
            SearchIndex::open(dir.path(), store.clone(), embedder, config).expect("index"),
        );
        let matcher = Matcher::new(
            store.clone(),
            Arc::clone(&index),
            MatcherConfig {
                now: Some(at(NOW)),
                stats_ttl: Duration::ZERO,
                ..MatcherConfig::default()
            },
        );
        Market {
            _dir: dir,
            store,
            index,
            matcher,
            next: 0,
        }
    }

    fn fresh_user(&mut self, kind: &str) -> User {
        self.next += 1;
        let mut user = full_user(&format!("{kind}{}", self.next));
        user.full_name = format!("Person {}", self.next);
        user
    }

    /// Adds an expert with `profile`; returns its id.
    pub fn expert(&mut self, profile: &Profile) -> UserId {
        let mut user = self.fresh_user("expert");
        user.profession = profile.profession.to_owned();
        user.industry = profile.industry.to_owned();
        user.skills_1 = Some(profile.skills[0].to_owned());
        user.skills_2 = Some(profile.skills[1].to_owned());
        user.skills_3 = Some(profile.skills[2].to_owned());
        user.skills = profile.skills.join(", ");
        user.specialty_tags = profile.tags.iter().map(|t| (*t).to_owned()).collect();
        user.location = profile.location.to_owned();
        user.bio = profile.bio.to_owned();
        user.service_description = String::new();
        user.content_description = String::new();
        user.content_categories = Vec::new();
        let zero = |currency| Money {
            amount_minor: 0,
            currency,
        };
        match profile.rate {
            Some((minor, currency)) => {
                user.currency = currency;
                user.total_earnings = zero(currency);
                user.total_payouts = zero(currency);
                user.pending_balance = zero(currency);
                user.total_referral_earnings = zero(currency);
                user.hourly_rate = Some(Money {
                    amount_minor: minor,
                    currency,
                });
            }
            None => user.hourly_rate = None,
        }
        user.rating = match profile.rating {
            Some((total, count)) => Rating::from_parts(u64::from(total), count).expect("rating"),
            None => Rating::default(),
        };
        user.is_available = profile.available;
        user.is_featured_user = profile.featured;
        self.store.users().create(user).expect("create expert").id
    }

    /// Adds a client (no profession); returns its id.
    pub fn client(&mut self) -> UserId {
        let mut user = self.fresh_user("client");
        user.profession = String::new();
        self.store.users().create(user).expect("create client").id
    }

    /// Opens `expert` every weekday 08:00–18:00 in their zone.
    pub fn open_weekdays(&self, expert: UserId) {
        for day in 0..5 {
            let mut rule = rule(expert, day, "08:00", "18:00");
            rule.is_active = true;
            self.store.availability_rules().create(rule).expect("rule");
        }
    }

    /// Waits until the indexes reflect every write so far.
    pub fn settle(&self) {
        assert!(
            self.index
                .wait_until_applied(self.store.last_seq(), Duration::from_secs(10)),
            "the index did not catch up"
        );
    }

    /// Runs `query` after settling.
    pub fn search(&self, query: &MatchQuery) -> MatchResults {
        self.settle();
        self.matcher.search(query).expect("search")
    }

    /// The ids of `query`'s hits, in order.
    pub fn ids(&self, query: &MatchQuery) -> Vec<UserId> {
        self.search(query)
            .hits
            .iter()
            .map(|h| h.expert.id)
            .collect()
    }
}

/// `NOW` moved by `days`.
pub fn days_from_now(days: i64) -> Timestamp {
    at(NOW).plus_days(days)
}

/// The position of `id` in `ids`.
pub fn rank_of(ids: &[UserId], id: UserId) -> usize {
    ids.iter()
        .position(|x| *x == id)
        .unwrap_or_else(|| panic!("{id:?} is not in {ids:?}"))
}

/// The reasons `results` give for `id` (which must be among the hits).
pub fn reasons_of(results: &MatchResults, id: UserId) -> Vec<MatchReason> {
    results
        .hits
        .iter()
        .find(|h| h.expert.id == id)
        .unwrap_or_else(|| panic!("{id:?} is not among the hits"))
        .reasons
        .clone()
}

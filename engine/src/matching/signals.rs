//! The re-ranking signals. Each turns one thing we know about an expert into a
//! contribution to the score (a weight times a value in `-1..=1`), kept with what it
//! was computed from so the ranking can explain itself.
//!
//! - **rating**: the average rating smoothed towards the marketplace prior by the number
//!   of reviews (Bayesian average), so 5 stars from 1 review do not beat 4.8 from 200.
//! - **popularity**: recent engagement (views, clicks, saves, bookings, messages, each
//!   user counted once a day per kind, decayed with a 30-day half-life), saturating; **click_through**: clicks per time
//!   shown in results or matches (only the clicks of people the expert was shown to),
//!   smoothed towards a 10% prior over 20 showings, so an expert people keep passing
//!   over drifts down.
//! - **bookings**: completed sessions and returning clients lift; sessions that did not
//!   take place (a no-show, whoever missed it) pull down hard.
//! - **personal**: closeness of the expert's profile vector to the other experts the
//!   viewer saved, booked or viewed (its value counts the similar saved and booked ones,
//!   `saved 2, booked 1`); **also_saved**: people who saved what the viewer saved saved
//!   this expert too.
//! - **availability**: an open slot within two weeks lifts, the sooner the more; a later
//!   one lifts nothing; no open slot in the coming weeks pulls down.
//! - **featured** and **new_expert** (cold start: new and barely seen yet) lift a little.
//!
//! What a contribution says about itself (`value`) is shown to whoever asked, who is
//! never the expert ranked (a viewer is left out of their own rankings). So the values
//! of the private track record are words, never counts: popularity "in demand",
//! click-through "chosen more often than most", bookings "reliable"; never no-shows,
//! completed sessions, returning clients or clicks. A co-save counts (lifts, is
//! explained, brings an expert into "for you") only when at least
//! [`CO_SAVE_MIN_PEOPLE`] people account for it, and is never explained with a number
//! (its shown weight is rounded down to [`CO_SAVE_SHOWN_STEP`]), so it cannot point at
//! what one or two other users saved, nor say how many saved it. The weights are exactly those of the
//! ranking: only what is shown changed.

use droply_models::{Timestamp, User};

use super::stats::ExpertStats;
use super::viewer::ViewerContext;

/// A signal's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// The words matched (BM25).
    Keyword,
    /// The meaning matched (vectors).
    Semantic,
    /// Smoothed rating.
    Rating,
    /// Recent engagement.
    Popularity,
    /// Clicks per showing, against a prior.
    ClickThrough,
    /// Booking outcomes.
    Bookings,
    /// Close to the viewer's history.
    Personal,
    /// Saved by people who saved the same experts.
    AlsoSaved,
    /// Earliest open slot.
    Availability,
    /// Featured by Droply.
    Featured,
    /// New on Droply, guaranteed some exposure.
    NewExpert,
    /// Within the searcher's budget (explains, does not score).
    Budget,
    /// Moved down so one kind of profile does not fill the page.
    Diversity,
    /// Close to the expert a "similar" list is for.
    Similar,
    /// Engaged with lately (a trending list).
    Trending,
    /// Picked from the viewer's history (a "for you" list).
    ForYou,
}

impl Signal {
    /// The snake_case name used in reasons.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Keyword => "keyword",
            Signal::Semantic => "semantic",
            Signal::Rating => "rating",
            Signal::Popularity => "popularity",
            Signal::ClickThrough => "click_through",
            Signal::Bookings => "bookings",
            Signal::Personal => "personal",
            Signal::AlsoSaved => "also_saved",
            Signal::Availability => "availability",
            Signal::Featured => "featured",
            Signal::NewExpert => "new_expert",
            Signal::Budget => "budget",
            Signal::Diversity => "diversity",
            Signal::Similar => "similar",
            Signal::Trending => "trending",
            Signal::ForYou => "for_you",
        }
    }
}

/// One signal's part of a score.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// Which signal.
    pub signal: Signal,
    /// What it was computed from, in words anyone may read ("Rust, Kubernetes",
    /// "4.8 from 37 reviews", "reliable"); never another user's private counts.
    pub value: String,
    /// Its contribution to the score.
    pub weight: f32,
    /// Whether it may be explained (in reasons and score details). False when saying
    /// it would reveal what a few other users did; it counts in the score either way.
    pub shown: bool,
}

/// The step shown contributions are rounded to: coarse enough that a
/// shown weight does not give away the exact counts behind it (a signal
/// computed from how many people did something), fine enough to read.
pub const SHOWN_WEIGHT_STEP: f32 = 0.01;

/// The step a co-save's shown weight is rounded down to: its exact weight grows with
/// the number of people behind it (`also_saved · p/(p+2)`), which the finer step
/// would give away; with the default weight every co-save shows 0.1.
pub const CO_SAVE_SHOWN_STEP: f32 = 0.1;

impl Contribution {
    /// The weight as it may be shown (reasons, score details): rounded to
    /// [`SHOWN_WEIGHT_STEP`], and never to zero when it is not (a signal
    /// that helped shows as helping). A co-save is rounded down to
    /// [`CO_SAVE_SHOWN_STEP`] instead, so it names no number of people. The
    /// score uses the exact weight.
    pub fn shown_weight(&self) -> f32 {
        let steps = if self.signal == Signal::AlsoSaved {
            let coarse = (self.weight / CO_SAVE_SHOWN_STEP).trunc() * CO_SAVE_SHOWN_STEP;
            (coarse / SHOWN_WEIGHT_STEP).round()
        } else {
            (self.weight / SHOWN_WEIGHT_STEP).round()
        };
        if steps == 0.0 && self.weight != 0.0 {
            SHOWN_WEIGHT_STEP.copysign(self.weight)
        } else {
            steps * SHOWN_WEIGHT_STEP
        }
    }

    /// A contribution that may be explained.
    pub fn new(signal: Signal, value: impl Into<String>, weight: f32) -> Self {
        Contribution {
            signal,
            value: value.into(),
            weight,
            shown: true,
        }
    }
}

/// The fewest distinct people behind a co-save for it to be explained at all.
pub const CO_SAVE_MIN_PEOPLE: u32 = 3;

/// How much each signal may move a score (relevance spans `0..=1`). Reads from JSON
/// with any subset of the fields (`{"diversity": 0.01}`), the rest default.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalWeights {
    /// Smoothed rating.
    pub rating: f32,
    /// Engagement.
    pub popularity: f32,
    /// Click-through against the prior.
    pub click_through: f32,
    /// Booking outcomes.
    pub bookings: f32,
    /// Closeness to the viewer's history.
    pub personal: f32,
    /// Co-saves.
    pub also_saved: f32,
    /// Earliest slot.
    pub availability: f32,
    /// Featured.
    pub featured: f32,
    /// New expert.
    pub new_expert: f32,
    /// Penalty per earlier result of the same profession on the page.
    pub diversity: f32,
}

impl Default for SignalWeights {
    fn default() -> Self {
        SignalWeights {
            rating: 0.06,
            popularity: 0.04,
            click_through: 0.04,
            bookings: 0.05,
            personal: 0.5,
            also_saved: 0.2,
            availability: 0.04,
            featured: 0.02,
            new_expert: 0.03,
            diversity: 0.005,
        }
    }
}

/// The marketplace's prior rating, and how many reviews weigh as much as it.
const RATING_PRIOR: f32 = 4.2;
const RATING_PRIOR_REVIEWS: f32 = 5.0;
/// Engagement at which popularity is half way to its maximum.
const POPULARITY_HALF: f32 = 20.0;
/// The click-through rate an expert is assumed to have before being shown...
const CTR_PRIOR: f32 = 0.1;
/// ...and how many showings that assumption weighs.
const CTR_PRIOR_SHOWINGS: f32 = 20.0;
/// Completed sessions at which the track record is half way to its maximum.
const SESSIONS_HALF: f32 = 5.0;
/// An expert newer than this, and barely seen, gets the cold-start lift.
pub const NEW_EXPERT_DAYS: i64 = 30;
/// Engagement below which a new expert counts as barely seen.
const NEW_EXPERT_ENGAGEMENT: f32 = 5.0;
/// An earliest slot further than this many days lifts nothing.
const SLOT_LIFT_DAYS: f32 = 14.0;
/// The availability of a bookable expert with no open slot within the horizon: below
/// any open slot, however far.
const NO_SLOT: f32 = -0.5;
/// Cosine above which an expert counts as similar to one the viewer saved or booked.
pub const SIMILAR_ABOVE: f32 = 0.75;

/// Rating smoothed towards the prior: `(C·m + n·r) / (C + n)`.
pub fn smoothed_rating(rating: Option<f32>, count: u32) -> f32 {
    let n = count as f32;
    match rating {
        Some(r) if count > 0 => {
            (RATING_PRIOR_REVIEWS * RATING_PRIOR + n * r) / (RATING_PRIOR_REVIEWS + n)
        }
        _ => RATING_PRIOR,
    }
}

/// Adds `signal` weighing `weight` times `raw` (clamped to -1..=1), when it weighs anything.
fn push(out: &mut Vec<Contribution>, signal: Signal, value: String, raw: f32, weight: f32) {
    let weight = weight * raw.clamp(-1.0, 1.0);
    if weight.abs() > 1e-6 {
        out.push(Contribution::new(signal, value, weight));
    }
}

/// The signals read from the expert's own row: the rating and being featured. They
/// are all an expert whose track record was not read gets (see `Matcher::rank`).
pub fn row_signals(expert: &User, weights: &SignalWeights) -> Vec<Contribution> {
    let mut out = Vec::new();
    let smoothed = smoothed_rating(expert.rating(), expert.rating_count());
    if let Some(rating) = expert.rating() {
        push(
            &mut out,
            Signal::Rating,
            match expert.rating_count() {
                1 => format!("{rating:.1} from 1 review"),
                n => format!("{rating:.1} from {n} reviews"),
            },
            (smoothed - RATING_PRIOR) / 0.8,
            weights.rating,
        );
    }
    if expert.is_featured_user {
        push(
            &mut out,
            Signal::Featured,
            String::new(),
            1.0,
            weights.featured,
        );
    }
    out
}

/// The quality and behaviour signals of `expert` (everything but relevance, personal
/// signals and diversity): its row's, then its track record's.
pub fn expert_signals(
    expert: &User,
    stats: &ExpertStats,
    now: Timestamp,
    weights: &SignalWeights,
) -> Vec<Contribution> {
    let mut out = row_signals(expert, weights);
    push(
        &mut out,
        Signal::Popularity,
        interest_label(stats.engagement).to_owned(),
        stats.engagement / (stats.engagement + POPULARITY_HALF),
        weights.popularity,
    );
    if stats.impressions > 0.0 {
        let ctr = (stats.clicks + CTR_PRIOR * CTR_PRIOR_SHOWINGS)
            / (stats.impressions + CTR_PRIOR_SHOWINGS);
        push(
            &mut out,
            Signal::ClickThrough,
            if ctr >= CTR_PRIOR {
                "chosen more often than most"
            } else {
                "passed over more often than most"
            }
            .to_owned(),
            (ctr - CTR_PRIOR) / CTR_PRIOR,
            weights.click_through,
        );
    }
    let done = stats.completed as f32;
    let missed = stats.no_shows as f32;
    let record = 0.6 * done / (done + SESSIONS_HALF)
        + 0.4 * stats.repeat_clients as f32 / (stats.clients as f32 + 2.0)
        - 1.5 * missed / (done + missed + 2.0);
    push(
        &mut out,
        Signal::Bookings,
        if record >= 0.0 { RELIABLE } else { SOME_MISSED }.to_owned(),
        record,
        weights.bookings,
    );
    let availability = match stats.earliest_slot {
        _ if !expert.is_bookable() => -1.0,
        Some(slot) => slot_lift(slot.minutes_since(now)),
        None => NO_SLOT,
    };
    push(
        &mut out,
        Signal::Availability,
        stats
            .earliest_slot
            .map_or_else(|| "no open slot".to_owned(), Timestamp::to_rfc3339),
        availability,
        weights.availability,
    );
    let age_days = now.minutes_since(expert.created_at) / 1440;
    if (0..NEW_EXPERT_DAYS).contains(&age_days) && stats.engagement < NEW_EXPERT_ENGAGEMENT {
        push(
            &mut out,
            Signal::NewExpert,
            format!("joined {age_days} days ago"),
            1.0,
            weights.new_expert,
        );
    }
    out
}

/// The availability of an open slot `minutes` away: 1 now, falling to 0 at
/// [`SLOT_LIFT_DAYS`] and staying there, so a far slot lifts nothing and never scores
/// below having none ([`NO_SLOT`]).
fn slot_lift(minutes: i64) -> f32 {
    let days = minutes.max(0) as f32 / 1440.0;
    (1.0 - days / SLOT_LIFT_DAYS).max(0.0)
}

/// The personal signals of an expert with profile `vector` for `viewer`.
pub fn personal_signals(
    expert: &User,
    vector: Option<&[f32]>,
    viewer: &ViewerContext,
    weights: &SignalWeights,
) -> Vec<Contribution> {
    let mut out = Vec::new();
    if let Some(vector) = vector
        && !viewer.seeds.is_empty()
    {
        let (best, similar) = viewer.closeness(expert.id, vector, SIMILAR_ABOVE);
        let raw = ((best - 0.5) / 0.4).clamp(0.0, 1.0);
        if raw > 0.0 {
            out.push(Contribution::new(
                Signal::Personal,
                similar.value(),
                weights.personal * raw,
            ));
        }
    }
    // The viewer's context holds co-saves of at least `CO_SAVE_MIN_PEOPLE` people only.
    if let Some(&people) = viewer.co_saved.get(&expert.id) {
        let raw = people as f32 / (people as f32 + 2.0);
        out.push(Contribution::new(
            Signal::AlsoSaved,
            "",
            weights.also_saved * raw,
        ));
    }
    out
}

/// The value of a track record that lifts.
pub(crate) const RELIABLE: &str = "reliable";
/// The value of a track record that pulls down.
pub(crate) const SOME_MISSED: &str = "some sessions did not take place";

/// Recent engagement in words: "in demand" from [`POPULARITY_HALF`] (where the
/// popularity signal is half way), "growing interest" from a quarter of it.
fn interest_label(engagement: f32) -> &'static str {
    if engagement >= POPULARITY_HALF {
        "in demand"
    } else if engagement >= POPULARITY_HALF / 4.0 {
        "growing interest"
    } else {
        "some interest"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_weights_are_coarse_but_keep_their_sign() {
        let shown =
            |weight: f32| Contribution::new(Signal::Popularity, "in demand", weight).shown_weight();
        assert!((shown(0.123_456) - 0.12).abs() < 1e-6);
        assert!((shown(-0.031) + 0.03).abs() < 1e-6);
        assert!(
            (shown(0.002) - 0.01).abs() < 1e-6,
            "a helping signal shows as helping"
        );
        assert!((shown(-0.002) + 0.01).abs() < 1e-6);
        assert_eq!(shown(0.0), 0.0);
        // Two nearby exact weights (say from 41 and 42 bookings) look the same.
        assert_eq!(shown(0.2011), shown(0.2034));
    }

    /// Regression: a co-save's shown weight, `0.2·p/(p+2)` rounded to 0.01, told how
    /// many people saved the expert (0.12 for 3, 0.13 for 4, 0.14 for 5...).
    #[test]
    fn a_co_saves_shown_weight_names_no_number_of_people() {
        let expert = crate::test_rows::user("ann", "Tax Advisor");
        let weights = SignalWeights::default();
        let shown = |people: u32| -> f32 {
            let mut viewer = ViewerContext::anonymous();
            viewer.co_saved.insert(expert.id, people);
            let contributions = personal_signals(&expert, None, &viewer, &weights);
            let co_save = contributions
                .iter()
                .find(|c| c.signal == Signal::AlsoSaved)
                .expect("a co-save");
            assert!(co_save.weight > 0.0, "it still lifts: {co_save:?}");
            co_save.shown_weight()
        };
        assert_eq!(shown(3), shown(4));
        for people in 5..=50 {
            assert_eq!(shown(3), shown(people), "{people} people");
        }
        assert!(shown(3) > 0.0, "a co-save shows as helping");
    }

    /// Regression: a slot scored `1 - days/14` down to -1, so an opening three weeks
    /// or more away scored below having no open slot at all (-0.5).
    #[test]
    fn a_far_opening_scores_no_worse_than_no_opening() {
        let expert = crate::test_rows::user("ann", "Tax Advisor");
        assert!(expert.is_bookable());
        let now = Timestamp::parse_rfc3339("2027-01-02T00:00:00Z").expect("time");
        let weights = SignalWeights::default();
        let availability = |earliest_slot: Option<Timestamp>| -> f32 {
            let stats = ExpertStats {
                earliest_slot,
                ..ExpertStats::default()
            };
            expert_signals(&expert, &stats, now, &weights)
                .iter()
                .filter(|c| c.signal == Signal::Availability)
                .map(|c| c.weight)
                .sum()
        };
        let none = availability(None);
        assert!(none < 0.0, "no open slot pulls down: {none}");
        for days in [14, 21, 30, 59] {
            let far = availability(Some(now.plus_days(days)));
            assert!(far >= none, "{days} days: {far} vs {none}");
            assert!(
                far >= 0.0,
                "{days} days away lifts nothing, pulls nothing: {far}"
            );
        }
        let soon = availability(Some(now.plus_days(1)));
        let later = availability(Some(now.plus_days(10)));
        assert!(soon > later && later > 0.0, "{soon} vs {later}");
    }

    #[test]
    fn smoothing_pulls_few_reviews_towards_the_prior() {
        let one_perfect = smoothed_rating(Some(5.0), 1);
        let many_good = smoothed_rating(Some(4.8), 200);
        assert!(many_good > one_perfect, "{many_good} vs {one_perfect}");
        assert!((smoothed_rating(None, 0) - RATING_PRIOR).abs() < 1e-6);
        assert!((smoothed_rating(Some(3.0), 5) - 3.6).abs() < 1e-5);
    }
}

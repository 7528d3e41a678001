//! The matching engine: hybrid search over the search index (BM25 and vectors, fused),
//! re-ranked with what the marketplace knows (ratings, engagement, booking outcomes,
//! availability, the viewer's history), explained with reasons, stored as AIMatch rows,
//! and recommendations without a query. A search may ask for experts, content or both
//! (`kind`), answered as one ranking (`merged_search`, its hits in `ranked_hit`).
//!
//! `request` is a request as a client sent it, checked once into a `query`, whose
//! filter language lives in `filter`; `rates` reads budgets across currencies; `fusion`
//! merges the two rankings; `stats` and `viewer` gather what the signals need, and
//! `freshness` forgets cached stats when the store changes them; `signals`
//! scores it; `reasons` says it in words; `ranker` runs a request (its two passes at
//! once when `spare_cores` says a core is idle); `recommend` answers without a query
//! (its trending list cached in `trending_cache`); `ai_matches` stores matches and
//! feedback.

mod ai_matches;
mod dropin_search;
mod feed_cache;
mod filter;
mod freshness;
mod fusion;
mod kind;
mod merged_search;
mod query;
mod ranked_hit;
mod ranker;
mod rates;
mod reasons;
mod recommend;
mod request;
mod signals;
mod spare_cores;
mod stats;
mod stats_snapshot;
mod trending_cache;
mod viewer;

pub use ai_matches::{DAILY_MATCHES, MatchFeedback, record_feedback, record_matches};
pub use droply_index::{ContentFacet, ContentFilters, ExpertFilters, FacetField};
pub use filter::FILTERABLE;
pub use fusion::{FusedHit, Fusion, fuse};
pub use kind::SearchKind;
pub use query::{
    Budget, MAX_BOOKABLE_DAYS, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, MatchFilters, MatchQuery,
};
pub use ranked_hit::{RankedContent, RankedDropin, RankedHit, SearchResults};
pub use ranker::{MatchResults, Matcher, MatcherConfig, RankedExpert, display_score};
pub use rates::RateTable;
pub use reasons::free_on;
pub use recommend::MAX_RECOMMENDATIONS;
pub use request::SearchRequest;
pub use signals::{CO_SAVE_MIN_PEOPLE, Contribution, Signal, SignalWeights, smoothed_rating};
pub use stats::{ExpertStats, SLOT_HORIZON_DAYS};
pub use viewer::{SeedKind, SimilarSeeds, ViewerContext};

//! The engine's search use cases: search, stored matches and the owner's
//! feedback on them, similar experts, recommendations, and whether search is
//! ready. A request is checked ([`SearchRequest::into_query`]) before the
//! index is asked for, so a bad request is told so even while the index is
//! still being built.

use droply_models::{AiMatch, AiMatchId, UserId};

use super::Engine;
use crate::matching::{
    MatchFeedback, MatchQuery, RankedExpert, SearchRequest, SearchResults, record_feedback,
    record_matches,
};
use crate::{Error, Result};

/// The most matches one `create_matches` call stores.
pub const MAX_MATCHES_PER_CALL: usize = 20;

/// What a recommendation request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recommendation {
    /// From this user's own favorites, bookings and views.
    ForYou(UserId),
    /// In demand lately; `viewer` (if signed in) is left out.
    Trending {
        /// Who asks, if signed in.
        viewer: Option<UserId>,
    },
}

/// What `/ready` reports: when search is on, how far the index has got,
/// and whether this node leads the store-wide jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    /// The search index's position, when this engine serves search.
    pub search: Option<SearchReadinessInfo>,
    /// Whether this node runs the store-wide background jobs, when it has
    /// any ([`Engine::leads_store_jobs`]).
    pub leads_store_jobs: Option<bool>,
}

/// The search index's position once it has caught up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchReadinessInfo {
    /// The last store change the index reflects.
    pub applied_seq: u64,
    /// Experts in the text index.
    pub indexed_experts: u64,
}

impl Engine {
    /// Runs a search over the kinds of result it asks for (experts by default), as
    /// one ranking; the checked query comes back with the results.
    pub fn search(
        &self,
        request: SearchRequest,
        viewer: Option<UserId>,
    ) -> Result<(MatchQuery, SearchResults)> {
        let query = request.into_query(viewer)?;
        let results = self.matcher()?.search_kinds(&query)?;
        Ok((query, results))
    }

    /// Runs `user`'s search and stores one AIMatch per returned expert (at
    /// most [`MAX_MATCHES_PER_CALL`]: each is two rows).
    pub fn create_matches(
        &self,
        request: SearchRequest,
        user: UserId,
    ) -> Result<Vec<(RankedExpert, AiMatch)>> {
        let query = request.into_query(Some(user))?;
        if !query.experts_only() {
            return Err(Error::Invalid(
                "kinds: matches are made with experts only".to_owned(),
            ));
        }
        if query.limit > MAX_MATCHES_PER_CALL {
            return Err(Error::Invalid(format!(
                "limit: at most {MAX_MATCHES_PER_CALL} matches are stored per call"
            )));
        }
        let matcher = self.matcher()?;
        let results = matcher.search(&query)?;
        let rows = record_matches(self.store(), user, &query.text, &results.hits)?;
        Ok(results.hits.into_iter().zip(rows).collect())
    }

    /// The owner's feedback on one of their matches.
    pub fn match_feedback(
        &self,
        user: UserId,
        id: AiMatchId,
        feedback: MatchFeedback,
    ) -> Result<AiMatch> {
        record_feedback(self.store(), user, id, feedback)
    }

    /// The experts closest in meaning to `expert`.
    pub fn similar_experts(
        &self,
        expert: UserId,
        limit: usize,
        viewer: Option<UserId>,
    ) -> Result<Vec<RankedExpert>> {
        self.matcher()?.similar(expert, limit, viewer)
    }

    /// Recommended experts of the kind asked for.
    pub fn recommendations(&self, kind: Recommendation, limit: usize) -> Result<Vec<RankedExpert>> {
        let matcher = self.matcher()?;
        match kind {
            Recommendation::ForYou(viewer) => matcher.for_you(viewer, limit),
            Recommendation::Trending { viewer } => matcher.trending(limit, viewer),
        }
    }

    /// Whether the engine can serve: the store reads and takes writes
    /// ([`Error::WritesStopped`] once a disk sync failed), and the search
    /// index (when search is on) has caught up with the store once.
    /// [`Error::SearchUnavailable`] says what the index is doing until then.
    pub fn readiness(&self) -> Result<Readiness> {
        self.store().check_writable()?;
        let leads_store_jobs = self.leads_store_jobs()?;
        let Some(search) = &self.inner.search else {
            return Ok(Readiness {
                search: None,
                leads_store_jobs,
            });
        };
        search
            .readiness
            .check(&search.index)
            .map_err(Error::SearchUnavailable)?;
        let status = search.index.status();
        Ok(Readiness {
            search: Some(SearchReadinessInfo {
                applied_seq: status.applied_seq,
                indexed_experts: status.text_documents,
            }),
            leads_store_jobs,
        })
    }
}

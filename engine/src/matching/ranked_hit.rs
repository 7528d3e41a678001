//! What a search over several kinds of result returns: [`RankedContent`] (a content
//! item with its creator and its relevance), [`RankedDropin`] (a live drop-in with
//! its host), [`RankedHit`] (an expert, a content item or a drop-in, tagged by its
//! kind) and [`SearchResults`] (one ranked page over every kind
//! asked for, the total, and the facet counts of each kind).

use droply_index::{ContentFacet, FacetField};
use droply_models::{Content, ContentId, DropinSession, DropinSessionId, User};

use super::fusion::FusedHit;
use super::kind::SearchKind;
use super::ranker::RankedExpert;
use super::signals::Contribution;

/// One ranked content item.
#[derive(Debug, Clone)]
pub struct RankedContent {
    /// The item.
    pub content: Content,
    /// Who sells it.
    pub creator: User,
    /// The final score: its fused relevance (content has no re-ranking signals yet),
    /// comparable with experts' scores in the same request.
    pub score: f32,
    /// The score mapped into `0..=1` for display.
    pub match_score: f32,
    /// Where the item stood in each retrieval list.
    pub fused: FusedHit<ContentId>,
    /// Every contribution to `score` (words and meaning).
    pub contributions: Vec<Contribution>,
}

/// One ranked live drop-in.
#[derive(Debug, Clone)]
pub struct RankedDropin {
    /// The session.
    pub session: DropinSession,
    /// Who hosts it.
    pub host: User,
    /// The final score: its fused relevance, comparable with the other kinds'.
    pub score: f32,
    /// The score mapped into `0..=1` for display.
    pub match_score: f32,
    /// Where it stood in each retrieval list.
    pub fused: FusedHit<DropinSessionId>,
    /// Every contribution to `score` (words and meaning).
    pub contributions: Vec<Contribution>,
}

/// One hit of a search over several kinds.
#[derive(Debug, Clone)]
pub enum RankedHit {
    /// An expert.
    Expert(Box<RankedExpert>),
    /// A content item.
    Content(Box<RankedContent>),
    /// A live drop-in.
    Dropin(Box<RankedDropin>),
}

impl RankedHit {
    /// The hit's kind.
    pub fn kind(&self) -> SearchKind {
        match self {
            RankedHit::Expert(_) => SearchKind::Experts,
            RankedHit::Content(_) => SearchKind::Content,
            RankedHit::Dropin(_) => SearchKind::Dropins,
        }
    }

    /// The final score the merged list is ordered by.
    pub fn score(&self) -> f32 {
        match self {
            RankedHit::Expert(hit) => hit.score,
            RankedHit::Content(hit) => hit.score,
            RankedHit::Dropin(hit) => hit.score,
        }
    }

    /// The score mapped into `0..=1` for display.
    pub fn match_score(&self) -> f32 {
        match self {
            RankedHit::Expert(hit) => hit.match_score,
            RankedHit::Content(hit) => hit.match_score,
            RankedHit::Dropin(hit) => hit.match_score,
        }
    }

    /// Every contribution to the score.
    pub fn contributions(&self) -> &[Contribution] {
        match self {
            RankedHit::Expert(hit) => &hit.contributions,
            RankedHit::Content(hit) => &hit.contributions,
            RankedHit::Dropin(hit) => &hit.contributions,
        }
    }
}

/// The answer to a search over one or several kinds.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// The requested page of the merged ranking, best first.
    pub hits: Vec<RankedHit>,
    /// How many results of every kind asked for matched (estimated).
    pub total: u64,
    /// Facet counts over the matched experts, per requested field.
    pub facets: Vec<(FacetField, Vec<(String, u64)>)>,
    /// Facet counts over the matched content, per requested field.
    pub content_facets: Vec<(ContentFacet, Vec<(String, u64)>)>,
    /// Time spent, in microseconds.
    pub took_micros: u64,
}

//! `POST /v1/search`, shaped like Meilisearch's search: words and meaning mixed
//! by `semanticRatio`, a `filter` expression, facet counts, offset and limit, and
//! optionally each hit's ranking score and its details. Open to anonymous callers;
//! a valid bearer token personalizes the ranking. The body maps onto the
//! engine's `SearchRequest`, which the engine checks (one place for every
//! rule of a query, shared with `POST /v1/matches`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use droply_engine::matching::{RankedExpert, SearchRequest};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, MaybeSignedIn};
use crate::http::views::PublicProfile;
use crate::http::{AppState, blocking};

/// `POST /v1/search`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_experts))
}

/// Body of `POST /v1/search`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SearchBody {
    /// What the searcher typed; empty or absent lists experts by the other signals.
    q: Option<String>,
    /// A filter expression, or an array of them (items AND, inner arrays OR).
    #[schema(value_type = Option<FilterSchema>)]
    filter: Option<Value>,
    /// Fields to count values of: `industry`, `profession`, `location`, `skills`,
    /// `specialty_tags`, `currency`, or `*` for all.
    facets: Option<Vec<String>>,
    /// Hits per page, 1 to 100 (default 20).
    limit: Option<usize>,
    /// Hits skipped, at most 200 (default 0).
    offset: Option<usize>,
    /// 0 ranks by words only, 1 by meaning only (default 0.5).
    semantic_ratio: Option<f32>,
    /// Adds `_rankingScore` (0 to 1) to each hit.
    #[serde(default)]
    show_ranking_score: bool,
    /// Adds `_rankingScoreDetails` (each signal's weight and value) to each hit.
    #[serde(default)]
    show_ranking_score_details: bool,
    /// The currency of `hourly_rate` bounds in `filter` (ISO 4217).
    currency: Option<String>,
    /// How words and meaning are fused: `rrf` or `normalized` (default).
    fusion: Option<String>,
}

/// The schema of `filter`: an expression, or an array of expressions and arrays
/// of expressions.
#[derive(Debug)]
pub struct FilterSchema;

impl utoipa::PartialSchema for FilterSchema {
    fn schema() -> RefOr<Schema> {
        let expression = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "e.g. `industry = Finance AND skills IN [Rust, \"Machine Learning\"] AND rating >= 4.5`",
                ))
        };
        let any_of = ArrayBuilder::new().items(expression());
        let item = OneOfBuilder::new().item(expression()).item(any_of);
        OneOfBuilder::new()
            .description(Some(
                "A filter expression, or an array whose items are joined with AND; an inner array's expressions are joined with OR.",
            ))
            .item(expression())
            .item(ArrayBuilder::new().items(item))
            .into()
    }
}

impl ToSchema for FilterSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("SearchFilter")
    }
}

/// One signal's part in a hit's ranking score.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoreDetail {
    /// Its contribution to the score, rounded to 0.01 (so that it does not
    /// give away the counts behind it).
    pub weight: f32,
    /// What it was computed from, in words anyone may read ("reliable", "in
    /// demand"); never another user's counts.
    pub value: String,
}

/// One hit: the public profile, with the score when asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    /// The expert.
    #[serde(flatten)]
    pub profile: PublicProfile,
    /// How good a match, 0 to 1 (with `showRankingScore`).
    #[serde(rename = "_rankingScore", skip_serializing_if = "Option::is_none")]
    pub ranking_score: Option<f32>,
    /// Each signal's part, keyed by its name (with `showRankingScoreDetails`);
    /// a part that would reveal what a few other users did is left out.
    #[serde(
        rename = "_rankingScoreDetails",
        skip_serializing_if = "Option::is_none"
    )]
    pub ranking_score_details: Option<BTreeMap<String, ScoreDetail>>,
}

/// The answer of `POST /v1/search`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    /// The page of hits, best first.
    pub hits: Vec<SearchHit>,
    /// How many experts match (an estimate when calendar filters apply).
    pub estimated_total_hits: u64,
    /// For each requested facet, its values and how many matching experts have each.
    pub facet_distribution: BTreeMap<String, BTreeMap<String, u64>>,
    /// Hits skipped.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
    /// The query as sent.
    pub query: String,
    /// Time the engine took, in milliseconds.
    pub processing_time_ms: u64,
    /// The semantic ratio used.
    pub semantic_ratio: f32,
}

fn hit(ranked: &RankedExpert, score: bool, details: bool) -> SearchHit {
    SearchHit {
        profile: PublicProfile::from(&ranked.expert),
        ranking_score: score.then_some(ranked.match_score),
        ranking_score_details: details.then(|| {
            let mut parts = BTreeMap::new();
            for c in ranked.contributions.iter().filter(|c| c.shown) {
                parts
                    .entry(c.signal.name().to_owned())
                    .or_insert_with(|| ScoreDetail {
                        weight: c.shown_weight(),
                        value: c.value.clone(),
                    });
            }
            parts
        }),
    }
}

/// `POST /v1/search`: experts by words and meaning, filtered, faceted, paged.
#[utoipa::path(
    post,
    path = "/v1/search",
    tag = "search",
    summary = "Search experts",
    description = "Meilisearch-style: `q` is matched by words (BM25, typo tolerant) and by meaning (sentence vectors), mixed by `semanticRatio`, then re-ranked by quality, engagement and availability (and, with a valid bearer token, the caller's history). `filter` examples: `industry = Finance`, `skills IN [Rust, \"Machine Learning\"]`, `(location = Berlin OR location = Paris) AND rating >= 4.5`, `is_available = true`, `is_featured = true`, `bookable_within_days <= 7`, `hourly_rate <= 9000` (minor units of `currency`). Anonymous callers are served; a bearer token that is sent must be valid.",
    request_body = SearchBody,
    responses(
        (status = 200, description = "A page of hits", body = SearchResponse),
        (status = 400, description = "`invalid_search_filter`, `invalid_search_facets`, `invalid_input` (limit, offset, semanticRatio, q, currency, fusion or an unknown field) or `invalid_json`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: a bearer token was sent but is not valid", body = ErrorBody),
        (status = 503, description = "`search_unavailable`: this server runs without search", body = ErrorBody),
    )
)]
pub async fn search_experts(
    State(state): State<AppState>,
    MaybeSignedIn(viewer): MaybeSignedIn,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Json<SearchResponse>, ApiError> {
    let (score, details) = (body.show_ranking_score, body.show_ranking_score_details);
    let request = SearchRequest {
        q: body.q,
        filter: body.filter,
        currency: body.currency,
        facets: body.facets,
        limit: body.limit,
        offset: body.offset,
        semantic_ratio: body.semantic_ratio,
        fusion: body.fusion,
    };
    let (query, results) = blocking(&state, move |engine| engine.search(request, viewer)).await?;
    Ok(Json(SearchResponse {
        hits: results
            .hits
            .iter()
            .map(|ranked| hit(ranked, score, details))
            .collect(),
        estimated_total_hits: results.total,
        facet_distribution: results
            .facets
            .into_iter()
            .map(|(field, counts)| (field.name().to_owned(), counts.into_iter().collect()))
            .collect(),
        offset: query.offset,
        limit: query.limit,
        query: query.text,
        processing_time_ms: results.took_micros / 1000,
        semantic_ratio: query.semantic_ratio,
    }))
}

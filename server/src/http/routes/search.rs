//! `POST /v1/search`, shaped like Meilisearch's search: words and meaning mixed
//! by `semanticRatio`, a `filter` expression, facet counts, offset and limit, and
//! optionally each hit's ranking score and its details, and each expert's
//! reasons in words (`showReasons`, what the search page shows). Open to anonymous callers;
//! a valid bearer token personalizes the ranking. The body maps onto the
//! engine's `SearchRequest`, which the engine checks (one place for every
//! rule of a query, shared with `POST /v1/matches`).
//!
//! `kinds` asks for experts (the default), content, live drop-ins, or several
//! in one ranking. A request without `kinds` gets the answer it always got;
//! one that names `kinds` gets every hit tagged with its `kind` (`expert`,
//! `content`, `dropin`) and the facet counts grouped by kind (drop-ins have none).

use std::collections::BTreeMap;

use axum::extract::State;
use droply_engine::matching::{Contribution, MatchQuery};
use droply_engine::matching::{RankedHit, SearchKind, SearchRequest, SearchResults};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, MaybeSignedIn};
use crate::http::large_json::LargeJson;
use crate::http::views::{
    ContentHitView, CreatorView, DropinView, MatchReasonView, PublicProfile, reason_views,
};
use crate::http::{AppState, blocking};

/// `POST /v1/search`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_experts))
}

/// Body of `POST /v1/search`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SearchBody {
    /// The kinds of result: `experts` (the default), `content`, `dropins`
    /// (live drop-ins), or several (one ranking). Naming `kinds` tags every
    /// hit with its `kind` and groups `facetDistribution` by kind.
    kinds: Option<Vec<String>>,
    /// What the searcher typed; empty or absent lists experts by the other signals.
    q: Option<String>,
    /// A filter expression, or an array of them (items AND, inner arrays OR).
    #[schema(value_type = Option<FilterSchema>)]
    filter: Option<Value>,
    /// Fields to count values of: for experts `industry`, `profession`,
    /// `location`, `skills`, `specialty_tags`, `currency`; for content
    /// `content_type`, `category_id`; or `*` for every field of the requested kinds.
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
    /// Adds `_reasons` to each expert hit: why it matched, in words people
    /// read ("skills: Rust, Kubernetes", "free this Thursday"), strongest first.
    #[serde(default)]
    show_reasons: bool,
    /// The currency of `hourly_rate` and `price` bounds in `filter` (ISO 4217).
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

/// The schema of `facetDistribution`: field, value, count; or, when the
/// request named `kinds`, kind, field, value, count.
#[derive(Debug)]
pub struct FacetDistributionSchema;

impl utoipa::PartialSchema for FacetDistributionSchema {
    fn schema() -> RefOr<Schema> {
        let counts = || {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                ))
        };
        let by_field = || {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(counts()))
        };
        AnyOfBuilder::new()
            .description(Some(
                "Without `kinds`: field, then value, then how many matching experts have it. With `kinds`: kind (`experts`, `content`), then field, value and count for results of that kind.",
            ))
            .item(by_field())
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .additional_properties(Some(by_field())),
            )
            .into()
    }
}

impl ToSchema for FacetDistributionSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("FacetDistribution")
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

/// A hit's ranking score and its details, when asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitRanking {
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

impl HitRanking {
    fn new(match_score: f32, contributions: &[Contribution], score: bool, details: bool) -> Self {
        HitRanking {
            ranking_score: score.then_some(match_score),
            ranking_score_details: details.then(|| {
                let mut parts = BTreeMap::new();
                for c in contributions.iter().filter(|c| c.shown) {
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
}

/// An expert hit: the public profile, with the score when asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpertHit {
    /// `expert`, when the request named `kinds` (absent otherwise, as before
    /// `kinds` existed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "expert")]
    pub kind: Option<&'static str>,
    /// The expert.
    #[serde(flatten)]
    pub profile: PublicProfile,
    /// The score, when asked.
    #[serde(flatten)]
    pub ranking: HitRanking,
    /// Why it matched, in words, strongest first (with `showReasons`).
    #[serde(rename = "_reasons", skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<MatchReasonView>>,
}

/// A content hit: the item's public view, with the score when asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContentHit {
    /// Always `content`.
    #[schema(value_type = String, example = "content")]
    pub kind: &'static str,
    /// The item.
    #[serde(flatten)]
    pub content: ContentHitView,
    /// The score, when asked.
    #[serde(flatten)]
    pub ranking: HitRanking,
}

/// A live drop-in hit: the session and its host, with the score when asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DropinHit {
    /// Always `dropin`.
    #[schema(value_type = String, example = "dropin")]
    pub kind: &'static str,
    /// The session (join with its `session_code`).
    #[serde(flatten)]
    pub dropin: DropinView,
    /// Who hosts it.
    pub host: CreatorView,
    /// The score, when asked.
    #[serde(flatten)]
    pub ranking: HitRanking,
}

/// One hit, of the kind its `kind` names (`expert` hits carry `kind` only when
/// the request named `kinds`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SearchHit {
    /// An expert.
    // Boxed: the larger of the two.
    Expert(Box<ExpertHit>),
    /// A content item.
    Content(ContentHit),
    /// A live drop-in.
    Dropin(DropinHit),
}

/// Facet counts: value counts per field, grouped by kind when the request named
/// `kinds`. Documented by [`FacetDistributionSchema`]: the two shapes overlap
/// (an empty object is both), so the document says `anyOf`, not `oneOf`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum FacetDistribution {
    /// Without `kinds`: field, then value, then how many matching experts have it.
    Experts(BTreeMap<String, BTreeMap<String, u64>>),
    /// With `kinds`: kind (`experts`, `content`), then field, then value, then how
    /// many matching results of that kind have it.
    ByKind(BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>),
}

/// The answer of `POST /v1/search`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    /// The page of hits, best first (one ranking across the requested kinds).
    pub hits: Vec<SearchHit>,
    /// How many results of the requested kinds match (an estimate when calendar
    /// filters apply).
    pub estimated_total_hits: u64,
    /// For each requested facet, its values and how many matching results have
    /// each; grouped by kind when the request named `kinds`.
    #[schema(value_type = FacetDistributionSchema)]
    pub facet_distribution: FacetDistribution,
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

/// How hits are shown: with their score, its details, and their `kind` tag.
#[derive(Debug, Clone, Copy)]
struct HitStyle {
    score: bool,
    details: bool,
    reasons: bool,
    tagged: bool,
}

fn hit(ranked: &RankedHit, style: HitStyle) -> SearchHit {
    let ranking = HitRanking::new(
        ranked.match_score(),
        ranked.contributions(),
        style.score,
        style.details,
    );
    match ranked {
        RankedHit::Expert(expert) => SearchHit::Expert(Box::new(ExpertHit {
            kind: style.tagged.then(|| SearchKind::Experts.hit_tag()),
            profile: PublicProfile::from(&*expert.expert),
            ranking,
            reasons: style.reasons.then(|| reason_views(&expert.reasons)),
        })),
        RankedHit::Content(content) => SearchHit::Content(ContentHit {
            kind: SearchKind::Content.hit_tag(),
            content: ContentHitView::new(&content.content, &content.creator),
            ranking,
        }),
        RankedHit::Dropin(dropin) => SearchHit::Dropin(DropinHit {
            kind: SearchKind::Dropins.hit_tag(),
            dropin: DropinView::from(&dropin.session),
            host: CreatorView::from(&dropin.host),
            ranking,
        }),
    }
}

/// The facet counts of `results`: flat for experts without `kinds` (`tagged`
/// false), else grouped under each requested kind's name.
fn facet_distribution(
    query: &MatchQuery,
    results: SearchResults,
    tagged: bool,
) -> FacetDistribution {
    fn counts<F>(
        fields: Vec<(F, Vec<(String, u64)>)>,
        name: fn(F) -> &'static str,
    ) -> BTreeMap<String, BTreeMap<String, u64>> {
        fields
            .into_iter()
            .map(|(field, counts)| (name(field).to_owned(), counts.into_iter().collect()))
            .collect()
    }
    let experts = counts(results.facets, |f| f.name());
    if !tagged {
        return FacetDistribution::Experts(experts);
    }
    let content = counts(results.content_facets, |f| f.name());
    let mut grouped = BTreeMap::new();
    for kind in &query.kinds {
        let fields = match kind {
            SearchKind::Experts => experts.clone(),
            SearchKind::Content => content.clone(),
            // Drop-ins have no facets of their own.
            SearchKind::Dropins => BTreeMap::new(),
        };
        grouped.insert(kind.name().to_owned(), fields);
    }
    FacetDistribution::ByKind(grouped)
}

/// `POST /v1/search`: experts and content by words and meaning, filtered,
/// faceted, paged.
#[utoipa::path(
    post,
    path = "/v1/search",
    tag = "search",
    summary = "Search experts, content and live drop-ins",
    description = "Meilisearch-style: `q` is matched by words (BM25, typo tolerant) and by meaning (sentence vectors), mixed by `semanticRatio`, then re-ranked by quality, engagement and availability (and, with a valid bearer token, the caller's history). `kinds` asks for `experts` (the default), `content` (published items), `dropins` (drop-ins live now, with their join code), or several in one ranking whose scores are comparable across kinds; naming `kinds` tags every hit with `kind` (`expert`, `content` or `dropin`) and groups `facetDistribution` by kind (drop-ins have no filters or facets). `filter` examples for experts: `industry = Finance`, `skills IN [Rust, \"Machine Learning\"]`, `(location = Berlin OR location = Paris) AND rating >= 4.5`, `is_available = true`, `is_featured = true`, `bookable_within_days <= 7`, `hourly_rate <= 9000` (minor units of `currency`); for content: `content_type = video`, `content_type IN [course, document]`, `price <= 2000` (minor units of `currency`), `creator = 42`; for both: `category = 3` (or `category_id`). A filter on a field that does not apply to every requested kind is refused. Anonymous callers are served; a bearer token that is sent must be valid.",
    request_body = SearchBody,
    responses(
        (status = 200, description = "A page of hits", body = SearchResponse),
        (status = 400, description = "`invalid_search_filter` (also a field that does not apply to a requested kind), `invalid_search_facets`, `invalid_input` (kinds, limit, offset, semanticRatio, q, currency, fusion or an unknown field) or `invalid_json`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: a bearer token was sent but is not valid", body = ErrorBody),
        (status = 503, description = "`search_unavailable`: this server runs without search", body = ErrorBody),
    )
)]
pub async fn search_experts(
    State(state): State<AppState>,
    MaybeSignedIn(viewer): MaybeSignedIn,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<LargeJson<SearchResponse>, ApiError> {
    let style = HitStyle {
        score: body.show_ranking_score,
        details: body.show_ranking_score_details,
        reasons: body.show_reasons,
        tagged: body.kinds.is_some(),
    };
    let request = SearchRequest {
        kinds: body.kinds,
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
    let hits = results
        .hits
        .iter()
        .map(|ranked| hit(ranked, style))
        .collect();
    let (estimated_total_hits, took_micros) = (results.total, results.took_micros);
    Ok(LargeJson(SearchResponse {
        hits,
        estimated_total_hits,
        facet_distribution: facet_distribution(&query, results, style.tagged),
        offset: query.offset,
        limit: query.limit,
        query: query.text,
        processing_time_ms: took_micros / 1000,
        semantic_ratio: query.semantic_ratio,
    }))
}

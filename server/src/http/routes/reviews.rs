//! Reviews: the client of a completed session rates it, the expert answers
//! once, and anyone reads an expert's reviews, newest first. Authors are
//! shown by a public name only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_engine::reviews::{NewReview, Review, ReviewId};
use droply_models::{BookingId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, SignedIn, page_request, parse_id};
use crate::http::{AppState, blocking};

/// `/v1/bookings/{id}/review`, `/v1/reviews/{id}/answer` and
/// `/v1/experts/{id}/reviews`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(review_booking))
        .routes(routes!(answer_review))
        .routes(routes!(expert_reviews))
}

/// A review as anyone sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewView {
    /// The review's id.
    #[schema(value_type = u64)]
    pub id: ReviewId,
    /// The expert reviewed.
    #[schema(value_type = u64)]
    pub expert_id: UserId,
    /// The author's public name ("Carl P.").
    pub author_name: String,
    /// 1 to 5 stars.
    pub rating: u8,
    /// What the client said.
    pub comment: Option<String>,
    /// The expert's answer.
    pub answer: Option<String>,
    /// When it was written (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When the expert answered.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub answered_at: Option<Timestamp>,
}

impl From<&Review> for ReviewView {
    fn from(review: &Review) -> Self {
        ReviewView {
            id: review.id,
            expert_id: review.expert_id,
            author_name: review.author_name.clone(),
            rating: review.rating,
            comment: review.comment.clone(),
            answer: review.answer.clone(),
            created_at: review.created_at,
            answered_at: review.answered_at,
        }
    }
}

/// Body of `POST /v1/bookings/{id}/review`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// 1 to 5 stars.
    rating: u8,
    /// At most 2,000 characters.
    comment: Option<String>,
}

/// `POST /v1/bookings/{id}/review`: the client rates a session that took place.
#[utoipa::path(
    post,
    path = "/v1/bookings/{id}/review",
    tag = "reviews",
    summary = "Review a session that took place (client)",
    description = "Once per booking, by its client, once the session has ended (completed by the expert, or confirmed and past its end: the expert need not mark it completed) and within 30 days of its end. The expert's rating moves in the same transaction.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The booking's id")),
    request_body = ReviewBody,
    responses(
        (status = 201, description = "The review", body = ReviewView),
        (status = 400, description = "`invalid_input` (rating not 1-5, comment too long), `invalid_parameter` or `invalid_json`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the provider cannot review", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state` (not ended, cancelled or a no-show, or the window closed) or `conflict` (already reviewed)", body = ErrorBody),
    )
)]
pub async fn review_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<(StatusCode, Json<ReviewView>), ApiError> {
    let id: BookingId = parse_id(&id, "booking")?;
    let review = NewReview {
        rating: body.rating,
        comment: body.comment,
    };
    let made = blocking(&state, move |engine| {
        engine.review_booking(id, user, &review)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(ReviewView::from(&made))))
}

/// Body of `POST /v1/reviews/{id}/answer`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// 1 to 2,000 characters.
    answer: String,
}

/// `POST /v1/reviews/{id}/answer`: the reviewed expert answers, once.
#[utoipa::path(
    post,
    path = "/v1/reviews/{id}/answer",
    tag = "reviews",
    summary = "Answer a review (expert)",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The review's id")),
    request_body = AnswerBody,
    responses(
        (status = 200, description = "The review with its answer", body = ReviewView),
        (status = 400, description = "`invalid_input`, `invalid_parameter` or `invalid_json`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the author cannot answer their own review", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`conflict`: already answered", body = ErrorBody),
    )
)]
pub async fn answer_review(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Json<ReviewView>, ApiError> {
    let id: ReviewId = parse_id(&id, "review")?;
    let answered = blocking(&state, move |engine| {
        engine.answer_review(id, user, &body.answer)
    })
    .await?;
    Ok(Json(ReviewView::from(&answered)))
}

/// Query of `GET /v1/experts/{id}/reviews`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewsQuery {
    /// Page size, 1 to 100 (default 20).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of reviews.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewPage {
    /// Newest first.
    reviews: Vec<ReviewView>,
    /// Cursor of the next page, if any.
    next_cursor: Option<String>,
}

/// `GET /v1/experts/{id}/reviews`: an expert's reviews, newest first.
#[utoipa::path(
    get,
    path = "/v1/experts/{id}/reviews",
    tag = "reviews",
    summary = "An expert's reviews",
    params(("id" = u64, Path, description = "The expert's user id"), ReviewsQuery),
    responses(
        (status = 200, description = "A page of reviews", body = ReviewPage),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such expert", body = ErrorBody),
    )
)]
pub async fn expert_reviews(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReviewsQuery>,
) -> Result<Json<ReviewPage>, ApiError> {
    let id: UserId = parse_id(&id, "expert")?;
    let page_request = page_request(query.limit, query.cursor)?;
    let page = blocking(&state, move |engine| engine.reviews_of(id, &page_request)).await?;
    Ok(Json(ReviewPage {
        reviews: page.items.iter().map(ReviewView::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}

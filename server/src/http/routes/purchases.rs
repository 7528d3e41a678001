//! Buying content: start a purchase (free content is granted at once;
//! content with a price answers the PaymentIntent's client secret to the
//! buyer, and the webhook grants it), list one's purchases, and the
//! creator's full refund of a purchase (the buyer's access goes with it).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_models::{ContentId, ContentPurchaseId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery, SignedIn, page_request, parse_id};
use crate::http::views::{BoughtView, PurchaseView};
use crate::http::{AppState, blocking};

/// `/v1/content/{id}/purchase`, `/v1/purchases` and
/// `/v1/purchases/{id}/refund`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(purchase))
        .routes(routes!(list_purchases))
        .routes(routes!(refund_purchase))
}

/// `POST /v1/content/{id}/purchase`: the caller buys published content.
#[utoipa::path(
    post,
    path = "/v1/content/{id}/purchase",
    tag = "purchases",
    summary = "Buy content",
    description = "Free content is the caller's at once (`201`, `can_download: true`). Content with a price answers `payment.client_secret` for Stripe.js; the purchase gives access when Stripe's `payment_intent.succeeded` arrives. Asking again while the payment is open answers the same purchase (`200`).",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The content's id")),
    responses(
        (status = 201, description = "The new purchase", body = BoughtView),
        (status = 200, description = "The caller's open purchase of it", body = BoughtView),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_purchased`, or `invalid_state` (not for sale, or the caller's own)", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
        (status = 503, description = "`payments_not_configured`", body = ErrorBody),
    )
)]
pub async fn purchase(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<BoughtView>), ApiError> {
    let id: ContentId = parse_id(&id, "content")?;
    let bought = blocking(&state, move |engine| engine.buy_content(id, user)).await?;
    let status = if bought.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(BoughtView::of(&bought))))
}

/// Query of `GET /v1/purchases`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurchasesQuery {
    /// Page size, 1 to 100 (default 20).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of purchases.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurchasePage {
    /// Oldest first.
    purchases: Vec<PurchaseView>,
    /// Cursor of the next page, if any.
    next_cursor: Option<String>,
}

/// `GET /v1/purchases`: the caller's purchases.
#[utoipa::path(
    get,
    path = "/v1/purchases",
    tag = "purchases",
    summary = "My purchases",
    security(("bearer" = [])),
    params(PurchasesQuery),
    responses(
        (status = 200, description = "A page of purchases", body = PurchasePage),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
    )
)]
pub async fn list_purchases(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiQuery(query): ApiQuery<PurchasesQuery>,
) -> Result<Json<PurchasePage>, ApiError> {
    let page_request = page_request(query.limit, query.cursor)?;
    let page = blocking(&state, move |engine| {
        engine.purchases_of(user, &page_request)
    })
    .await?;
    Ok(Json(PurchasePage {
        purchases: page
            .items
            .iter()
            .map(|(purchase, content)| PurchaseView::of(purchase, content))
            .collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}

/// `POST /v1/purchases/{id}/refund`: the creator refunds a purchase in full.
#[utoipa::path(
    post,
    path = "/v1/purchases/{id}/refund",
    tag = "purchases",
    summary = "Refund a purchase (creator)",
    description = "Refunds what is left of the payment through Stripe; when Stripe accepts, the buyer loses access and the ledger takes the fee and earning back. Only the content's creator may; to anyone else the purchase does not exist.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The purchase's id")),
    responses(
        (status = 200, description = "The purchase", body = PurchaseView),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state`: nothing paid, or refunded already", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    )
)]
pub async fn refund_purchase(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PurchaseView>, ApiError> {
    let id: ContentPurchaseId = parse_id(&id, "purchase")?;
    let (purchase, content) = blocking(&state, move |engine| {
        let purchase = engine.refund_content_purchase(id, user)?;
        let content = engine.store().require(purchase.content_id)?;
        Ok((purchase, content))
    })
    .await?;
    Ok(Json(PurchaseView::of(&purchase, &content)))
}

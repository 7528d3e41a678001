//! An expert's money: Connect onboarding and the payout account, earnings
//! from the ledger, and payouts (ask for one, list them). Owner-only: every
//! route acts on the signed-in user.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_models::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, IdempotencyKeyHeader, SignedIn, page_request};
use crate::http::views::model_schemas::MoneySchema;
use crate::http::views::{EarningsView, PayoutAccountView, PayoutView};
use crate::http::{AppState, blocking};

/// `/v1/payouts` and `/v1/earnings`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_onboarding))
        .routes(routes!(payout_account))
        .routes(routes!(request_payout, list_payouts))
        .routes(routes!(earnings))
}

/// Answer of `POST /v1/payouts/onboarding`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnboardingLink {
    /// Stripe's one-time onboarding page for the caller's connected account.
    url: String,
}

/// `POST /v1/payouts/onboarding`: creates the caller's Express connected
/// account (once) and answers a fresh onboarding link.
#[utoipa::path(
    post,
    path = "/v1/payouts/onboarding",
    tag = "payouts",
    summary = "Start (or resume) payout onboarding",
    description = "Creates the caller's Stripe Express connected account the first time, then answers a one-time link to Stripe's onboarding. `account.updated` webhooks keep the account's status current; a priced expert is bookable once it is `active`.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The onboarding link", body = OnboardingLink),
        (status = 403, description = "`forbidden`: only experts are paid out", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
        (status = 503, description = "`payments_not_configured`", body = ErrorBody),
    )
)]
pub async fn start_onboarding(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<OnboardingLink>, ApiError> {
    let url = blocking(&state, move |engine| engine.start_payout_onboarding(user)).await?;
    Ok(Json(OnboardingLink { url }))
}

/// `GET /v1/payouts/account`: the caller's payout account.
#[utoipa::path(
    get,
    path = "/v1/payouts/account",
    tag = "payouts",
    summary = "One's payout account",
    security(("bearer" = [])),
    responses((status = 200, description = "Status and whether payouts are enabled", body = PayoutAccountView))
)]
pub async fn payout_account(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<PayoutAccountView>, ApiError> {
    let account = blocking(&state, move |engine| engine.payout_account(user)).await?;
    Ok(Json(PayoutAccountView::from(&account)))
}

/// `GET /v1/earnings`: the caller's balances from the ledger.
#[utoipa::path(
    get,
    path = "/v1/earnings",
    tag = "payouts",
    summary = "One's earnings and what can be paid out",
    security(("bearer" = [])),
    responses((status = 200, description = "Balances", body = EarningsView))
)]
pub async fn earnings(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<EarningsView>, ApiError> {
    let earnings = blocking(&state, move |engine| engine.earnings(user)).await?;
    Ok(Json(EarningsView::from(&earnings)))
}

/// Body of `POST /v1/payouts`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutBody {
    /// How much; everything available when absent.
    #[schema(value_type = Option<MoneySchema>)]
    amount: Option<Money>,
}

/// `POST /v1/payouts`: reserves the amount and transfers it to the caller's
/// connected account.
#[utoipa::path(
    post,
    path = "/v1/payouts",
    tag = "payouts",
    summary = "Pay out earnings",
    description = "Reserves the amount (everything available when absent) in the ledger, then transfers it to the caller's Stripe account with an idempotency key from the payout's id. `in_transit` once Stripe took the transfer; `pending` while a failed call waits to be retried by the sweep. With an `Idempotency-Key`, the same key and amount from the same expert answer 200 with the first payout (nothing reserved or transferred again); the same key with another amount answers 422 `idempotency_key_reused`; a key whose payout Stripe refused asks again.",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per payout the caller means")),
    request_body = PayoutBody,
    responses(
        (status = 201, description = "The payout", body = PayoutView),
        (status = 200, description = "The payout an earlier request with this Idempotency-Key made", body = PayoutView),
        (status = 400, description = "`invalid_input`", body = ErrorBody),
        (status = 409, description = "`insufficient_balance` or `payouts_not_enabled`", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: the key came with another amount", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`: Stripe refused the transfer (nothing was paid; the amount is available again)", body = ErrorBody),
        (status = 503, description = "`payments_not_configured`", body = ErrorBody),
    )
)]
pub async fn request_payout(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(body): ApiJson<PayoutBody>,
) -> Result<(StatusCode, Json<PayoutView>), ApiError> {
    let (payout, made) = blocking(&state, move |engine| {
        engine.request_payout(user, body.amount, key.as_ref())
    })
    .await?;
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(PayoutView::from(&payout))))
}

/// Query of `GET /v1/payouts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPayoutsQuery {
    /// Page size, 1 to 100 (default 20).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of payouts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutPage {
    /// Payouts, oldest first.
    payouts: Vec<PayoutView>,
    /// Cursor of the next page, if any.
    next_cursor: Option<String>,
}

/// `GET /v1/payouts`: the caller's payouts.
#[utoipa::path(
    get,
    path = "/v1/payouts",
    tag = "payouts",
    summary = "List one's payouts",
    security(("bearer" = [])),
    params(ListPayoutsQuery),
    responses(
        (status = 200, description = "A page of payouts, oldest first", body = PayoutPage),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
    )
)]
pub async fn list_payouts(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiQuery(query): ApiQuery<ListPayoutsQuery>,
) -> Result<Json<PayoutPage>, ApiError> {
    let page_request = page_request(query.limit, query.cursor)?;
    let page = blocking(&state, move |engine| engine.payouts_of(user, &page_request)).await?;
    Ok(Json(PayoutPage {
        payouts: page.items.iter().map(PayoutView::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}

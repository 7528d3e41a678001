//! One's referrals: the code to share, the people it brought, and the
//! rewards they earned (by status, with totals), by public name only.

use axum::Json;
use axum::extract::State;
use droply_models::{Money, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, SignedIn, page_request};
use crate::http::views::model_schemas::MoneySchema;
use crate::http::{AppState, blocking};

/// `/v1/referrals`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_referrals))
}

/// One person the caller referred.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferredView {
    /// Their public name ("Carl P.").
    name: String,
    /// `pending`, `qualified`, `rewarded` or `expired`.
    status: &'static str,
    /// When they signed up.
    #[schema(value_type = String, format = DateTime)]
    joined_at: Timestamp,
}

/// One reward the caller earned.
#[derive(Debug, Serialize, ToSchema)]
pub struct RewardView {
    /// Whose activity earned it (their public name).
    referred_name: String,
    /// `first_booking` or `content_sale`.
    reward_type: &'static str,
    /// How much.
    #[schema(value_type = MoneySchema)]
    amount: Money,
    /// `pending` (waiting out the hold), `paid` (credited to the balance)
    /// or `cancelled` (its payment was refunded).
    status: &'static str,
    /// When it was earned.
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// When it was credited.
    #[schema(value_type = Option<String>, format = DateTime)]
    paid_at: Option<Timestamp>,
}

/// The sum of the caller's rewards in one status and currency.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct RewardTotal {
    /// `pending`, `paid` or `cancelled`.
    status: &'static str,
    /// The sum.
    #[schema(value_type = MoneySchema)]
    amount: Money,
}

/// The caller's referrals.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralsView {
    /// The code to share (`POST /v1/auth/register` takes it as `referral_code`).
    code: String,
    /// How many people signed up with it.
    referral_count: u32,
    /// A page of them, oldest first.
    referred: Vec<ReferredView>,
    /// Cursor of the next page, if any.
    next_cursor: Option<String>,
    /// The latest 100 rewards, newest first.
    rewards: Vec<RewardView>,
    /// The sums of all the caller's rewards (not only those listed) by
    /// status and currency.
    reward_totals: Vec<RewardTotal>,
}

/// Query of `GET /v1/referrals`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReferralsQuery {
    /// Page size, 1 to 100 (default 20).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /v1/referrals`: the caller's code and the people it brought.
#[utoipa::path(
    get,
    path = "/v1/referrals",
    tag = "accounts",
    summary = "One's referral code, referrals and rewards",
    description = "Rewards: a share of the platform's fee on a referred client's first completed paid booking and on their content purchases in their first months, up to a cap per referral; pending through the hold, then credited to the balance (`GET /v1/earnings`); cancelled if the payment is refunded.",
    security(("bearer" = [])),
    params(ReferralsQuery),
    responses(
        (status = 200, description = "The code and a page of referred people", body = ReferralsView),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
    )
)]
pub async fn list_referrals(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiQuery(query): ApiQuery<ReferralsQuery>,
) -> Result<Json<ReferralsView>, ApiError> {
    let page_request = page_request(query.limit, query.cursor)?;
    let (me, page, rewards) = blocking(&state, move |engine| {
        Ok((
            engine.account(user)?,
            engine.referrals_of(user, &page_request)?,
            engine.referral_rewards_of(user)?,
        ))
    })
    .await?;
    Ok(Json(ReferralsView {
        code: me.referral_code.as_str().to_owned(),
        referral_count: me.referral_count,
        referred: page
            .items
            .iter()
            .map(|(referral, name)| ReferredView {
                name: name.clone(),
                status: referral.status.as_str(),
                joined_at: referral.created_at,
            })
            .collect(),
        next_cursor: page.next.map(|c| c.to_string()),
        reward_totals: rewards
            .totals
            .iter()
            .map(|(status, amount)| RewardTotal {
                status,
                amount: *amount,
            })
            .collect(),
        rewards: rewards
            .latest
            .iter()
            .map(|(reward, name)| RewardView {
                referred_name: name.clone(),
                reward_type: reward.reward_type.as_str(),
                amount: reward.reward_amount,
                status: reward.status.as_str(),
                created_at: reward.created_at,
                paid_at: reward.paid_at,
            })
            .collect(),
    }))
}

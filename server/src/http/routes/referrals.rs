//! One's referrals: the code to share and the people it brought, by public
//! name only.

use axum::Json;
use axum::extract::State;
use droply_models::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, SignedIn, page_request};
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
    summary = "One's referral code and referrals",
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
    let (me, page) = blocking(&state, move |engine| {
        Ok((
            engine.account(user)?,
            engine.referrals_of(user, &page_request)?,
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
    }))
}

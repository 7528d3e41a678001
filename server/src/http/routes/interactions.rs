//! Interactions: recording what the caller did to another profile: `view`,
//! `click`, `share` or `message` only (Droply records bookings, saves and
//! impressions itself); a repeat the same UTC day answers the day's row.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_models::{InteractionId, InteractionType, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, SignedIn};
use crate::http::views::model_schemas::InteractionTypeSchema;
use crate::http::{AppState, blocking};

/// `POST /v1/interactions`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_interaction))
}

/// Body of `POST /v1/interactions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInteractionBody {
    /// Whose profile was acted on.
    #[schema(value_type = u64)]
    target_user_id: UserId,
    /// What happened: `view`, `click`, `share` or `message`.
    #[schema(value_type = InteractionTypeSchema)]
    interaction_type: InteractionType,
}

/// A recorded interaction, as its author sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionView {
    /// The interaction's id.
    #[schema(value_type = u64)]
    id: InteractionId,
    /// Whose profile was acted on.
    #[schema(value_type = u64)]
    target_user_id: UserId,
    /// What happened.
    #[schema(value_type = InteractionTypeSchema)]
    interaction_type: InteractionType,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

/// `POST /v1/interactions` `{target_user_id, interaction_type}`: 201, or 200
/// with the day's row when it was already recorded today.
#[utoipa::path(
    post,
    path = "/v1/interactions",
    tag = "favorites",
    summary = "Record an interaction",
    description = "Records what the caller did to another profile. Clients record only `view`, `click`, `share` and `message`; `book`, `favorite`, `unfavorite` and `search_impression` are recorded by Droply itself when the booking, the save or the match happens, and are refused here with 400 `invalid_input`. The same interaction with the same profile is recorded once per UTC day: a repeat answers 200 with that day's row.",
    security(("bearer" = [])),
    request_body = CreateInteractionBody,
    responses(
        (status = 201, description = "Recorded", body = InteractionView),
        (status = 200, description = "Already recorded today; the day's row", body = InteractionView),
        (status = 400, description = "`invalid_input` (also for a type only Droply records) or `invalid_json`", body = ErrorBody),
        (status = 404, description = "`not_found`: the target is no expert", body = ErrorBody),
        (status = 409, description = "`limit_reached`: 500 interactions recorded today already", body = ErrorBody),
    )
)]
pub async fn create_interaction(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<CreateInteractionBody>,
) -> Result<(StatusCode, Json<InteractionView>), ApiError> {
    let (row, created) = blocking(&state, move |engine| {
        engine.record_interaction(user, body.target_user_id, body.interaction_type)
    })
    .await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(InteractionView {
            id: row.id,
            target_user_id: row.target_user_id,
            interaction_type: row.interaction_type,
            created_at: row.created_at,
        }),
    ))
}

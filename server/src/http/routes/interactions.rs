//! Interactions: recording what the caller did to another profile.

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
    /// What happened.
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

/// `POST /v1/interactions` `{target_user_id, interaction_type}`: 201.
#[utoipa::path(
    post,
    path = "/v1/interactions",
    tag = "favorites",
    summary = "Record an interaction",
    description = "Records what the caller did to another profile.",
    security(("bearer" = [])),
    request_body = CreateInteractionBody,
    responses(
        (status = 201, description = "Recorded", body = InteractionView),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 404, description = "`not_found`: unknown target", body = ErrorBody),
    )
)]
pub async fn create_interaction(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<CreateInteractionBody>,
) -> Result<(StatusCode, Json<InteractionView>), ApiError> {
    let row = blocking(&state, move |engine| {
        engine.record_interaction(user, body.target_user_id, body.interaction_type)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(InteractionView {
            id: row.id,
            target_user_id: row.target_user_id,
            interaction_type: row.interaction_type,
            created_at: row.created_at,
        }),
    ))
}

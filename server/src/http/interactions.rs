//! Interactions: recording what the caller did to another profile.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_engine::accounts::record_interaction;
use droply_models::{InteractionId, InteractionType, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::bearer::SignedIn;
use super::error::ApiError;
use super::json_body::ApiJson;
use super::{AppState, blocking};

/// Body of `POST /v1/interactions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInteractionBody {
    target_user_id: UserId,
    interaction_type: InteractionType,
}

/// A recorded interaction, as its author sees it.
#[derive(Debug, Serialize)]
pub struct InteractionView {
    /// The interaction's id.
    id: InteractionId,
    /// Whose profile was acted on.
    target_user_id: UserId,
    /// What happened.
    interaction_type: InteractionType,
    /// When.
    created_at: Timestamp,
}

/// `POST /v1/interactions` `{target_user_id, interaction_type}`: 201.
pub async fn create_interaction(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<CreateInteractionBody>,
) -> Result<(StatusCode, Json<InteractionView>), ApiError> {
    let store = state.store.clone();
    let row = blocking(move || {
        record_interaction(&store, user, body.target_user_id, body.interaction_type)
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

//! `GET /openapi.json` and `GET /docs`: the generated document and its HTML
//! rendering.

use std::sync::LazyLock;

use axum::Json;
use axum::response::Html;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::AppState;
use crate::http::docs::{document, render};

/// `GET /openapi.json` and `GET /docs`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_openapi))
        .routes(routes!(get_docs))
}

/// `GET /openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    summary = "The OpenAPI document",
    description = "This API's OpenAPI 3.1 document, generated from the code.",
    responses((status = 200, description = "The document", body = Object))
)]
pub async fn get_openapi() -> Json<&'static Value> {
    Json(document())
}

/// `GET /docs`: the API reference as one HTML page.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "operations",
    summary = "The API reference page",
    description = "A self-contained HTML page rendered from the OpenAPI document.",
    responses((status = 200, description = "The page", body = String, content_type = "text/html"))
)]
pub async fn get_docs() -> Html<&'static str> {
    static PAGE: LazyLock<String> = LazyLock::new(|| render(document()));
    Html(PAGE.as_str())
}

//! The OpenAPI 3.1 document, generated from the code: every handler carries a
//! `#[utoipa::path]` and every request and answer type a schema, and
//! [`ApiDoc`] lists the handlers. The errors every operation can meet (a
//! failure on our side; `unauthorized` where a bearer token is needed; the
//! body errors of `ApiJson`) are added to each operation here, once. Served
//! at `GET /openapi.json` and rendered by `GET /docs`.

use std::sync::LazyLock;

use axum::Json;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::ErrorBody;
use super::{
    auth, availability, bookings, docs_page, experts, favorites, health, interactions, matches,
    metrics, profile, recommendations, search,
};

/// The API's operations and the schemas they use.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Droply API",
        description = "Find, book and pay experts. Signed-in routes take `Authorization: Bearer <token>`; every error has the shape of the `Error` schema."
    ),
    paths(
        health::health,
        health::ready,
        metrics::get_metrics,
        get_openapi,
        docs_page::get_docs,
        experts::list_experts,
        experts::get_expert,
        availability::list_expert_slots,
        auth::register_account,
        auth::login,
        auth::logout,
        profile::get_own_account,
        profile::update_own_account,
        favorites::list_favorites,
        favorites::add_favorite_expert,
        favorites::remove_favorite_expert,
        interactions::create_interaction,
        availability::create_rule,
        availability::list_own_rules,
        availability::patch_rule,
        availability::remove_rule,
        availability::create_exception,
        availability::list_own_exceptions,
        availability::patch_exception,
        availability::remove_exception,
        bookings::create_booking,
        bookings::list_bookings,
        bookings::get_booking,
        bookings::confirm_booking,
        bookings::cancel_booking,
        bookings::complete_booking,
        bookings::mark_booking_no_show,
        bookings::reschedule_booking,
        search::search_experts,
        matches::create_matches,
        matches::mark_match_viewed,
        matches::mark_match_acted,
        recommendations::list_similar_experts,
        recommendations::list_recommendations,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Probes, metrics and this documentation"),
        (name = "experts", description = "Public expert profiles"),
        (name = "accounts", description = "Sign up, sign in and out, one's own account"),
        (name = "favorites", description = "Saved experts and interactions"),
        (name = "availability", description = "Weekly rules, exceptions and bookable slots"),
        (name = "bookings", description = "Booking experts and moving bookings on"),
        (name = "search", description = "Search, stored matches, similar experts and recommendations"),
    )
)]
pub struct ApiDoc;

/// The name of the bearer-token security scheme.
pub const BEARER_SCHEME: &str = "bearer";

/// Adds the bearer-token security scheme the operations refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An opaque token from `POST /v1/auth/register` or `/v1/auth/login`, valid 30 days.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The HTTP methods an OpenAPI path item may hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

/// Adds the errors any operation of its kind can answer, where the
/// operation does not describe them itself.
fn add_common_errors(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        for method in METHODS {
            let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let secured = operation
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            let has_body = operation.contains_key("requestBody");
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error_response(description));
            };
            if secured {
                add(
                    "401",
                    "`unauthorized`: no valid bearer token (missing, unknown, expired or signed out)",
                );
            }
            if has_body {
                add("400", "`invalid_json` or `invalid_input`: a malformed body");
                add("413", "`payload_too_large`: the body is over 64 KiB");
                add(
                    "415",
                    "`unsupported_media_type`: the body is not sent as `application/json`",
                );
            }
            add(
                "500",
                "`internal`: a failure on our side (details in the log only)",
            );
        }
    }
}

/// The whole document, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|err| {
            tracing::error!(%err, "cannot serialise the OpenAPI document");
            Value::Null
        });
        add_common_errors(&mut document);
        document
    });
    &DOCUMENT
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

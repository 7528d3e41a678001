//! The OpenAPI 3.1 document, generated from the code: every handler carries a
//! `#[utoipa::path]` and every request and answer type a schema. [`ApiDoc`]
//! holds what is not a route (info, tags, the `Error` schema, the bearer
//! scheme); the routes come from the per-resource routers that
//! [`api`](crate::http::api) merges over it, so the document lists exactly the
//! routes served. The errors every operation can meet (a failure on our side;
//! `unauthorized` where a bearer token is needed; the body errors of
//! `ApiJson`) are added to each operation here, once. Served at
//! `GET /openapi.json` and rendered by `GET /docs`.

use std::sync::LazyLock;

use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::error::ErrorBody;

/// What the document says besides its operations: info, tags, the `Error`
/// schema and the bearer scheme. The operations (and the schemas they use)
/// are added by the routers [`api`](crate::http::api) merges over it.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Droply API",
        description = "Find, book and pay experts. Signed-in routes take `Authorization: Bearer <token>`; every error has the shape of the `Error` schema."
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
        (name = "payouts", description = "An expert's Stripe account, earnings and payouts"),
        (name = "payments", description = "Stripe's webhook endpoint"),
        (name = "reviews", description = "Clients' reviews of their sessions and experts' answers"),
        (name = "dropins", description = "Live drop-in Q&A: hosting, joining and the live room"),
        (name = "video", description = "Booked sessions' calls: Daily.co rooms and meeting tokens, the WebRTC fallback, Daily's webhook endpoint, recordings"),
        (name = "calendar", description = "An expert's Google Calendar: connecting, status, disconnecting"),
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
    for (path, item) in paths.iter_mut() {
        let has_path_parameters = path.contains('{');
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
            if has_path_parameters {
                add(
                    "400",
                    "`invalid_parameter`: a malformed path parameter (e.g. an id that is not a number)",
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

/// The whole document, built once from the routes [`api`](crate::http::api)
/// registers, with the common errors added.
pub fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        let (_, openapi) = crate::http::api().split_for_parts();
        let mut document = serde_json::to_value(openapi).unwrap_or_else(|err| {
            tracing::error!(%err, "cannot serialise the OpenAPI document");
            Value::Null
        });
        add_common_errors(&mut document);
        document
    });
    &DOCUMENT
}

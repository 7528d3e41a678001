//! `POST /v1/webhooks/stripe`: Stripe's events. The raw body is read as
//! bytes under its own limit (events can exceed the API's 64 KiB; over it is
//! `413 payload_too_large`) and handed with the `Stripe-Signature` header to
//! the engine, which verifies it before reading anything and applies the
//! event once.

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiBytes;
use crate::http::{AppState, blocking};

/// The largest webhook body accepted.
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

/// `/v1/webhooks/stripe`, with its own body limit.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stripe_webhook))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
}

/// Answer to a delivered event.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// Always true: the event was verified and is recorded.
    received: bool,
    /// False when this event id was applied before (a redelivery).
    applied: bool,
}

impl WebhookAnswer {
    /// A verified, recorded event; `applied` false for a redelivery.
    pub fn new(applied: bool) -> Self {
        WebhookAnswer {
            received: true,
            applied,
        }
    }
}

/// `POST /v1/webhooks/stripe`.
#[utoipa::path(
    post,
    path = "/v1/webhooks/stripe",
    tag = "payments",
    summary = "Stripe webhook endpoint",
    description = "Verifies `Stripe-Signature` (HMAC-SHA256 of `t.body` with the endpoint secret, any `v1`, 300 s tolerance) before reading the event, then applies it in one transaction with its event id, so a redelivery answers 200 and changes nothing. Handles `payment_intent.succeeded`, `payment_intent.payment_failed`, `payment_intent.canceled`, `payment_intent.requires_action`, `charge.refunded`, `refund.created`, `refund.updated`, `charge.refund.updated`, `charge.dispute.funds_withdrawn` and `charge.dispute.funds_reinstated` (a chargeback is written as a refund, and undone when won), `charge.dispute.closed` (its outcome), `charge.dispute.created` and `charge.dispute.updated` (acknowledged), `account.updated`, `transfer.reversed`, `payout.paid` and `payout.failed`; other types and objects of other integrations are acknowledged and ignored.",
    request_body(content = String, content_type = "application/json", description = "The event exactly as Stripe sent it"),
    params(("Stripe-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex>[,v1=...]`")),
    responses(
        (status = 200, description = "Received", body = WebhookAnswer),
        (status = 400, description = "`invalid_signature` (nothing changed) or `invalid_input` (a verified event that is malformed or disagrees with our records)", body = ErrorBody),
        (status = 404, description = "`not_found`: an event about a payment or payout of ours that does not exist", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: over 1 MiB", body = ErrorBody),
        (status = 503, description = "`payments_not_configured`", body = ErrorBody),
    )
)]
pub async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<WebhookAnswer>, ApiError> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let receipt = blocking(&state, move |engine| {
        engine.stripe_webhook(&body, signature.as_deref())
    })
    .await?;
    Ok(Json(WebhookAnswer {
        received: true,
        applied: receipt.applied,
    }))
}

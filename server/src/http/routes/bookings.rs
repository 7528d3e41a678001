//! Bookings: book an expert (idempotently), read and list one's bookings,
//! move them through their lifecycle, reschedule, export as iCalendar.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use droply_engine::booking::{BookingAction, BookingRequest, BookingRole};
use droply_models::{BookingId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{
    ApiJson, ApiPath, ApiQuery, IdempotencyKeyHeader, SignedIn, page_request, parse_id,
};
use crate::http::views::{BookingView, CreatedBookingView, PaymentView};
use crate::http::{AppState, blocking};

/// `/v1/bookings`: booking, reading and moving bookings on.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_booking, list_bookings))
        .routes(routes!(get_booking))
        .routes(routes!(confirm_booking))
        .routes(routes!(cancel_booking))
        .routes(routes!(complete_booking))
        .routes(routes!(mark_booking_no_show))
        .routes(routes!(reschedule_booking))
}

/// Body of `POST /v1/bookings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingBody {
    /// The expert to book.
    #[schema(value_type = u64)]
    provider_id: UserId,
    /// Start (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    start_time: Timestamp,
    /// Minutes.
    duration: u16,
    /// A note for the expert.
    client_message: Option<String>,
}

/// `POST /v1/bookings`: books a slot; 201 for a new booking, 200 when an
/// `Idempotency-Key` the caller already used returns its booking, 422
/// `idempotency_key_reused` when that key came with a different request.
#[utoipa::path(
    post,
    path = "/v1/bookings",
    tag = "bookings",
    summary = "Book an expert",
    description = "The slot is re-checked in the transaction that writes the booking. A free session (no rate) is confirmed at once; a priced one waits in `pending_payment` for its PaymentIntent to succeed (the unpaid hold lapses after 15 minutes). With an `Idempotency-Key`, the same key and request from the same booker answer 200 with the first booking; the same key with a different request answers 422 `idempotency_key_reused`.",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per request the caller means")),
    request_body = CreateBookingBody,
    responses(
        (status = 201, description = "Booked: a free session is `confirmed`; a priced one is `pending_payment` with `payment` (the PaymentIntent's client secret and the amount)", body = CreatedBookingView),
        (status = 200, description = "The booking an earlier request with this Idempotency-Key made", body = CreatedBookingView),
        (status = 400, description = "`invalid_input`, `invalid_parameter` or `invalid_json`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such expert", body = ErrorBody),
        (status = 409, description = "`slot_unavailable`: the time is not open", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: the key came with a different request", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`: Stripe could not start the payment (the booking is cancelled)", body = ErrorBody),
        (status = 503, description = "`payments_not_configured`: a priced session on a server without Stripe", body = ErrorBody),
    )
)]
pub async fn create_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(body): ApiJson<CreateBookingBody>,
) -> Result<(StatusCode, Json<CreatedBookingView>), ApiError> {
    let request = BookingRequest {
        booker: user,
        provider: body.provider_id,
        start: body.start_time,
        duration_minutes: body.duration,
        client_message: body.client_message,
    };
    let made = blocking(&state, move |engine| {
        engine.create_booking(&request, key.as_ref())
    })
    .await?;
    let status = if made.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(CreatedBookingView {
            booking: BookingView::from(&made.booking),
            payment: made.payment.as_ref().map(PaymentView::from),
        }),
    ))
}

/// `GET /v1/bookings/{id}` (JSON) and `GET /v1/bookings/{id}.ics` (iCalendar):
/// for the booker and the provider only.
#[utoipa::path(
    get,
    path = "/v1/bookings/{id}",
    tag = "bookings",
    summary = "One booking, or its iCalendar event",
    description = "For the booker and the provider only (others get 404). An id ending in `.ics` (`/v1/bookings/42.ics`) answers the booking as an iCalendar event.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The booking's id, optionally followed by `.ics`")),
    responses(
        (status = 200, description = "The booking (JSON), or with `.ics` an iCalendar event", content(
            (BookingView = "application/json"),
            (String = "text/calendar")
        )),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn get_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(raw): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (raw_id, ics) = match raw.strip_suffix(".ics") {
        Some(id) => (id, true),
        None => (raw.as_str(), false),
    };
    let id: BookingId = parse_id(raw_id, "booking")?;
    if !ics {
        let booking = blocking(&state, move |engine| engine.booking(id, user)).await?;
        return Ok(Json(BookingView::from(&booking)).into_response());
    }
    let text = blocking(&state, move |engine| engine.booking_ics(id, user)).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        text,
    )
        .into_response())
}

/// Query of `GET /v1/bookings`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListBookingsQuery {
    /// `client` (default) or `provider`.
    role: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of bookings.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingPage {
    /// The bookings, by start time.
    bookings: Vec<BookingView>,
    /// Cursor of the next page, if any.
    next_cursor: Option<String>,
}

/// `GET /v1/bookings?role=client|provider&limit=&cursor=`: the caller's
/// bookings as client (default) or as provider, by start time.
#[utoipa::path(
    get,
    path = "/v1/bookings",
    tag = "bookings",
    summary = "List one's bookings",
    security(("bearer" = [])),
    params(ListBookingsQuery),
    responses(
        (status = 200, description = "A page of bookings", body = BookingPage),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
    )
)]
pub async fn list_bookings(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiQuery(query): ApiQuery<ListBookingsQuery>,
) -> Result<Json<BookingPage>, ApiError> {
    let role = match query.role.as_deref() {
        None | Some("client") => BookingRole::Client,
        Some("provider") => BookingRole::Provider,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidParameter,
                "role must be client or provider",
            ));
        }
    };
    let page_request = page_request(query.limit, query.cursor)?;
    let page = blocking(&state, move |engine| {
        engine.bookings_of(user, role, &page_request)
    })
    .await?;
    Ok(Json(BookingPage {
        bookings: page.items.iter().map(BookingView::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}

async fn run_action(
    state: AppState,
    user: UserId,
    raw: &str,
    action: BookingAction,
    reason: Option<String>,
) -> Result<Json<BookingView>, ApiError> {
    let id: BookingId = parse_id(raw, "booking")?;
    let booking = blocking(&state, move |engine| {
        engine.act_on_booking(id, user, action, reason)
    })
    .await?;
    Ok(Json(BookingView::from(&booking)))
}

/// `POST /v1/bookings/{id}/confirm`: the provider confirms.
#[utoipa::path(
    post,
    path = "/v1/bookings/{id}/confirm",
    tag = "bookings",
    summary = "Confirm a booking (provider)",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The confirmed booking (a repeat of a confirm answers it too)", body = BookingView),
        (status = 403, description = "`forbidden`: only the provider confirms", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state`", body = ErrorBody),
    )
)]
pub async fn confirm_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BookingView>, ApiError> {
    run_action(state, user, &id, BookingAction::Confirm, None).await
}

/// `POST /v1/bookings/{id}/complete`: the provider marks the session done.
#[utoipa::path(
    post,
    path = "/v1/bookings/{id}/complete",
    tag = "bookings",
    summary = "Mark a booking completed (provider)",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The completed booking (a repeat answers it too)", body = BookingView),
        (status = 403, description = "`forbidden`: only the provider completes", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state`", body = ErrorBody),
    )
)]
pub async fn complete_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BookingView>, ApiError> {
    run_action(state, user, &id, BookingAction::Complete, None).await
}

/// `POST /v1/bookings/{id}/no_show`: the provider marks the client absent.
#[utoipa::path(
    post,
    path = "/v1/bookings/{id}/no_show",
    tag = "bookings",
    summary = "Mark the client absent (provider)",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The booking, marked no-show (a repeat answers it too)", body = BookingView),
        (status = 403, description = "`forbidden`: only the provider marks a no-show", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state`", body = ErrorBody),
    )
)]
pub async fn mark_booking_no_show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BookingView>, ApiError> {
    run_action(state, user, &id, BookingAction::NoShow, None).await
}

/// Body of `POST /v1/bookings/{id}/cancel`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why the booking is called off.
    reason: String,
}

/// `POST /v1/bookings/{id}/cancel` `{reason}`: either side calls it off.
#[utoipa::path(
    post,
    path = "/v1/bookings/{id}/cancel",
    tag = "bookings",
    summary = "Cancel a booking (either side)",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The booking's id")),
    request_body = CancelBody,
    responses(
        (status = 200, description = "The cancelled booking; a booking already cancelled (by either side or a lapsed hold) is answered as it stands; one a reschedule moved is 409 `invalid_state`", body = BookingView),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state`", body = ErrorBody),
    )
)]
pub async fn cancel_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CancelBody>,
) -> Result<Json<BookingView>, ApiError> {
    run_action(state, user, &id, BookingAction::Cancel, Some(body.reason)).await
}

/// Body of `POST /v1/bookings/{id}/reschedule`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    /// The new start (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    start_time: Timestamp,
}

/// `POST /v1/bookings/{id}/reschedule` `{start_time}`: a new booking linked to
/// the old one, which is cancelled in the same transaction (201); a repeat
/// to the same start answers the booking the first request made (200).
#[utoipa::path(
    post,
    path = "/v1/bookings/{id}/reschedule",
    tag = "bookings",
    summary = "Reschedule a booking",
    description = "A new booking linked by `rescheduled_from`; the old one is cancelled in the same transaction and its payment moves to the new one. A session that has started cannot be moved, nor can a client move a paid one after the refund policy's full-refund deadline (the expert can). A repeat of a reschedule to the same start (an answer lost and the request resent) answers the booking the first one made, with 200.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The booking's id")),
    request_body = RescheduleBody,
    responses(
        (status = 201, description = "The new booking", body = BookingView),
        (status = 200, description = "The booking an earlier request moved this one to, at the same start", body = BookingView),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`slot_unavailable`, or `invalid_state` (not active, moved to another start, started, or past the client's deadline)", body = ErrorBody),
    )
)]
pub async fn reschedule_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RescheduleBody>,
) -> Result<(StatusCode, Json<BookingView>), ApiError> {
    let id: BookingId = parse_id(&id, "booking")?;
    let moved = blocking(&state, move |engine| {
        engine.reschedule_booking(id, user, body.start_time)
    })
    .await?;
    let status = if moved.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(BookingView::from(&moved.booking))))
}

//! Bookings: book an expert (idempotently), read and list one's bookings,
//! move them through their lifecycle, reschedule, export as iCalendar.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use droply_engine::booking::{
    BookingAction, BookingRequest, BookingRole, act, book_idempotent, booking_for, bookings_of,
    reschedule, to_ics,
};
use droply_models::{BookingId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::bearer::SignedIn;
use super::booking_view::BookingView;
use super::error::{ApiError, ErrorCode};
use super::json_body::ApiJson;
use super::paging::page_request;
use super::query::{ApiQuery, parse_id};
use super::{AppState, blocking};

/// Body of `POST /v1/bookings`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingBody {
    provider_id: UserId,
    start_time: Timestamp,
    duration: u16,
    client_message: Option<String>,
}

/// `POST /v1/bookings`: books a slot; 201 for a new booking, 200 when an
/// `Idempotency-Key` the caller already used returns its booking.
pub async fn create_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateBookingBody>,
) -> Result<(StatusCode, Json<BookingView>), ApiError> {
    let key = match headers.get("idempotency-key") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| {
                    ApiError::new(ErrorCode::InvalidParameter, "Idempotency-Key must be ASCII")
                })?
                .to_owned(),
        ),
        None => None,
    };
    let request = BookingRequest {
        booker: user,
        provider: body.provider_id,
        start: body.start_time,
        duration_minutes: body.duration,
        client_message: body.client_message,
    };
    let policy = state.slot_policy;
    let store = state.store.clone();
    let (booking, created) =
        blocking(move || book_idempotent(&store, &request, key.as_deref(), &policy)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(BookingView::from(&booking))))
}

/// `GET /v1/bookings/{id}` (JSON) and `GET /v1/bookings/{id}.ics` (iCalendar):
/// for the booker and the provider only.
pub async fn get_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (raw_id, ics) = match raw.strip_suffix(".ics") {
        Some(id) => (id, true),
        None => (raw.as_str(), false),
    };
    let id: BookingId = parse_id(raw_id, "booking")?;
    let store = state.store.clone();
    if !ics {
        let booking = blocking(move || booking_for(&store, id, user)).await?;
        return Ok(Json(BookingView::from(&booking)).into_response());
    }
    let text = blocking(move || {
        let booking = booking_for(&store, id, user)?;
        let provider = store.users().get(booking.provider_id)?;
        Ok(to_ics(
            &booking,
            &format!("Droply session with {}", provider.full_name),
            Timestamp::now(),
        ))
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        text,
    )
        .into_response())
}

/// Query of `GET /v1/bookings`.
#[derive(Debug, Deserialize)]
pub struct ListBookingsQuery {
    role: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A page of bookings.
#[derive(Debug, Serialize)]
pub struct BookingPage {
    bookings: Vec<BookingView>,
    next_cursor: Option<String>,
}

/// `GET /v1/bookings?role=client|provider&limit=&cursor=`: the caller's
/// bookings as client (default) or as provider, by start time.
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
    let store = state.store.clone();
    let page = blocking(move || bookings_of(&store, user, role, &page_request)).await?;
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
    let store = state.store.clone();
    let booking = blocking(move || act(&store, id, user, action, reason)).await?;
    Ok(Json(BookingView::from(&booking)))
}

/// `POST /v1/bookings/{id}/confirm`: the provider confirms.
pub async fn confirm_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<BookingView>, ApiError> {
    run_action(state, user, &id, BookingAction::Confirm, None).await
}

/// `POST /v1/bookings/{id}/complete`: the provider marks the session done.
pub async fn complete_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<BookingView>, ApiError> {
    run_action(state, user, &id, BookingAction::Complete, None).await
}

/// `POST /v1/bookings/{id}/no_show`: the provider marks the client absent.
pub async fn mark_booking_no_show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<BookingView>, ApiError> {
    run_action(state, user, &id, BookingAction::NoShow, None).await
}

/// Body of `POST /v1/bookings/{id}/cancel`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    reason: String,
}

/// `POST /v1/bookings/{id}/cancel` `{reason}`: either side calls it off.
pub async fn cancel_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CancelBody>,
) -> Result<Json<BookingView>, ApiError> {
    run_action(state, user, &id, BookingAction::Cancel, Some(body.reason)).await
}

/// Body of `POST /v1/bookings/{id}/reschedule`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    start_time: Timestamp,
}

/// `POST /v1/bookings/{id}/reschedule` `{start_time}`: a new booking linked to
/// the old one, which is cancelled in the same transaction.
pub async fn reschedule_booking(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RescheduleBody>,
) -> Result<(StatusCode, Json<BookingView>), ApiError> {
    let id: BookingId = parse_id(&id, "booking")?;
    let policy = state.slot_policy;
    let store = state.store.clone();
    let booking = blocking(move || reschedule(&store, id, user, body.start_time, &policy)).await?;
    Ok((StatusCode::CREATED, Json(BookingView::from(&booking))))
}

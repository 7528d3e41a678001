//! Availability: an expert's own weekly rules and exceptions, and the
//! bookable slots of any expert.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use droply_engine::availability::{ExceptionPatch, NewException, NewRule, RulePatch, SlotQuery};
use droply_models::{
    AvailabilityException, AvailabilityExceptionId, AvailabilityRule, AvailabilityRuleId,
    LocalTime, TimeZone, Timestamp, UserId, Weekday,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, SignedIn, parse_id};
use crate::http::views::model_schemas::{AvailabilityExceptionSchema, AvailabilityRuleSchema};
use crate::http::{AppState, blocking};

/// One's own weekly rules and exceptions, and an expert's bookable slots.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_rule, list_own_rules))
        .routes(routes!(patch_rule, remove_rule))
        .routes(routes!(create_exception, list_own_exceptions))
        .routes(routes!(patch_exception, remove_exception))
        .routes(routes!(list_expert_slots))
}

/// Body of `POST /v1/availability/rules`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// Day of the week, 0 = Monday to 6 = Sunday.
    #[schema(minimum = 0, maximum = 6)]
    weekday: u8,
    /// Local start time `HH:MM` in one's own time zone.
    #[schema(example = "09:00")]
    start: String,
    /// Local end time `HH:MM` (up to `24:00`).
    #[schema(example = "17:00")]
    end: String,
}

/// Body of `PATCH /v1/availability/rules/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePatchBody {
    /// Day of the week, 0 = Monday to 6 = Sunday.
    #[schema(minimum = 0, maximum = 6, nullable = false)]
    weekday: Option<u8>,
    /// Local start time `HH:MM`.
    #[schema(nullable = false)]
    start: Option<String>,
    /// Local end time `HH:MM`.
    #[schema(nullable = false)]
    end: Option<String>,
    /// Whether the rule is in force.
    #[schema(nullable = false)]
    is_active: Option<bool>,
}

/// A list of rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleList {
    /// The caller's rules.
    #[schema(value_type = Vec<AvailabilityRuleSchema>)]
    rules: Vec<AvailabilityRule>,
}

fn time(text: &str) -> Result<LocalTime, ApiError> {
    Ok(LocalTime::parse(text).map_err(droply_engine::Error::from)?)
}

fn weekday(day: u8) -> Result<Weekday, ApiError> {
    Ok(Weekday::new(day).map_err(droply_engine::Error::from)?)
}

/// 201 for a row this request made, 200 for the identical one answered instead.
fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// `POST /v1/availability/rules`: adds a weekly rule, or answers the
/// caller's identical active rule (a resent request) with 200.
#[utoipa::path(
    post,
    path = "/v1/availability/rules",
    tag = "availability",
    summary = "Add a weekly rule",
    description = "When the caller already has an active rule of the same weekday, start and end (a request resent after a lost answer), that rule is answered with 200 and no second one is made.",
    security(("bearer" = [])),
    request_body = RuleBody,
    responses(
        (status = 201, description = "The new rule", body = AvailabilityRuleSchema),
        (status = 200, description = "An identical rule already existed: that rule", body = AvailabilityRuleSchema),
        (status = 409, description = "`limit_reached`: the caller already has 50 rules", body = ErrorBody),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
    )
)]
pub async fn create_rule(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<RuleBody>,
) -> Result<(StatusCode, Json<AvailabilityRule>), ApiError> {
    let new = NewRule {
        weekday: weekday(body.weekday)?,
        start: time(&body.start)?,
        end: time(&body.end)?,
    };
    let (rule, created) = blocking(&state, move |engine| engine.add_rule(user, new)).await?;
    Ok((created_or_ok(created), Json(rule)))
}

/// `GET /v1/availability/rules`: the caller's rules.
#[utoipa::path(
    get,
    path = "/v1/availability/rules",
    tag = "availability",
    summary = "List one's weekly rules",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's rules", body = RuleList))
)]
pub async fn list_own_rules(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<RuleList>, ApiError> {
    let rules = blocking(&state, move |engine| engine.list_rules(user)).await?;
    Ok(Json(RuleList { rules }))
}

/// `PATCH /v1/availability/rules/{id}`: changes one of the caller's rules.
#[utoipa::path(
    patch,
    path = "/v1/availability/rules/{id}",
    tag = "availability",
    summary = "Change one of one's weekly rules",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The rule's id")),
    request_body = RulePatchBody,
    responses(
        (status = 200, description = "The changed rule", body = AvailabilityRuleSchema),
        (status = 400, description = "`invalid_parameter`, `invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such rule of the caller's", body = ErrorBody),
    )
)]
pub async fn patch_rule(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RulePatchBody>,
) -> Result<Json<AvailabilityRule>, ApiError> {
    let id: AvailabilityRuleId = parse_id(&id, "rule")?;
    let patch = RulePatch {
        weekday: body.weekday.map(weekday).transpose()?,
        start: body.start.as_deref().map(time).transpose()?,
        end: body.end.as_deref().map(time).transpose()?,
        is_active: body.is_active,
    };
    Ok(Json(
        blocking(&state, move |engine| engine.update_rule(user, id, patch)).await?,
    ))
}

/// `DELETE /v1/availability/rules/{id}`: removes one of the caller's rules.
#[utoipa::path(
    delete,
    path = "/v1/availability/rules/{id}",
    tag = "availability",
    summary = "Remove one of one's weekly rules",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The rule's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such rule of the caller's", body = ErrorBody),
    )
)]
pub async fn remove_rule(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id: AvailabilityRuleId = parse_id(&id, "rule")?;
    blocking(&state, move |engine| engine.delete_rule(user, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /v1/availability/exceptions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionBody {
    /// Start of the range (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    start: Timestamp,
    /// End of the range (RFC 3339), after `start`.
    #[schema(value_type = String, format = DateTime)]
    end: Timestamp,
    /// `true` blocks the range, `false` opens it.
    is_blocked: bool,
    /// Why, at most 500 characters.
    reason: Option<String>,
}

/// Body of `PATCH /v1/availability/exceptions/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionPatchBody {
    /// Start of the range (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    start: Option<Timestamp>,
    /// End of the range (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    end: Option<Timestamp>,
    /// `true` blocks the range, `false` opens it.
    #[schema(nullable = false)]
    is_blocked: Option<bool>,
    /// Why; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    reason: Option<Option<String>>,
}

/// A field that is present (even as `null`) becomes `Some`.
fn present<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A list of exceptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionList {
    /// The caller's exceptions.
    #[schema(value_type = Vec<AvailabilityExceptionSchema>)]
    exceptions: Vec<AvailabilityException>,
}

/// `POST /v1/availability/exceptions`: blocks or opens a time range, or
/// answers the caller's identical exception (a resent request) with 200.
#[utoipa::path(
    post,
    path = "/v1/availability/exceptions",
    tag = "availability",
    summary = "Add an exception",
    description = "Blocks (`is_blocked: true`) or opens a time range. When the caller already has an exception of the same start, end, `is_blocked` and reason (a request resent after a lost answer), that exception is answered with 200 and no second one is made.",
    security(("bearer" = [])),
    request_body = ExceptionBody,
    responses(
        (status = 201, description = "The new exception", body = AvailabilityExceptionSchema),
        (status = 200, description = "An identical exception already existed: that exception", body = AvailabilityExceptionSchema),
        (status = 409, description = "`limit_reached`: the caller already has 500 exceptions", body = ErrorBody),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
    )
)]
pub async fn create_exception(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<ExceptionBody>,
) -> Result<(StatusCode, Json<AvailabilityException>), ApiError> {
    let new = NewException {
        start: body.start,
        end: body.end,
        is_blocked: body.is_blocked,
        reason: body.reason,
    };
    let (exception, created) =
        blocking(&state, move |engine| engine.add_exception(user, new)).await?;
    Ok((created_or_ok(created), Json(exception)))
}

/// `GET /v1/availability/exceptions`: the caller's exceptions.
#[utoipa::path(
    get,
    path = "/v1/availability/exceptions",
    tag = "availability",
    summary = "List one's exceptions",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's exceptions", body = ExceptionList))
)]
pub async fn list_own_exceptions(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<ExceptionList>, ApiError> {
    let exceptions = blocking(&state, move |engine| engine.list_exceptions(user)).await?;
    Ok(Json(ExceptionList { exceptions }))
}

/// `PATCH /v1/availability/exceptions/{id}`: changes one of the caller's exceptions.
#[utoipa::path(
    patch,
    path = "/v1/availability/exceptions/{id}",
    tag = "availability",
    summary = "Change one of one's exceptions",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The exception's id")),
    request_body = ExceptionPatchBody,
    responses(
        (status = 200, description = "The changed exception", body = AvailabilityExceptionSchema),
        (status = 400, description = "`invalid_parameter`, `invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such exception of the caller's", body = ErrorBody),
    )
)]
pub async fn patch_exception(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ExceptionPatchBody>,
) -> Result<Json<AvailabilityException>, ApiError> {
    let id: AvailabilityExceptionId = parse_id(&id, "exception")?;
    let patch = ExceptionPatch {
        start: body.start,
        end: body.end,
        is_blocked: body.is_blocked,
        reason: body.reason,
    };
    Ok(Json(
        blocking(&state, move |engine| {
            engine.update_exception(user, id, patch)
        })
        .await?,
    ))
}

/// `DELETE /v1/availability/exceptions/{id}`: removes one of the caller's exceptions.
#[utoipa::path(
    delete,
    path = "/v1/availability/exceptions/{id}",
    tag = "availability",
    summary = "Remove one of one's exceptions",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The exception's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such exception of the caller's", body = ErrorBody),
    )
)]
pub async fn remove_exception(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id: AvailabilityExceptionId = parse_id(&id, "exception")?;
    blocking(&state, move |engine| engine.delete_exception(user, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /v1/experts/{id}/slots`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// First day `YYYY-MM-DD`, in the viewer's zone.
    from: String,
    /// Last day `YYYY-MM-DD`, in the viewer's zone.
    to: String,
    /// The viewer's IANA time zone (default UTC).
    tz: Option<String>,
    /// Session length in minutes: the expert's session length (the
    /// default) or a whole multiple of it.
    duration: Option<u16>,
}

/// One bookable slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    /// Start (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    start: Timestamp,
    /// End (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    end: Timestamp,
}

/// Answer of `GET /v1/experts/{id}/slots`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    /// The bookable slots, in time order.
    slots: Vec<SlotView>,
}

/// A `YYYY-MM-DD` date of a four-digit year (chrono's `%Y` alone also takes signed
/// years of any length, up to the edge of what an instant can hold).
fn date(text: &str, name: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|date| (1..=9999).contains(&date.year()))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                format!("{name} must be a date YYYY-MM-DD"),
            )
        })
}

/// `GET /v1/experts/{id}/slots?from=&to=&tz=&duration=`: bookable slots, the
/// days read in the viewer's zone `tz` (UTC when absent).
#[utoipa::path(
    get,
    path = "/v1/experts/{id}/slots",
    tag = "availability",
    summary = "An expert's bookable slots",
    description = "Weekly rules read in the expert's own zone, minus blocked exceptions and bookings, plus open exceptions; the days are read in the viewer's `tz`.",
    params(("id" = u64, Path, description = "The expert's user id"), SlotsQuery),
    responses(
        (status = 200, description = "The bookable slots", body = SlotList),
        (status = 400, description = "`invalid_parameter` or `invalid_input`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such expert", body = ErrorBody),
    )
)]
pub async fn list_expert_slots(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<SlotsQuery>,
) -> Result<Json<SlotList>, ApiError> {
    let id: UserId = parse_id(&id, "expert")?;
    let viewer_tz = match &query.tz {
        Some(name) => TimeZone::parse(name).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                "tz must be an IANA time zone such as Europe/Berlin",
            )
        })?,
        None => TimeZone::UTC,
    };
    let slot_query = SlotQuery {
        from: date(&query.from, "from")?,
        to: date(&query.to, "to")?,
        viewer_tz,
        duration_minutes: query.duration,
        now: Timestamp::now(),
    };
    let slots = blocking(&state, move |engine| engine.expert_slots(id, &slot_query)).await?;
    Ok(Json(SlotList {
        slots: slots
            .into_iter()
            .map(|s| SlotView {
                start: s.start,
                end: s.end,
            })
            .collect(),
    }))
}

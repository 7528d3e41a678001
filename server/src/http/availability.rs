//! Availability: an expert's own weekly rules and exceptions, and the
//! bookable slots of any expert.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use droply_engine::availability::{
    ExceptionPatch, NewException, NewRule, RulePatch, SlotQuery, add_exception, add_rule,
    delete_exception, delete_rule, expert_slots, list_exceptions, list_rules, update_exception,
    update_rule,
};
use droply_models::{
    AvailabilityException, AvailabilityExceptionId, AvailabilityRule, AvailabilityRuleId,
    LocalTime, TimeZone, Timestamp, UserId, Weekday,
};
use serde::{Deserialize, Deserializer, Serialize};

use super::bearer::SignedIn;
use super::error::{ApiError, ErrorCode};
use super::json_body::ApiJson;
use super::query::{ApiQuery, parse_id};
use super::{AppState, blocking};

/// Body of `POST /v1/availability/rules`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    weekday: u8,
    start: String,
    end: String,
}

/// Body of `PATCH /v1/availability/rules/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePatchBody {
    weekday: Option<u8>,
    start: Option<String>,
    end: Option<String>,
    is_active: Option<bool>,
}

/// A list of rules.
#[derive(Debug, Serialize)]
pub struct RuleList {
    rules: Vec<AvailabilityRule>,
}

fn time(text: &str) -> Result<LocalTime, ApiError> {
    Ok(LocalTime::parse(text).map_err(droply_engine::Error::from)?)
}

fn weekday(day: u8) -> Result<Weekday, ApiError> {
    Ok(Weekday::new(day).map_err(droply_engine::Error::from)?)
}

/// `POST /v1/availability/rules`: adds a weekly rule.
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
    let store = state.store.clone();
    let rule = blocking(move || add_rule(&store, user, new)).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// `GET /v1/availability/rules`: the caller's rules.
pub async fn list_own_rules(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<RuleList>, ApiError> {
    let store = state.store.clone();
    let rules = blocking(move || list_rules(&store, user)).await?;
    Ok(Json(RuleList { rules }))
}

/// `PATCH /v1/availability/rules/{id}`: changes one of the caller's rules.
pub async fn patch_rule(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RulePatchBody>,
) -> Result<Json<AvailabilityRule>, ApiError> {
    let id: AvailabilityRuleId = parse_id(&id, "rule")?;
    let patch = RulePatch {
        weekday: body.weekday.map(weekday).transpose()?,
        start: body.start.as_deref().map(time).transpose()?,
        end: body.end.as_deref().map(time).transpose()?,
        is_active: body.is_active,
    };
    let store = state.store.clone();
    Ok(Json(
        blocking(move || update_rule(&store, user, id, patch)).await?,
    ))
}

/// `DELETE /v1/availability/rules/{id}`: removes one of the caller's rules.
pub async fn remove_rule(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: AvailabilityRuleId = parse_id(&id, "rule")?;
    let store = state.store.clone();
    blocking(move || delete_rule(&store, user, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /v1/availability/exceptions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionBody {
    start: Timestamp,
    end: Timestamp,
    is_blocked: bool,
    reason: Option<String>,
}

/// Body of `PATCH /v1/availability/exceptions/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionPatchBody {
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    is_blocked: Option<bool>,
    #[serde(default, deserialize_with = "present")]
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
#[derive(Debug, Serialize)]
pub struct ExceptionList {
    exceptions: Vec<AvailabilityException>,
}

/// `POST /v1/availability/exceptions`: blocks or opens a time range.
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
    let store = state.store.clone();
    let exception = blocking(move || add_exception(&store, user, new)).await?;
    Ok((StatusCode::CREATED, Json(exception)))
}

/// `GET /v1/availability/exceptions`: the caller's exceptions.
pub async fn list_own_exceptions(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<ExceptionList>, ApiError> {
    let store = state.store.clone();
    let exceptions = blocking(move || list_exceptions(&store, user)).await?;
    Ok(Json(ExceptionList { exceptions }))
}

/// `PATCH /v1/availability/exceptions/{id}`: changes one of the caller's exceptions.
pub async fn patch_exception(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExceptionPatchBody>,
) -> Result<Json<AvailabilityException>, ApiError> {
    let id: AvailabilityExceptionId = parse_id(&id, "exception")?;
    let patch = ExceptionPatch {
        start: body.start,
        end: body.end,
        is_blocked: body.is_blocked,
        reason: body.reason,
    };
    let store = state.store.clone();
    Ok(Json(
        blocking(move || update_exception(&store, user, id, patch)).await?,
    ))
}

/// `DELETE /v1/availability/exceptions/{id}`: removes one of the caller's exceptions.
pub async fn remove_exception(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: AvailabilityExceptionId = parse_id(&id, "exception")?;
    let store = state.store.clone();
    blocking(move || delete_exception(&store, user, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /v1/experts/{id}/slots`.
#[derive(Debug, Deserialize)]
pub struct SlotsQuery {
    from: String,
    to: String,
    tz: Option<String>,
    duration: Option<u16>,
}

/// One bookable slot.
#[derive(Debug, Serialize)]
pub struct SlotView {
    start: Timestamp,
    end: Timestamp,
}

/// Answer of `GET /v1/experts/{id}/slots`.
#[derive(Debug, Serialize)]
pub struct SlotList {
    slots: Vec<SlotView>,
}

fn date(text: &str, name: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!("{name} must be a date YYYY-MM-DD"),
        )
    })
}

/// `GET /v1/experts/{id}/slots?from=&to=&tz=&duration=`: bookable slots, the
/// days read in the viewer's zone `tz` (UTC when absent).
pub async fn list_expert_slots(
    State(state): State<AppState>,
    Path(id): Path<String>,
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
        duration_minutes: query.duration.unwrap_or(60),
        now: Timestamp::now(),
    };
    let policy = state.slot_policy;
    let store = state.store.clone();
    let slots = blocking(move || expert_slots(&store, id, &slot_query, &policy)).await?;
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

//! `/account/availability`: an expert's weekly rules (a weekday and local
//! hours in the account's zone) and exceptions (a range blocked or opened,
//! entered and shown in the viewer's zone), listed with a delete button
//! each, and a form to add either. A refused change is shown with its
//! error and status 400, the form keeping what was typed.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{NaiveDateTime, TimeZone as _};
use droply_engine::availability::{NewException, NewRule};
use droply_models::{
    AvailabilityException, AvailabilityExceptionId, AvailabilityRule, AvailabilityRuleId,
    LocalTime, TimeZone, Timestamp, Weekday,
};
use maud::{Markup, html};
use serde::Deserialize;

use super::frame::{account_page, api_error, notices, refusal, refusing};
use crate::http::{ApiError, AppState, blocking};
use crate::pages::extract::{PageForm, PagePath, path_id};
use crate::pages::form_error::{FormError, FormField, aria_invalid, described_by, field_message};
use crate::pages::format;
use crate::pages::layout::csrf_field;
use crate::pages::page::{PageError, html, html_with, see_other};
use crate::pages::viewer::Viewer;

const HERE: &str = "/account/availability";

/// The weekly-hours form's fields, as its refusals name them.
const RULE_FIELDS: [FormField; 3] = [
    FormField::named("weekday", "rule-weekday", "Day"),
    FormField::named("start", "rule-start", "From"),
    FormField::named("end", "rule-end", "To"),
];

/// The exception form's fields, as its refusals name them.
const EXCEPTION_FIELDS: [FormField; 3] = [
    FormField::named("start", "exception-start", "From"),
    FormField::named("end", "exception-end", "To"),
    FormField::named("reason", "exception-reason", "Reason"),
];

/// `/account/availability` and its add and delete forms.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(HERE, get(show_availability))
        .route("/account/availability/rules", post(add_rule))
        .route("/account/availability/rules/{id}/delete", post(delete_rule))
        .route("/account/availability/exceptions", post(add_exception))
        .route(
            "/account/availability/exceptions/{id}/delete",
            post(delete_exception),
        )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RuleForm {
    weekday: String,
    start: String,
    end: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExceptionForm {
    start: String,
    end: String,
    kind: String,
    reason: String,
}

/// What the person typed into a refused form, shown in it again.
#[derive(Clone, Copy)]
enum Typed<'a> {
    Nothing,
    Rule(&'a RuleForm),
    Exception(&'a ExceptionForm),
}

impl Typed<'_> {
    /// The fields of the form that was sent, which its refusal names.
    fn fields(self) -> &'static [FormField] {
        match self {
            Typed::Nothing => &[],
            Typed::Rule(_) => &RULE_FIELDS,
            Typed::Exception(_) => &EXCEPTION_FIELDS,
        }
    }
}

/// Form field `field`, a `datetime-local` value (`2026-12-03T14:00`) in
/// `zone`, as an instant; a time the clocks skip there (a DST gap) is
/// refused saying so (one repeated when they go back is its first).
fn local_instant(field: &'static str, text: &str, zone: TimeZone) -> Result<Timestamp, ApiError> {
    let invalid = |reason: String| api_error(droply_models::Error::invalid(field, reason));
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| invalid(format!("{text:?} is not a date and time")))?;
    let local = zone
        .as_tz()
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| {
            invalid(format!(
                "{} does not exist in {}: the clocks go forward then",
                naive.format("%Y-%m-%d %H:%M"),
                zone.as_str()
            ))
        })?;
    Ok(Timestamp::from_datetime(local.with_timezone(&chrono::Utc)))
}

fn parse_rule(form: &RuleForm) -> Result<NewRule, ApiError> {
    let day = form.weekday.trim().parse::<u8>().map_err(|_| {
        api_error(droply_models::Error::invalid(
            "weekday",
            "choose a day of the week",
        ))
    })?;
    Ok(NewRule {
        weekday: Weekday::new(day).map_err(api_error)?,
        start: LocalTime::parse(form.start.trim()).map_err(refusing("start"))?,
        end: LocalTime::parse(form.end.trim()).map_err(refusing("end"))?,
    })
}

fn parse_exception(form: &ExceptionForm, zone: TimeZone) -> Result<NewException, ApiError> {
    let reason = form.reason.trim();
    Ok(NewException {
        start: local_instant("start", &form.start, zone)?,
        end: local_instant("end", &form.end, zone)?,
        is_blocked: form.kind != "open",
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
    })
}

async fn show_availability(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    viewer.require(HERE)?;
    Ok(html(render(&state, &viewer, None, Typed::Nothing).await?))
}

/// The page with `error` and what was `typed`, or the failure to read the
/// lists.
async fn render(
    state: &AppState,
    viewer: &Viewer,
    error: Option<&FormError>,
    typed: Typed<'_>,
) -> Result<Markup, PageError> {
    let user = viewer.require(HERE)?.id;
    let (rules, exceptions) = blocking(state, move |engine| {
        Ok((engine.list_rules(user)?, engine.list_exceptions(user)?))
    })
    .await?;
    Ok(availability_page(viewer, &rules, &exceptions, error, typed))
}

/// Answers a form: back to the page when `result` is Ok, else the page
/// with the error (400 for the person's mistakes) and the form as `typed`.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    result: Result<(), ApiError>,
    typed: Typed<'_>,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(see_other(HERE)),
        Err(err) => {
            let (status, error) = refusal(&err, typed.fields());
            Ok(html_with(
                status,
                render(state, viewer, Some(&error), typed).await?,
            ))
        }
    }
}

async fn add_rule(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<RuleForm>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?.id;
    let result = match parse_rule(&form) {
        Ok(new) => blocking(&state, move |engine| engine.add_rule(user, new))
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    answer(&state, &viewer, result, Typed::Rule(&form)).await
}

async fn delete_rule(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(id): PagePath<String>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?.id;
    let id: AvailabilityRuleId = path_id(&id)?;
    let result = blocking(&state, move |engine| engine.delete_rule(user, id)).await;
    answer(&state, &viewer, result, Typed::Nothing).await
}

async fn add_exception(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<ExceptionForm>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?.id;
    let result = match parse_exception(&form, viewer.time_zone()) {
        Ok(new) => blocking(&state, move |engine| engine.add_exception(user, new))
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    answer(&state, &viewer, result, Typed::Exception(&form)).await
}

async fn delete_exception(
    State(state): State<AppState>,
    viewer: Viewer,
    PagePath(id): PagePath<String>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?.id;
    let id: AvailabilityExceptionId = path_id(&id)?;
    let result = blocking(&state, move |engine| engine.delete_exception(user, id)).await;
    answer(&state, &viewer, result, Typed::Nothing).await
}

fn delete_button(viewer: &Viewer, action: &str, label: &str) -> Markup {
    html! {
        form method="post" action=(action) class="inline" {
            (csrf_field(viewer))
            button type="submit" class="secondary" aria-label=(label) { "Delete" }
        }
    }
}

fn availability_page(
    viewer: &Viewer,
    rules: &[AvailabilityRule],
    exceptions: &[AvailabilityException],
    error: Option<&FormError>,
    typed: Typed<'_>,
) -> Markup {
    let zone = viewer.time_zone();
    let usual_hours = RuleForm {
        weekday: String::new(),
        start: "09:00".to_owned(),
        end: "17:00".to_owned(),
    };
    let rule = match typed {
        Typed::Rule(form) => form,
        _ => &usual_hours,
    };
    let blank = ExceptionForm::default();
    let exception = match typed {
        Typed::Exception(form) => form,
        _ => &blank,
    };
    let today = format!("{}T00:00", format::iso_day(Timestamp::now(), zone));
    let account_zone = viewer
        .user
        .as_ref()
        .map_or(TimeZone::default(), |user| user.timezone);
    let content = html! {
        h1 { "Availability" }
        (notices(error.map(|error| error.message.as_str()), None))
        section class="card" aria-labelledby="rules-title" {
            h2 id="rules-title" { "Weekly hours" }
            p class="muted" { "In your account's time zone, " (account_zone.as_str()) "." }
            @if rules.is_empty() {
                p { "No weekly hours yet: people cannot book you until you add some." }
            } @else {
                ul class="plain-list" {
                    @for rule in rules {
                        li {
                            span { (rule.weekday.name()) " " (rule.start) "–" (rule.end) }
                            @if !rule.is_active { " " span class="muted" { "(off)" } }
                            (delete_button(viewer, &format!("/account/availability/rules/{}/delete", rule.id.get()),
                                &format!("Delete {} {}–{}", rule.weekday.name(), rule.start, rule.end)))
                        }
                    }
                }
            }
            form method="post" action="/account/availability/rules" class="row-form" {
                (csrf_field(viewer))
                label for="rule-weekday" { "Day" }
                select id="rule-weekday" name="weekday"
                    aria-invalid=[aria_invalid(error, "rule-weekday")]
                    aria-describedby=[described_by(error, "rule-weekday", None)] {
                    @for day in Weekday::all() {
                        option value=(day.get()) selected[rule.weekday.trim() == day.get().to_string()] { (day.name()) }
                    }
                }
                label for="rule-start" { "From" }
                input id="rule-start" name="start" type="time" required value=(rule.start)
                    aria-invalid=[aria_invalid(error, "rule-start")]
                    aria-describedby=[described_by(error, "rule-start", None)];
                label for="rule-end" { "To" }
                input id="rule-end" name="end" type="time" required value=(rule.end)
                    aria-invalid=[aria_invalid(error, "rule-end")]
                    aria-describedby=[described_by(error, "rule-end", None)];
                @for field in RULE_FIELDS {
                    (field_message(error, field.id))
                }
                button type="submit" { "Add hours" }
            }
        }
        section class="card" aria-labelledby="exceptions-title" {
            h2 id="exceptions-title" { "Exceptions" }
            p class="muted" { "Times in " (zone.as_str()) "." }
            @if exceptions.is_empty() {
                p { "No exceptions." }
            } @else {
                ul class="plain-list" {
                    @for exception in exceptions {
                        li {
                            span {
                                (if exception.is_blocked { "Blocked" } else { "Open" }) ": "
                                (format::date_time(exception.start, zone)) " – " (format::date_time(exception.end, zone))
                                @if let Some(reason) = &exception.reason { " (" (reason) ")" }
                            }
                            (delete_button(viewer, &format!("/account/availability/exceptions/{}/delete", exception.id.get()),
                                &format!("Delete the exception from {}", format::date_time(exception.start, zone))))
                        }
                    }
                }
            }
            form method="post" action="/account/availability/exceptions" class="row-form" {
                (csrf_field(viewer))
                label for="exception-start" { "From" }
                input id="exception-start" name="start" type="datetime-local" required min=(today) value=(exception.start)
                    aria-invalid=[aria_invalid(error, "exception-start")]
                    aria-describedby=[described_by(error, "exception-start", None)];
                label for="exception-end" { "To" }
                input id="exception-end" name="end" type="datetime-local" required min=(today) value=(exception.end)
                    aria-invalid=[aria_invalid(error, "exception-end")]
                    aria-describedby=[described_by(error, "exception-end", None)];
                label for="exception-kind" { "Kind" }
                select id="exception-kind" name="kind" {
                    option value="blocked" { "Blocked (away)" }
                    option value="open" selected[exception.kind == "open"] { "Open (extra hours)" }
                }
                label for="exception-reason" { "Reason (optional)" }
                input id="exception-reason" name="reason" maxlength="200" value=(exception.reason)
                    aria-invalid=[aria_invalid(error, "exception-reason")]
                    aria-describedby=[described_by(error, "exception-reason", None)];
                @for field in EXCEPTION_FIELDS {
                    (field_message(error, field.id))
                }
                button type="submit" { "Add exception" }
            }
        }
    };
    account_page(viewer, "Availability", HERE, &[], content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_date_time_is_read_in_the_viewers_zone() {
        let paris = TimeZone::parse("Europe/Paris").expect("valid");
        let instant = local_instant("start", "2026-12-03T14:00", paris).expect("valid");
        assert_eq!(instant.to_rfc3339(), "2026-12-03T13:00:00Z");
        assert!(local_instant("start", "tomorrow", paris).is_err());
    }

    #[test]
    fn a_time_the_clocks_skip_is_refused_naming_its_field_and_the_gap() {
        let paris = TimeZone::parse("Europe/Paris").expect("valid");
        let err = local_instant("end", "2027-03-28T02:30", paris).expect_err("in the gap");
        let message = err.message();
        assert_eq!(
            message,
            "invalid end: 2027-03-28 02:30 does not exist in Europe/Paris: the clocks go forward then"
        );
        // The hour repeated when the clocks go back is its first.
        let fold = local_instant("start", "2026-10-25T02:30", paris).expect("valid");
        assert_eq!(fold.to_rfc3339(), "2026-10-25T00:30:00Z");
    }
}

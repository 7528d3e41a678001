//! How a refused form tells people what went wrong: [`FormError::of`]
//! turns an [`ApiError`] into one sentence and the form field it is about.
//! A refused value is named by the label its form shows ("Hourly rate:
//! must be greater than zero."), never by the API's field name; no
//! sentence names an API path (`POST /v1/...`) or the engine's error kind.
//! [`aria_invalid`], [`described_by`] and [`field_message`] mark that field
//! (`aria-invalid="true"`, `aria-describedby` pointing at the message) and
//! show the message next to it; the page keeps its `role="alert"` summary
//! above the form.

use maud::{Markup, html};

use crate::http::{ApiError, ErrorCode};

/// What a form says of a failure on our side (its details are in the log).
const INTERNAL: &str = "Something went wrong on our side; please try again.";

/// A field of a form: the API name its value is refused under, its `id`
/// in the form and the label the form shows for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormField {
    /// The name errors give the value, e.g. `specialty_tags`.
    pub api: &'static str,
    /// The field's `id` (and `name`) in the form, e.g. `tags`.
    pub id: &'static str,
    /// The label the form shows, e.g. `Tags`.
    pub label: &'static str,
}

impl FormField {
    /// A field whose `id` is its API name.
    pub const fn new(id: &'static str, label: &'static str) -> Self {
        FormField { api: id, id, label }
    }

    /// A field whose value the API names `api`.
    pub const fn named(api: &'static str, id: &'static str, label: &'static str) -> Self {
        FormField { api, id, label }
    }
}

/// The label `fields` show for the field `id`; `id` itself for a field
/// not among them.
pub fn label_of<'a>(fields: &[FormField], id: &'a str) -> &'a str {
    fields
        .iter()
        .find(|field| field.id == id)
        .map_or(id, |field| field.label)
}

/// What a refused form shows: one sentence for people, and the `id` of
/// the form field it is about (none when the error is about no field of
/// the form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    /// The sentence, e.g. `Hourly rate: must be greater than zero.`
    pub message: String,
    /// The `id` of the refused form field.
    pub field: Option<&'static str>,
}

impl FormError {
    /// `err` as the form with `fields` shows it.
    pub fn of(err: &ApiError, fields: &[FormField]) -> Self {
        if let Some(refused) = err.field_error() {
            let known = fields.iter().find(|field| field.api == refused.field);
            let label = known.map_or_else(|| humanized(refused.field), |f| f.label.to_owned());
            let reason = without_api_paths(&refused.reason);
            return FormError {
                message: sentence(&format!("{label}: {}", reason.trim())),
                field: known.map(|field| field.id),
            };
        }
        let message = match err.code() {
            ErrorCode::Internal => INTERNAL.to_owned(),
            code => {
                let text = err.message();
                // The engine's kind, as its messages begin, means nothing to people.
                let prefix = match code {
                    ErrorCode::InvalidState => "invalid state: ",
                    ErrorCode::Forbidden => "not allowed: ",
                    ErrorCode::InvalidInput => "invalid: ",
                    _ => "",
                };
                let text = text.strip_prefix(prefix).unwrap_or(text);
                sentence(&without_api_paths(text))
            }
        };
        FormError {
            message,
            field: None,
        }
    }

    /// Whether this error is about the form field `id`.
    pub fn is_about(&self, id: &str) -> bool {
        self.field == Some(id)
    }
}

/// The `id` of the message shown next to the form field `id`.
pub fn message_id(id: &str) -> String {
    format!("{id}-error")
}

/// The field `id`'s `aria-invalid`: `true` when `error` is about it.
pub fn aria_invalid(error: Option<&FormError>, id: &str) -> Option<&'static str> {
    error.filter(|error| error.is_about(id)).map(|_| "true")
}

/// The field `id`'s `aria-describedby`: its error message when `error` is
/// about it, then `help` (the id of its own help text), if any.
pub fn described_by(error: Option<&FormError>, id: &str, help: Option<&str>) -> Option<String> {
    let message = error
        .filter(|error| error.is_about(id))
        .map(|_| message_id(id));
    match (message, help) {
        (Some(message), Some(help)) => Some(format!("{message} {help}")),
        (Some(message), None) => Some(message),
        (None, help) => help.map(str::to_owned),
    }
}

/// The message next to the field `id`, when `error` is about it.
pub fn field_message(error: Option<&FormError>, id: &str) -> Markup {
    html! {
        @if let Some(error) = error.filter(|error| error.is_about(id)) {
            p id=(message_id(id)) class="field-error" { (error.message) }
        }
    }
}

/// `hourly_rate` as `Hourly rate`: for a refused field no form label names.
fn humanized(field: &str) -> String {
    sentence_case(&field.replace('_', " "))
}

fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `text` as a sentence: a capital first, a full stop last.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() || text.contains("/v1/") {
        return "That could not be done; please check the form and try again.".to_owned();
    }
    let mut text = sentence_case(text);
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// `text` without the parts in parentheses or backticks that name an API
/// route (`first (POST /v1/payouts); then` becomes `first; then`).
fn without_api_paths(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['(', '`']) {
        let close = if rest[start..].starts_with('(') {
            ')'
        } else {
            '`'
        };
        let inside = &rest[start + 1..];
        match inside.find(close) {
            Some(end) if inside[..end].contains("/v1/") => {
                kept.push_str(rest[..start].trim_end());
                rest = &inside[end + 1..];
            }
            _ => {
                kept.push_str(&rest[..=start]);
                rest = inside;
            }
        }
    }
    kept.push_str(rest);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(field: &'static str, reason: &str) -> ApiError {
        ApiError::from(droply_engine::Error::from(droply_models::Error::invalid(
            field,
            reason.to_owned(),
        )))
    }

    #[test]
    fn a_refused_value_is_named_by_its_label_and_marks_its_field() {
        let fields = [
            FormField::new("hourly_rate", "Hourly rate"),
            FormField::named("specialty_tags", "tags", "Tags"),
        ];
        let zero = refused("hourly_rate", "must be greater than zero");
        let rate = FormError::of(&zero, &fields);
        assert_eq!(rate.message, "Hourly rate: must be greater than zero.");
        assert_eq!(rate.field, Some("hourly_rate"));
        let tags = FormError::of(&refused("specialty_tags", "too many"), &fields);
        assert_eq!(tags.message, "Tags: too many.");
        assert_eq!(tags.field, Some("tags"));
        let other = FormError::of(&refused("session_duration", "must be 15 to 480"), &fields);
        assert_eq!(other.message, "Session duration: must be 15 to 480.");
        assert_eq!(other.field, None, "no field of this form");
    }

    #[test]
    fn api_routes_and_the_engine_kind_are_left_out() {
        let err = ApiError::from(droply_engine::Error::InvalidState(
            "pay out your balance of $5.00 first (POST /v1/payouts); an account is closed \
             only once nothing is owed"
                .to_owned(),
        ));
        assert_eq!(
            FormError::of(&err, &[]).message,
            "Pay out your balance of $5.00 first; an account is closed only once nothing is owed."
        );
        let err = ApiError::from(droply_engine::Error::PayoutsNotEnabled(
            "connect a Stripe account (POST /v1/payouts/onboarding) before selling".to_owned(),
        ));
        let message = FormError::of(&err, &[]).message;
        assert!(!message.contains("/v1/"), "{message}");
        assert!(
            message.contains("connect a Stripe account before selling"),
            "{message}"
        );
        assert_eq!(without_api_paths("a (kept) b"), "a (kept) b");
        assert_eq!(
            without_api_paths("open ( never closed"),
            "open ( never closed"
        );
    }

    #[test]
    fn only_the_refused_field_is_marked() {
        let error = FormError {
            message: "Email: must contain one @.".to_owned(),
            field: Some("email"),
        };
        assert_eq!(aria_invalid(Some(&error), "email"), Some("true"));
        assert_eq!(aria_invalid(Some(&error), "username"), None);
        assert_eq!(
            described_by(Some(&error), "email", Some("email-help")).as_deref(),
            Some("email-error email-help")
        );
        assert_eq!(
            described_by(Some(&error), "password", Some("password-help")).as_deref(),
            Some("password-help")
        );
        assert_eq!(described_by(None, "email", None), None);
        let shown = field_message(Some(&error), "email").0;
        assert!(shown.contains("id=\"email-error\""), "{shown}");
        assert!(field_message(Some(&error), "username").0.is_empty());
    }
}

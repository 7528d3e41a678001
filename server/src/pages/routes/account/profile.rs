//! `/account/profile`: the form for what people see and book: name, bio,
//! industry, profession, location, skills, tags, links, time zone,
//! currency, and to offer sessions the hourly rate (a decimal in the
//! account's currency, kept as integer minor units), session length,
//! service description and availability. A save goes through the same
//! allowlist as the API (`ProfileUpdate`); a refused one is shown again,
//! as typed, with its error and status 400. The form always sends the
//! rate, so a new currency with the rate left as shown (in the old one) is
//! refused here once: the engine would read those digits in the new
//! currency. The form carries the currency its rate is shown in
//! (`rate_currency`, hidden); the refusal shows the form again with that set
//! to the new currency, so that saving it again confirms the rate in it (EUR
//! 90.00 meant as USD 90.00). A post without it (a page from before it, a
//! hand-made post) is taken as showing the rate in the account's currency.
//! A refusal names the field by its label, marks it (`aria-invalid`,
//! `aria-describedby`) and shows the message next to it.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use droply_engine::accounts::ProfileUpdate;
use droply_models::{Currency, HttpUrl, Money, TimeZone, User};
use maud::{Markup, html};
use serde::Deserialize;

use super::frame::{account_page, api_error, notices, refusal, refusing};
use crate::http::{ApiError, AppState, blocking};
use crate::pages::extract::{PageForm, PageQuery};
use crate::pages::form_error::{
    FormError, FormField, aria_invalid, described_by, field_message, label_of,
};
use crate::pages::layout::csrf_field;
use crate::pages::page::{PageError, html, html_with, see_other};
use crate::pages::viewer::Viewer;

const HERE: &str = "/account/profile";

/// The form's fields, by the names errors give them, with their labels.
const FIELDS: &[FormField] = &[
    FormField::new("full_name", "Full name"),
    FormField::new("bio", "Bio"),
    FormField::new("industry", "Industry"),
    FormField::new("profession", "Profession"),
    FormField::new("location", "Location"),
    FormField::new("skills_1", "Main skill"),
    FormField::new("skills_2", "Second skill"),
    FormField::new("skills_3", "Third skill"),
    FormField::named("specialty_tags", "tags", "Tags"),
    FormField::new("website_url", "Website"),
    FormField::new("linkedin_url", "LinkedIn"),
    FormField::new("github_url", "GitHub"),
    FormField::new("twitter_url", "X / Twitter"),
    FormField::new("timezone", "Time zone"),
    FormField::new("currency", "Currency"),
    FormField::new("hourly_rate", "Hourly rate"),
    FormField::new("session_duration", "Session length (minutes)"),
    FormField::new("service_description", "What a session offers"),
];

/// `/account/profile`.
pub fn router() -> Router<AppState> {
    Router::new().route(HERE, get(show_profile_form).post(save_profile))
}

/// The profile form as typed (every field text, as the browser sends it).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProfileForm {
    full_name: String,
    bio: String,
    industry: String,
    profession: String,
    location: String,
    skills_1: String,
    skills_2: String,
    skills_3: String,
    tags: String,
    website_url: String,
    linkedin_url: String,
    github_url: String,
    twitter_url: String,
    timezone: String,
    currency: String,
    hourly_rate: String,
    /// The currency `hourly_rate` is shown in (a hidden field): the
    /// account's, or the new one once a refusal asked to confirm the rate.
    /// Empty when the post did not carry it.
    rate_currency: String,
    session_duration: String,
    service_description: String,
    is_available: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

fn link(url: &Option<HttpUrl>) -> String {
    url.as_ref()
        .map(|u| u.as_str().to_owned())
        .unwrap_or_default()
}

impl ProfileForm {
    fn of(user: &User) -> Self {
        ProfileForm {
            full_name: user.full_name.clone(),
            bio: user.bio.clone(),
            industry: user.industry.clone(),
            profession: user.profession.clone(),
            location: user.location.clone(),
            skills_1: user.skills_1.clone().unwrap_or_default(),
            skills_2: user.skills_2.clone().unwrap_or_default(),
            skills_3: user.skills_3.clone().unwrap_or_default(),
            tags: user.specialty_tags.join(", "),
            website_url: link(&user.website_url),
            linkedin_url: link(&user.linkedin_url),
            github_url: link(&user.github_url),
            twitter_url: link(&user.twitter_url),
            timezone: user.timezone.as_str().to_owned(),
            currency: user.currency.as_str().to_owned(),
            hourly_rate: user
                .hourly_rate
                .map(Money::decimal_amount)
                .unwrap_or_default(),
            rate_currency: user.currency.as_str().to_owned(),
            session_duration: user.session_duration.to_string(),
            service_description: user.service_description.clone(),
            is_available: user.is_available.then(|| "on".to_owned()),
        }
    }

    /// The currency the rate field was shown in: `rate_currency`, or
    /// `user`'s for a form that did not carry a valid one.
    fn rate_shown_in(&self, user: &User) -> Currency {
        Currency::parse(self.rate_currency.trim()).unwrap_or(user.currency)
    }

    /// The new currency, when this form changes `user`'s currency but sends
    /// the old rate's text, shown in another currency than the new one: the
    /// old rate's digits, not yet confirmed as a rate in the new currency.
    fn rate_to_confirm(&self, user: &User) -> Option<Currency> {
        let currency = Currency::parse(self.currency.trim()).ok()?;
        let old = user.hourly_rate?;
        let text = self.hourly_rate.trim();
        let as_it_was = !text.is_empty()
            && Money::from_decimal_str(text, user.currency).is_ok_and(|typed| typed == old);
        (currency != user.currency && currency != self.rate_shown_in(user) && as_it_was)
            .then_some(currency)
    }

    /// The change this form asks of `user`'s profile.
    fn update(&self, user: &User) -> Result<ProfileUpdate, ApiError> {
        let optional = |text: &str| {
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_owned())
        };
        let url = |field: &'static str, text: &str| -> Result<Option<HttpUrl>, ApiError> {
            optional(text)
                .map(|text| HttpUrl::parse(&text).map_err(refusing(field)))
                .transpose()
        };
        let currency = Currency::parse(self.currency.trim()).map_err(refusing("currency"))?;
        if let Some(new) = self.rate_to_confirm(user) {
            // The form always sends the rate, so the API's "a new rate with a new
            // currency" rule is always met: left as shown, the old rate's digits would
            // be read in the new currency (JPY 9000 an hour became EUR 9,000.00).
            // The page shown again says the rate is in the new currency, so that
            // saving it again confirms it; a post without `rate_currency` cannot.
            let reason = if self.rate_currency.trim().is_empty() {
                format!(
                    "enter your hourly rate in {new}: the rate shown is your rate in {}",
                    user.currency
                )
            } else {
                format!(
                    "Your rate is shown as you had it in {}: check that it is what you want \
                     in {new} and save again",
                    user.currency
                )
            };
            return Err(api_error(droply_models::Error::invalid(
                "hourly_rate",
                reason,
            )));
        }
        let hourly_rate = optional(&self.hourly_rate)
            .map(|text| {
                Money::from_decimal_str(&text, currency)
                    .map(|money| money.amount_minor)
                    .map_err(refusing("hourly_rate"))
            })
            .transpose()?;
        let session_duration = self.session_duration.trim().parse::<u16>().map_err(|_| {
            api_error(droply_models::Error::invalid(
                "session_duration",
                "must be a whole number of minutes".to_owned(),
            ))
        })?;
        Ok(ProfileUpdate {
            full_name: Some(self.full_name.trim().to_owned()),
            bio: Some(self.bio.clone()),
            industry: Some(self.industry.trim().to_owned()),
            profession: Some(self.profession.trim().to_owned()),
            location: Some(self.location.trim().to_owned()),
            skills_1: Some(optional(&self.skills_1)),
            skills_2: Some(optional(&self.skills_2)),
            skills_3: Some(optional(&self.skills_3)),
            specialty_tags: Some(
                self.tags
                    .split(',')
                    .map(str::trim)
                    .filter(|tag| !tag.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            website_url: Some(url("website_url", &self.website_url)?),
            linkedin_url: Some(url("linkedin_url", &self.linkedin_url)?),
            github_url: Some(url("github_url", &self.github_url)?),
            twitter_url: Some(url("twitter_url", &self.twitter_url)?),
            timezone: Some(TimeZone::parse(self.timezone.trim()).map_err(refusing("timezone"))?),
            currency: (currency != user.currency).then_some(currency),
            hourly_rate: Some(hourly_rate),
            session_duration: Some(session_duration),
            service_description: Some(self.service_description.clone()),
            is_available: Some(self.is_available.is_some()),
            ..ProfileUpdate::default()
        })
    }
}

async fn show_profile_form(
    viewer: Viewer,
    PageQuery(query): PageQuery<SavedQuery>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?;
    let saved = query.saved.is_some().then_some("Your profile is saved.");
    Ok(html(profile_page(
        &viewer,
        &ProfileForm::of(user),
        None,
        saved,
    )))
}

async fn save_profile(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(mut form): PageForm<ProfileForm>,
) -> Result<Response, PageError> {
    let user = viewer.require(HERE)?;
    let id = user.id;
    let to_confirm = form.rate_to_confirm(user);
    let result = match form.update(user) {
        Ok(update) => blocking(&state, move |engine| engine.update_profile(id, update))
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => Ok(see_other("/account/profile?saved=1")),
        Err(err) => {
            // Shown again as typed (not as stored), with the refused field marked.
            let (status, error) = refusal(&err, FIELDS);
            if let Some(currency) = to_confirm {
                // Shown again, the rate is taken as one in the new currency:
                // saving this page again confirms it.
                form.rate_currency = currency.as_str().to_owned();
            }
            Ok(html_with(
                status,
                profile_page(&viewer, &form, Some(&error), None),
            ))
        }
    }
}

/// The label of the field `id`, as [`FIELDS`] has it.
fn label(id: &str) -> &str {
    label_of(FIELDS, id)
}

fn text_field(id: &str, value: &str, max: usize, error: Option<&FormError>) -> Markup {
    html! {
        label for=(id) { (label(id)) }
        input id=(id) name=(id) maxlength=(max) value=(value)
            aria-invalid=[aria_invalid(error, id)] aria-describedby=[described_by(error, id, None)];
        (field_message(error, id))
    }
}

fn url_field(id: &str, value: &str, error: Option<&FormError>) -> Markup {
    html! {
        label for=(id) { (label(id)) }
        input id=(id) name=(id) type="url" inputmode="url" placeholder="https://" value=(value)
            aria-invalid=[aria_invalid(error, id)] aria-describedby=[described_by(error, id, None)];
        (field_message(error, id))
    }
}

fn profile_page(
    viewer: &Viewer,
    form: &ProfileForm,
    error: Option<&FormError>,
    saved: Option<&str>,
) -> Markup {
    let invalid = |id: &str| aria_invalid(error, id);
    let described = |id: &str, help: Option<&str>| described_by(error, id, help);
    let content = html! {
        h1 { "Profile" }
        (notices(error.map(|error| error.message.as_str()), saved))
        form method="post" action=(HERE) class="stack profile-form" {
            (csrf_field(viewer))
            fieldset {
                legend { "About you" }
                label for="full_name" { (label("full_name")) }
                input id="full_name" name="full_name" required maxlength="100" autocomplete="name" value=(form.full_name)
                    aria-invalid=[invalid("full_name")] aria-describedby=[described("full_name", None)];
                (field_message(error, "full_name"))
                label for="bio" { (label("bio")) }
                textarea id="bio" name="bio" rows="5" maxlength="5000"
                    aria-invalid=[invalid("bio")] aria-describedby=[described("bio", None)] { (form.bio) }
                (field_message(error, "bio"))
                (text_field("industry", &form.industry, 100, error))
                (text_field("profession", &form.profession, 100, error))
                small { "A profession makes you an expert people can find and book." }
                (text_field("location", &form.location, 100, error))
            }
            fieldset {
                legend { "Skills and tags" }
                (text_field("skills_1", &form.skills_1, 100, error))
                (text_field("skills_2", &form.skills_2, 100, error))
                (text_field("skills_3", &form.skills_3, 100, error))
                label for="tags" { (label("tags")) }
                input id="tags" name="tags" value=(form.tags)
                    aria-invalid=[invalid("tags")] aria-describedby=[described("tags", Some("tags-help"))];
                (field_message(error, "tags"))
                small id="tags-help" { "Separated by commas." }
            }
            fieldset {
                legend { "Links" }
                (url_field("website_url", &form.website_url, error))
                (url_field("linkedin_url", &form.linkedin_url, error))
                (url_field("github_url", &form.github_url, error))
                (url_field("twitter_url", &form.twitter_url, error))
            }
            fieldset {
                legend { "Time and money" }
                label for="timezone" { (label("timezone")) }
                input id="timezone" name="timezone" required value=(form.timezone)
                    aria-invalid=[invalid("timezone")] aria-describedby=[described("timezone", Some("timezone-help"))];
                (field_message(error, "timezone"))
                small id="timezone-help" { "An IANA zone, such as Europe/Berlin." }
                label for="currency" { (label("currency")) }
                select id="currency" name="currency"
                    aria-invalid=[invalid("currency")] aria-describedby=[described("currency", None)] {
                    @for currency in Currency::all() {
                        option value=(currency.as_str()) selected[currency.as_str() == form.currency] { (currency.as_str()) }
                    }
                }
                (field_message(error, "currency"))
            }
            fieldset {
                legend { "Sessions you offer" }
                label for="hourly_rate" { (label("hourly_rate")) }
                input id="hourly_rate" name="hourly_rate" inputmode="decimal" pattern="[0-9]+([.][0-9]{1,3})?" value=(form.hourly_rate)
                    aria-invalid=[invalid("hourly_rate")] aria-describedby=[described("hourly_rate", Some("rate-help"))];
                input type="hidden" name="rate_currency" value=(form.rate_currency);
                (field_message(error, "hourly_rate"))
                small id="rate-help" { "In your currency, e.g. 90 or 90.50. Leave empty to stop selling sessions." }
                label for="session_duration" { (label("session_duration")) }
                input id="session_duration" name="session_duration" type="number" min="15" max="480" step="5" required value=(form.session_duration)
                    aria-invalid=[invalid("session_duration")] aria-describedby=[described("session_duration", None)];
                (field_message(error, "session_duration"))
                label for="service_description" { (label("service_description")) }
                textarea id="service_description" name="service_description" rows="4" maxlength="5000"
                    aria-invalid=[invalid("service_description")] aria-describedby=[described("service_description", None)] { (form.service_description) }
                (field_message(error, "service_description"))
                label class="check" {
                    input type="checkbox" name="is_available" checked[form.is_available.is_some()];
                    " Accepting bookings"
                }
            }
            button type="submit" { "Save profile" }
        }
    };
    account_page(viewer, "Profile", HERE, &[], content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_show_as_decimals_of_their_minor_units() {
        let usd = Currency::parse("USD").expect("valid");
        assert_eq!(Money::new(9050, usd).decimal_amount(), "90.50");
        assert_eq!(Money::new(5, usd).decimal_amount(), "0.05");
        assert_eq!(
            Money::new(900, Currency::parse("JPY").expect("valid")).decimal_amount(),
            "900"
        );
    }
}

//! The search page (`/`): a query box, filters (industry, profession,
//! location, skills, a price range in the viewer's currency, minimum
//! rating, available within N days), facet counts that narrow the search
//! when followed, and one ranked list of experts, content and live
//! drop-ins, each expert with the engine's readable reasons. The page is a
//! plain GET form, so every search is a link; it asks the same engine
//! search as `POST /v1/search`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use droply_engine::matching::{RankedHit, SearchRequest, SearchResults};
use droply_models::{Currency, Money};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use crate::http::{AppState, blocking};
use crate::pages::extract::PageQuery;
use crate::pages::format;
use crate::pages::layout::{Head, page};
use crate::pages::page::{PageError, html_with, status_of, url_encode};
use crate::pages::viewer::Viewer;

/// Results per page.
const PER_PAGE: usize = 20;
/// The furthest page (the search API skips at most 200 hits).
const LAST_PAGE: usize = 200 / PER_PAGE + 1;
/// The expert fields whose values are counted beside the results.
const FACETS: [(&str, &str); 4] = [
    ("industry", "Industry"),
    ("profession", "Profession"),
    ("location", "Location"),
    ("skills", "Skills"),
];

/// `GET /`.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(search_page))
}

/// The search form, as the query string carries it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct SearchForm {
    q: String,
    /// `all` (the default), `experts`, `content` or `dropins`.
    show: String,
    industry: String,
    profession: String,
    location: String,
    /// Comma-separated; an expert with any of them matches.
    skills: String,
    /// Decimal amounts in `currency`, per hour.
    min_price: String,
    max_price: String,
    currency: String,
    min_rating: String,
    within_days: String,
    page: usize,
}

impl SearchForm {
    /// The form's fields as query pairs, with `changes` applied.
    fn pairs(&self, changes: &[(&str, String)]) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> = vec![
            ("q", self.q.clone()),
            ("show", self.show.clone()),
            ("industry", self.industry.clone()),
            ("profession", self.profession.clone()),
            ("location", self.location.clone()),
            ("skills", self.skills.clone()),
            ("min_price", self.min_price.clone()),
            ("max_price", self.max_price.clone()),
            ("currency", self.currency.clone()),
            ("min_rating", self.min_rating.clone()),
            ("within_days", self.within_days.clone()),
            ("page", String::new()),
        ];
        for (name, value) in changes {
            if let Some(pair) = pairs.iter_mut().find(|(key, _)| key == name) {
                pair.1.clone_from(value);
            }
        }
        pairs
    }

    /// A link to this search with `changes`.
    fn link(&self, changes: &[(&str, String)]) -> String {
        let query: Vec<String> = self
            .pairs(changes)
            .into_iter()
            .filter(|(_, value)| !value.is_empty() && value != "0")
            .map(|(key, value)| format!("{key}={}", url_encode(&value)))
            .collect();
        format!("/?{}", query.join("&"))
    }

    /// Whether any filter that applies to experts only is set.
    fn filters_experts(&self) -> bool {
        [
            &self.industry,
            &self.profession,
            &self.location,
            &self.skills,
            &self.min_price,
            &self.max_price,
            &self.min_rating,
            &self.within_days,
        ]
        .iter()
        .any(|value| !value.trim().is_empty())
    }

    /// The kinds searched: every kind unless the form says which; experts
    /// only while an expert filter is set.
    fn kinds(&self) -> Vec<String> {
        let kinds: &[&str] = match self.show.as_str() {
            _ if self.filters_experts() => &["experts"],
            "experts" => &["experts"],
            "content" => &["content"],
            "dropins" => &["dropins"],
            _ => &["experts", "content", "dropins"],
        };
        kinds.iter().map(|kind| (*kind).to_owned()).collect()
    }

    /// The currency prices are typed in.
    fn currency(&self, viewer: &Viewer) -> Currency {
        Currency::parse(self.currency.trim())
            .ok()
            .or(viewer.user.as_ref().map(|user| user.currency))
            .unwrap_or_else(|| Currency::parse("USD").unwrap_or_default())
    }

    /// The engine's search request for this form.
    fn request(&self, currency: Currency) -> Result<SearchRequest, String> {
        let mut filters = Vec::new();
        let equals = |field: &str, value: &str| format!("{field} = {}", quoted(value.trim()));
        for (field, value) in [
            ("industry", &self.industry),
            ("profession", &self.profession),
            ("location", &self.location),
        ] {
            if !value.trim().is_empty() {
                filters.push(equals(field, value));
            }
        }
        let skills: Vec<String> = self
            .skills
            .split(',')
            .map(str::trim)
            .filter(|skill| !skill.is_empty())
            .map(quoted)
            .collect();
        if !skills.is_empty() {
            filters.push(format!("skills IN [{}]", skills.join(", ")));
        }
        for (text, operator, what) in [
            (&self.min_price, ">=", "The lowest price"),
            (&self.max_price, "<=", "The highest price"),
        ] {
            if text.trim().is_empty() {
                continue;
            }
            let amount = Money::from_decimal_str(text.trim(), currency)
                .map_err(|_| format!("{what} must be an amount like 50 or 49.99."))?;
            filters.push(format!("hourly_rate {operator} {}", amount.amount_minor));
        }
        if let Some(stars) = number(&self.min_rating, "The minimum rating")? {
            filters.push(format!("rating >= {stars}"));
        }
        if let Some(days) = number(&self.within_days, "Available within")? {
            filters.push(format!("bookable_within_days <= {days}"));
        }
        let experts = self.kinds() == ["experts"];
        Ok(SearchRequest {
            kinds: Some(self.kinds()),
            q: Some(self.q.trim().to_owned()).filter(|q| !q.is_empty()),
            filter: (!filters.is_empty()).then(|| Value::from(filters)),
            currency: Some(currency.as_str().to_owned()),
            facets: experts.then(|| FACETS.iter().map(|(f, _)| (*f).to_owned()).collect()),
            limit: Some(PER_PAGE),
            offset: Some(self.page.clamp(1, LAST_PAGE).saturating_sub(1) * PER_PAGE),
            semantic_ratio: None,
            fusion: None,
        })
    }
}

/// A filter value in double quotes, its quotes and backslashes escaped.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A number field: blank is none; anything but a number is an error.
fn number(text: &str, what: &str) -> Result<Option<f32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<f32>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(Some)
        .ok_or_else(|| format!("{what} must be a number."))
}

async fn search_page(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(form): PageQuery<SearchForm>,
) -> Result<Response, PageError> {
    let currency = form.currency(&viewer);
    let viewer_id = viewer.user_id();
    let outcome = match form.request(currency) {
        Ok(request) => blocking(&state, move |engine| engine.search(request, viewer_id))
            .await
            .map(|(_, results)| results)
            .map_err(|err| (status_of(&err), err.message().to_owned())),
        Err(message) => Err((StatusCode::BAD_REQUEST, message)),
    };
    let (status, results, error) = match outcome {
        Ok(results) => (StatusCode::OK, Some(results), None),
        Err((status, message)) => (status, None, Some(message)),
    };
    let content = html! {
        h1 class="visually-hidden" { "Find an expert" }
        (search_form(&form, currency))
        @if let Some(error) = &error {
            p class="alert" role="alert" { (error) }
        }
        @if let Some(results) = &results {
            div class={ "search-layout" @if !results.facets.is_empty() { " has-facets" } } {
                (facets(&form, results))
                section aria-labelledby="results-heading" class="results" {
                    h2 id="results-heading" {
                        (results.total) " result" @if results.total != 1 { "s" }
                        @if !form.q.trim().is_empty() { " for “" (form.q.trim()) "”" }
                    }
                    @if form.filters_experts() && !matches!(form.show.as_str(), "" | "all" | "experts") {
                        p class="note" { "Filters apply to experts, so only experts are shown." }
                    }
                    ol class="hits" {
                        @for hit in &results.hits {
                            li { (hit_card(hit, &viewer)) }
                        }
                    }
                    (pagination(&form, results))
                }
            }
        }
    };
    Ok(html_with(
        status,
        page(
            &viewer,
            Head {
                title: "Find an expert",
                ..Head::default()
            },
            content,
        ),
    ))
}

fn search_form(form: &SearchForm, currency: Currency) -> Markup {
    let show = [
        ("all", "Everything"),
        ("experts", "Experts"),
        ("content", "Content"),
        ("dropins", "Live drop-ins"),
    ];
    let ratings = [
        ("", "Any rating"),
        ("3", "3★ and up"),
        ("4", "4★ and up"),
        ("4.5", "4.5★ and up"),
    ];
    let days = [
        ("", "Any time"),
        ("1", "Today or tomorrow"),
        ("3", "Within 3 days"),
        ("7", "Within a week"),
        ("14", "Within 2 weeks"),
        ("30", "Within a month"),
    ];
    html! {
        form method="get" action="/" class="search-form" role="search" {
            div class="search-box" {
                label for="q" class="visually-hidden" { "What do you need help with?" }
                input id="q" name="q" type="search" value=(form.q) placeholder="What do you need help with?" maxlength="500";
                button type="submit" { "Search" }
            }
            details class="filters" open[form.filters_experts()] {
                summary { "Filters" }
                div class="filter-grid" {
                    div {
                        label for="show" { "Show" }
                        select id="show" name="show" {
                            @for (value, label) in show {
                                option value=(value) selected[form.show == value] { (label) }
                            }
                        }
                    }
                    div { label for="industry" { "Industry" } input id="industry" name="industry" value=(form.industry); }
                    div { label for="profession" { "Profession" } input id="profession" name="profession" value=(form.profession); }
                    div { label for="location" { "Location" } input id="location" name="location" value=(form.location); }
                    div { label for="skills" { "Skills (comma-separated)" } input id="skills" name="skills" value=(form.skills); }
                    div class="price-range" {
                        label for="min_price" { "Price per hour" }
                        div class="row" {
                            input id="min_price" name="min_price" inputmode="decimal" placeholder="min" aria-label="Lowest price" value=(form.min_price);
                            input id="max_price" name="max_price" inputmode="decimal" placeholder="max" aria-label="Highest price" value=(form.max_price);
                            select name="currency" aria-label="Currency" {
                                @for code in Currency::all() {
                                    option value=(code.as_str()) selected[code == currency] { (code.as_str()) }
                                }
                            }
                        }
                    }
                    div {
                        label for="min_rating" { "Rating" }
                        select id="min_rating" name="min_rating" {
                            @for (value, label) in ratings {
                                option value=(value) selected[form.min_rating == value] { (label) }
                            }
                        }
                    }
                    div {
                        label for="within_days" { "Available" }
                        select id="within_days" name="within_days" {
                            @for (value, label) in days {
                                option value=(value) selected[form.within_days == value] { (label) }
                            }
                        }
                    }
                }
                button type="submit" { "Apply filters" }
                " "
                a href="/" { "Clear" }
            }
        }
    }
}

fn facets(form: &SearchForm, results: &SearchResults) -> Markup {
    html! {
        @if !results.facets.is_empty() {
            aside class="facets" aria-label="Narrow the results" {
                @for (field, counts) in &results.facets {
                    @let name = field.name();
                    @let label = FACETS.iter().find(|(f, _)| *f == name).map_or(name, |(_, l)| *l);
                    @if !counts.is_empty() {
                        section class="facet" {
                            h2 { (label) }
                            ul {
                                @for (value, count) in counts.iter().take(8) {
                                    li {
                                        a href=(form.link(&[(name, value.clone())])) {
                                            (value) " " span class="count" { "(" (count) ")" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn hit_card(hit: &RankedHit, viewer: &Viewer) -> Markup {
    match hit {
        RankedHit::Expert(ranked) => {
            let expert = &ranked.expert;
            html! {
                article class="hit hit-expert" data-kind="expert" {
                    (avatar(expert.profile_picture.as_ref().map(|url| url.as_str()), &expert.full_name))
                    div class="hit-body" {
                        h3 { a href=(format!("/@{}", expert.username.as_str())) { (expert.full_name) } }
                        p class="headline" { (expert.profession) @if !expert.location.is_empty() { " · " (expert.location) } }
                        p class="meta" {
                            @if let Some(rate) = expert.hourly_rate { span class="price" { (format::money(rate)) " / hour" } " · " }
                            span class="rating" { (format::rating(expert.rating(), expert.rating_count())) }
                        }
                        @if !ranked.reasons.is_empty() {
                            ul class="reasons" aria-label="Why this match" {
                                @for reason in &ranked.reasons { li { (reason.text) } }
                            }
                        }
                    }
                }
            }
        }
        RankedHit::Content(ranked) => {
            let content = &ranked.content;
            html! {
                article class="hit hit-content" data-kind="content" {
                    div class="avatar kind-badge" aria-hidden="true" { "📄" }
                    div class="hit-body" {
                        h3 { a href=(format!("/c/{}", content.id.get())) { (content.title) } }
                        p class="headline" { (content.content_type.as_str()) " by " (ranked.creator.public_name()) }
                        p class="meta" {
                            span class="price" {
                                @if content.price.amount_minor == 0 { "Free" } @else { (format::money(content.price)) }
                            }
                        }
                    }
                }
            }
        }
        RankedHit::Dropin(ranked) => {
            let session = &ranked.session;
            html! {
                article class="hit hit-dropin" data-kind="dropin" {
                    div class="avatar kind-badge live" aria-hidden="true" { "●" }
                    div class="hit-body" {
                        h3 { a href=(format!("/d/{}", session.session_code.as_str())) { (session.topic) } }
                        p class="headline" { "Live drop-in with " (ranked.host.full_name) }
                        p class="meta" {
                            (session.current_participants) " of " (session.max_participants) " joined"
                            @if let Some(started) = session.started_at { " · since " (format::clock_with_zone(started, viewer.time_zone())) }
                        }
                    }
                }
            }
        }
    }
}

/// A photo, or the initials on a coloured disc.
pub fn avatar(photo: Option<&str>, name: &str) -> Markup {
    let initials: String = name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .collect();
    html! {
        @if let Some(url) = photo {
            img class="avatar" src=(url) alt="" width="64" height="64" loading="lazy" data-initials=(initials);
        } @else {
            div class="avatar initials" aria-hidden="true" { (initials) }
        }
    }
}

fn pagination(form: &SearchForm, results: &SearchResults) -> Markup {
    let current = form.page.clamp(1, LAST_PAGE);
    let shown = u64::try_from(current * PER_PAGE).unwrap_or(u64::MAX);
    let more = results.total > shown && current < LAST_PAGE;
    html! {
        nav class="pagination" aria-label="Pages" {
            @if current > 1 {
                a rel="prev" href=(form.link(&[("page", (current - 1).to_string())])) { "← Previous" }
            }
            span aria-current="page" { "Page " (current) }
            @if more {
                a rel="next" href=(form.link(&[("page", (current + 1).to_string())])) { "Next →" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").expect("valid")
    }

    #[test]
    fn the_form_becomes_one_filter_per_field() {
        let form = SearchForm {
            industry: "Finance".into(),
            skills: "Rust, \"Go\"".into(),
            max_price: "90".into(),
            min_rating: "4.5".into(),
            within_days: "7".into(),
            ..SearchForm::default()
        };
        let request = form.request(usd()).expect("valid");
        assert_eq!(request.kinds, Some(vec!["experts".to_owned()]));
        assert_eq!(
            request.filter.expect("valid"),
            serde_json::json!([
                "industry = \"Finance\"",
                "skills IN [\"Rust\", \"\\\"Go\\\"\"]",
                "hourly_rate <= 9000",
                "rating >= 4.5",
                "bookable_within_days <= 7"
            ])
        );
    }

    #[test]
    fn without_expert_filters_every_kind_is_searched() {
        let form = SearchForm::default();
        let request = form.request(usd()).expect("valid");
        assert_eq!(
            request.kinds.expect("valid"),
            ["experts", "content", "dropins"]
        );
        assert!(request.filter.is_none() && request.facets.is_none());
        assert_eq!(request.offset, Some(0));
    }

    #[test]
    fn bad_numbers_are_told_not_sent() {
        let form = SearchForm {
            min_price: "ten".into(),
            ..SearchForm::default()
        };
        assert!(
            form.request(usd())
                .expect_err("refused")
                .contains("lowest price")
        );
        let form = SearchForm {
            within_days: "-1".into(),
            ..SearchForm::default()
        };
        assert!(form.request(usd()).is_err());
    }

    #[test]
    fn links_keep_the_search_and_change_one_field() {
        let form = SearchForm {
            q: "tax & audit".into(),
            page: 3,
            ..SearchForm::default()
        };
        assert_eq!(
            form.link(&[("industry", "Finance".into())]),
            "/?q=tax%20%26%20audit&industry=Finance"
        );
    }
}

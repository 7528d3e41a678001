//! The account pages through HTTP as a browser sends them (forms, cookies,
//! the CSRF token): the profile form saves (the rate as minor units), shows
//! a refusal with 400, and takes a new currency only with a rate typed in
//! it or the rate shown confirmed in it (saved again after the refusal);
//! form posts count against the account's write limit; a form without its
//! CSRF token is refused with 403 and changes nothing. The form helpers
//! here serve the other page tests. Signing up and the public origin are in
//! `pages_signup.rs`, the drop-in pages in `pages_dropin.rs`, the content
//! pages in `pages_content.rs`, and the availability and earnings forms in
//! `pages_schedule.rs`.

use droply_models::UserId;

use crate::app::{Response, TestApp, spawn_app};
use crate::page_cookies::{csrf, page_csrf};

/// The content type of a form post.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// `POST path` as a form with `fields`, the cookies in `cookie`.
pub(crate) fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> Response {
    let body = fields
        .iter()
        .map(|(key, value)| format!("{key}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    app.send(
        "POST",
        path,
        Some(&body),
        None,
        &[("Content-Type", FORM), ("Cookie", cookie)],
    )
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A GET with the cookies in `cookie`.
pub(crate) fn get_with(app: &TestApp, path: &str, cookie: &str) -> Response {
    app.send("GET", path, None, None, &[("Cookie", cookie)])
}

/// A signed-in browser: its cookie header and CSRF token, for an account
/// made through the API.
pub(crate) fn browser(app: &TestApp, token: &str) -> (String, String) {
    let cookie = format!("droply_csrf={}; droply_session={token}", csrf(app));
    let csrf = page_csrf(app, &cookie);
    (cookie, csrf)
}

fn profile_fields<'a>(csrf: &'a str, rate: &'a str, website: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("full_name", "Paula Pages"),
        ("bio", "I answer questions about taxes."),
        ("industry", "Finance"),
        ("profession", "Tax Advisor"),
        ("location", "Berlin"),
        ("skills_1", "VAT"),
        ("skills_2", ""),
        ("skills_3", ""),
        ("tags", "tax, vat ,  freelancers"),
        ("website_url", website),
        ("linkedin_url", ""),
        ("github_url", ""),
        ("twitter_url", ""),
        ("timezone", "Europe/Berlin"),
        ("currency", "USD"),
        ("hourly_rate", rate),
        ("session_duration", "45"),
        ("service_description", "A review of your return."),
        ("is_available", "on"),
    ]
}

/// [`profile_fields`] with `currency` chosen.
fn profile_fields_in<'a>(
    csrf: &'a str,
    currency: &'a str,
    rate: &'a str,
) -> Vec<(&'a str, &'a str)> {
    profile_fields(csrf, rate, "")
        .into_iter()
        .map(|(key, value)| (key, if key == "currency" { currency } else { value }))
        .collect()
}

#[test]
fn the_profile_form_saves_rates_as_minor_units_and_shows_a_refusal_with_400() {
    let app = spawn_app();
    let (id, token) = app.register("paula");
    let (cookie, csrf) = browser(&app, &token);
    let form = get_with(&app, "/account/profile", &cookie);
    assert_eq!(form.status, 200, "{}", form.raw);

    let saved = post_form(
        &app,
        "/account/profile",
        &cookie,
        &profile_fields(&csrf, "90.50", "https://paula.example"),
    );
    assert_eq!(saved.status, 303, "{}", saved.raw);
    assert_eq!(saved.header("location"), Some("/account/profile?saved=1"));
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.full_name, "Paula Pages");
    assert_eq!(user.hourly_rate.map(|m| m.amount_minor), Some(9050));
    assert_eq!(user.session_duration, 45);
    assert_eq!(user.specialty_tags, ["tax", "vat", "freelancers"]);
    assert_eq!(user.timezone.as_str(), "Europe/Berlin");
    assert!(user.is_available);
    let shown = get_with(&app, "/account/profile?saved=1", &cookie);
    assert!(shown.raw.contains("value=\"90.50\""), "{}", shown.raw);

    let refused = post_form(
        &app,
        "/account/profile",
        &cookie,
        &profile_fields(&csrf, "90.505", "https://paula.example"),
    );
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert!(refused.raw.contains("role=\"alert\""), "{}", refused.raw);
    assert!(refused.raw.contains("90.505"), "what was typed stays");
    let bad_link = post_form(
        &app,
        "/account/profile",
        &cookie,
        &profile_fields(&csrf, "80", "not a link"),
    );
    assert_eq!(bad_link.status, 400, "{}", bad_link.raw);
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.hourly_rate.map(|m| m.amount_minor), Some(9050));
}

/// Regression: the profile form always sends the rate, so choosing another currency and
/// leaving the rate as shown read the old rate's digits in the new currency: JPY 9000
/// an hour became EUR 9,000.00.
#[test]
fn a_new_currency_in_the_profile_form_needs_a_rate_typed_in_it() {
    let app = spawn_app();
    let (id, token) = app.register("jun");
    let yen = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r#"{"currency":"JPY","hourly_rate":9000}"#),
    );
    assert_eq!(yen.status, 200, "{}", yen.raw);
    let (cookie, csrf) = browser(&app, &token);
    let form = get_with(&app, "/account/profile", &cookie);
    assert!(form.raw.contains("value=\"9000\""), "{}", form.raw);
    assert!(form.raw.contains(RATE_IN_JPY), "{}", form.raw);

    // A post without the form's `rate_currency` (a page from before it).
    let as_shown = post_form(
        &app,
        "/account/profile",
        &cookie,
        &profile_fields_in(&csrf, "EUR", "9000"),
    );
    assert_eq!(as_shown.status, 400, "{}", as_shown.raw);
    assert!(
        as_shown.raw.contains("enter your hourly rate in EUR"),
        "{}",
        as_shown.raw
    );
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.currency.as_str(), "JPY");
    assert_eq!(user.hourly_rate.map(|m| m.amount_minor), Some(9000));

    // The form as the page sends it: the rate is shown in JPY.
    let from_the_page = post_form(
        &app,
        "/account/profile",
        &cookie,
        &with_rate_currency(profile_fields_in(&csrf, "EUR", "9000"), "JPY"),
    );
    assert_eq!(from_the_page.status, 400, "{}", from_the_page.raw);
    assert!(
        from_the_page.raw.contains(
            "Your rate is shown as you had it in JPY: check that it is what you want in EUR \
             and save again"
        ),
        "{}",
        from_the_page.raw
    );
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.currency.as_str(), "JPY");
    assert_eq!(user.hourly_rate.map(|m| m.amount_minor), Some(9000));

    let typed = post_form(
        &app,
        "/account/profile",
        &cookie,
        &with_rate_currency(profile_fields_in(&csrf, "EUR", "60"), "JPY"),
    );
    assert_eq!(typed.status, 303, "{}", typed.raw);
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.currency.as_str(), "EUR");
    assert_eq!(user.hourly_rate.map(|m| m.amount_minor), Some(6000));
}

/// The hidden field saying the profile form's rate is shown in JPY.
const RATE_IN_JPY: &str = r#"name="rate_currency" value="JPY""#;

/// `fields` with the profile form's hidden `rate_currency`.
fn with_rate_currency<'a>(
    mut fields: Vec<(&'a str, &'a str)>,
    rate_currency: &'a str,
) -> Vec<(&'a str, &'a str)> {
    fields.push(("rate_currency", rate_currency));
    fields
}

/// Regression: the guard against a new currency with the rate left as shown
/// also refused an expert at EUR 90.00 who switched to USD meaning USD 90.00,
/// and refused the rate retyped as well: there was no way to save it. The
/// refusal now shows the form with its rate taken as one in the new
/// currency, and saving that again is the confirmation.
#[test]
fn a_rate_kept_across_a_currency_change_is_saved_once_confirmed() {
    let app = spawn_app();
    let (id, token) = app.register("eva");
    let euro = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r#"{"currency":"EUR","hourly_rate":9000}"#),
    );
    assert_eq!(euro.status, 200, "{}", euro.raw);
    let (cookie, csrf) = browser(&app, &token);
    let form = get_with(&app, "/account/profile", &cookie);
    assert!(form.raw.contains("value=\"90.00\""), "{}", form.raw);
    assert!(
        form.raw.contains(r#"name="rate_currency" value="EUR""#),
        "{}",
        form.raw
    );

    let refused = post_form(
        &app,
        "/account/profile",
        &cookie,
        &with_rate_currency(profile_fields_in(&csrf, "USD", "90.00"), "EUR"),
    );
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert!(
        refused.raw.contains(
            "Your rate is shown as you had it in EUR: check that it is what you want in USD \
             and save again"
        ),
        "{}",
        refused.raw
    );
    assert!(
        refused.raw.contains(r#"name="rate_currency" value="USD""#),
        "the page shown again takes its rate as one in USD: {}",
        refused.raw
    );
    assert!(refused.raw.contains("value=\"90.00\""), "the rate as typed");
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.currency.as_str(), "EUR");
    assert_eq!(user.hourly_rate.map(|m| m.amount_minor), Some(9000));

    let confirmed = post_form(
        &app,
        "/account/profile",
        &cookie,
        &with_rate_currency(profile_fields_in(&csrf, "USD", "90.00"), "USD"),
    );
    assert_eq!(confirmed.status, 303, "{}", confirmed.raw);
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.currency.as_str(), "USD");
    assert_eq!(user.hourly_rate.map(|m| m.amount_minor), Some(9000));
}

/// Regression: a signed-in browser's form posts never counted against the
/// account's write limit (only bearer-token writes did), so one account
/// could save its profile, and re-embed it, without bound.
#[test]
fn form_posts_count_against_the_accounts_write_limit() {
    let app = crate::app::spawn_app_limited(
        droply_server::limits::Limits {
            account_write_rate: droply_server::limits::Rate::new(60, 2),
            ..crate::app::test_limits()
        },
        |config| config,
    );
    let (_, token) = app.register("paula");
    let (cookie, csrf) = browser(&app, &token);
    let fields = profile_fields(&csrf, "90", "");
    for _ in 0..2 {
        let saved = post_form(&app, "/account/profile", &cookie, &fields);
        assert_eq!(saved.status, 303, "{}", saved.raw);
    }
    let limited = post_form(&app, "/account/profile", &cookie, &fields);
    assert_eq!(limited.status, 429, "{}", limited.raw);
    // The same account's API writes share the limit.
    let api = app.authed("PATCH", "/v1/users/me", &token, Some(r#"{"bio":"more"}"#));
    assert_eq!(api.status, 429, "{}", api.raw);
    // Pages that only read go on.
    assert_eq!(get_with(&app, "/account/profile", &cookie).status, 200);
}

#[test]
fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app();
    let (id, token) = app.register("carl");
    let (cookie, csrf) = browser(&app, &token);
    let mut fields = profile_fields(&csrf, "70", "");
    fields.retain(|(key, _)| *key != "_csrf");
    let refused = post_form(&app, "/account/profile", &cookie, &fields);
    assert_eq!(refused.status, 403, "{}", refused.raw);
    let wrong = post_form(
        &app,
        "/account/branding",
        &cookie,
        &[
            ("_csrf", &"0".repeat(64)),
            ("background_color", "#000000"),
            ("primary_color", "#FFFFFF"),
            ("secondary_color", "#FFFFFF"),
            ("font_family", "lato"),
            ("font_size", "20"),
            ("profile_layout", "grid"),
        ],
    );
    assert_eq!(wrong.status, 403, "{}", wrong.raw);
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.full_name, "carl Person");
    assert_eq!(user.hourly_rate, None);
    assert_ne!(user.background_color.as_str(), "#000000");

    let branded = post_form(
        &app,
        "/account/branding",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("background_color", "#888888"),
            ("primary_color", "#3B4CCA"),
            ("secondary_color", "#777777"),
            ("font_family", "lato"),
            ("font_size", "20"),
            ("profile_layout", "grid"),
        ],
    );
    assert_eq!(branded.status, 303, "{}", branded.raw);
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.background_color.as_str(), "#888888");
    assert_eq!(user.profile_layout.as_str(), "grid");
    let page = get_with(&app, "/account/branding?saved=1", &cookie);
    assert!(
        page.raw.contains("contrast-warning"),
        "the saved colours are checked: {}",
        page.raw
    );
}

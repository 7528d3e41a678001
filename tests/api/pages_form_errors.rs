//! What a refused form tells people, through HTTP as a browser sends it:
//! the profile, sign-up and payout forms answer 400 with a sentence that
//! names the refused field by the label the form shows (never the API's
//! field name, `invalid hourly_rate: ...`, nor an API route such as
//! `POST /v1/...`); the refused field carries `aria-invalid="true"` and an
//! `aria-describedby` whose first id is the message shown next to it, the
//! `role="alert"` summary stays, and what was typed is shown again.

use crate::app::{Response, TestApp, spawn_app, spawn_app_paying};
use crate::page_cookies::csrf;
use crate::pages_account::{browser, post_form};

/// The start tag `<{element} id="{id}" ...>` in `raw`.
fn start_tag<'a>(raw: &'a str, element: &str, id: &str) -> &'a str {
    let start = raw
        .find(&format!("<{element} id=\"{id}\""))
        .unwrap_or_else(|| panic!("no <{element} id={id}> in {raw}"));
    let end = raw[start..].find('>').expect("the tag ends") + start;
    &raw[start..=end]
}

/// The value of attribute `name` in the start tag `tag`.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

/// The text of the element whose id is `id`.
fn text_of<'a>(raw: &'a str, id: &str) -> &'a str {
    let start = raw
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element with id {id} in {raw}"));
    let open = raw[start..].find('>').expect("the tag ends") + start + 1;
    let close = raw[open..].find('<').expect("the element ends") + open;
    &raw[open..close]
}

/// Asserts that the field `<{element} id="{id}">` of `page` is marked
/// refused, described first by a message next to it that holds `label`;
/// the message's text.
fn assert_marked<'a>(page: &'a Response, element: &str, id: &str, label: &str) -> &'a str {
    let tag = start_tag(&page.raw, element, id);
    assert_eq!(attribute(tag, "aria-invalid"), Some("true"), "{tag}");
    let described = attribute(tag, "aria-describedby").expect("aria-describedby");
    let message_id = described.split_whitespace().next().expect("an id");
    assert_eq!(message_id, format!("{id}-error"), "{tag}");
    let message = text_of(&page.raw, message_id);
    assert!(message.starts_with(&format!("{label}: ")), "{message}");
    assert!(
        page.raw.contains(&format!("role=\"alert\">{message}<")),
        "the summary says the same: {}",
        page.raw
    );
    message
}

/// Asserts that `page` names no API field or route the way the API does.
fn assert_no_api_words(page: &Response, api_field: &str) {
    for word in [format!("invalid {api_field}"), "/v1/".to_owned()] {
        assert!(!page.raw.contains(&word), "{word}: {}", page.raw);
    }
}

/// Every field of the profile form, as in `pages_account.rs`, with
/// `changes` made.
fn profile_form<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let fields = [
        ("_csrf", csrf),
        ("full_name", "Typed Name"),
        ("bio", "Typed bio."),
        ("industry", "Finance"),
        ("profession", "Tax Advisor"),
        ("location", "Berlin"),
        ("skills_1", "VAT"),
        ("skills_2", ""),
        ("skills_3", ""),
        ("tags", "tax, vat"),
        ("website_url", ""),
        ("linkedin_url", ""),
        ("github_url", ""),
        ("twitter_url", ""),
        ("timezone", "Europe/Berlin"),
        ("currency", "USD"),
        ("hourly_rate", "90"),
        ("session_duration", "45"),
        ("service_description", "A review of your return."),
        ("is_available", "on"),
    ];
    fields
        .into_iter()
        .map(|(key, value)| {
            let changed = changes.iter().find(|(name, _)| *name == key);
            (key, changed.map_or(value, |(_, value)| *value))
        })
        .collect()
}

/// Regression: a refused rate showed the model's `invalid hourly_rate:
/// must be greater than zero` and left the rate input unmarked.
#[test]
fn a_refused_profile_rate_is_named_by_its_label_marked_on_its_input_and_kept_as_typed() {
    let app = spawn_app();
    let (_, token) = app.register("fiona");
    let (cookie, csrf) = browser(&app, &token);

    let refused = post_form(
        &app,
        "/account/profile",
        &cookie,
        &profile_form(&csrf, &[("hourly_rate", "0")]),
    );
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert_no_api_words(&refused, "hourly_rate");
    let message = assert_marked(&refused, "input", "hourly_rate", "Hourly rate");
    assert_eq!(message, "Hourly rate: must be greater than zero.");
    let rate = start_tag(&refused.raw, "input", "hourly_rate");
    assert_eq!(attribute(rate, "value"), Some("0"), "the rate as typed");
    assert_eq!(
        attribute(rate, "aria-describedby"),
        Some("hourly_rate-error rate-help"),
        "its help text still describes it"
    );
    let name = start_tag(&refused.raw, "input", "full_name");
    assert_eq!(
        attribute(name, "value"),
        Some("Typed Name"),
        "not the stored name"
    );
    assert_eq!(
        attribute(name, "aria-invalid"),
        None,
        "only the refused field"
    );
    assert!(refused.raw.contains("Typed bio."), "{}", refused.raw);
}

/// Regression: a link that is not one was refused as `invalid url: ...`
/// (the parser's name, not the field's), so nothing said which link.
#[test]
fn a_refused_profile_link_names_the_link_by_its_label_not_the_url_parser() {
    let app = spawn_app();
    let (_, token) = app.register("gustav");
    let (cookie, csrf) = browser(&app, &token);

    let refused = post_form(
        &app,
        "/account/profile",
        &cookie,
        &profile_form(&csrf, &[("github_url", "github.com/gustav")]),
    );
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert_no_api_words(&refused, "url");
    assert_no_api_words(&refused, "github_url");
    assert_marked(&refused, "input", "github_url", "GitHub");
    let link = start_tag(&refused.raw, "input", "github_url");
    assert_eq!(attribute(link, "value"), Some("github.com/gustav"));
    let website = start_tag(&refused.raw, "input", "website_url");
    assert_eq!(attribute(website, "aria-invalid"), None);
}

/// Signs up through the form with `email` and `password`; the answer.
fn sign_up(app: &TestApp, email: &str, password: &str) -> Response {
    let csrf = csrf(app);
    post_form(
        app,
        "/signup",
        &format!("droply_csrf={csrf}"),
        &[
            ("_csrf", &csrf),
            ("full_name", "Hanna Typed"),
            ("username", "hanna_typed"),
            ("email", email),
            ("password", password),
            ("currency", "EUR"),
            ("timezone", "Europe/Paris"),
        ],
    )
}

/// Regression: sign-up showed `invalid email: must contain one @` above the
/// form and left the email input unmarked.
#[test]
fn sign_up_with_a_bad_email_marks_the_email_input_names_it_email_and_keeps_what_was_typed() {
    let app = spawn_app();
    let refused = sign_up(&app, "hanna.example.com", "a-long-password");
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert_no_api_words(&refused, "email");
    let message = assert_marked(&refused, "input", "email", "Email");
    assert_eq!(message, "Email: must contain one @.");
    let email = start_tag(&refused.raw, "input", "email");
    assert_eq!(attribute(email, "value"), Some("hanna.example.com"));
    let name = start_tag(&refused.raw, "input", "full_name");
    assert_eq!(attribute(name, "value"), Some("Hanna Typed"));
    assert_eq!(attribute(name, "aria-invalid"), None);
    let username = start_tag(&refused.raw, "input", "username");
    assert_eq!(attribute(username, "value"), Some("hanna_typed"));
    assert_eq!(
        attribute(username, "aria-describedby"),
        Some("username-help"),
        "an unrefused field keeps only its help"
    );
    assert!(
        !refused.raw.contains("a-long-password"),
        "never the password"
    );
}

/// Regression: a short password showed `invalid password: must be 8 to 128
/// characters` and left the password input unmarked.
#[test]
fn sign_up_with_a_short_password_marks_the_password_input_and_never_shows_it() {
    let app = spawn_app();
    let refused = sign_up(&app, "hanna@example.com", "short");
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert_no_api_words(&refused, "password");
    let message = assert_marked(&refused, "input", "password", "Password");
    assert_eq!(message, "Password: must be 8 to 128 characters.");
    let password = start_tag(&refused.raw, "input", "password");
    assert_eq!(
        attribute(password, "aria-describedby"),
        Some("password-error password-help")
    );
    assert_eq!(attribute(password, "value"), None, "never the password");
    let email = start_tag(&refused.raw, "input", "email");
    assert_eq!(attribute(email, "value"), Some("hanna@example.com"));
}

/// Regression: the earnings page showed the engine's `payouts are not
/// enabled: finish payout onboarding first (POST /v1/payouts/onboarding)`.
#[test]
fn a_refused_payout_names_no_api_route_on_the_earnings_page() {
    let app = spawn_app_paying();
    let (_, token) = app.register("ivo");
    let (cookie, csrf) = browser(&app, &token);

    let refused = post_form(
        &app,
        "/account/payouts",
        &cookie,
        &[("_csrf", &csrf), ("amount", ""), ("last_payout", "none")],
    );
    assert_eq!(refused.status, 400, "{}", refused.raw);
    assert!(refused.raw.contains("role=\"alert\""), "{}", refused.raw);
    assert!(
        refused.raw.contains("finish payout onboarding first."),
        "{}",
        refused.raw
    );
    assert!(!refused.raw.contains("/v1/"), "{}", refused.raw);
}

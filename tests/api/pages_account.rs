//! The account, drop-in and content pages through HTTP as a browser sends
//! it (forms, cookies, the CSRF token): signing up sets an HttpOnly,
//! `SameSite=Lax` session cookie that `/account` then recognises; the
//! profile form saves (the rate as minor units), shows a refusal with
//! 400, and takes a new currency only with a rate typed in it or the
//! rate shown confirmed in it (saved again after the refusal); a form
//! without its CSRF token is refused with 403 and changes nothing; the
//! drop-in socket takes the participant cookie from this
//! site's origin only; a content file downloads for a buyer and is 404 to
//! anyone else. The availability and earnings forms are in
//! `pages_schedule.rs`.

use droply_models::UserId;
use serde_json::json;

use crate::app::{Response, TestApp, spawn_app};
use crate::content::published_guide;
use crate::dropins::{expert, open};
use crate::page_cookies::{cookie_value, csrf, handshake, page_csrf, set_cookies};

const FORM: &str = "application/x-www-form-urlencoded";

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
fn signing_up_sets_an_http_only_lax_session_cookie_and_the_account_shows_the_user() {
    let app = spawn_app();
    let csrf = csrf(&app);
    let cookie = format!("droply_csrf={csrf}");
    let signed_up = post_form(
        &app,
        "/signup",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("full_name", "Sam Signup"),
            ("username", "sam_signup"),
            ("email", "sam@example.com"),
            ("password", "a-long-password"),
            ("currency", "EUR"),
            ("timezone", "Europe/Paris"),
        ],
    );
    assert_eq!(signed_up.status, 303, "{}", signed_up.raw);
    assert_eq!(signed_up.header("location"), Some("/account"));
    let session_cookie = set_cookies(&signed_up)
        .into_iter()
        .find(|c| c.starts_with("droply_session="))
        .expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    let session = cookie_value(&signed_up, "droply_session").expect("session");

    let account = get_with(
        &app,
        "/account",
        &format!("droply_csrf={csrf}; droply_session={session}"),
    );
    assert_eq!(account.status, 200, "{}", account.raw);
    assert!(account.raw.contains("Sam Signup"), "{}", account.raw);
    assert!(account.raw.contains("@sam_signup"));
    assert!(account.raw.contains("/signup?ref="), "the referral link");
    assert!(!account.raw.contains(&session), "no token in the page");

    let anonymous = app.get("/account");
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header("location"), Some("/signin?next=/account"));
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

#[test]
fn the_dropin_cookie_opens_the_socket_from_this_site_only() {
    let app = spawn_app();
    let (_, host) = expert(&app, "hosta");
    let dropin = open(
        &app,
        &host,
        json!({"topic": "Taxes, live", "is_anonymous": true}),
    );
    let (id, code) = (
        dropin["id"].as_u64().expect("id"),
        dropin["session_code"].as_str().expect("code").to_owned(),
    );
    let csrf = csrf(&app);
    let cookie = format!("droply_csrf={csrf}");
    let page = get_with(&app, &format!("/d/{code}"), &cookie);
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(page.raw.contains("Display name"), "an anonymous join form");
    let joined = post_form(
        &app,
        &format!("/d/{code}/join"),
        &cookie,
        &[("_csrf", &csrf), ("display_name", "Quiet Guest")],
    );
    assert_eq!(joined.status, 303, "{}", joined.raw);
    let token_cookie = set_cookies(&joined)
        .into_iter()
        .find(|c| c.starts_with("droply_dropin="))
        .expect("the participant cookie");
    assert!(
        token_cookie.contains(&format!("Path=/v1/dropins/{id}/live"))
            && token_cookie.contains("HttpOnly")
            && token_cookie.contains("SameSite=Strict"),
        "{token_cookie}"
    );
    let participant = cookie_value(&joined, "droply_dropin").expect("token");
    let marker = cookie_value(&joined, "droply_dropin_joined").expect("marker");
    let room = get_with(
        &app,
        &format!("/d/{code}"),
        &format!("{cookie}; droply_dropin_joined={marker}"),
    );
    assert!(room.raw.contains("id=\"messages\""), "{}", room.raw);
    assert!(!room.raw.contains(&participant), "no token in the page");

    let live = format!("/v1/dropins/{id}/live");
    let with_cookie = ("Cookie", format!("droply_dropin={participant}"));
    let foreign = handshake(
        &app,
        &live,
        &[
            with_cookie.clone(),
            ("Origin", "https://evil.example".to_owned()),
        ],
    );
    assert_eq!(foreign.0, 403, "cross-site WebSocket hijacking");
    assert_eq!(
        handshake(&app, &live, std::slice::from_ref(&with_cookie)).0,
        403,
        "a cookie without an Origin"
    );
    let (status, welcome) = handshake(
        &app,
        &live,
        &[with_cookie, ("Origin", format!("http://{}", app.addr))],
    );
    assert_eq!(status, 101);
    let welcome = welcome.expect("a welcome frame");
    assert_eq!(welcome["kind"], "welcome");
    assert_eq!(welcome["you"]["display_name"], "Quiet Guest");
    assert!(welcome["you"].get("user_id").is_none());
}

/// Regression: signing out left the drop-in pass cookie behind, and whoever used
/// the browser next entered the room as the account that had joined.
#[test]
fn a_signed_in_participants_pass_cookie_opens_the_room_only_beside_their_session() {
    let app = spawn_app();
    let (_, host) = expert(&app, "hostb");
    let dropin = open(
        &app,
        &host,
        json!({"topic": "Named room", "is_anonymous": false}),
    );
    let (id, code) = (
        dropin["id"].as_u64().expect("id"),
        dropin["session_code"].as_str().expect("code").to_owned(),
    );
    let (_, ann) = app.register("annjoins");
    let (_, ben) = app.register("bennext");
    let (cookie, csrf) = browser(&app, &ann);
    let joined = post_form(
        &app,
        &format!("/d/{code}/join"),
        &cookie,
        &[("_csrf", &csrf)],
    );
    assert_eq!(joined.status, 303, "{}", joined.raw);
    let pass = cookie_value(&joined, "droply_dropin").expect("the participant cookie");
    let live = format!("/v1/dropins/{id}/live");
    let origin = ("Origin", format!("http://{}", app.addr));
    let with = |session: Option<&str>| {
        let mut cookie = format!("droply_dropin={pass}");
        if let Some(session) = session {
            cookie.push_str(&format!("; droply_session={session}"));
        }
        handshake(&app, &live, &[("Cookie", cookie), origin.clone()]).0
    };
    assert_eq!(with(Some(&ann)), 101, "ann, signed in");
    assert_eq!(with(None), 401, "signed out");
    assert_eq!(with(Some(&ben)), 401, "another account on the same browser");
}

#[test]
fn a_content_file_downloads_for_its_buyer_and_is_404_to_anyone_else() {
    let app = spawn_app();
    let (_, ann) = app.register("anncreator");
    let (_, bob) = app.register("bobbuyer");
    let (_, eve) = app.register("evestranger");
    let id = published_guide(&app, &ann, "Free tax guide", 0);
    let download = format!("/c/{id}/download");

    let page = app.get(&format!("/c/{id}"));
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(page.raw.contains("Free tax guide") && page.raw.contains("/@anncreator"));
    assert!(!page.raw.contains("file_path") && !page.raw.contains("sha256"));
    assert_eq!(app.fetch(&download, None, &[]).status, 404, "anonymous");
    let eve_cookie = format!("droply_session={eve}");
    let stranger = app.fetch(&download, None, &[("Cookie", &eve_cookie)]);
    assert_eq!(stranger.status, 404, "a stranger");
    let bearer_only = app.fetch(&download, Some(&bob), &[]);
    assert_eq!(bearer_only.status, 404, "the page takes the cookie only");

    let (cookie, csrf) = browser(&app, &bob);
    let bought = post_form(&app, &format!("/c/{id}/buy"), &cookie, &[("_csrf", &csrf)]);
    assert_eq!(bought.status, 303, "{}", bought.raw);
    assert_eq!(
        bought.header("location").map(str::to_owned),
        Some(format!("/c/{id}?bought=1"))
    );
    let file = app.fetch(&download, None, &[("Cookie", &cookie)]);
    assert_eq!(file.status, 200, "{}", file.head);
    assert_eq!(file.body, crate::content::pdf(3 << 20));
    assert!(
        file.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment")),
        "{}",
        file.head
    );
    // Regression: a download signed in by its cookie had no cache policy, so a
    // shared cache could keep the bought file and give it to anyone.
    let part = app.fetch(
        &download,
        None,
        &[("Cookie", &cookie), ("Range", "bytes=0-9")],
    );
    assert_eq!(part.status, 206, "{}", part.head);
    for answer in [&file, &part] {
        assert_eq!(
            answer.header("cache-control"),
            Some("private, no-store"),
            "{}",
            answer.head
        );
    }
    let creator = app.fetch(
        &download,
        None,
        &[("Cookie", &format!("droply_session={ann}"))],
    );
    assert_eq!(creator.status, 200, "the creator");
    let shown = get_with(&app, &format!("/c/{id}"), &cookie);
    assert!(
        shown.raw.contains(&download),
        "a download link for the buyer"
    );
}

#[test]
fn paid_content_without_payments_says_so_and_offers_no_buy_button() {
    let app = spawn_app();
    let (ann_id, ann) = app.register("annseller");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bobwould");
    let id = published_guide(&app, &ann, "Paid tax guide", 1500);
    let (cookie, _) = browser(&app, &bob);
    let page = get_with(&app, &format!("/c/{id}"), &cookie);
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(page.raw.contains("$15.00"), "{}", page.raw);
    assert!(
        page.raw.contains("Payments are unavailable"),
        "{}",
        page.raw
    );
    assert!(!page.raw.contains(&format!("action=\"/c/{id}/buy\"")));
    assert!(
        !page.raw.contains("js.stripe.com"),
        "no Stripe.js without payments"
    );
}

/// Regression: "Get it free" sent twice answered the 409 "Conflict" page,
/// and `?bought=1` told anyone, buyer or not, that the content was theirs.
#[test]
fn getting_free_content_twice_goes_back_to_it_and_only_its_holder_is_told_it_is_theirs() {
    let app = spawn_app();
    let (_, ann) = app.register("anngiver");
    let (_, bob) = app.register("bobtwice");
    let (_, eve) = app.register("evelooker");
    let id = published_guide(&app, &ann, "Free twice guide", 0);
    let bought_page = format!("/c/{id}?bought=1");

    let (cookie, csrf) = browser(&app, &bob);
    for attempt in ["first", "second"] {
        let bought = post_form(&app, &format!("/c/{id}/buy"), &cookie, &[("_csrf", &csrf)]);
        assert_eq!(bought.status, 303, "{attempt}: {}", bought.raw);
        assert_eq!(
            bought.header("location").map(str::to_owned),
            Some(bought_page.clone()),
            "{attempt}"
        );
    }
    let holder = get_with(&app, &bought_page, &cookie);
    assert_eq!(holder.status, 200, "{}", holder.raw);
    assert!(holder.raw.contains("It is yours"), "{}", holder.raw);

    let (eve_cookie, _) = browser(&app, &eve);
    let stranger = get_with(&app, &bought_page, &eve_cookie);
    assert_eq!(stranger.status, 200, "{}", stranger.raw);
    assert!(!stranger.raw.contains("It is yours"), "{}", stranger.raw);
    let anonymous = app.get(&bought_page);
    assert_eq!(anonymous.status, 200, "{}", anonymous.raw);
    assert!(!anonymous.raw.contains("It is yours"), "{}", anonymous.raw);
}

/// Signs up through the sign-up form with `next`; the answer.
fn sign_up_with_next(app: &TestApp, name: &str, next: &str) -> Response {
    let csrf = csrf(app);
    let cookie = format!("droply_csrf={csrf}");
    let email = format!("{name}@example.com");
    post_form(
        app,
        "/signup",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("full_name", "Nina Next"),
            ("username", name),
            ("email", &email),
            ("password", "a-long-password"),
            ("currency", "USD"),
            ("timezone", "Europe/Paris"),
            ("next", next),
        ],
    )
}

/// Regression: signing up forgot `next` (the sign-in page's "Create an
/// account" link dropped it and sign-up always went to `/account`).
#[test]
fn signing_up_goes_to_the_local_next_path_and_never_off_site() {
    let app = spawn_app();
    let sign_in = app.get("/signin?next=/%40someone");
    assert_eq!(sign_in.status, 200, "{}", sign_in.raw);
    assert!(
        sign_in.raw.contains("href=\"/signup?next=/%40someone\""),
        "{}",
        sign_in.raw
    );
    let sign_up = app.get("/signup?next=/%40someone");
    assert_eq!(sign_up.status, 200, "{}", sign_up.raw);
    assert!(
        sign_up.raw.contains("name=\"next\" value=\"/@someone\""),
        "{}",
        sign_up.raw
    );

    let local = sign_up_with_next(&app, "nina_next", "/@someone");
    assert_eq!(local.status, 303, "{}", local.raw);
    assert_eq!(local.header("location"), Some("/@someone"));

    let off_site = sign_up_with_next(&app, "otto_next", "//evil.test");
    assert_eq!(off_site.status, 303, "{}", off_site.raw);
    let location = off_site.header("location").expect("a location");
    assert!(location == "/" || location == "/account", "{location}");
}

/// The real app with its pages served as behind `public_url`, reached on
/// loopback (as behind a proxy that rewrites `Host`).
fn spawn_app_behind(public_url: &str) -> TestApp {
    let pages = droply_server::pages::PageSettings::for_public_url(public_url, None);
    crate::app::spawn_router(move |state| droply_server::http::router(state.with_pages(pages)))
}

/// The branding form, as [`a_form_without_its_csrf_token_is_refused_and_changes_nothing`]
/// sends it, from `origin`.
fn post_branding_from(app: &TestApp, cookie: &str, csrf: &str, origin: &str) -> Response {
    let body = format!(
        "_csrf={csrf}&background_color=%23888888&primary_color=%233B4CCA\
         &secondary_color=%23777777&font_family=lato&font_size=20&profile_layout=grid"
    );
    app.send(
        "POST",
        "/account/branding",
        Some(&body),
        None,
        &[
            ("Content-Type", FORM),
            ("Cookie", cookie),
            ("Origin", origin),
        ],
    )
}

/// Regression: the referral link was the bare path `/signup?ref=...`, which
/// goes nowhere pasted in a message; it is on the public origin.
#[test]
fn the_referral_link_is_absolute_on_the_public_origin() {
    // Without a configured public URL: `droply serve`'s default.
    let app = spawn_app();
    let (_, token) = app.register("rita");
    let (cookie, _) = browser(&app, &token);
    let account = get_with(&app, "/account", &cookie);
    assert_eq!(account.status, 200, "{}", account.raw);
    assert!(
        account
            .raw
            .contains("value=\"http://localhost:8080/signup?ref="),
        "{}",
        account.raw
    );
    assert!(
        account
            .raw
            .contains("href=\"http://localhost:8080/signup?ref="),
        "{}",
        account.raw
    );
    assert!(
        !account.raw.contains("value=\"/signup?ref="),
        "{}",
        account.raw
    );

    let app = spawn_app_behind("http://droply.example:8080/");
    let (_, token) = app.register("rafa");
    let (cookie, _) = browser(&app, &token);
    let account = get_with(&app, "/account", &cookie);
    assert_eq!(account.status, 200, "{}", account.raw);
    assert!(
        account
            .raw
            .contains("value=\"http://droply.example:8080/signup?ref="),
        "{}",
        account.raw
    );
}

/// Regression: behind a proxy that rewrites `Host` (nginx's default), the
/// browser's `Origin` (the public URL's) never named the `Host`, and every
/// page form was refused with 403.
#[test]
fn a_form_from_the_public_origin_is_accepted_whatever_host_the_proxy_sends() {
    let app = spawn_app_behind("http://droply.example:8080");
    let (id, token) = app.register("prox");
    let (cookie, csrf) = browser(&app, &token);
    let foreign = post_branding_from(&app, &cookie, &csrf, "http://evil.test");
    assert_eq!(foreign.status, 403, "{}", foreign.raw);
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_ne!(user.background_color.as_str(), "#888888");

    let public = post_branding_from(&app, &cookie, &csrf, "http://droply.example:8080");
    assert_eq!(public.status, 303, "{}", public.raw);
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.background_color.as_str(), "#888888");

    // The address the request was sent to still counts as this site.
    let host = format!("http://{}", app.addr);
    let direct = post_branding_from(&app, &cookie, &csrf, &host);
    assert_eq!(direct.status, 303, "{}", direct.raw);
}

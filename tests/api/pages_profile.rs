//! The expert profile page, its theme stylesheet and booking from it, the
//! booking page and its calendar file, and one's bookings, over HTTP as a
//! browser sends them: the session and CSRF cookies, URL-encoded forms.

use crate::app::{Response, TestApp, spawn_app, spawn_app_paying_pages};
use crate::availability::expert_working;
use crate::page_cookies::page_csrf;

/// The CSRF token the test browser holds (64 hex digits); in a signed-in
/// browser's form it stands for the token its pages gave it.
const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A page request with the browser's cookies (`token` signs in).
fn browse(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    form: Option<&str>,
) -> Response {
    let mut cookie = format!("droply_csrf={CSRF}; droply_tz=Europe%2FBerlin");
    if let Some(token) = token {
        cookie.push_str(&format!("; droply_session={token}"));
    }
    // A signed-in browser's forms carry the token its pages gave it.
    let form = match (token, form) {
        (Some(_), Some(form)) if form.contains(CSRF) => {
            Some(form.replace(CSRF, &page_csrf(app, &cookie)))
        }
        (_, form) => form.map(str::to_owned),
    };
    app.send(
        method,
        path,
        form.as_deref(),
        None,
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
    )
}

/// The first bookable start the page offers.
fn first_slot(page: &str) -> String {
    let at = page.find("data-start=\"").expect("a slot on the page") + "data-start=\"".len();
    page[at..].split('"').next().expect("slot").to_owned()
}

/// The idempotency key of the page's booking form.
fn form_key(page: &str) -> String {
    let at = page
        .find("name=\"idempotency_key\" value=\"")
        .expect("the booking form")
        + "name=\"idempotency_key\" value=\"".len();
    page[at..].split('"').next().expect("key").to_owned()
}

fn book_form(start: &str, key: &str) -> String {
    format!(
        "_csrf={CSRF}&idempotency_key={key}&start={}",
        start.replace(':', "%3A").replace('+', "%2B")
    )
}

/// `token`'s booking of the first slot on `expert`'s profile page, as the
/// page's form sends it.
fn book_first_slot(app: &TestApp, expert: &str, token: &str) -> Response {
    let page = browse(app, "GET", &format!("/@{expert}"), Some(token), None);
    assert_eq!(page.status, 200, "{}", page.raw);
    let (start, key) = (first_slot(&page.raw), form_key(&page.raw));
    browse(
        app,
        "POST",
        &format!("/@{expert}/book"),
        Some(token),
        Some(&book_form(&start, &key)),
    )
}

/// A free expert working every day in Berlin, as (id, username, token).
fn free_expert(app: &TestApp, name: &str) -> (u64, String) {
    let (id, token) = expert_working(app, name, "Europe/Berlin", "00:00", "24:00");
    app.make_free(id);
    (id, token)
}

#[test]
fn the_profile_page_shows_the_expert_with_their_text_escaped() {
    let app = spawn_app();
    let (_, token) = expert_working(&app, "grace", "Europe/Berlin", "00:00", "24:00");
    let patched = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r#"{"bio":"<script>alert(1)</script> & more","skills_1":"VAT","specialty_tags":["startups"],"linkedin_url":"https://linkedin.com/in/grace"}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.raw);

    let page = browse(&app, "GET", "/@grace", None, None);
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    let html = &page.raw;
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("grace Person") && html.contains("Tax Advisor"));
    assert!(html.contains("class=\"profile layout-classic\""), "{html}");
    assert!(html.contains("/@grace/theme.css?v="), "{html}");
    assert!(html.contains(r#"href="https://linkedin.com/in/grace" rel="nofollow noopener""#));
    // A paid expert on a server without payments: the widget says so and
    // its buttons are disabled.
    assert!(html.contains("Payments are unavailable"), "{html}");
    assert!(html.contains("class=\"slot\""), "{html}");
    assert!(!html.contains("grace@example.com") && !html.contains(&token));

    // The POST refuses too (503), showing the page again.
    let (_, carl) = app.register("carl");
    let start = first_slot(html);
    let refused = browse(
        &app,
        "POST",
        "/@grace/book",
        Some(&carl),
        Some(&book_form(&start, &form_key(html))),
    );
    assert_eq!(refused.status, 503, "{}", refused.raw);
    assert!(refused.raw.contains("Payments are unavailable"));
    assert_eq!(app.store.bookings().count(), 0);
}

#[test]
fn the_theme_stylesheet_carries_the_branding_and_the_layout_its_class() {
    let app = spawn_app();
    let (_, token) = free_expert(&app, "grace");
    let patched = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r##"{"background_color":"#101010","primary_color":"#ffd700","font_family":"Playfair Display","font_size":18,"profile_layout":"grid"}"##),
    );
    assert_eq!(patched.status, 200, "{}", patched.raw);
    let css = browse(&app, "GET", "/@grace/theme.css", None, None);
    assert_eq!(css.status, 200, "{}", css.raw);
    assert!(
        css.header("content-type")
            .is_some_and(|t| t.starts_with("text/css"))
    );
    for expected in [
        "--bg: #101010;",
        "--fg: #F5F7FA;",
        "--accent: #FFD700;",
        "--font: \"Playfair Display\", Georgia",
        "--size: 18px;",
    ] {
        assert!(css.raw.contains(expected), "{expected}: {}", css.raw);
    }
    let page = browse(&app, "GET", "/@grace", None, None);
    assert!(page.raw.contains("class=\"profile layout-grid\""));
    assert_eq!(
        browse(&app, "GET", "/@nobody/theme.css", None, None).status,
        404
    );
}

#[test]
fn unknown_usernames_and_people_who_are_not_experts_get_the_404_page() {
    let app = spawn_app();
    app.register("carl");
    for path in ["/@nobody", "/@carl", "/@no%20such"] {
        let page = browse(&app, "GET", path, None, None);
        assert_eq!(page.status, 404, "{path}: {}", page.raw);
        assert!(page.raw.contains("<html"), "{path}");
    }
}

#[test]
fn a_booking_post_without_the_csrf_token_is_refused() {
    let app = spawn_app();
    let (_, _) = free_expert(&app, "grace");
    let (_, carl) = app.register("carl");
    let page = browse(&app, "GET", "/@grace", Some(&carl), None);
    let start = first_slot(&page.raw);
    let form = format!("idempotency_key=k1&start={start}");
    let refused = browse(&app, "POST", "/@grace/book", Some(&carl), Some(&form));
    assert_eq!(refused.status, 403, "{}", refused.raw);
    let wrong = format!("_csrf={}&idempotency_key=k1&start={start}", "f".repeat(64));
    let refused = browse(&app, "POST", "/@grace/book", Some(&carl), Some(&wrong));
    assert_eq!(refused.status, 403, "{}", refused.raw);
    assert_eq!(app.store.bookings().count(), 0);
}

#[test]
fn booking_a_free_slot_leads_to_its_page_which_strangers_cannot_see() {
    let app = spawn_app();
    let (_, grace) = free_expert(&app, "grace");
    let (_, carl) = app.register("carl");
    let (_, dora) = app.register("dora");

    // Anonymous: signing in comes first, then back to the profile.
    let page = browse(&app, "GET", "/@grace", None, None);
    assert_eq!(page.status, 200, "{}", page.raw);
    let (start, key) = (first_slot(&page.raw), form_key(&page.raw));
    let anonymous = browse(
        &app,
        "POST",
        "/@grace/book",
        None,
        Some(&book_form(&start, &key)),
    );
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header("location"), Some("/signin?next=/%40grace"));

    // Carl books; the same form sent twice books once.
    let page = browse(&app, "GET", "/@grace", Some(&carl), None);
    let key = form_key(&page.raw);
    let booked = browse(
        &app,
        "POST",
        "/@grace/book",
        Some(&carl),
        Some(&book_form(&start, &key)),
    );
    assert_eq!(booked.status, 303, "{}", booked.raw);
    let location = booked.header("location").expect("location").to_owned();
    assert!(
        location.starts_with("/bookings/") && location.ends_with("?booked=1"),
        "{location}"
    );
    let again = browse(
        &app,
        "POST",
        "/@grace/book",
        Some(&carl),
        Some(&book_form(&start, &key)),
    );
    assert_eq!(again.header("location"), Some(location.as_str()));
    assert_eq!(app.store.bookings().count(), 1);

    // Dora, later, meets a taken slot: the page again, with why (409).
    let taken = browse(
        &app,
        "POST",
        "/@grace/book",
        Some(&dora),
        Some(&book_form(&start, "dora-1")),
    );
    assert_eq!(taken.status, 409, "{}", taken.raw);
    assert!(taken.raw.contains("no longer open"), "{}", taken.raw);
    // A start that is no instant at all is a 400, not a 500.
    let bad = browse(
        &app,
        "POST",
        "/@grace/book",
        Some(&dora),
        Some(&book_form("tomorrow", "dora-2")),
    );
    assert_eq!(bad.status, 400, "{}", bad.raw);

    // The confirmation page, for the booker and the expert.
    let confirmation = browse(&app, "GET", &location, Some(&carl), None);
    assert_eq!(confirmation.status, 200, "{}", confirmation.raw);
    assert!(
        confirmation.raw.contains("You're booked")
            || confirmation.raw.contains("You&#39;re booked")
    );
    assert!(confirmation.raw.contains("Confirmed"));
    assert!(confirmation.raw.contains("Europe/Berlin"));
    assert!(!confirmation.raw.contains("carl@example.com"));
    let path = location.trim_end_matches("?booked=1").to_owned();
    assert_eq!(browse(&app, "GET", &path, Some(&grace), None).status, 200);

    // Dora is a stranger to it: the 404 page, for the page and its file.
    assert_eq!(browse(&app, "GET", &path, Some(&dora), None).status, 404);
    let ics_path = format!("{path}/calendar.ics");
    assert_eq!(
        browse(&app, "GET", &ics_path, Some(&dora), None).status,
        404
    );
    // Anonymous: sign in first.
    let anonymous = browse(&app, "GET", &path, None, None);
    assert_eq!(anonymous.status, 303);

    // The calendar file downloads.
    let ics = browse(&app, "GET", &ics_path, Some(&carl), None);
    assert_eq!(ics.status, 200, "{}", ics.raw);
    assert!(
        ics.header("content-type")
            .is_some_and(|t| t.starts_with("text/calendar"))
    );
    assert!(
        ics.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment")),
        "{}",
        ics.head
    );
    assert!(ics.raw.contains("BEGIN:VCALENDAR"), "{}", ics.raw);

    // My bookings lists it, for the client and the expert.
    let mine = browse(&app, "GET", "/account/bookings", Some(&carl), None);
    assert_eq!(mine.status, 200);
    assert!(
        mine.raw.contains(&format!("href=\"{path}\"")),
        "{}",
        mine.raw
    );
    let theirs = browse(&app, "GET", "/account/bookings", Some(&grace), None);
    assert!(
        theirs.raw.contains(&format!("href=\"{path}\"")),
        "{}",
        theirs.raw
    );
    assert!(theirs.raw.contains("Sessions booked with you"));
    let nothing = browse(&app, "GET", "/account/bookings", Some(&dora), None);
    assert!(!nothing.raw.contains(&format!("href=\"{path}\"")));
    app.assert_no_leaks();
}

#[test]
fn the_time_zone_picker_keeps_the_zone_in_a_cookie() {
    let app = spawn_app();
    let form = format!("_csrf={CSRF}&zone=America%2FLos_Angeles&next=%2F%40grace");
    let set = browse(&app, "POST", "/time-zone", None, Some(&form));
    assert_eq!(set.status, 303, "{}", set.raw);
    assert_eq!(set.header("location"), Some("/@grace"));
    assert!(
        set.head
            .contains("droply_tz=America%2FLos_Angeles; Path=/; Max-Age=31536000; SameSite=Lax")
    );
    let bad = format!("_csrf={CSRF}&zone=Mars%2FOlympus");
    assert_eq!(
        browse(&app, "POST", "/time-zone", None, Some(&bad)).status,
        400
    );
}

#[test]
fn a_paid_session_booked_from_the_page_is_paid_on_the_pay_page() {
    let app = spawn_app_paying_pages("pk_test_droply");
    expert_working(&app, "grace", "Europe/Berlin", "00:00", "24:00");
    let (_, carl) = app.register("carl");
    let page = browse(&app, "GET", "/@grace", Some(&carl), None);
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(!page.raw.contains("Payments are unavailable"));
    assert!(!page.raw.contains("disabled"), "{}", page.raw);
    let (start, key) = (first_slot(&page.raw), form_key(&page.raw));
    let pay = browse(
        &app,
        "POST",
        "/@grace/book",
        Some(&carl),
        Some(&book_form(&start, &key)),
    );
    assert_eq!(pay.status, 200, "{}", pay.raw);
    let html = &pay.raw;
    assert!(
        html.contains(r#"<script src="https://js.stripe.com/v3" defer>"#),
        "{html}"
    );
    assert!(html.contains("/assets/pay.js?v="), "{html}");
    assert!(
        html.contains(r#"data-publishable-key="pk_test_droply""#),
        "{html}"
    );
    assert!(html.contains("data-client-secret=\"pi_"), "{html}");
    assert!(html.contains("$90.00"), "{html}");
    assert!(
        pay.header("content-security-policy")
            .is_some_and(|csp| csp.contains("script-src 'self' https://js.stripe.com;"))
    );
    let at = html
        .find("data-return-url=\"/bookings/")
        .expect("the way back")
        + "data-return-url=\"/bookings/".len();
    let id: u64 = html[at..]
        .split('?')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("booking id");
    let booking = app
        .store
        .bookings()
        .get(droply_models::BookingId::new(id))
        .expect("booking");
    assert_eq!(booking.status, droply_models::BookingStatus::PendingPayment);
    assert_eq!(app.store.bookings().count(), 1);
}

/// Regression: the profile page read the first twelve of the creator's own
/// content, drafts included, then kept the published: a creator with
/// twelve older drafts saw none of their published content on their own
/// page, which strangers saw.
#[test]
fn a_creator_sees_their_published_content_on_their_page_past_their_drafts() {
    let app = spawn_app();
    let (_, token) = free_expert(&app, "ann");
    for n in 0..12 {
        crate::content::create(
            &app,
            &token,
            serde_json::json!({"title": format!("Draft {n}"), "content_type": "document",
                "price": {"amount_minor": 0, "currency": "USD"}}),
        );
    }
    crate::content::published_guide(&app, &token, "The published guide", 0);
    for viewer in [None, Some(token.as_str())] {
        let page = browse(&app, "GET", "/@ann", viewer, None);
        assert_eq!(page.status, 200, "{}", page.raw);
        assert!(
            page.raw.contains("The published guide"),
            "{viewer:?}: {}",
            page.raw
        );
        assert!(!page.raw.contains("Draft 0"), "{viewer:?}");
    }
}

/// Regression: the calendar file's summary always named the expert, so the
/// expert's own download read "session with" themselves.
#[test]
fn the_calendar_file_names_the_other_party_for_the_expert_and_the_client() {
    let app = spawn_app();
    let (_, grace) = free_expert(&app, "grace");
    let (_, carl) = app.register("carl");
    let booked = book_first_slot(&app, "grace", &carl);
    assert_eq!(booked.status, 303, "{}", booked.raw);
    let location = booked.header("location").expect("location").to_owned();
    let ics_path = format!("{}/calendar.ics", location.trim_end_matches("?booked=1"));

    let client = browse(&app, "GET", &ics_path, Some(&carl), None);
    assert_eq!(client.status, 200, "{}", client.raw);
    assert!(
        client.raw.contains("Droply session with grace Person"),
        "{}",
        client.raw
    );
    let expert = browse(&app, "GET", &ics_path, Some(&grace), None);
    assert_eq!(expert.status, 200, "{}", expert.raw);
    assert!(
        expert.raw.contains("Droply session with carl Person"),
        "{}",
        expert.raw
    );
    assert!(!expert.raw.contains("grace Person"), "{}", expert.raw);
}

/// The client secret a pay page hands Stripe.js.
fn client_secret(page: &str) -> String {
    let at = page
        .find("data-client-secret=\"")
        .expect("the payment form")
        + "data-client-secret=\"".len();
    page[at..].split('"').next().expect("secret").to_owned()
}

/// Regression: the booking page of a paid booking said "Waiting for
/// payment" with no way to pay, so leaving the pay page lost it (the
/// client's own unpaid hold kept the slot off the profile until it
/// lapsed); and `?paid=1` said the payment was being confirmed whatever
/// the status, even on a cancelled booking.
#[test]
fn an_unpaid_booking_can_be_paid_from_its_page() {
    let app = spawn_app_paying_pages("pk_test_droply");
    let (_, grace) = expert_working(&app, "grace", "Europe/Berlin", "00:00", "24:00");
    let (_, carl) = app.register("carl");
    let first = book_first_slot(&app, "grace", &carl);
    assert_eq!(first.status, 200, "{}", first.raw);
    let secret = client_secret(&first.raw);
    assert!(secret.starts_with("pi_"), "{secret}");
    let at = first
        .raw
        .find("data-return-url=\"/bookings/")
        .expect("the way back")
        + "data-return-url=\"/bookings/".len();
    let id: u64 = first.raw[at..]
        .split('?')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("booking id");
    let path = format!("/bookings/{id}");
    let pay_path = format!("{path}/pay");
    let pay_form = format!("action=\"{pay_path}\"");

    // Back on the booking page, the client can still pay.
    let booking_page = browse(&app, "GET", &path, Some(&carl), None);
    assert_eq!(booking_page.status, 200, "{}", booking_page.raw);
    assert!(booking_page.raw.contains("Waiting for payment"));
    assert!(booking_page.raw.contains(&pay_form), "{}", booking_page.raw);
    assert!(booking_page.raw.contains("Pay now"), "{}", booking_page.raw);
    assert!(booking_page.raw.contains("name=\"_csrf\""));

    // Without the CSRF token the form is refused; with it, the pay page
    // again, over the same PaymentIntent.
    let refused = browse(&app, "POST", &pay_path, Some(&carl), Some(""));
    assert_eq!(refused.status, 403, "{}", refused.raw);
    let form = format!("_csrf={CSRF}");
    let pay = browse(&app, "POST", &pay_path, Some(&carl), Some(&form));
    assert_eq!(pay.status, 200, "{}", pay.raw);
    assert!(pay.raw.contains("Pay for your session"), "{}", pay.raw);
    assert!(
        pay.raw.contains(r#"data-publishable-key="pk_test_droply""#),
        "{}",
        pay.raw
    );
    assert_eq!(client_secret(&pay.raw), secret);
    assert!(
        pay.raw
            .contains(&format!("data-return-url=\"{path}?paid=1\""))
    );

    // The expert sees no pay form, and cannot pay the client's booking.
    let theirs = browse(&app, "GET", &path, Some(&grace), None);
    assert_eq!(theirs.status, 200, "{}", theirs.raw);
    assert!(!theirs.raw.contains(&pay_form), "{}", theirs.raw);
    let not_theirs = browse(&app, "POST", &pay_path, Some(&grace), Some(&form));
    assert_eq!(not_theirs.status, 403, "{}", not_theirs.raw);
    assert!(!not_theirs.raw.contains("data-client-secret"));

    // Cancelled: no payment notice, no pay form, and paying goes back to
    // the booking page.
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/cancel"),
        &carl,
        Some(r#"{"reason":"found another time"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    let back = browse(&app, "GET", &format!("{path}?paid=1"), Some(&carl), None);
    assert_eq!(back.status, 200, "{}", back.raw);
    assert!(back.raw.contains("Cancelled"), "{}", back.raw);
    assert!(!back.raw.contains("being confirmed"), "{}", back.raw);
    assert!(!back.raw.contains("Payment received"), "{}", back.raw);
    assert!(!back.raw.contains(&pay_form), "{}", back.raw);
    let too_late = browse(&app, "POST", &pay_path, Some(&carl), Some(&form));
    assert_eq!(too_late.status, 303, "{}", too_late.raw);
    assert_eq!(too_late.header("location"), Some(path.as_str()));
}

//! Getting around the pages as a browser does: `/account/bookings` lists
//! the latest bookings first, fifty a time, with a link to the older ones
//! (every booking listed once across the pages; a broken link is the 400
//! page); an address no page serves is the site's HTML 404 page (and a GET
//! of a form's POST-only address its 405 page) while API paths keep their
//! JSON errors; and the payout form sent twice pays out once.

use droply_models::{Booking, Currency, Email, Money, NewBooking, Timestamp, UserId};

use crate::app::{Response, TestApp, error_code, spawn_app, spawn_app_paying};
use crate::pages_account::{browser, get_with, post_form};
use crate::payouts::payable_expert;

/// `count` bookings of `client` with `expert`, two hours apart from an
/// hour ahead; their ids, in start order.
fn bookings(app: &TestApp, client: u64, expert: u64, count: i64) -> Vec<u64> {
    let first = Timestamp::now().plus_minutes(60);
    (0..count)
        .map(|n| {
            let start = first.plus_minutes(120 * n);
            let booking = Booking::new(NewBooking {
                user_id: UserId::new(client),
                provider_id: UserId::new(expert),
                start_time: start,
                duration: 60,
                payment_amount: Money::new(9_000, Currency::USD),
                client_name: "Carla Client".to_owned(),
                client_email: Email::parse("carla@example.org").expect("email"),
                client_message: None,
                created_at: Timestamp::now(),
            });
            app.store
                .bookings()
                .create(booking)
                .expect("booking")
                .id
                .get()
        })
        .collect()
}

/// The booking ids a bookings page lists, in page order.
fn listed(page: &Response) -> Vec<u64> {
    page.raw
        .split("data-booking=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|id| id.parse().expect("a booking id"))
        .collect()
}

/// The link to the older bookings one booked, if the page has one.
fn older_link(page: &Response) -> Option<String> {
    page.raw
        .split("href=\"/account/bookings?booked_after=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|cursor| format!("/account/bookings?booked_after={cursor}"))
}

#[test]
fn my_bookings_listed_only_the_fifty_oldest_with_no_way_to_the_rest() {
    let app = spawn_app();
    let (expert, _) = app.register("evelyn");
    app.make_expert(expert, "Europe/Berlin");
    let (client, token) = app.register("carla");
    let made = bookings(&app, client, expert, 55);
    let (cookie, _) = browser(&app, &token);

    let first = get_with(&app, "/account/bookings", &cookie);
    assert_eq!(first.status, 200, "{}", first.raw);
    let first_ids = listed(&first);
    assert_eq!(first_ids.len(), 50, "{}", first.raw);
    // The latest start first: the newest booking heads the list.
    assert_eq!(first_ids.first(), made.last(), "{first_ids:?}");
    let older = older_link(&first).expect("a link to the older bookings");
    assert!(first.raw.contains("Older bookings"), "{}", first.raw);

    let second = get_with(&app, &older, &cookie);
    assert_eq!(second.status, 200, "{}", second.raw);
    let second_ids = listed(&second);
    assert_eq!(second_ids.len(), 5, "{}", second.raw);
    assert_eq!(second_ids.last(), made.first(), "the oldest last");
    assert!(
        older_link(&second).is_none(),
        "the last page links no further"
    );

    // Every booking once across the two pages.
    let mut all: Vec<u64> = first_ids.into_iter().chain(second_ids).collect();
    all.sort_unstable();
    let mut expected = made.clone();
    expected.sort_unstable();
    assert_eq!(all, expected);

    // A cursor the page did not write is the 400 page, never a 500: not
    // hex, or hex of another list (the store refuses it).
    for broken in ["nonsense", "zz", "00"] {
        let page = get_with(
            &app,
            &format!("/account/bookings?booked_after={broken}"),
            &cookie,
        );
        assert_eq!(page.status, 400, "{broken}: {}", page.raw);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{broken}"
        );
    }
    app.assert_no_leaks();
}

#[test]
fn an_unknown_page_path_answered_the_apis_json_404_instead_of_a_page() {
    let app = spawn_app();
    let (_, token) = app.register("wanda");
    let (cookie, _) = browser(&app, &token);
    for path in ["/nowhere", "/account/nothing", "/bookings/7/nothing"] {
        let page = get_with(&app, path, &cookie);
        assert_eq!(page.status, 404, "{path}: {}", page.raw);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{path}: {}",
            page.head
        );
        // In the site's frame: the navigation, signed in, and the footer.
        assert!(page.raw.contains("class=\"site-header\""), "{}", page.raw);
        assert!(page.raw.contains("Sign out (wanda)"), "{}", page.raw);
        assert!(page.raw.contains("Page not found"), "{}", page.raw);
    }
    let anonymous = app.get("/nowhere");
    assert_eq!(anonymous.status, 404);
    assert!(
        anonymous.raw.contains("href=\"/signin\""),
        "{}",
        anonymous.raw
    );

    // A browser's GET of a form's POST-only address: the 405 page.
    let form_address = get_with(&app, "/account/payouts", &cookie);
    assert_eq!(form_address.status, 405, "{}", form_address.raw);
    assert_eq!(
        form_address.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(form_address.raw.contains("class=\"site-header\""));

    // A POST to an address no page serves does nothing: a 404 page, not a
    // CSRF refusal, with or without a token.
    let posted = app.request("POST", "/nowhere", None);
    assert_eq!(posted.status, 404, "{}", posted.raw);
    assert!(posted.raw.contains("Page not found"), "{}", posted.raw);

    // The API's paths keep their JSON errors.
    for path in ["/v1/nowhere", "/v1", "/health/nothing"] {
        let api = app.get(path);
        assert_eq!(api.status, 404, "{path}: {}", api.raw);
        assert_eq!(error_code(&api), "route_not_found", "{path}");
        assert!(
            api.header("content-type")
                .is_some_and(|kind| kind.starts_with("application/json")),
            "{path}: {}",
            api.head
        );
    }
    let wrong_method = app.request("DELETE", "/v1/auth/login", None);
    assert_eq!(
        (wrong_method.status, error_code(&wrong_method).as_str()),
        (405, "method_not_allowed")
    );
}

/// The payout form's `last_payout` on the earnings page.
fn form_key(page: &Response) -> String {
    page.raw
        .split("name=\"last_payout\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the payout form's key")
        .to_owned()
}

#[test]
fn the_payout_form_sent_twice_paid_out_twice() {
    let app = spawn_app_paying();
    let (id, token, _) = payable_expert(&app, 10_000);
    let (cookie, csrf) = browser(&app, &token);
    let earnings = get_with(&app, "/account/earnings", &cookie);
    assert_eq!(earnings.status, 200, "{}", earnings.raw);
    let key = form_key(&earnings);
    assert_eq!(key, "none", "no payout yet");
    let send = |key: &str| {
        post_form(
            &app,
            "/account/payouts",
            &cookie,
            &[("_csrf", &csrf), ("amount", "3.00"), ("last_payout", key)],
        )
    };
    let first = send(&key);
    assert_eq!(first.status, 303, "{}", first.raw);
    assert_eq!(
        first.header("location"),
        Some("/account/earnings?requested=1")
    );
    // The same form again (a double click, or back and send again).
    let again = send(&key);
    assert_eq!(again.status, 303, "{}", again.raw);
    assert_eq!(again.header("location"), Some("/account/earnings?resent=1"));
    let payouts = |app: &TestApp| {
        app.engine
            .payouts_of(UserId::new(id), &droply_engine::PageRequest::first(10))
            .expect("payouts")
            .items
    };
    assert_eq!(payouts(&app).len(), 1);
    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.fake.transfers().len(), 1);

    // A form shown after it asks for another payout.
    let shown_again = get_with(&app, "/account/earnings", &cookie);
    let fresh = form_key(&shown_again);
    assert_ne!(fresh, key);
    let second = send(&fresh);
    assert_eq!(
        second.header("location"),
        Some("/account/earnings?requested=1")
    );
    assert_eq!(payouts(&app).len(), 2);

    // A form that did not come from the page is refused on the page.
    let forged = send("yesterday");
    assert_eq!(forged.status, 400, "{}", forged.raw);
    assert!(
        forged.raw.contains("This form has expired"),
        "{}",
        forged.raw
    );
    assert_eq!(payouts(&app).len(), 2);
    app.assert_no_leaks();
}

//! The expert's availability and earnings pages through HTTP as a browser
//! sends them: availability rules and exceptions are added and deleted
//! (a bad id is a page, not a plain-text error; a refused form keeps what
//! was typed and names a DST gap), a refused payout shows
//! why, and payouts are listed fifty at a time with a link to the older
//! ones.

use droply_models::{Currency, Money, Payout, PayoutId, PayoutStatus, Timestamp, UserId};

use crate::app::{Response, spawn_app};
use crate::dates;
use crate::pages_account::{browser, get_with, post_form};

#[test]
fn availability_rules_and_exceptions_are_added_and_deleted_and_a_refused_payout_shows_why() {
    let app = spawn_app();
    let (id, token) = app.register("avery");
    let (cookie, csrf) = browser(&app, &token);
    let added = post_form(
        &app,
        "/account/availability/rules",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("weekday", "1"),
            ("start", "09:00"),
            ("end", "12:30"),
        ],
    );
    assert_eq!(added.status, 303, "{}", added.raw);
    let rules = app.engine.list_rules(UserId::new(id)).expect("rules");
    assert_eq!(rules.len(), 1);
    let backwards = post_form(
        &app,
        "/account/availability/rules",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("weekday", "2"),
            ("start", "17:00"),
            ("end", "09:00"),
        ],
    );
    assert_eq!(backwards.status, 400, "{}", backwards.raw);
    assert!(backwards.raw.contains("role=\"alert\""));
    let day = &Timestamp::now().plus_days(30).to_rfc3339()[..10];
    let (start, end) = (format!("{day}T09:00"), format!("{day}T18:00"));
    let exception = post_form(
        &app,
        "/account/availability/exceptions",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("start", &start),
            ("end", &end),
            ("kind", "blocked"),
            ("reason", "Dentist"),
        ],
    );
    assert_eq!(exception.status, 303, "{}", exception.raw);
    let page = get_with(&app, "/account/availability", &cookie);
    assert!(
        page.raw.contains("Dentist") && page.raw.contains("12:30"),
        "{}",
        page.raw
    );
    let rule = rules[0].id.get();
    let deleted = post_form(
        &app,
        &format!("/account/availability/rules/{rule}/delete"),
        &cookie,
        &[("_csrf", &csrf)],
    );
    assert_eq!(deleted.status, 303, "{}", deleted.raw);
    assert!(
        app.engine
            .list_rules(UserId::new(id))
            .expect("rules")
            .is_empty()
    );
    let exception = app
        .engine
        .list_exceptions(UserId::new(id))
        .expect("exceptions")[0]
        .id
        .get();
    let deleted = post_form(
        &app,
        &format!("/account/availability/exceptions/{exception}/delete"),
        &cookie,
        &[("_csrf", &csrf)],
    );
    assert_eq!(deleted.status, 303, "{}", deleted.raw);
    assert!(
        app.engine
            .list_exceptions(UserId::new(id))
            .expect("exceptions")
            .is_empty()
    );
    // Regression: an id that is not a number got axum's plain-text 400; it
    // names no page (404, in HTML), and neither does a `+` before digits.
    for path in [
        "/account/availability/rules/abc/delete",
        "/account/availability/rules/%FF/delete",
        "/account/availability/rules/+1/delete",
        "/account/availability/exceptions/abc/delete",
    ] {
        let missing = post_form(&app, path, &cookie, &[("_csrf", &csrf)]);
        assert_eq!(missing.status, 404, "{path}: {}", missing.raw);
        assert_eq!(
            missing.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{path}: {}",
            missing.head
        );
    }

    let earnings = get_with(&app, "/account/earnings", &cookie);
    assert_eq!(earnings.status, 200, "{}", earnings.raw);
    let payout = post_form(&app, "/account/payouts", &cookie, &[("_csrf", &csrf)]);
    // Payments are off in this app: the engine says so (503), shown on the page.
    assert!(payout.status >= 400, "{} {}", payout.status, payout.raw);
    assert!(payout.raw.contains("role=\"alert\""), "{}", payout.raw);
    assert!(payout.raw.contains("Request payout"), "the form stays");
}

/// Regression: a refused availability form came back empty (the rule form
/// at 09:00-17:00 whatever was typed), and an exception whose end fell in a
/// DST gap was "not a date and time", blamed on `start`, with no field
/// marked.
#[test]
fn a_refused_availability_form_keeps_what_was_typed_and_names_the_dst_gap() {
    let app = spawn_app();
    let (_, token) = app.register("gapkeeper");
    let (cookie, csrf) = browser(&app, &token);
    let cookie = format!("{cookie}; droply_tz=Europe%2FParis");
    let backwards = post_form(
        &app,
        "/account/availability/rules",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("weekday", "3"),
            ("start", "18:15"),
            ("end", "08:45"),
        ],
    );
    assert_eq!(backwards.status, 400, "{}", backwards.raw);
    for kept in [
        "name=\"start\" type=\"time\" required value=\"18:15\"",
        "name=\"end\" type=\"time\" required value=\"08:45\"",
        "value=\"3\" selected",
    ] {
        assert!(backwards.raw.contains(kept), "{kept}: {}", backwards.raw);
    }
    // A time that is no time is refused on its own input, by its label.
    let no_time = post_form(
        &app,
        "/account/availability/rules",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("weekday", "3"),
            ("start", "25:99"),
            ("end", "08:45"),
        ],
    );
    assert_eq!(no_time.status, 400, "{}", no_time.raw);
    assert!(no_time.raw.contains("From: "), "{}", no_time.raw);
    assert!(
        no_time.raw.contains(
            "value=\"25:99\" aria-invalid=\"true\" aria-describedby=\"rule-start-error\""
        ),
        "{}",
        no_time.raw
    );
    // The night Europe's clocks go forward, 02:00-03:00 does not exist.
    let sunday = dates::spring_forward_sunday();
    let (start, end) = (format!("{sunday}T01:00"), format!("{sunday}T02:30"));
    let gap = post_form(
        &app,
        "/account/availability/exceptions",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("start", &start),
            ("end", &end),
            ("kind", "open"),
            ("reason", "Night shift"),
        ],
    );
    assert_eq!(gap.status, 400, "{}", gap.raw);
    assert!(
        gap.raw.contains(&format!(
            "To: {sunday} 02:30 does not exist in Europe/Paris"
        )),
        "{}",
        gap.raw
    );
    // The refused field, and only it, is marked and points at its message.
    assert!(
        gap.raw.contains(&format!(
            "value=\"{end}\" aria-invalid=\"true\" aria-describedby=\"exception-end-error\""
        )),
        "{}",
        gap.raw
    );
    assert!(
        gap.raw.contains("id=\"exception-end-error\""),
        "{}",
        gap.raw
    );
    assert!(
        !gap.raw.contains(&format!("value=\"{start}\" aria-invalid")),
        "{}",
        gap.raw
    );
    for kept in [
        format!("value=\"{start}\""),
        format!("value=\"{end}\""),
        "value=\"open\" selected".to_owned(),
        "value=\"Night shift\"".to_owned(),
    ] {
        assert!(gap.raw.contains(&kept), "{kept}: {}", gap.raw);
    }
}

#[test]
fn payouts_are_listed_fifty_at_a_time_with_a_link_to_the_older_ones() {
    let app = spawn_app();
    let (id, token) = app.register("pagedpayee");
    let (cookie, _) = browser(&app, &token);
    app.store
        .write(|txn| {
            for n in 0..55_i64 {
                txn.create(Payout {
                    id: PayoutId::new(0),
                    user_id: UserId::new(id),
                    amount: Money::new(1_000 + n, Currency::USD),
                    stripe_transfer_id: None,
                    stripe_payout_id: None,
                    status: PayoutStatus::Paid,
                    created_at: Timestamp::now().plus_minutes(n - 100),
                    paid_at: Some(Timestamp::now().plus_minutes(n - 90)),
                })?;
            }
            Ok(())
        })
        .expect("payouts");
    let rows = |page: &Response| page.raw.matches("<td>paid</td>").count();
    let first = get_with(&app, "/account/earnings", &cookie);
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(rows(&first), 50);
    assert!(first.raw.contains("$10.54"), "the newest first");
    let older = first
        .raw
        .split("href=\"/account/earnings?payouts=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the older payouts")
        .to_owned();
    let second = get_with(&app, &format!("/account/earnings?payouts={older}"), &cookie);
    assert_eq!(second.status, 200, "{}", second.raw);
    assert_eq!(rows(&second), 5);
    assert!(second.raw.contains("$10.00") && !second.raw.contains("$10.54"));
    assert!(
        !second.raw.contains("?payouts="),
        "the last page links no further"
    );
    let broken = get_with(&app, "/account/earnings?payouts=nonsense", &cookie);
    assert_eq!(broken.status, 400, "{}", broken.raw);
}

/// Regression: Stripe's onboarding sent the expert back to
/// `/payouts/onboarded`, and an expired link to `/payouts/onboarding`, where
/// no page was: they landed on a 404. Back from Stripe they now reach their
/// earnings with a notice of where the account stands; an expired link leads
/// to a form that makes a fresh one.
#[test]
fn stripe_onboarding_returns_to_the_earnings_and_an_expired_link_starts_again() {
    use droply_test_support::stripe::{event, post_event};

    use crate::app::{WEBHOOK_SECRET, spawn_app_paying};
    use crate::payouts::not_onboarded;

    let app = spawn_app_paying();
    let (id, token) = app.register("onno");
    app.make_expert(id, "Europe/Berlin");
    not_onboarded(&app, id);
    let (cookie, csrf) = browser(&app, &token);

    // Signed out: sign in first, then back here.
    for path in ["/payouts/onboarded", "/payouts/onboarding"] {
        let anonymous = app.get(path);
        assert_eq!(anonymous.status, 303, "{path}: {}", anonymous.raw);
        assert_eq!(
            anonymous.header("location"),
            Some(format!("/signin?next={path}").as_str())
        );
    }

    // The earnings page offers the setup; the expired link's page the same form.
    let earnings = get_with(&app, "/account/earnings", &cookie);
    assert_eq!(earnings.status, 200, "{}", earnings.raw);
    assert!(
        earnings.raw.contains("Payout account") && earnings.raw.contains("not set up"),
        "{}",
        earnings.raw
    );
    assert!(earnings.raw.contains("action=\"/payouts/onboarding\""));
    let expired = get_with(&app, "/payouts/onboarding", &cookie);
    assert_eq!(expired.status, 200, "{}", expired.raw);
    assert!(
        expired.raw.contains("action=\"/payouts/onboarding\""),
        "{}",
        expired.raw
    );
    let without_token = post_form(&app, "/payouts/onboarding", &cookie, &[]);
    assert_eq!(without_token.status, 403, "{}", without_token.raw);
    let started = post_form(&app, "/payouts/onboarding", &cookie, &[("_csrf", &csrf)]);
    assert_eq!(started.status, 200, "{}", started.raw);
    let link = started
        .raw
        .split("class=\"button\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to Stripe");
    assert!(link.starts_with("https://"), "{link}");
    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.fake.accounts().len(), 1, "the account is made");

    // Back from Stripe, before its webhook: a page, saying it is pending.
    let back = get_with(&app, "/payouts/onboarded", &cookie);
    assert_eq!(back.status, 303, "{}", back.raw);
    let location = back.header("location").expect("location").to_owned();
    assert!(location.starts_with("/account/earnings"), "{location}");
    let landed = get_with(&app, &location, &cookie);
    assert_eq!(landed.status, 200, "{}", landed.raw);
    assert!(
        landed.raw.contains("role=\"status\"") && landed.raw.contains("pending"),
        "{}",
        landed.raw
    );

    // Stripe confirms the account: the same return says onboarding is done.
    let account = stripe.fake.accounts()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    stripe.fake.activate(&account);
    let activated = stripe.fake.account(&account).expect("account");
    let (status, answer) = post_event(
        &crate::payments::url(&app),
        WEBHOOK_SECRET,
        &event("evt_onboarded", "account.updated", activated),
    );
    assert_eq!(status, 200, "{answer}");
    let back = get_with(&app, "/payouts/onboarded", &cookie);
    assert_eq!(back.status, 303, "{}", back.raw);
    let landed = get_with(&app, back.header("location").expect("location"), &cookie);
    assert_eq!(landed.status, 200, "{}", landed.raw);
    assert!(
        landed.raw.contains("onboarding is finished"),
        "{}",
        landed.raw
    );
    assert!(
        !landed.raw.contains("action=\"/payouts/onboarding\""),
        "nothing left to set up"
    );
}

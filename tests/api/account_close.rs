//! Closing an account over HTTP (`DELETE /v1/users/me`, and the form at
//! `/account/close`): a wrong password is 401 and changes nothing; closing
//! erases the user's personal data and ends what they run (sessions,
//! drop-ins, future bookings with their refunds, content on sale,
//! favorites, availability, the calendar link, search) while what others
//! hold stays (the bought content, the booking, the review, now by "Closed
//! account"); the address is free to sign up with again; the wrong
//! passwords count against the sign-in throttle; and the page form needs
//! its CSRF token and the password. What closing does to money (a balance
//! not paid out, referral rewards, unpaid purchases) is in
//! `account_close_money`.

use std::net::{IpAddr, Ipv4Addr};

use droply_engine::calendar::CalendarConnection;
use droply_engine::dropins::{NewMessage, member_by_token, messages_after, post_message};
use droply_engine::payments::stored_payment_of;
use droply_engine::reviews::Review;
use droply_models::{
    AvailabilityRule, Booking, BookingId, BookingStatus, Content, ContentId, ContentStatus,
    DropinMessageId, DropinMessageType, DropinParticipant, DropinSessionId, Favorite, Timestamp,
    User, UserId, UserInteraction,
};
use serde_json::json;

use crate::app::{
    Response, TestApp, error_code, spawn_app, spawn_app_paying, spawn_app_with_search,
};
use crate::availability::expert_working;
use crate::bookings::held_then_completed;
use crate::calendar::{consent_and_callback, free_expert, spawn_app_with_google};
use crate::content::published_guide;
use crate::dates;
use crate::dropins::{join, open};
use crate::page_cookies::set_cookies;
use crate::pages_account::{browser, get_with, post_form};
use crate::payments::{assert_consistent, book, slot, usd};
use crate::search_market::{Profile, add_expert, hit_ids, search};

/// `DELETE /v1/users/me` with `password`, as the holder of `token`.
pub(crate) fn close(app: &TestApp, token: &str, password: &str) -> Response {
    let body = json!({ "password": password }).to_string();
    app.authed("DELETE", "/v1/users/me", token, Some(&body))
}

/// Whether any stored row still holds `email`: a user's address or a
/// booking's snapshot of its client.
fn stored_anywhere(app: &TestApp, email: &str) -> bool {
    let users = app
        .store
        .iter::<User>()
        .map(|row| row.expect("user"))
        .any(|user| user.email.as_str() == email);
    let bookings = app
        .store
        .iter::<Booking>()
        .map(|row| row.expect("booking"))
        .any(|booking| booking.client_email.as_str() == email);
    users || bookings
}

/// Whether any stored row of `T` names `user` as `whose` says.
pub(crate) fn any_row<T: droply_engine::store::Record>(
    app: &TestApp,
    whose: impl Fn(&T) -> bool,
) -> bool {
    app.store
        .iter::<T>()
        .map(|row| row.expect("row"))
        .any(|row| whose(&row))
}

#[test]
fn an_expert_closing_is_erased_and_ends_what_they_run_while_others_keep_theirs() {
    let app = spawn_app_paying();
    let (grace, token) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, carl) = app.register("carl");
    let (_, bob) = app.register("bob");

    // A future session carl paid for.
    let booked = book(&app, &carl, grace, &slot());
    assert_eq!(booked.status, 201, "{}", booked.raw);
    let booking = booked.body["id"].as_u64().expect("id");
    app.pay_booking(booking);

    // A live drop-in carl joined.
    let dropin = open(&app, &token, json!({"topic": "Ask me about VAT"}));
    let dropin_id = dropin["id"].as_u64().expect("id");
    let code = dropin["session_code"].as_str().expect("code");
    let joined = join(&app, code, Some(&carl), None);
    assert_eq!(joined.status, 200, "{}", joined.raw);
    let pass = joined.body["token"].as_str().expect("pass").to_owned();
    let session = DropinSessionId::new(dropin_id);
    assert!(member_by_token(&app.store, session, &pass).is_ok());

    // Published content bob has.
    let guide = published_guide(&app, &token, "The VAT guide", 0);
    let bought = app.authed("POST", &format!("/v1/content/{guide}/purchase"), &bob, None);
    assert_eq!(bought.status, 201, "{}", bought.raw);

    // Favorites both ways: carl saved grace, grace saved ruth.
    let (ruth, ruth_token) = expert_working(&app, "ruth", "Europe/Berlin", "09:00", "17:00");
    app.make_free(ruth);
    let saved = app.authed("POST", &format!("/v1/favorites/{grace}"), &carl, None);
    assert_eq!(saved.status, 201, "{}", saved.raw);
    let saved = app.authed("POST", &format!("/v1/favorites/{ruth}"), &token, None);
    assert_eq!(saved.status, 201, "{}", saved.raw);

    // A review grace wrote of a session ruth gave her.
    let taken = app.post_booking(
        &token,
        &format!(
            r#"{{"provider_id":{ruth},"start_time":"{}","duration":60}}"#,
            dates::at(1, "09:00")
        ),
    );
    assert_eq!(taken.status, 201, "{}", taken.raw);
    let taken = taken.body["id"].as_u64().expect("id");
    held_then_completed(
        &app,
        taken,
        Timestamp::now().plus_minutes(-180),
        &ruth_token,
    );
    let reviewed = app.authed(
        "POST",
        &format!("/v1/bookings/{taken}/review"),
        &token,
        Some(r#"{"rating":5,"comment":"Clear answers."}"#),
    );
    assert_eq!(reviewed.status, 201, "{}", reviewed.raw);
    let reviews = app.get(&format!("/v1/experts/{ruth}/reviews"));
    assert_eq!(reviews.body["reviews"][0]["author_name"], "grace P.");
    assert_eq!(app.get("/@grace").status, 200);

    // A wrong password is 401 and changes nothing.
    let wrong = close(&app, &token, "not-her-password");
    assert_eq!(
        (wrong.status, error_code(&wrong).as_str()),
        (401, "invalid_credentials"),
        "{}",
        wrong.raw
    );
    assert_eq!(app.authed("GET", "/v1/users/me", &token, None).status, 200);
    assert_eq!(app.get(&format!("/v1/experts/{grace}")).status, 200);
    let still = app
        .store
        .bookings()
        .get(BookingId::new(booking))
        .expect("booking");
    assert_eq!(still.status, BookingStatus::Confirmed);
    assert_eq!(
        app.get(&format!("/v1/dropins/{dropin_id}")).body["state"],
        "live"
    );

    let seen_before = app.seen.lock().expect("log").len();
    let closed = close(&app, &token, "password-grace");
    assert_eq!(closed.status, 204, "{}", closed.raw);

    // Signed out everywhere, and the old address and password open nothing.
    let me = app.authed("GET", "/v1/users/me", &token, None);
    assert_eq!((me.status, error_code(&me).as_str()), (401, "unauthorized"));
    let login = app.request(
        "POST",
        "/v1/auth/login",
        Some(r#"{"email":"grace@example.com","password":"password-grace"}"#),
    );
    assert_eq!(
        (login.status, error_code(&login).as_str()),
        (401, "invalid_credentials"),
        "{}",
        login.raw
    );
    // No longer an expert anywhere.
    assert_eq!(app.get(&format!("/v1/experts/{grace}")).status, 404);
    assert_eq!(app.get("/@grace").status, 404);
    let row: User = app
        .store
        .require(UserId::new(grace))
        .expect("the row stays");
    assert!(row.is_closed(), "{}", row.email);
    assert_eq!(row.full_name, "Closed account");
    assert!(row.bio.is_empty() && row.profession.is_empty() && row.hourly_rate.is_none());
    assert!(!row.is_available);

    // The paid session is cancelled and refunded in full, as the expert
    // cancelling it would.
    let cancelled = app
        .store
        .bookings()
        .get(BookingId::new(booking))
        .expect("booking");
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(
        cancelled.cancellation_reason.as_deref(),
        Some("the account was closed")
    );
    let payment = stored_payment_of(&app.store, BookingId::new(booking))
        .expect("read")
        .expect("payment");
    let refunded: Vec<_> = payment.refunds.iter().map(|r| r.amount).collect();
    assert_eq!(refunded, [usd(9_000)], "{payment:?}");
    let seen_by_carl = app.authed("GET", &format!("/v1/bookings/{booking}"), &carl, None);
    assert_eq!(
        seen_by_carl.body["status"], "cancelled",
        "{}",
        seen_by_carl.raw
    );

    // The drop-in ended; carl's pass opens nothing.
    assert_eq!(
        app.get(&format!("/v1/dropins/{dropin_id}")).body["state"],
        "ended"
    );
    assert!(member_by_token(&app.store, session, &pass).is_err());

    // The content is off sale; bob keeps it.
    let content: Content = app.store.require(ContentId::new(guide)).expect("content");
    assert_eq!(content.status, ContentStatus::Archived);
    assert_eq!(app.get(&format!("/v1/content/{guide}")).status, 404);
    let download = app.fetch(&format!("/v1/content/{guide}/download"), Some(&bob), &[]);
    assert_eq!(download.status, 200, "{}", download.head);

    // The review stays, by "Closed account".
    let reviews = app.get(&format!("/v1/experts/{ruth}/reviews"));
    assert_eq!(reviews.body["reviews"][0]["author_name"], "Closed account");
    assert!(
        app.store
            .iter::<Review>()
            .all(|review| review.expect("review").author_name != "grace P.")
    );

    // Favorites both ways, availability and interactions are gone.
    let id = UserId::new(grace);
    assert!(!any_row::<Favorite>(&app, |f| f.user_id == id || f.favorited_user_id == id));
    assert!(!any_row::<AvailabilityRule>(&app, |r| r.user_id == id));
    assert!(!any_row::<UserInteraction>(&app, |i| {
        i.user_id == id || i.target_user_id == id
    }));
    let carls = app.authed("GET", "/v1/favorites", &carl, None);
    assert_eq!(carls.body["experts"], json!([]), "{}", carls.raw);

    // Nothing the app answered since, nor any row, holds the old address.
    for (_, path, raw) in &app.seen.lock().expect("log")[seen_before..] {
        assert!(!raw.contains("grace@example.com"), "{path}: {raw}");
    }
    assert!(!stored_anywhere(&app, "grace@example.com"));
    assert_consistent(&app);
    app.assert_no_leaks();

    // The address is free: a new account signs up with it.
    let (again, _) = app.register("grace");
    assert_ne!(again, grace);
}

#[test]
fn a_client_closing_cancels_their_sessions_leaves_their_dropins_and_frees_the_address() {
    let app = spawn_app();
    let (edna, edna_token) = expert_working(&app, "edna", "Europe/Berlin", "09:00", "17:00");
    app.make_free(edna);
    let (cleo, token) = app.register("cleo");
    let booked = book(&app, &token, edna, &slot());
    assert_eq!(booked.status, 201, "{}", booked.raw);
    assert_eq!(booked.body["status"], "confirmed");
    let booking = booked.body["id"].as_u64().expect("id");
    let dropin = open(&app, &edna_token, json!({"topic": "Office hours"}));
    let dropin_id = dropin["id"].as_u64().expect("id");
    let code = dropin["session_code"].as_str().expect("code");
    let joined = join(&app, code, Some(&token), None);
    assert_eq!(joined.status, 200, "{}", joined.raw);
    let pass = joined.body["token"].as_str().expect("pass").to_owned();

    let closed = close(&app, &token, "password-cleo");
    assert_eq!(closed.status, 204, "{}", closed.raw);

    // Their session is cancelled; the expert's record of it keeps its ids
    // and times but no longer their name or address.
    let seen = app.authed("GET", &format!("/v1/bookings/{booking}"), &edna_token, None);
    assert_eq!(seen.body["status"], "cancelled", "{}", seen.raw);
    assert_eq!(seen.body["client_name"], "Closed account");
    let row = app
        .store
        .bookings()
        .get(BookingId::new(booking))
        .expect("booking");
    assert_eq!(row.user_id, UserId::new(cleo));
    assert!(row.client_email.as_str().ends_with("@closed.invalid"));
    assert!(!stored_anywhere(&app, "cleo@example.com"));

    // They left the drop-in they joined, which goes on.
    let session = DropinSessionId::new(dropin_id);
    assert!(matches!(
        member_by_token(&app.store, session, &pass),
        Err(droply_engine::Error::Unauthorized)
    ));
    let live = app.get(&format!("/v1/dropins/{dropin_id}"));
    assert_eq!(live.body["state"], "live");
    assert_eq!(live.body["current_participants"], 0, "{}", live.raw);
    assert_consistent(&app);

    // A new account signs up with the address and signs in with it.
    let (again, _) = app.register("cleo");
    assert_ne!(again, cleo);
    let login = app.request(
        "POST",
        "/v1/auth/login",
        Some(r#"{"email":"cleo@example.com","password":"password-cleo"}"#),
    );
    assert_eq!(login.status, 200, "{}", login.raw);
}

/// Regression: closing left the name typed to join an anonymous drop-in on
/// the participant row, tied to the account, so the room's history still
/// carried both.
#[test]
fn a_closing_takes_the_name_typed_for_a_dropin_off_the_room_and_keeps_what_was_asked() {
    let app = spawn_app();
    let (_, host) = expert_working(&app, "hal", "Europe/Berlin", "09:00", "17:00");
    let (dora, token) = app.register("dora");
    let dropin = open(
        &app,
        &host,
        json!({"topic": "Ask me anything", "is_anonymous": true}),
    );
    let dropin_id = dropin["id"].as_u64().expect("id");
    let code = dropin["session_code"].as_str().expect("code");
    let joined = join(&app, code, Some(&token), Some("Dora from Lyon"));
    assert_eq!(joined.status, 200, "{}", joined.raw);
    assert_eq!(joined.body["participant"]["display_name"], "Dora from Lyon");
    let pass = joined.body["token"].as_str().expect("pass").to_owned();
    let session = DropinSessionId::new(dropin_id);
    let member = member_by_token(&app.store, session, &pass).expect("member");
    let asked = "Is a VAT number needed for one client?";
    let question = NewMessage {
        message_type: DropinMessageType::Question,
        content: asked.to_owned(),
        reply_to: None,
    };
    post_message(&app.store, &member, question).expect("posted");

    let closed = close(&app, &token, "password-dora");
    assert_eq!(closed.status, 204, "{}", closed.raw);

    // The question stays in the room's history, by "Closed account".
    let history = messages_after(&app.store, session, DropinMessageId::new(0), 100).expect("read");
    let question = history
        .iter()
        .find(|posted| posted.message.message_type == DropinMessageType::Question)
        .expect("the question stays");
    assert_eq!(question.message.content, asked);
    assert_eq!(question.author.display_name, "Closed account");
    assert_eq!(question.author.user_id, None);
    // No row holds the name she typed or her account; her pass opens nothing.
    let id = UserId::new(dora);
    assert!(!any_row::<DropinParticipant>(&app, |p| {
        p.user_id == Some(id) || p.anonymous_name.as_deref() == Some("Dora from Lyon")
    }));
    assert!(matches!(
        member_by_token(&app.store, session, &pass),
        Err(droply_engine::Error::Unauthorized)
    ));
    let live = app.get(&format!("/v1/dropins/{dropin_id}"));
    assert_eq!(live.body["state"], "live");
    assert_eq!(live.body["current_participants"], 0, "{}", live.raw);
    assert_consistent(&app);
}

#[test]
fn wrong_passwords_to_close_an_account_count_against_the_sign_in_throttle() {
    let app = spawn_app();
    let (_, token) = app.register("tess");
    for _ in 0..5 {
        let wrong = close(&app, &token, "guessing-again");
        assert_eq!(error_code(&wrong), "invalid_credentials", "{}", wrong.raw);
    }
    let throttled = close(&app, &token, "password-tess");
    assert_eq!(
        (throttled.status, error_code(&throttled).as_str()),
        (429, "too_many_attempts"),
        "{}",
        throttled.raw
    );
    let login = app.request(
        "POST",
        "/v1/auth/login",
        Some(r#"{"email":"tess@example.com","password":"password-tess"}"#),
    );
    assert_eq!(
        error_code(&login),
        "too_many_attempts",
        "one count for both"
    );
    // From another address the owner still closes it.
    let body = json!({"password": "password-tess"}).to_string();
    let elsewhere = app.send_from(
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))),
        "DELETE",
        "/v1/users/me",
        Some(&body),
        Some(&token),
        &[],
    );
    assert_eq!(elsewhere.status, 204, "{}", elsewhere.raw);
}

#[test]
fn a_closed_expert_leaves_search() {
    let app = spawn_app_with_search();
    let (hugo, token) = add_expert(
        &app,
        "hugo",
        &Profile {
            profession: "Harpsichord Restorer",
            bio: "Restores antique harpsichords and clavichords.",
            ..Profile::default()
        },
    );
    add_expert(&app, "otto", &Profile::default());
    app.wait_for_index();
    let by_bio = json!({"q": "harpsichords", "semanticRatio": 0.0});
    let by_name = json!({"q": "hugo", "semanticRatio": 0.0});
    let by_meaning = json!({"q": "someone to restore my old harpsichord"});
    for query in [&by_bio, &by_name, &by_meaning] {
        assert!(hit_ids(&search(&app, query)).contains(&hugo), "{query}");
    }

    let closed = close(&app, &token, "password-hugo");
    assert_eq!(closed.status, 204, "{}", closed.raw);
    app.wait_for_index();
    for query in [&by_bio, &by_name, &by_meaning] {
        assert!(!hit_ids(&search(&app, query)).contains(&hugo), "{query}");
    }
}

#[test]
fn closing_disconnects_the_calendar_and_revokes_the_grant() {
    let (app, fake) = spawn_app_with_google();
    let (ida, token) = free_expert(&app, "ida");
    let back = consent_and_callback(&app, &fake, &token);
    assert_eq!(back.body["status"], "connected", "{}", back.raw);

    let closed = close(&app, &token, "password-ida");
    assert_eq!(closed.status, 204, "{}", closed.raw);
    assert!(
        app.store
            .get::<CalendarConnection>(UserId::new(ida))
            .expect("read")
            .is_none()
    );
    assert_eq!(fake.count("revoke"), 1, "the grant is revoked at Google");
    assert_consistent(&app);
}

#[test]
fn the_close_form_needs_its_csrf_token_and_the_password_then_signs_out() {
    let app = spawn_app();
    let (_, token) = app.register("pia");
    let (cookie, csrf) = browser(&app, &token);
    let account = get_with(&app, "/account", &cookie);
    assert!(
        account.raw.contains(r#"href="/account/close""#),
        "{}",
        account.raw
    );
    let page = get_with(&app, "/account/close", &cookie);
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(page.raw.contains(r#"name="password""#) && page.raw.contains(r#"name="confirm""#));
    let signed_in = || app.authed("GET", "/v1/users/me", &token, None).status;

    let forged = post_form(
        &app,
        "/account/close",
        &cookie,
        &[("password", "password-pia"), ("confirm", "yes")],
    );
    assert_eq!(forged.status, 403, "{}", forged.raw);
    assert_eq!(signed_in(), 200, "no CSRF token: nothing changed");

    let wrong = post_form(
        &app,
        "/account/close",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("password", "not-the-password"),
            ("confirm", "yes"),
        ],
    );
    assert_eq!(wrong.status, 400, "{}", wrong.raw);
    assert!(wrong.raw.contains(r#"role="alert""#), "{}", wrong.raw);
    assert_eq!(signed_in(), 200, "a wrong password: nothing changed");

    let unconfirmed = post_form(
        &app,
        "/account/close",
        &cookie,
        &[("_csrf", &csrf), ("password", "password-pia")],
    );
    assert_eq!(unconfirmed.status, 400, "{}", unconfirmed.raw);
    assert_eq!(signed_in(), 200, "not confirmed: nothing changed");

    let closed = post_form(
        &app,
        "/account/close",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("password", "password-pia"),
            ("confirm", "yes"),
        ],
    );
    assert_eq!(closed.status, 303, "{}", closed.raw);
    assert_eq!(closed.header("location"), Some("/"));
    assert!(
        set_cookies(&closed)
            .iter()
            .any(|c| c.starts_with("droply_session=;") && c.contains("Max-Age=0")),
        "the cookie is cleared: {}",
        closed.head
    );
    assert_eq!(signed_in(), 401);
    assert_eq!(
        get_with(&app, "/account", &cookie).status,
        303,
        "anonymous now"
    );
}

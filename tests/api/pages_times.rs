//! The pages name the zone their times are in: the earnings page's payouts
//! and referrals say "Times in <zone>." atop each list, and a drop-in's
//! time on the expert's profile, in the search page's drop-in hits and on
//! an upcoming room's page names the viewer's zone beside it. The viewer
//! sets the zone as a browser does, with the `droply_tz` cookie.

use droply_models::{Currency, Money, Payout, PayoutId, PayoutStatus, Timestamp, UserId};
use serde_json::json;

use crate::app::{TestApp, spawn_app, spawn_app_with_search};
use crate::dropins::{expert, open};
use crate::pages_account::{browser, get_with};

/// The zone the viewer's browser reports, as its cookie carries it.
const TOKYO_COOKIE: &str = "droply_tz=Asia%2FTokyo";

/// The text of `page` after the first `marker`, up to the next `end`.
fn text_after<'a>(page: &'a str, marker: &str, end: &str) -> &'a str {
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in: {page}"))
        + marker.len();
    let rest = &page[at..];
    rest.split(end).next().unwrap_or(rest)
}

/// Signs `name` up with `referrer`'s referral code, through the API.
fn referred_by(app: &TestApp, referrer: &str, name: &str) {
    let me = app.authed("GET", "/v1/users/me", referrer, None);
    let code = me.body["referral_code"].as_str().expect("code");
    let body = json!({
        "username": name,
        "email": format!("{name}@example.com"),
        "password": format!("password-{name}"),
        "full_name": format!("{name} Person"),
        "referral_code": code,
    });
    let joined = app.request("POST", "/v1/auth/register", Some(&body.to_string()));
    assert_eq!(joined.status, 201, "{}", joined.raw);
}

/// Regression: the earnings page listed when payouts were requested and
/// paid and when referrals joined in the viewer's zone without saying which.
#[test]
fn the_earnings_page_names_the_zone_of_its_times() {
    let app = spawn_app();
    let (id, token) = app.register("zonedpayee");
    let requested = Timestamp::parse_rfc3339("2026-12-03T13:00:00Z").expect("valid");
    app.store
        .write(|txn| {
            txn.create(Payout {
                id: PayoutId::new(0),
                user_id: UserId::new(id),
                amount: Money::new(1_234, Currency::USD),
                stripe_transfer_id: None,
                stripe_payout_id: None,
                status: PayoutStatus::Paid,
                created_at: requested,
                paid_at: Some(requested.plus_minutes(30)),
            })?;
            Ok(())
        })
        .expect("a payout");
    referred_by(&app, &token, "zonedfriend");
    let (cookie, _) = browser(&app, &token);

    let page = get_with(
        &app,
        "/account/earnings",
        &format!("{cookie}; {TOKYO_COOKIE}"),
    );
    assert_eq!(page.status, 200, "{}", page.raw);
    // 13:00 UTC is 22:00 in Tokyo, and the page says so.
    assert!(page.raw.contains("Thu 3 Dec 2026, 22:00"), "{}", page.raw);
    let payouts = text_after(&page.raw, "id=\"payouts-title\"", "</table>");
    assert!(payouts.contains("Times in Asia/Tokyo."), "{payouts}");
    assert!(
        payouts.find("Times in Asia/Tokyo.") < payouts.find("Thu 3 Dec 2026, 22:00"),
        "the zone is named atop the times: {payouts}"
    );
    let referrals = text_after(&page.raw, "id=\"referrals-title\"", "</ul>");
    assert!(referrals.contains("zonedfriend"), "{referrals}");
    assert!(referrals.contains("Times in Asia/Tokyo."), "{referrals}");

    // Another zone, another name: it is the viewer's, not a fixed one.
    let paris = get_with(
        &app,
        "/account/earnings",
        &format!("{cookie}; droply_tz=Europe%2FParis"),
    );
    assert!(
        paris.raw.contains("Times in Europe/Paris.") && !paris.raw.contains("Asia/Tokyo"),
        "{}",
        paris.raw
    );
}

/// Regression: the profile's drop-ins read "● Live since 14:00" without a
/// zone (and an upcoming one read "Live since" its future start).
#[test]
fn a_dropins_times_on_the_profile_and_its_room_name_the_viewers_zone() {
    let app = spawn_app();
    let (_, host) = expert(&app, "zonedhost");
    open(&app, &host, json!({"topic": "Live now"}));
    let later = Timestamp::now().plus_days(2).to_string();
    let upcoming = open(
        &app,
        &host,
        json!({"topic": "Later on", "starts_at": later, "duration_minutes": 45}),
    );
    let tokyo = [("Cookie", TOKYO_COOKIE)];

    let profile = app.send("GET", "/@zonedhost", None, None, &tokyo);
    assert_eq!(profile.status, 200, "{}", profile.raw);
    let listed = text_after(&profile.raw, "profile-dropins", "</section>");
    let live = text_after(listed, "Live since ", "</span>");
    assert!(live.ends_with(" (Asia/Tokyo)"), "{live}");
    let starts = text_after(listed, "Starts ", "</span>");
    assert!(starts.ends_with(" (Asia/Tokyo)"), "{starts}");
    assert_eq!(
        listed.matches("Live since").count(),
        1,
        "the upcoming one is not live: {listed}"
    );

    let code = upcoming["session_code"].as_str().expect("code");
    let room = app.send("GET", &format!("/d/{code}"), None, None, &tokyo);
    assert_eq!(room.status, 200, "{}", room.raw);
    let starts = text_after(&room.raw, "Starts ", "</p>");
    assert!(starts.trim_end().ends_with(" (Asia/Tokyo)"), "{starts}");
}

/// Regression: a drop-in hit on the search page read "· since 14:00"
/// without saying in which zone.
#[test]
fn a_dropin_hit_on_the_search_page_names_the_viewers_zone() {
    let app = spawn_app_with_search();
    let (_, host) = expert(&app, "zonedsearch");
    open(&app, &host, json!({"topic": "Zoned office hours"}));
    app.wait_for_index();
    let page = app.send(
        "GET",
        "/?show=dropins",
        None,
        None,
        &[("Cookie", TOKYO_COOKIE)],
    );
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(page.raw.contains("Zoned office hours"), "{}", page.raw);
    let since = text_after(&page.raw, " · since ", "</p>");
    assert!(since.trim_end().ends_with(" (Asia/Tokyo)"), "{since}");
}

//! The drop-in pages through HTTP as a browser sends them: joining sets a
//! participant cookie (HttpOnly, `SameSite=Strict`, for the room's socket
//! only) that opens the socket from this site's origin only, and a
//! signed-in participant's pass cookie opens the room only beside their own
//! session.

use serde_json::json;

use crate::app::spawn_app;
use crate::dropins::{expert, open};
use crate::page_cookies::{cookie_value, csrf, handshake, set_cookies};
use crate::pages_account::{browser, get_with, post_form};

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

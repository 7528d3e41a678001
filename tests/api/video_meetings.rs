//! Meetings of booked sessions through the API, with Daily.co played by the
//! in-process `DailyFake`: meeting tokens for the booker and the provider only
//! (the provider's owns the room) that never show up anywhere else, the WebRTC
//! fallback without Daily or without a room, the meeting window, and joining
//! the Daily room from the booking page with a token made on the way. The
//! sessions and their rooms come from the helpers in `video`.

use std::time::Duration;

use droply_engine::video::RoomState;
use droply_test_support::daily_fake::{DAILY_WEBHOOK_SECRET, DailyFake, daily_event};
use serde_json::json;

use crate::app::{error_code, spawn_app_with};
use crate::dates;
use crate::video::{
    confirmed_session, daily_config, meeting, room_row, session_with_room, slot,
    spawn_app_with_daily, webhook_url,
};

#[test]
fn meeting_tokens_go_to_the_booker_and_the_provider_only() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let (session, room) = session_with_room(&app, "t");

    let booker = meeting(&app, session.booking, &session.client);
    assert_eq!(booker.status, 200, "{}", booker.raw);
    assert_eq!(booker.body["provider"], "daily");
    assert!(booker.body.get("signal_url").is_none(), "{}", booker.raw);
    let booker_token = booker.body["token"].as_str().expect("token").to_owned();
    let claims = fake
        .token_claims(&booker_token)
        .expect("a token the fake made");
    assert_eq!(claims["room_name"], room.as_str());
    assert_eq!(claims["is_owner"], false);
    assert_eq!(claims["user_name"], "clientt Person");
    assert!(
        booker.body["room_url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&room))
    );
    assert_eq!(booker.body["starts_at"], slot());

    let provider = meeting(&app, session.booking, &session.provider);
    assert_eq!(provider.status, 200, "{}", provider.raw);
    let provider_token = provider.body["token"].as_str().expect("token").to_owned();
    assert_ne!(provider_token, booker_token);
    let claims = fake
        .token_claims(&provider_token)
        .expect("a token the fake made");
    assert_eq!(claims["is_owner"], true);
    assert_eq!(claims["room_name"], room.as_str());

    // Each ask makes a fresh token.
    let again = meeting(&app, session.booking, &session.client);
    assert_ne!(again.body["token"], booker.body["token"]);

    let stranger = meeting(&app, session.booking, &session.stranger);
    assert_eq!(stranger.status, 404, "{}", stranger.raw);
    assert_eq!(error_code(&stranger), "not_found");
    let anonymous = app.request(
        "POST",
        &format!("/v1/bookings/{}/meeting", session.booking),
        None,
    );
    assert_eq!(anonymous.status, 401, "{}", anonymous.raw);
    assert_eq!(
        fake.tokens().len(),
        3,
        "no token for the stranger or anonymous"
    );

    // The tokens are never in a booking view, for either party.
    for token in [&session.client, &session.provider] {
        let one = app.authed(
            "GET",
            &format!("/v1/bookings/{}", session.booking),
            token,
            None,
        );
        assert_eq!(one.status, 200, "{}", one.raw);
        let list = app.authed("GET", "/v1/bookings?role=provider", token, None);
        let mine = app.authed("GET", "/v1/bookings", token, None);
        for raw in [&one.raw, &list.raw, &mine.raw] {
            assert!(
                !raw.contains(&booker_token) && !raw.contains(&provider_token),
                "{raw}"
            );
        }
    }
    // Nor in any answer but the meeting answer to its own holder.
    for (sent, path, raw) in app.seen.lock().expect("log").iter() {
        for (token, holder) in [
            (&booker_token, &session.client),
            (&provider_token, &session.provider),
        ] {
            if raw.contains(token.as_str()) {
                assert!(
                    path.ends_with("/meeting") && sent.as_deref() == Some(holder.as_str()),
                    "{path} shows a meeting token: {raw}"
                );
            }
        }
    }
    app.assert_no_leaks();
}

#[test]
fn without_daily_the_meeting_is_webrtc_with_the_signal_url() {
    let app = spawn_app_with(|config| {
        config.video.open_before = Duration::from_secs(3 * 365 * 24 * 3600);
    });
    let session = confirmed_session(&app, "w");
    assert_eq!(
        app.engine.run_video_sweep().expect("sweep"),
        Default::default()
    );
    for token in [&session.client, &session.provider] {
        let answer = meeting(&app, session.booking, token);
        assert_eq!(answer.status, 200, "{}", answer.raw);
        assert_eq!(answer.body["provider"], "webrtc");
        assert_eq!(
            answer.body["signal_url"],
            format!("/v1/bookings/{}/signal", session.booking)
        );
        assert!(answer.body.get("token").is_none() && answer.body.get("room_url").is_none());
        assert_eq!(answer.body["ends_at"], dates::at(0, "10:00"));
    }
    // Daily's webhook and recording links need Daily.
    let (status, body) = DailyFake::send_webhook(
        &webhook_url(&app),
        DAILY_WEBHOOK_SECRET,
        &daily_event("ev-1", "meeting.started", json!({})),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("video_not_configured"))
    );
    let recordings = app.authed(
        "GET",
        &format!("/v1/bookings/{}/recordings", session.booking),
        &session.client,
        None,
    );
    assert_eq!(recordings.status, 200, "{}", recordings.raw);
    assert_eq!(recordings.body["recordings"], json!([]));
}

#[test]
fn a_room_not_made_when_a_party_asks_means_webrtc_for_both() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let session = confirmed_session(&app, "f");
    let first = meeting(&app, session.booking, &session.client);
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["provider"], "webrtc", "{}", first.raw);
    assert_eq!(room_row(&app, session.booking).state, RoomState::FellBack);
    // The job makes no room now, so the provider meets the client there too.
    app.engine.run_video_sweep().expect("sweep");
    assert_eq!(fake.room_create_calls(), 0);
    let second = meeting(&app, session.booking, &session.provider);
    assert_eq!(second.body["provider"], "webrtc", "{}", second.raw);
    assert_eq!(second.body["signal_url"], first.body["signal_url"]);
}

#[test]
fn a_meeting_outside_its_window_or_of_an_unconfirmed_booking_is_refused() {
    let fake = DailyFake::start();
    // The default window: 10 minutes before the start (at least 14 days ahead).
    let app = spawn_app_with(|config| {
        daily_config(&fake, config);
        config.video.open_before = Duration::from_secs(600);
    });
    let session = confirmed_session(&app, "o");
    app.engine.run_video_sweep().expect("sweep");
    let early = meeting(&app, session.booking, &session.client);
    assert_eq!(early.status, 409, "{}", early.raw);
    assert_eq!(error_code(&early), "meeting_not_open");
    assert!(
        early.body["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("{}T08:50:00", dates::day(0)))),
        "{}",
        early.raw
    );
    assert!(fake.tokens().is_empty(), "no token outside the window");

    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{}/cancel", session.booking),
        &session.client,
        Some(r#"{"reason":"plans changed"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    let refused = meeting(&app, session.booking, &session.provider);
    assert_eq!(refused.status, 409, "{}", refused.raw);
    assert_eq!(error_code(&refused), "booking_not_confirmed");
    let malformed = meeting(&app, 0, &session.provider);
    assert_eq!(malformed.status, 404, "{}", malformed.raw);
    let garbage = app.authed("POST", "/v1/bookings/x1/meeting", &session.provider, None);
    assert_eq!(garbage.status, 400, "{}", garbage.raw);
}

/// Regression: the booking page linked a private Daily room without the meeting
/// token, so nobody could join from the page, and every view of the page made a
/// token for nothing. The page links to joining, which makes this person's token
/// then and sends the browser to the room with it; no page ever holds it.
#[test]
fn the_booking_page_joins_the_daily_room_with_a_token_made_on_the_way() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let (session, room) = session_with_room(&app, "p");
    let cookie = |token: &str| format!("droply_session={token}");
    let page = app.send(
        "GET",
        &format!("/bookings/{}", session.booking),
        None,
        None,
        &[("Cookie", &cookie(&session.client))],
    );
    assert_eq!(page.status, 200, "{}", page.raw);
    let join = format!("/bookings/{}/join", session.booking);
    assert!(
        page.raw.contains(&format!("href=\"{join}\"")),
        "{}",
        page.raw
    );
    assert_eq!(fake.tokens().len(), 0, "viewing the page makes no token");
    let joined = app.send(
        "GET",
        &join,
        None,
        None,
        &[("Cookie", &cookie(&session.client))],
    );
    assert_eq!(joined.status, 303, "{}", joined.raw);
    let location = joined.header("location").expect("location").to_owned();
    let (room_url, token) = location.split_once("?t=").expect("the token as `t`");
    assert!(room_url.ends_with(&room), "{location}");
    let claims = fake.token_claims(token).expect("a token the fake made");
    assert_eq!(claims["is_owner"], false);
    assert_eq!(joined.header("cache-control"), Some("no-store"));
    let stranger = app.send(
        "GET",
        &join,
        None,
        None,
        &[("Cookie", &cookie(&session.stranger))],
    );
    assert_eq!(stranger.status, 404, "{}", stranger.raw);
    let signed_out = app.get(&join);
    assert_eq!(signed_out.status, 303);
    assert!(
        signed_out
            .header("location")
            .is_some_and(|l| l.starts_with("/signin?next=")),
        "{}",
        signed_out.raw
    );
    assert_eq!(fake.tokens().len(), 1, "one token, for the one who joined");
}

//! Page addresses other sites and Stripe send browsers to: joining a call
//! (`/bookings/{id}/join`) from a link on another site makes nothing (no
//! meeting token, no fall-back to WebRTC) and lands on the booking's page,
//! while typed, bookmarked or this site's own links join as before; and the
//! booking and content pages, back from Stripe with the PaymentIntent's
//! client secret in their query, send the browser on to the same page
//! without it. The sessions and their rooms come from the helpers in
//! `video`.

use droply_engine::video::RoomState;
use droply_test_support::daily_fake::DailyFake;

use crate::app::spawn_app;
use crate::content::published_guide;
use crate::pages_account::get_with;
use crate::video::{confirmed_session, room_row, session_with_room, spawn_app_with_daily};

/// What Stripe adds to a `return_url` once it confirms a payment.
const STRIPE_RETURN: &str =
    "payment_intent=pi_1&payment_intent_client_secret=pi_1_secret_x&redirect_status=succeeded";

/// Regression: `GET /bookings/{id}/join` made things (a room not made yet fell
/// back to WebRTC for good, a Daily meeting token was asked for), and the
/// session cookie (`SameSite=Lax`) rides along a top-level navigation started
/// by any site, so another site could switch a booking to the fallback.
#[test]
fn a_join_link_followed_from_another_site_makes_nothing_and_lands_on_the_booking_page() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    // Its room is not made yet: joining would fall back to WebRTC.
    let pending = confirmed_session(&app, "x");
    assert_eq!(room_row(&app, pending.booking).state, RoomState::Pending);
    let cookie = format!("droply_session={}", pending.client);
    let join = format!("/bookings/{}/join", pending.booking);
    let booking_page = format!("/bookings/{}", pending.booking);
    for site in ["cross-site", "same-site"] {
        let refused = app.send(
            "GET",
            &join,
            None,
            None,
            &[("Cookie", &cookie), ("Sec-Fetch-Site", site)],
        );
        assert_eq!(refused.status, 303, "{site}: {}", refused.raw);
        assert_eq!(
            refused.header("location"),
            Some(booking_page.as_str()),
            "{site}"
        );
        assert_eq!(refused.header("cache-control"), Some("no-store"), "{site}");
        assert_eq!(
            room_row(&app, pending.booking).state,
            RoomState::Pending,
            "{site}: the room is left to be made"
        );
    }
    assert!(fake.tokens().is_empty(), "no token for another site");
    // The booking page it lands on has the link to press.
    let page = get_with(&app, &booking_page, &cookie);
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(
        page.raw.contains(&format!("href=\"{join}\"")),
        "{}",
        page.raw
    );
    // From this site's own page, joining goes on as before.
    let joined = app.send(
        "GET",
        &join,
        None,
        None,
        &[("Cookie", &cookie), ("Sec-Fetch-Site", "same-origin")],
    );
    assert_eq!(joined.status, 303, "{}", joined.raw);
    assert_eq!(
        joined.header("location"),
        Some(format!("/bookings/{}/call", pending.booking).as_str())
    );
    assert_eq!(room_row(&app, pending.booking).state, RoomState::FellBack);

    // Typed or bookmarked (`none`), the Daily room is joined with a token.
    let (made, room) = session_with_room(&app, "y");
    let typed = app.send(
        "GET",
        &format!("/bookings/{}/join", made.booking),
        None,
        None,
        &[
            ("Cookie", &format!("droply_session={}", made.provider)),
            ("Sec-Fetch-Site", "none"),
        ],
    );
    assert_eq!(typed.status, 303, "{}", typed.raw);
    let location = typed.header("location").expect("location");
    let (room_url, token) = location.split_once("?t=").expect("the token as `t`");
    assert!(room_url.ends_with(&room), "{location}");
    assert!(fake.token_claims(token).is_some(), "{location}");
    assert_eq!(fake.tokens().len(), 1, "one token, for the one who joined");
}

/// Regression: back from Stripe, the booking page kept
/// `payment_intent_client_secret` in its address (and so in the browser's
/// history), ignoring it.
#[test]
fn stripes_client_secret_leaves_the_booking_page_address() {
    let app = spawn_app();
    let session = confirmed_session(&app, "s");
    let cookie = format!("droply_session={}", session.client);
    let page = format!("/bookings/{}", session.booking);
    let paid = format!("{page}?paid=1");
    let back = get_with(&app, &format!("{paid}&{STRIPE_RETURN}"), &cookie);
    assert_eq!(back.status, 303, "{}", back.raw);
    assert_eq!(back.header("location"), Some(paid.as_str()));
    assert_eq!(back.header("cache-control"), Some("no-store"));
    // Signed out too: the secret goes before anything else is asked.
    let signed_out = app.get(&format!("{page}?{STRIPE_RETURN}&paid=1"));
    assert_eq!(signed_out.status, 303, "{}", signed_out.raw);
    assert_eq!(signed_out.header("location"), Some(paid.as_str()));
    // The cleaned address is the page, with its notice.
    let shown = get_with(&app, &paid, &cookie);
    assert_eq!(shown.status, 200, "{}", shown.raw);
    assert!(shown.raw.contains("Payment received"), "{}", shown.raw);
    assert!(!shown.raw.contains("pi_1_secret_x"));
}

/// Regression: back from Stripe, the content page kept
/// `payment_intent_client_secret` in its address, ignoring it.
#[test]
fn stripes_client_secret_leaves_the_content_page_address() {
    let app = spawn_app();
    let (_, ann) = app.register("annreturn");
    let id = published_guide(&app, &ann, "Return guide", 0);
    let bought = format!("/c/{id}?bought=1");
    let back = app.get(&format!("{bought}&{STRIPE_RETURN}"));
    assert_eq!(back.status, 303, "{}", back.raw);
    assert_eq!(back.header("location"), Some(bought.as_str()));
    assert_eq!(back.header("cache-control"), Some("no-store"));
    let only_stripe = app.get(&format!("/c/{id}?redirect_status=failed"));
    assert_eq!(only_stripe.status, 303, "{}", only_stripe.raw);
    assert_eq!(
        only_stripe.header("location"),
        Some(format!("/c/{id}").as_str())
    );
    let shown = app.get(&bought);
    assert_eq!(shown.status, 200, "{}", shown.raw);
}

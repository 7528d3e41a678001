//! The content pages through HTTP as a browser sends them: a content file
//! downloads for its buyer and its creator, never kept by a shared cache,
//! and is 404 to anyone else; paid content without payments says so and
//! offers no buy button; getting free content twice goes back to it, and
//! only its holder is told it is theirs.

use crate::app::spawn_app;
use crate::content::published_guide;
use crate::pages_account::{browser, get_with, post_form};

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

//! What a search hit's reasons may say to an anonymous searcher: a track record
//! in words, never an expert's no-shows or raw counts.

use serde_json::json;

use crate::app::TestApp;
use crate::search::four_trades;

/// A past booking of `provider` by `client`, `days_ago` days ago, ending as `status`.
fn past_booking(
    app: &TestApp,
    client: u64,
    provider: u64,
    days_ago: i64,
    status: droply_models::BookingStatus,
) {
    let start = droply_models::Timestamp::now().plus_days(-days_ago);
    let mut booking = droply_models::Booking::new(droply_models::NewBooking {
        user_id: droply_models::UserId::new(client),
        provider_id: droply_models::UserId::new(provider),
        start_time: start,
        duration: 60,
        payment_amount: droply_models::Money::new(9_000, droply_models::Currency::EUR),
        client_name: "A Client".to_owned(),
        client_email: droply_models::Email::parse("client@example.org").expect("email"),
        client_message: None,
        created_at: start.plus_days(-1),
    });
    booking.status = status;
    booking.payment_status = droply_models::PaymentStatus::Succeeded;
    app.store.bookings().create(booking).expect("booking");
}

#[test]
fn anonymous_reasons_never_show_no_shows_or_counts() {
    use droply_models::{BookingStatus, InteractionType, UserId, UserInteraction};

    let (app, [tax, engineer, ..]) = four_trades();
    let (regular, _) = app.register("rita");
    let (once, _) = app.register("otto");
    for days_ago in 2..6 {
        past_booking(&app, regular, tax, days_ago, BookingStatus::Completed);
    }
    past_booking(&app, once, tax, 7, BookingStatus::Completed);
    for days_ago in [3, 4] {
        past_booking(&app, once, engineer, days_ago, BookingStatus::NoShow);
    }
    let now = droply_models::Timestamp::now();
    app.store
        .write(|txn| {
            for day in 1..11 {
                for (client, expert) in [(regular, tax), (once, tax), (regular, engineer)] {
                    txn.create(UserInteraction::new(
                        UserId::new(client),
                        UserId::new(expert),
                        InteractionType::SearchImpression,
                        now.plus_days(-day),
                    ))?;
                }
            }
            for day in 1..7 {
                txn.create(UserInteraction::new(
                    UserId::new(regular),
                    UserId::new(tax),
                    InteractionType::Click,
                    now.plus_days(-day),
                ))?;
            }
            Ok(())
        })
        .expect("interactions");
    app.wait_for_index();

    let private = ["bookings", "popularity", "click_through", "also_saved"];
    let no_counts = |value: &serde_json::Value, context: &str| {
        let text = value.as_str().unwrap_or_default();
        assert!(
            !text.chars().any(|c| c.is_ascii_digit()),
            "{context} shows a count: {text}"
        );
    };
    let (_, viewer) = app.register("vera");
    for token in [None, Some(viewer.as_str())] {
        let explained = app.send(
            "POST",
            "/v1/search",
            Some(
                &json!({"q": "tax returns and engineering", "showRankingScoreDetails": true})
                    .to_string(),
            ),
            token,
            &[],
        );
        assert_eq!(explained.status, 200, "{}", explained.raw);
        for needle in ["no-show", "completed", "returning", "clicks", "showings"] {
            assert!(
                !explained.raw.contains(needle),
                "{needle}: {}",
                explained.raw
            );
        }
        let hits = explained.body["hits"].as_array().expect("hits");
        for hit in hits {
            let details = hit["_rankingScoreDetails"].as_object().expect("details");
            for signal in private {
                if let Some(detail) = details.get(signal) {
                    no_counts(&detail["value"], signal);
                }
            }
        }
        let tax_hit = hits
            .iter()
            .find(|h| h["id"].as_u64() == Some(tax))
            .expect("tax advisor");
        let details = &tax_hit["_rankingScoreDetails"];
        assert_eq!(details["bookings"]["value"], "reliable", "{tax_hit}");
        assert_eq!(
            details["click_through"]["value"], "chosen more often than most",
            "{tax_hit}"
        );
        assert!(
            details["bookings"]["weight"]
                .as_f64()
                .is_some_and(|w| w > 0.0)
        );
        let engineer_hit = hits
            .iter()
            .find(|h| h["id"].as_u64() == Some(engineer))
            .expect("engineer");
        assert_eq!(
            engineer_hit["_rankingScoreDetails"]["bookings"]["value"],
            "some sessions did not take place"
        );
    }
    // Lists explain themselves the same way.
    let trending = app.get("/v1/recommendations?kind=trending");
    assert_eq!(trending.status, 200, "{}", trending.raw);
    for expert in trending.body["experts"].as_array().expect("experts") {
        for reason in expert["reasons"].as_array().expect("reasons") {
            let signal = reason["signal"].as_str().unwrap_or_default();
            if private.contains(&signal) {
                no_counts(&reason["text"], signal);
                no_counts(&reason["value"], signal);
            }
        }
    }
    for needle in ["no-show", "completed", "returning", "clicks", "showings"] {
        assert!(!trending.raw.contains(needle), "{needle}: {}", trending.raw);
    }
    app.assert_no_leaks();
}

/// Regression: a search without words (a browse, or a stored match without a query)
/// said "matches your words" first on every expert, with a keyword detail of weight 1:
/// every hit comes from the words' list of all experts, and that was shown as a reason.
#[test]
fn a_browse_gives_no_word_reasons() {
    let (app, _) = four_trades();
    let browse = app.send(
        "POST",
        "/v1/search",
        Some(&json!({"showReasons": true, "showRankingScoreDetails": true}).to_string()),
        None,
        &[],
    );
    assert_eq!(browse.status, 200, "{}", browse.raw);
    let hits = browse.body["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 4, "{}", browse.raw);
    for hit in hits {
        assert!(
            hit["_rankingScoreDetails"].get("keyword").is_none(),
            "{hit}"
        );
        let reasons = hit["_reasons"].as_array().expect("reasons");
        assert!(reasons.iter().all(|r| r["signal"] != "keyword"), "{hit}");
    }
    assert!(!browse.raw.contains("matches your words"), "{}", browse.raw);
    // Words still earn their reason.
    let words = app.send(
        "POST",
        "/v1/search",
        Some(&json!({"q": "tax returns", "showReasons": true}).to_string()),
        None,
        &[],
    );
    assert!(
        words.body["hits"][0]["_reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["signal"] == "keyword"),
        "{}",
        words.raw
    );
}

/// Regression: text with no word the index searches (`*`, a quote, a stop word) ran a
/// words' pass that matched every expert alike, so the first indexed experts took the
/// words' whole share and the total changed when facets were asked. It is ranked by
/// meaning alone, with one total and no word reasons.
#[test]
fn a_query_without_searchable_words_is_ranked_by_meaning_alone() {
    let (app, _) = four_trades();
    for q in ["*", "\"", "AND"] {
        let total = |facets: bool| {
            let mut body = json!({"q": q, "showRankingScoreDetails": true});
            if facets {
                body["facets"] = json!(["industry"]);
            }
            let found = app.send("POST", "/v1/search", Some(&body.to_string()), None, &[]);
            assert_eq!(found.status, 200, "{q}: {}", found.raw);
            for hit in found.body["hits"].as_array().expect("hits") {
                assert!(
                    hit["_rankingScoreDetails"].get("keyword").is_none(),
                    "{q}: {hit}"
                );
            }
            found.body["estimatedTotalHits"].as_u64().expect("total")
        };
        let plain = total(false);
        assert!(plain <= 4, "{q}: {plain}");
        assert_eq!(plain, total(true), "{q}");
    }
}

//! `POST /v1/search` filters over the real sentence model: every filter form
//! (comparisons, `IN`, `OR` within a field, `AND`, nested arrays) restricts the
//! hits, a bad filter gets `invalid_search_filter` saying what is wrong,
//! `bookable_within_days` needs an open slot, and a USD price filter finds
//! experts charging in every currency. Looser matches (a part of a location, free
//! sessions under a budget) are in `search_filters`.

use serde_json::json;

use crate::app::{error_code, spawn_app_with_search};
use crate::search::four_trades;
use crate::search_market::{Profile, add_expert, hit_ids, search, set};

#[test]
fn every_filter_form_restricts_the_hits() {
    let (app, [tax, engineer, yoga, lawyer]) = four_trades();
    let all = set(&[tax, engineer, yoga, lawyer]);
    let browse = search(&app, &json!({"limit": 100}));
    assert_eq!(set(&hit_ids(&browse)), all);

    let cases = [
        (json!("industry = Finance"), vec![tax]),
        (json!(r#"profession = "Backend Engineer""#), vec![engineer]),
        (
            json!(r#"location IN [Berlin, "New York"]"#),
            vec![engineer, yoga, lawyer],
        ),
        (
            json!("(location = Paris OR location = 'New York')"),
            vec![tax, yoga],
        ),
        (json!("skills = Yoga"), vec![yoga]),
        (json!("specialty_tags = payments"), vec![engineer]),
        (json!("category = 3"), vec![tax]),
        (json!("rating >= 4.5"), vec![tax]),
        (json!("rating > 3.9"), vec![tax, engineer]),
        (json!("is_featured = true"), vec![tax]),
        (json!("is_available = true"), vec![tax, engineer, lawyer]),
        (json!("hourly_rate <= 10000"), vec![tax, yoga]),
        (
            json!("hourly_rate >= 10000 AND hourly_rate <= 20000"),
            vec![engineer],
        ),
        (
            json!("location = Berlin and industry = Legal"),
            vec![lawyer],
        ),
        (json!("location = Paris AND industry = Legal"), vec![]),
        (
            json!([["skills = Rust", "skills = Yoga"], "is_available = true"]),
            vec![engineer],
        ),
        (
            json!(["location = Berlin", ["industry = Legal"]]),
            vec![lawyer],
        ),
    ];
    for (filter, expected) in cases {
        let response = search(
            &app,
            &json!({"filter": filter, "currency": "USD", "limit": 100}),
        );
        assert_eq!(
            set(&hit_ids(&response)),
            set(&expected),
            "filter {filter}: {}",
            response.raw
        );
        assert_eq!(
            response.body["estimatedTotalHits"].as_u64(),
            Some(expected.len() as u64),
            "filter {filter}"
        );
    }

    for (filter, needle) in [
        (json!("salary >= 5"), "unknown field `salary`"),
        (json!("price >= 5"), "`price` applies to content only"),
        (
            json!("industry = Finance OR location = Berlin"),
            "different fields",
        ),
        (json!("rating >= high"), "rating"),
        (json!(r#"profession = "Tax Advisor"#), "unterminated string"),
        (json!("is_available = false"), "is_available"),
        (json!(7), "a string or an array"),
    ] {
        let response = search(&app, &json!({"filter": filter, "currency": "USD"}));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, "invalid_search_filter"),
            "{filter}: {}",
            response.raw
        );
        let message = response.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{filter}: {message}");
    }
    let no_currency = search(&app, &json!({"filter": "hourly_rate <= 100"}));
    assert_eq!(error_code(&no_currency), "invalid_search_filter");
    assert!(no_currency.raw.contains("currency"), "{}", no_currency.raw);
    let bad_currency = search(
        &app,
        &json!({"filter": "hourly_rate <= 100", "currency": "ZZZ"}),
    );
    assert_eq!(
        (bad_currency.status, error_code(&bad_currency).as_str()),
        (400, "invalid_input")
    );
    app.assert_no_leaks();
}

#[test]
fn bookable_within_days_needs_an_open_slot() {
    let app = spawn_app_with_search();
    let (open, token) = add_expert(&app, "olga", &Profile::default());
    let (closed, _) = add_expert(&app, "carla", &Profile::default());
    for weekday in 0..7 {
        let body = format!(r#"{{"weekday":{weekday},"start":"08:00","end":"18:00"}}"#);
        let rule = app.authed("POST", "/v1/availability/rules", &token, Some(&body));
        assert_eq!(rule.status, 201, "{}", rule.raw);
    }
    app.wait_for_index();
    let everyone = search(&app, &json!({"q": "Rust"}));
    assert_eq!(set(&hit_ids(&everyone)), set(&[open, closed]));
    let bookable = search(
        &app,
        &json!({"q": "Rust", "filter": "bookable_within_days <= 7"}),
    );
    assert_eq!(hit_ids(&bookable), vec![open], "{}", bookable.raw);
    app.assert_no_leaks();
}

/// Regression: the rate table had 26 of the 54 supported currencies, so a price filter
/// in USD never matched an expert charging in KWD, VND or HUF (among others), however
/// cheap: their currency got no price range at all.
#[test]
fn a_usd_price_filter_finds_experts_charging_in_every_currency() {
    use droply_models::{Currency, Money, UserId};

    let app = spawn_app_with_search();
    // About 81.50, 78.00 and 70.00 USD an hour.
    let mut priced = Vec::new();
    for (name, code, rate) in [
        ("kamal", "KWD", 25_000),
        ("vyanh", "VND", 2_000_000),
        ("hanna", "HUF", 2_500_000),
    ] {
        let (id, _) = add_expert(&app, name, &Profile::default());
        let currency = Currency::parse(code).expect(code);
        app.store
            .users()
            .modify(UserId::new(id), |user| {
                user.currency = currency;
                user.hourly_rate = Some(Money::new(rate, currency));
                for total in [
                    &mut user.total_earnings,
                    &mut user.total_payouts,
                    &mut user.pending_balance,
                    &mut user.total_referral_earnings,
                ] {
                    *total = Money::zero(currency);
                }
                Ok(())
            })
            .expect("priced in their currency");
        priced.push(id);
    }
    let (dearer, _) = add_expert(
        &app,
        "dora",
        &Profile {
            rate: Some(25_000),
            ..Profile::default()
        },
    );
    app.wait_for_index();

    for (filter, expected) in [
        ("hourly_rate <= 10000", priced.clone()),
        (
            "hourly_rate >= 6000 AND hourly_rate <= 9000",
            priced.clone(),
        ),
        ("hourly_rate <= 5000", vec![]),
        ("hourly_rate >= 20000", vec![dearer]),
    ] {
        let response = search(
            &app,
            &json!({"filter": filter, "currency": "USD", "limit": 100}),
        );
        assert_eq!(
            set(&hit_ids(&response)),
            set(&expected),
            "filter {filter}: {}",
            response.raw
        );
    }
    app.assert_no_leaks();
}

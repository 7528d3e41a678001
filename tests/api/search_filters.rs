//! `POST /v1/search` filters that read a value more loosely than "equals": a location
//! matches one of its comma-separated parts, and an hourly-rate budget without a
//! positive minimum keeps the experts whose sessions are free.

use droply_models::{Currency, Money, UserId};
use serde_json::json;

use crate::app::{TestApp, spawn_app_with_search};
use crate::search_market::{Profile, add_expert, hit_ids, search, set};

/// Experts in "Berlin, Germany" (120 USD an hour), "New York" (40 USD), and two free
/// ones in "Paris, France" (pricing in USD) and "Lyon, France" (pricing in EUR);
/// returns the app and their ids (berlin, new_york, paris, lyon).
fn located_market() -> (TestApp, [u64; 4]) {
    let app = spawn_app_with_search();
    let (berlin, _) = add_expert(
        &app,
        "bernd",
        &Profile {
            location: "Berlin, Germany",
            rate: Some(12_000),
            ..Profile::default()
        },
    );
    let (new_york, _) = add_expert(
        &app,
        "nora",
        &Profile {
            location: "New York",
            rate: Some(4_000),
            ..Profile::default()
        },
    );
    let (paris, _) = add_expert(
        &app,
        "pierre",
        &Profile {
            location: "Paris, France",
            rate: None,
            ..Profile::default()
        },
    );
    let (lyon, _) = add_expert(
        &app,
        "lea",
        &Profile {
            location: "Lyon, France",
            rate: None,
            ..Profile::default()
        },
    );
    app.store
        .users()
        .modify(UserId::new(lyon), |user| {
            user.currency = Currency::EUR;
            for total in [
                &mut user.total_earnings,
                &mut user.total_payouts,
                &mut user.pending_balance,
                &mut user.total_referral_earnings,
            ] {
                *total = Money::zero(Currency::EUR);
            }
            Ok(())
        })
        .expect("pricing in EUR");
    app.wait_for_index();
    (app, [berlin, new_york, paris, lyon])
}

/// Asserts that `filter` (amounts in USD) finds exactly `expected`.
fn assert_finds(app: &TestApp, filter: &str, expected: &[u64]) {
    let response = search(
        app,
        &json!({"filter": filter, "currency": "USD", "limit": 100}),
    );
    assert_eq!(
        set(&hit_ids(&response)),
        set(expected),
        "filter {filter}: {}",
        response.raw
    );
    assert_eq!(
        response.body["estimatedTotalHits"].as_u64(),
        Some(expected.len() as u64),
        "filter {filter}: {}",
        response.raw
    );
}

/// Regression: `location = Berlin` compared the whole value, so an expert in
/// "Berlin, Germany" was not found by it.
#[test]
fn a_location_filter_finds_an_expert_by_one_part_of_a_comma_separated_location() {
    let (app, [berlin, new_york, paris, lyon]) = located_market();
    for (filter, expected) in [
        ("location = Berlin", vec![berlin]),
        ("location = germany", vec![berlin]),
        (r#"location = "Berlin, Germany""#, vec![berlin]),
        (r#"location = " berlin ,GERMANY ""#, vec![berlin]),
        ("location = Berl", vec![]),
        (r#"location = "New York""#, vec![new_york]),
        ("location = York", vec![]),
        ("location = France", vec![paris, lyon]),
        ("location IN [Germany, Lyon]", vec![berlin, lyon]),
        ("(location = York OR location = Paris)", vec![paris]),
    ] {
        assert_finds(&app, filter, &expected);
    }

    // The facet still counts whole locations, as written.
    let response = search(
        &app,
        &json!({"facets": ["location"], "filter": "location = France", "limit": 100}),
    );
    assert_eq!(response.status, 200, "{}", response.raw);
    assert_eq!(
        response.body["facetDistribution"]["location"],
        json!({"Paris, France": 1, "Lyon, France": 1}),
        "{}",
        response.raw
    );
    app.assert_no_leaks();
}

/// Regression: an expert without a rate (free sessions) had no rate in the index, so
/// `hourly_rate <= 5000` hid them although they cost less than any budget.
#[test]
fn a_maximum_hourly_rate_keeps_free_experts_and_a_positive_minimum_drops_them() {
    let (app, [berlin, new_york, paris, lyon]) = located_market();
    let all = [berlin, new_york, paris, lyon];
    for (filter, expected) in [
        ("hourly_rate <= 5000", vec![new_york, paris, lyon]),
        ("hourly_rate < 100", vec![paris, lyon]),
        (
            "hourly_rate >= 0 AND hourly_rate <= 5000",
            vec![new_york, paris, lyon],
        ),
        ("hourly_rate >= 0", all.to_vec()),
        ("hourly_rate = 0", vec![paris, lyon]),
        ("hourly_rate >= 1", vec![berlin, new_york]),
        ("hourly_rate > 0", vec![berlin, new_york]),
        (
            "hourly_rate >= 3000 AND hourly_rate <= 5000",
            vec![new_york],
        ),
        ("hourly_rate >= 5000", vec![berlin]),
        (
            "location = France AND hourly_rate <= 5000",
            vec![paris, lyon],
        ),
    ] {
        assert_finds(&app, filter, &expected);
    }
    app.assert_no_leaks();
}

//! A small marketplace for the search tests: experts signed up through the API,
//! their searchable profile set in the store, then the search index caught up.

use std::collections::BTreeSet;

use droply_models::{CategoryId, Currency, Money, Rating, StripeAccountStatus, UserId};
use serde_json::Value;

use crate::app::{Response, TestApp};

/// One expert's searchable facts.
#[derive(Debug, Clone)]
pub struct Profile {
    pub profession: &'static str,
    pub industry: &'static str,
    pub skills: [&'static str; 3],
    pub tags: &'static [&'static str],
    pub location: &'static str,
    pub bio: &'static str,
    /// US cents an hour.
    pub rate: Option<i64>,
    /// (total stars, reviews).
    pub rating: Option<(u64, u32)>,
    pub available: bool,
    pub featured: bool,
    pub categories: &'static [u64],
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            profession: "Backend Engineer",
            industry: "Technology",
            skills: ["Rust", "Kubernetes", "PostgreSQL"],
            tags: &["payments"],
            location: "Berlin",
            bio: "Builds reliable backend systems.",
            rate: Some(12_000),
            rating: None,
            available: true,
            featured: false,
            categories: &[],
        }
    }
}

impl Profile {
    /// A tax advisor for freelancers, in finance.
    pub fn tax_advisor() -> Self {
        Profile {
            profession: "Tax Advisor",
            industry: "Finance",
            skills: ["Tax Planning", "Bookkeeping", "VAT Returns"],
            bio: "Files income tax returns for freelancers.",
            ..Profile::default()
        }
    }
}

/// Signs up `name` and makes them an expert with `profile` (and a Stripe account id
/// that must never be served); returns (id, token). Call `app.wait_for_index()` after.
pub fn add_expert(app: &TestApp, name: &str, profile: &Profile) -> (u64, String) {
    let (id, token) = app.register(name);
    app.store
        .users()
        .modify(UserId::new(id), |user| {
            user.profession = profile.profession.to_owned();
            user.industry = profile.industry.to_owned();
            user.skills_1 = Some(profile.skills[0].to_owned());
            user.skills_2 = Some(profile.skills[1].to_owned());
            user.skills_3 = Some(profile.skills[2].to_owned());
            user.skills = profile.skills.join(", ");
            user.specialty_tags = profile.tags.iter().map(|t| (*t).to_owned()).collect();
            user.location = profile.location.to_owned();
            user.bio = profile.bio.to_owned();
            user.hourly_rate = profile.rate.map(|cents| Money::new(cents, Currency::USD));
            user.rating = match profile.rating {
                Some((stars, count)) => Rating::from_parts(stars, count)?,
                None => Rating::default(),
            };
            user.is_available = profile.available;
            user.is_featured_user = profile.featured;
            user.content_categories = profile
                .categories
                .iter()
                .map(|c| CategoryId::new(*c))
                .collect();
            user.stripe_account_id = Some(format!("acct_SECRET{id}"));
            user.stripe_account_status = StripeAccountStatus::Active;
            Ok(())
        })
        .expect("expert");
    (id, token)
}

/// `POST /v1/search` with `body`, anonymously.
pub fn search(app: &TestApp, body: &Value) -> Response {
    app.request("POST", "/v1/search", Some(&body.to_string()))
}

/// The ids of a successful search's hits, in order.
pub fn hit_ids(response: &Response) -> Vec<u64> {
    assert_eq!(response.status, 200, "{}", response.raw);
    response.body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["id"].as_u64().expect("hit id"))
        .collect()
}

/// The ids of a ranked list (`{experts: [{expert, ...}]}`).
pub fn listed_ids(response: &Response) -> Vec<u64> {
    assert_eq!(response.status, 200, "{}", response.raw);
    response.body["experts"]
        .as_array()
        .expect("experts")
        .iter()
        .map(|e| e["expert"]["id"].as_u64().expect("expert id"))
        .collect()
}

/// The set of `ids`.
pub fn set(ids: &[u64]) -> BTreeSet<u64> {
    ids.iter().copied().collect()
}

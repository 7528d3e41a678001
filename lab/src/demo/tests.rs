//! Tests of the whole generator: determinism, validity of every row,
//! uniqueness, relations, booking placement and coverage.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

use chrono::{Datelike, Timelike};
use droply_models::{BookingStatus, Currency, PaymentStatus, ReferralStatus, Timestamp, UserId};

use super::*;

/// The default marketplace, generated once for all tests.
fn default_market() -> &'static DemoMarketplace {
    static MARKET: OnceLock<DemoMarketplace> = OnceLock::new();
    MARKET.get_or_init(|| try_generate(&DemoConfig::default()).expect("generate"))
}

fn small(seed: u64) -> DemoConfig {
    DemoConfig {
        experts: 300,
        clients: 120,
        seed,
        ..DemoConfig::default()
    }
}

fn jsonl(market: &DemoMarketplace) -> Vec<u8> {
    let mut out = Vec::new();
    market.write_jsonl(&mut out).expect("write");
    out
}

#[test]
fn default_now_is_the_documented_anchor() {
    assert_eq!(
        DemoConfig::default_now().to_string(),
        "2026-11-02T09:00:00Z"
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = jsonl(&try_generate(&small(7)).expect("a"));
    let b = jsonl(&try_generate(&small(7)).expect("b"));
    let c = jsonl(&try_generate(&small(8)).expect("c"));
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(jsonl(&generate(&small(7))), a);
    let truth = |seed| {
        let mut out = Vec::new();
        let market = try_generate(&small(seed)).expect("market");
        market.truth.write_json(&mut out).expect("truth");
        out
    };
    assert_eq!(truth(7), truth(7));
}

#[test]
fn experts_do_not_depend_on_client_count() {
    let few = try_generate(&DemoConfig {
        clients: 10,
        ..small(3)
    })
    .expect("few");
    let many = try_generate(&small(3)).expect("many");
    // Category ids, earnings and referral counts follow from the clients;
    // the profiles themselves must not.
    let profile = |u: &User| {
        (
            u.username.clone(),
            u.profession.clone(),
            u.skills.clone(),
            u.bio.clone(),
            u.service_description.clone(),
            u.hourly_rate,
            u.rating,
            u.location.clone(),
        )
    };
    let few: Vec<_> = few.experts().map(profile).collect();
    let many: Vec<_> = many.experts().map(profile).collect();
    assert_eq!(few, many);
}

#[test]
fn jsonl_lines_parse_back_in_order() {
    let market = try_generate(&small(11)).expect("market");
    let bytes = jsonl(&market);
    let text = String::from_utf8(bytes).expect("utf8");
    let rows: Vec<ImportRow> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("row"))
        .collect();
    assert_eq!(rows, market.rows().collect::<Vec<_>>());
    let first_other = rows
        .iter()
        .position(|r| !matches!(r, ImportRow::User(_) | ImportRow::Category(_)))
        .expect("activity rows");
    assert!(
        rows[first_other..]
            .iter()
            .all(|r| !matches!(r, ImportRow::User(_) | ImportRow::Category(_)))
    );
}

#[test]
fn every_row_validates() {
    let m = default_market();
    for user in &m.users {
        assert_eq!(user.validate(), Ok(()), "user {}", user.id);
    }
    for c in &m.categories {
        assert_eq!(c.validate(), Ok(()), "category {}", c.id);
    }
    for f in &m.favorites {
        assert_eq!(f.validate(), Ok(()), "favorite {}", f.id);
    }
    for i in &m.interactions {
        assert_eq!(i.validate(), Ok(()), "interaction {}", i.id);
        assert!(!i.is_self());
    }
    for r in &m.availability_rules {
        assert_eq!(r.validate(), Ok(()), "rule {}", r.id);
    }
    for e in &m.availability_exceptions {
        assert_eq!(e.validate(), Ok(()), "exception {}", e.id);
    }
    for b in &m.bookings {
        assert_eq!(b.validate(), Ok(()), "booking {}", b.id);
    }
}

#[test]
fn handles_are_unique_and_fake() {
    let m = default_market();
    let mut usernames = HashSet::new();
    let mut emails = HashSet::new();
    let mut codes = HashSet::new();
    for user in &m.users {
        assert!(usernames.insert(user.username.as_str().to_lowercase()));
        assert!(emails.insert(user.email.normalized()));
        assert!(codes.insert(user.referral_code.as_str().to_owned()));
        assert!(matches!(user.email.domain(), "example.com" | "example.org"));
        assert_eq!(user.password_hash, identity::DEMO_PASSWORD_HASH);
        assert!(user.stripe_account_id.is_none() && user.google_calendar_token.is_none());
    }
}

#[test]
fn ids_are_distinct_positive_and_users_first() {
    let m = default_market();
    for (i, user) in m.users.iter().enumerate() {
        assert_eq!(user.id, UserId::new(i as u64 + 1));
    }
    let mut seen = BTreeSet::new();
    let mut all = m.users.iter().map(|u| u.id.get()).collect::<Vec<_>>();
    all.extend(m.categories.iter().map(|c| c.id.get()));
    all.extend(m.favorites.iter().map(|f| f.id.get()));
    all.extend(m.interactions.iter().map(|i| i.id.get()));
    all.extend(m.availability_rules.iter().map(|r| r.id.get()));
    all.extend(m.availability_exceptions.iter().map(|e| e.id.get()));
    all.extend(m.bookings.iter().map(|b| b.id.get()));
    all.extend(m.content.iter().map(|c| c.id.get()));
    all.extend(m.content_purchases.iter().map(|p| p.id.get()));
    all.extend(m.referrals.iter().map(|r| r.id.get()));
    for id in all {
        assert!(id > 0);
        assert!(seen.insert(id), "id {id} used twice");
    }
}

#[test]
fn relations_point_to_existing_rows() {
    let m = default_market();
    let config = DemoConfig::default();
    let users: BTreeMap<UserId, &User> = m.users.iter().map(|u| (u.id, u)).collect();
    let is_expert = |id: UserId| id.get() >= 1 && id.get() <= config.experts as u64;
    let is_client = |id: UserId| id.get() > config.experts as u64 && users.contains_key(&id);
    let categories: BTreeSet<_> = m.categories.iter().map(|c| c.id).collect();
    for user in &m.users {
        if let Some(referrer) = user.referred_by {
            assert!(referrer < user.id && users.contains_key(&referrer));
        }
        assert!(
            user.content_categories
                .iter()
                .all(|c| categories.contains(c))
        );
    }
    let mut referrals: BTreeMap<UserId, u32> = BTreeMap::new();
    for user in &m.users {
        if let Some(referrer) = user.referred_by {
            *referrals.entry(referrer).or_default() += 1;
        }
    }
    for user in &m.users {
        assert_eq!(
            user.referral_count,
            referrals.get(&user.id).copied().unwrap_or(0)
        );
    }
    let mut pairs = BTreeSet::new();
    for f in &m.favorites {
        assert!(is_client(f.user_id) && is_expert(f.favorited_user_id));
        assert!(
            pairs.insert((f.user_id, f.favorited_user_id)),
            "duplicate favorite"
        );
        assert!(f.created_at < config.now);
    }
    for i in &m.interactions {
        assert!(is_client(i.user_id) && is_expert(i.target_user_id));
        assert!(i.created_at < config.now && i.created_at >= config.now.plus_days(-91));
    }
    for r in &m.availability_rules {
        assert!(is_expert(r.user_id));
    }
    for e in &m.availability_exceptions {
        assert!(is_expert(e.user_id));
    }
    for b in &m.bookings {
        assert!(is_client(b.user_id) && is_expert(b.provider_id));
        let (client, provider) = (users[&b.user_id], users[&b.provider_id]);
        assert_eq!(b.client_email, client.email);
        assert_eq!(b.payment_amount.currency, provider.currency);
        assert!(b.created_at <= config.now && b.created_at < b.start_time);
        match b.status {
            BookingStatus::Completed | BookingStatus::NoShow => assert!(b.end_time <= config.now),
            BookingStatus::PendingPayment => assert!(b.start_time > config.now),
            _ => {}
        }
    }
    for truth in &m.truth.clients {
        assert!(is_client(truth.user_id));
        assert!(truth.held_out.iter().all(|&e| is_expert(e)));
        assert!(
            truth
                .held_out
                .iter()
                .all(|&e| !pairs.contains(&(truth.user_id, e)))
        );
    }
}

#[test]
fn bookings_of_one_provider_never_overlap() {
    let m = default_market();
    assert!(m.bookings.len() > 500, "{} bookings", m.bookings.len());
    let mut by_provider: BTreeMap<UserId, Vec<(Timestamp, Timestamp)>> = BTreeMap::new();
    for b in &m.bookings {
        by_provider
            .entry(b.provider_id)
            .or_default()
            .push((b.start_time, b.end_time));
    }
    for (provider, mut spans) in by_provider {
        spans.sort();
        for pair in spans.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "provider {provider} double-booked");
        }
    }
}

#[test]
fn bookings_fall_inside_the_providers_availability() {
    let m = default_market();
    let users: BTreeMap<UserId, &User> = m.users.iter().map(|u| (u.id, u)).collect();
    let mut rules: BTreeMap<UserId, Vec<&AvailabilityRule>> = BTreeMap::new();
    for r in m.availability_rules.iter().filter(|r| r.is_active) {
        rules.entry(r.user_id).or_default().push(r);
    }
    let mut blocked: BTreeMap<UserId, Vec<&AvailabilityException>> = BTreeMap::new();
    for e in m.availability_exceptions.iter().filter(|e| e.is_blocked) {
        blocked.entry(e.user_id).or_default().push(e);
    }
    for b in &m.bookings {
        let zone = users[&b.provider_id].timezone.as_tz();
        let start = b.start_time.as_datetime().with_timezone(&zone);
        let end = b.end_time.as_datetime().with_timezone(&zone);
        let start_min = (start.hour() * 60 + start.minute()) as u16;
        let end_min = if end.date_naive() == start.date_naive() {
            (end.hour() * 60 + end.minute()) as u16
        } else {
            assert_eq!(
                (end.hour(), end.minute()),
                (0, 0),
                "booking {} spans days",
                b.id
            );
            24 * 60
        };
        let day = start.weekday().num_days_from_monday() as u8;
        let fits = rules.get(&b.provider_id).is_some_and(|rs| {
            rs.iter().any(|r| {
                r.weekday.get() == day
                    && r.start.minutes() <= start_min
                    && end_min <= r.end.minutes()
            })
        });
        assert!(fits, "booking {} at {start} is outside the rules", b.id);
        let hit = blocked
            .get(&b.provider_id)
            .is_some_and(|es| es.iter().any(|e| e.overlaps(b.start_time, b.end_time)));
        assert!(!hit, "booking {} falls in a blocked exception", b.id);
    }
}

#[test]
fn ten_thousand_experts_cover_the_world() {
    let m = default_market();
    let experts: Vec<&User> = m.experts().collect();
    assert_eq!(experts.len(), 10_000);
    let industries: BTreeSet<&str> = experts.iter().map(|u| u.industry.as_str()).collect();
    let professions: BTreeSet<&str> = experts.iter().map(|u| u.profession.as_str()).collect();
    let cities: BTreeSet<&str> = experts.iter().map(|u| u.location.as_str()).collect();
    let currencies: BTreeSet<Currency> = experts.iter().map(|u| u.currency).collect();
    let zones: BTreeSet<&str> = experts.iter().map(|u| u.timezone.as_str()).collect();
    assert!(industries.len() >= 15, "{} industries", industries.len());
    assert!(professions.len() >= 75, "{} professions", professions.len());
    assert!(cities.len() >= 30, "{} cities", cities.len());
    assert!(currencies.len() >= 5, "{} currencies", currencies.len());
    assert!(zones.len() >= 20, "{} zones", zones.len());
}

#[test]
fn experts_look_like_experts() {
    let m = default_market();
    let mut no_reviews = 0;
    let mut hundreds = 0;
    let mut available = 0;
    let mut featured = 0;
    for u in m.experts() {
        let ranked: Vec<&str> = u.ranked_skills().collect();
        assert_eq!(ranked.len(), 3);
        assert_eq!(ranked.iter().collect::<BTreeSet<_>>().len(), 3);
        assert!(u.skills.starts_with(&ranked.join(", ")));
        assert!((2..=6).contains(&u.specialty_tags.len()));
        assert!([30, 45, 60, 90].contains(&u.session_duration));
        let sentences = u.bio.matches(". ").count() + 1;
        assert!((2..=4).contains(&sentences), "bio: {}", u.bio);
        assert!(!u.service_description.is_empty());
        assert!(u.location.contains(", "));
        let rate = u.hourly_rate.expect("rate");
        assert_eq!(rate.currency, u.currency);
        if u.currency == Currency::JPY {
            assert!((1_000..=80_000).contains(&rate.amount_minor), "{rate}");
        }
        if u.currency == Currency::EUR || u.currency == Currency::USD {
            assert!((1_000..=50_000).contains(&rate.amount_minor), "{rate}");
        }
        no_reviews += usize::from(u.rating_count() == 0);
        hundreds += usize::from(u.rating_count() >= 100);
        available += usize::from(u.is_available);
        featured += usize::from(u.is_featured_user);
        assert!(!profile_text(u).is_empty());
    }
    assert!(
        no_reviews > 2_000 && hundreds > 200,
        "{no_reviews} {hundreds}"
    );
    assert!(
        available > 8_500 && featured > 10 && featured < 500,
        "{available} {featured}"
    );
    for client in m.users.iter().filter(|u| !u.is_expert()) {
        assert!(client.hourly_rate.is_none());
    }
}

#[test]
fn truth_has_judged_queries_and_interest_profiles() {
    let m = default_market();
    assert_eq!(m.truth.queries.len(), 200);
    assert_eq!(m.truth.clients.len(), 2_000);
    let texts: BTreeSet<&str> = m.truth.queries.iter().map(|q| q.text.as_str()).collect();
    assert_eq!(texts.len(), 200);
    for q in &m.truth.queries {
        assert!(!q.relevance.exact.is_empty(), "{}", q.text);
        assert!(q.relevance.exact.windows(2).all(|w| w[0] < w[1]));
        let first = q.relevance.exact[0];
        assert_eq!(q.relevance.grade(first), 3);
    }
    let kinds: BTreeSet<&str> = m.truth.queries.iter().map(|q| q.kind.as_str()).collect();
    assert!(kinds.len() >= 6);
    assert!(
        m.truth
            .clients
            .iter()
            .all(|c| c.held_out.len() == activity::HELD_OUT)
    );
}

#[test]
fn activity_mostly_follows_interests() {
    let m = default_market();
    let industry_of: BTreeMap<UserId, &str> = m
        .users
        .iter()
        .map(|u| (u.id, u.industry.as_str()))
        .collect();
    let interest: BTreeMap<UserId, &str> = m
        .truth
        .clients
        .iter()
        .map(|c| (c.user_id, c.industry.as_str()))
        .collect();
    let on_topic = m
        .favorites
        .iter()
        .filter(|f| interest.get(&f.user_id) == industry_of.get(&f.favorited_user_id))
        .count();
    assert!(
        on_topic * 10 >= m.favorites.len() * 7,
        "{on_topic} of {}",
        m.favorites.len()
    );
}

#[test]
fn demo_content_is_valid_with_its_files_and_counts_its_purchases() {
    let market = default_market();
    assert!(
        market.content.len() > market.experts().count() / 10,
        "{} items",
        market.content.len()
    );
    let experts: HashSet<UserId> = market.experts().map(|u| u.id).collect();
    for content in &market.content {
        content.validate().expect("valid content");
        assert!(experts.contains(&content.user_id));
        let file = content_file(content);
        assert!(file.starts_with(b"%PDF-"));
        let meta = content.file_meta.as_ref().expect("a file");
        assert_eq!(meta.size, file.len() as u64);
        let held = market
            .content_purchases
            .iter()
            .filter(|p| p.content_id == content.id)
            .count() as u64;
        assert_eq!(content.purchases, held, "{}", content.title);
        assert!(
            content.earnings.is_zero(),
            "earnings come from the ledger when the sales are opened"
        );
    }
    assert!(market.content.iter().any(|c| c.price.is_zero()));
    assert!(market.content.iter().any(|c| c.price.is_positive()));
}

#[test]
fn demo_sales_pay_the_price_once_per_buyer_between_publishing_and_now() {
    let market = default_market();
    let now = DemoConfig::default().now;
    let content: BTreeMap<_, _> = market.content.iter().map(|c| (c.id, c)).collect();
    let clients: HashSet<UserId> = market
        .users
        .iter()
        .filter(|u| !u.is_expert())
        .map(|u| u.id)
        .collect();
    let mut pairs = HashSet::new();
    for purchase in &market.content_purchases {
        purchase.validate().expect("valid purchase");
        let item = content[&purchase.content_id];
        assert_eq!(purchase.amount_paid, item.price);
        assert_eq!(purchase.payment_status, PaymentStatus::Succeeded);
        assert!(purchase.stripe_payment_intent_id.is_none());
        assert!(clients.contains(&purchase.buyer_id));
        assert!(purchase.created_at > item.created_at && purchase.created_at < now);
        assert!(
            pairs.insert((purchase.buyer_id, purchase.content_id)),
            "bought twice"
        );
    }
    let paid = market
        .content_purchases
        .iter()
        .filter(|p| p.amount_paid.is_positive())
        .count();
    assert!(paid > 500, "{paid} paid sales");
}

#[test]
fn every_referred_user_has_one_referral_row_with_the_referrers_code() {
    let market = default_market();
    let users: BTreeMap<UserId, &User> = market.users.iter().map(|u| (u.id, u)).collect();
    let referred: Vec<&User> = market
        .users
        .iter()
        .filter(|u| u.referred_by.is_some())
        .collect();
    assert_eq!(market.referrals.len(), referred.len());
    assert!(!referred.is_empty());
    for referral in &market.referrals {
        referral.validate().expect("valid referral");
        let user = users[&referral.referred_user_id];
        assert_eq!(user.referred_by, Some(referral.referrer_id));
        assert_eq!(referral.created_at, user.created_at);
        assert_eq!(
            referral.referral_code,
            users[&referral.referrer_id].referral_code
        );
        assert_eq!(referral.status, ReferralStatus::Pending);
    }
}

#[test]
fn content_queries_are_judged_by_the_skill_and_kind_their_content_is_about() {
    let market = default_market();
    let queries = &market.truth.content_queries;
    assert_eq!(queries.len(), content_queries::CONTENT_QUERIES);
    let by_id: std::collections::HashMap<_, _> = market.content.iter().map(|c| (c.id, c)).collect();
    let mut texts = HashSet::new();
    for query in queries {
        assert!(texts.insert(query.text.clone()), "twice: {}", query.text);
        assert!(!query.relevance.exact.is_empty(), "{}", query.text);
        let skill = query.skill.to_lowercase();
        for id in &query.relevance.exact {
            let item = by_id[id];
            assert_eq!(item.content_type.as_str(), query.content_type);
            assert!(item.title.to_lowercase().contains(&skill), "{}", item.title);
        }
        for id in &query.relevance.partial {
            let item = by_id[id];
            assert_ne!(item.content_type.as_str(), query.content_type);
            assert!(item.title.to_lowercase().contains(&skill), "{}", item.title);
        }
        let judged: HashSet<_> = query
            .relevance
            .exact
            .iter()
            .chain(&query.relevance.partial)
            .chain(&query.relevance.related)
            .collect();
        let listed = query.relevance.exact.len()
            + query.relevance.partial.len()
            + query.relevance.related.len();
        assert_eq!(judged.len(), listed, "one grade per item");
        assert!(
            !query.experts.is_empty(),
            "{}: who wrote it lists it",
            query.text
        );
    }
}

//! Each re-ranking signal moves experts the right way, and reasons name what matched.

use std::sync::Arc;
use std::time::Duration;

use droply_engine::matching::{
    MatchFilters, MatchQuery, MatchResults, Matcher, MatcherConfig, Signal,
};
use droply_models::{BookingStatus, InteractionType, Timestamp, UserId};

use crate::fixtures::{at, exception, favorite, full_booking, interaction};
use crate::market::{Market, NOW, Profile, days_from_now, rank_of, reasons_of};

fn query(text: &str) -> MatchQuery {
    MatchQuery {
        text: text.to_owned(),
        limit: 50,
        ..MatchQuery::default()
    }
}

fn tax_profile() -> Profile {
    Profile {
        profession: "Consultant",
        industry: "Finance",
        skills: ["Tax", "Accounting", "VAT"],
        tags: vec!["audit"],
        bio: "Tax returns and audits for small companies.",
        ..Profile::default()
    }
}

fn garden_profile() -> Profile {
    Profile {
        profession: "Consultant",
        industry: "Home",
        skills: ["Garden", "Design", "Roses"],
        tags: vec!["outdoor"],
        bio: "Designs gardens for city courtyards.",
        ..Profile::default()
    }
}

/// The weight of `signal` in the score of `id` among `results` (0 when absent).
fn weight_of(results: &MatchResults, id: UserId, signal: Signal) -> f32 {
    results
        .hits
        .iter()
        .find(|h| h.expert.id == id)
        .expect("hit")
        .contributions
        .iter()
        .filter(|c| c.signal == signal)
        .map(|c| c.weight)
        .sum()
}

/// The earliest open slot the availability signal of `id` was computed from.
fn earliest_slot_of(results: &MatchResults, id: UserId) -> Option<Timestamp> {
    results
        .hits
        .iter()
        .find(|h| h.expert.id == id)
        .expect("hit")
        .contributions
        .iter()
        .find(|c| c.signal == Signal::Availability)
        .and_then(|c| Timestamp::parse_rfc3339(&c.value).ok())
}

fn score(m: &Market, query: &MatchQuery, id: UserId) -> f32 {
    m.search(query)
        .hits
        .iter()
        .find(|h| h.expert.id == id)
        .map(|h| h.score)
        .expect("hit")
}

#[test]
fn closeness_to_saved_experts_lifts_and_is_explained() {
    let mut m = Market::new();
    let saved = [m.expert(&tax_profile()), m.expert(&tax_profile())];
    let like_saved = m.expert(&tax_profile());
    let unlike = m.expert(&garden_profile());
    let viewer = m.client();
    for expert in saved {
        m.store
            .favorites()
            .create(favorite(viewer, expert, "2026-11-20T10:00:00Z"))
            .expect("favorite");
    }
    let anonymous = query("consultant");
    let personal = MatchQuery {
        viewer: Some(viewer),
        ..query("consultant")
    };
    let gap_anonymous = score(&m, &anonymous, like_saved) - score(&m, &anonymous, unlike);
    let gap_personal = score(&m, &personal, like_saved) - score(&m, &personal, unlike);
    assert!(
        gap_personal > gap_anonymous + 0.05,
        "{gap_personal} vs {gap_anonymous}"
    );
    // With words alike (BM25 only, both "Consultant"), closeness decides the order.
    let words_only = MatchQuery {
        semantic_ratio: 0.0,
        ..personal.clone()
    };
    let ids = m.ids(&words_only);
    assert!(rank_of(&ids, like_saved) < rank_of(&ids, unlike), "{ids:?}");
    let hit = m
        .search(&personal)
        .hits
        .into_iter()
        .find(|h| h.expert.id == like_saved)
        .expect("hit");
    assert!(
        hit.reasons
            .iter()
            .any(|r| r.text == "similar to 2 experts you saved"),
        "{:?}",
        hit.reasons
    );
}

/// Regression: one other person's save lifted what they also saved, hidden, and brought
/// it into "for you": the viewer could read that person's saves from the ranking. A
/// co-save counts once three people account for it.
#[test]
fn what_one_other_client_saved_neither_lifts_nor_is_recommended() {
    let mut m = Market::new();
    let shared = m.expert(&tax_profile());
    let also = m.expert(&garden_profile());
    let viewer = m.client();
    let other = m.client();
    for (user, expert) in [(viewer, shared), (other, shared), (other, also)] {
        m.store
            .favorites()
            .create(favorite(user, expert, "2026-11-20T10:00:00Z"))
            .expect("favorite");
    }
    let personal = MatchQuery {
        viewer: Some(viewer),
        ..query("garden consultant")
    };
    let hit = m
        .search(&personal)
        .hits
        .into_iter()
        .find(|h| h.expert.id == also)
        .expect("hit");
    assert!(
        hit.contributions
            .iter()
            .all(|c| c.signal != Signal::AlsoSaved),
        "{:?}",
        hit.contributions
    );
    let context =
        droply_engine::matching::ViewerContext::load(&m.store, &m.index, viewer).expect("context");
    assert!(context.co_saved.is_empty(), "{:?}", context.co_saved);
}

#[test]
fn a_no_show_ranks_lower_and_completed_sessions_rank_higher() {
    let mut m = Market::new();
    let clean = m.expert(&Profile::default());
    let no_show = m.expert(&Profile::default());
    let proven = m.expert(&Profile::default());
    let client = m.client();
    let mut missed = full_booking(client, no_show, "2026-11-10T10:00:00Z");
    missed.status = BookingStatus::NoShow;
    m.store.bookings().create(missed).expect("booking");
    for day in 10..15 {
        let done = full_booking(client, proven, &format!("2026-11-{day}T10:00:00Z"));
        m.store.bookings().create(done).expect("booking");
    }
    let ids = m.ids(&query("rust engineer"));
    assert!(rank_of(&ids, clean) < rank_of(&ids, no_show), "{ids:?}");
    assert!(rank_of(&ids, proven) < rank_of(&ids, clean), "{ids:?}");
    let results = m.search(&query("rust engineer"));
    let reasons = |id| reasons_of(&results, id);
    assert!(
        reasons(no_show)
            .iter()
            .any(|r| r.text == "some sessions did not take place")
    );
    assert!(
        reasons(proven)
            .iter()
            .any(|r| r.text == "reliable: sessions take place as booked")
    );
}

#[test]
fn a_blocked_calendar_ranks_lower_and_an_early_slot_is_named() {
    let mut m = Market::new();
    let open = m.expert(&Profile::default());
    let blocked = m.expert(&Profile::default());
    for expert in [open, blocked] {
        m.open_weekdays(expert);
    }
    let mut block = exception(blocked, "2026-11-01T00:00:00Z", "2027-03-01T00:00:00Z");
    block.is_blocked = true;
    m.store
        .availability_exceptions()
        .create(block)
        .expect("exception");
    let ids = m.ids(&query("rust engineer"));
    assert!(rank_of(&ids, open) < rank_of(&ids, blocked), "{ids:?}");
    let results = m.search(&query("rust engineer"));
    let reasons = |id| reasons_of(&results, id);
    // Tuesday 09:00 UTC is 10:00 in Berlin: with an hour's notice, free today.
    assert!(
        reasons(open).iter().any(|r| r.text == "free today"),
        "{:?}",
        reasons(open)
    );
    assert!(
        reasons(blocked)
            .iter()
            .any(|r| r.text == "no open slot in the coming weeks")
    );
}

#[test]
fn many_good_reviews_beat_one_perfect_review() {
    let mut m = Market::new();
    let one_perfect = m.expert(&Profile {
        rating: Some((5, 1)),
        ..Profile::default()
    });
    let many_good = m.expert(&Profile {
        rating: Some((245, 50)),
        ..Profile::default()
    });
    let ids = m.ids(&query("rust engineer"));
    assert!(
        rank_of(&ids, many_good) < rank_of(&ids, one_perfect),
        "{ids:?}"
    );
    let results = m.search(&query("rust engineer"));
    let top = &results.hits[0];
    assert!(
        top.reasons
            .iter()
            .any(|r| r.text == "rated 4.9 from 50 reviews"),
        "{:?}",
        top.reasons
    );
}

#[test]
fn one_profession_does_not_fill_the_page() {
    let mut m = Market::new();
    let backends: Vec<UserId> = (0..6).map(|_| m.expert(&Profile::default())).collect();
    let data = m.expert(&Profile {
        profession: "Data Engineer",
        ..Profile::default()
    });
    let results = m.search(&query("rust engineer"));
    let ids: Vec<UserId> = results.hits.iter().map(|h| h.expert.id).collect();
    assert!(
        rank_of(&ids, data) <= 1,
        "the other profession comes up: {ids:?}"
    );
    let penalised = results
        .hits
        .iter()
        .filter(|h| {
            h.contributions
                .iter()
                .any(|c| c.signal == Signal::Diversity)
        })
        .count();
    assert_eq!(penalised, backends.len() - 1);
}

#[test]
fn a_new_expert_is_shown_on_the_first_page() {
    let mut m = Market::new();
    for _ in 0..12 {
        m.expert(&Profile::default());
    }
    let new = m.expert(&Profile {
        tags: vec!["onboarding"],
        ..Profile::default()
    });
    let mut user = m.store.users().get(new).expect("user");
    user.created_at = days_from_now(-2);
    user.updated_at = days_from_now(-2);
    m.store.users().update(user).expect("update");
    m.expert(&Profile {
        profession: "Civil Engineer",
        skills: ["Bridges", "Concrete", "Steel"],
        tags: vec!["infrastructure"],
        ..Profile::default()
    });
    let results = m.search(&query("rust kubernetes postgresql engineer payments"));
    let ids: Vec<UserId> = results.hits.iter().map(|h| h.expert.id).collect();
    let hit = results
        .hits
        .iter()
        .find(|h| h.expert.id == new)
        .expect("hit");
    let better_relevance = results
        .hits
        .iter()
        .filter(|h| h.fused.score > hit.fused.score)
        .count();
    assert!(
        better_relevance >= 10,
        "on merit alone it would not make the first page"
    );
    assert!(rank_of(&ids, new) < 10, "{ids:?}");
    assert!(hit.reasons.iter().any(|r| r.text == "new on Droply"));
}

#[test]
fn reasons_name_the_matched_skills() {
    let mut m = Market::new();
    m.expert(&Profile::default());
    let results = m.search(&query("kubernetes and rust"));
    let reasons: Vec<&str> = results.hits[0]
        .reasons
        .iter()
        .map(|r| r.text.as_str())
        .collect();
    assert!(reasons.contains(&"skills: Rust, Kubernetes"), "{reasons:?}");
    let keyword = &results.hits[0]
        .reasons
        .iter()
        .find(|r| r.signal == "keyword")
        .expect("keyword");
    assert!(keyword.weight > 0.0);
}

#[test]
fn cached_stats_are_forgotten_when_the_store_changes_them() {
    let mut m = Market::new();
    let first = m.expert(&Profile::default());
    let second = m.expert(&Profile::default());
    let client = m.client();
    m.settle();
    // Stats kept for an hour: only the change feed can refresh them.
    let matcher = Matcher::new(
        m.store.clone(),
        Arc::clone(&m.index),
        MatcherConfig {
            now: Some(at(NOW)),
            stats_ttl: Duration::from_secs(3600),
            ..MatcherConfig::default()
        },
    );
    let ids = |matcher: &Matcher| -> Vec<UserId> {
        let results = matcher.search(&query("rust engineer")).expect("search");
        results.hits.iter().map(|h| h.expert.id).collect()
    };
    assert_eq!(ids(&matcher), [first, second], "ties break by id");
    let mut missed = full_booking(client, first, "2026-11-10T10:00:00Z");
    missed.status = BookingStatus::NoShow;
    m.store.bookings().create(missed).expect("booking");
    assert_eq!(ids(&matcher), [second, first], "the no-show counts at once");
    m.store
        .interactions()
        .create(crate::fixtures::interaction(
            client,
            first,
            droply_models::InteractionType::Book,
            "2026-11-23T10:00:00Z",
        ))
        .expect("interaction");
    let results = matcher.search(&query("rust engineer")).expect("search");
    let engaged = results
        .hits
        .iter()
        .find(|h| h.expert.id == first)
        .expect("hit");
    assert!(
        engaged
            .contributions
            .iter()
            .any(|c| c.signal == Signal::Popularity),
        "the new interaction is seen: {:?}",
        engaged.contributions
    );
}

#[test]
fn experts_chosen_when_shown_rank_above_experts_passed_over() {
    let mut m = Market::new();
    let chosen = m.expert(&Profile::default());
    let passed_over = m.expert(&Profile::default());
    let client = m.client();
    for expert in [chosen, passed_over] {
        for day in 10..20 {
            let at = format!("2026-11-{day}T10:00:00Z");
            for kind in [
                droply_models::InteractionType::SearchImpression,
                droply_models::InteractionType::SearchImpression,
            ] {
                m.store
                    .interactions()
                    .create(crate::fixtures::interaction(client, expert, kind, &at))
                    .expect("impression");
            }
        }
    }
    for day in 10..16 {
        let at = format!("2026-11-{day}T10:05:00Z");
        m.store
            .interactions()
            .create(crate::fixtures::interaction(
                client,
                chosen,
                droply_models::InteractionType::Click,
                &at,
            ))
            .expect("click");
    }
    // Both were shown on 10 days (twice a day counts once); one was clicked on 6 days
    // (the clicks also add a little popularity), the other never.
    let results = m.search(&query("rust engineer"));
    let ids: Vec<UserId> = results.hits.iter().map(|h| h.expert.id).collect();
    assert!(
        rank_of(&ids, chosen) < rank_of(&ids, passed_over),
        "{ids:?}"
    );
    let reasons = |id| reasons_of(&results, id);
    assert!(
        reasons(chosen)
            .iter()
            .any(|r| r.text == "often chosen when shown")
    );
    assert!(
        reasons(passed_over)
            .iter()
            .any(|r| r.text == "often passed over when shown"),
        "{:?}",
        reasons(passed_over)
    );
}

/// Regression: click-through divided every click by the showings of stored matches
/// only, while any client may post a click: one showing and clicks from six clients it
/// was never shown to turned "often chosen when shown" fully on (a rate above 1).
#[test]
fn clicks_from_people_never_shown_the_expert_do_not_make_it_chosen_when_shown() {
    let mut m = Market::new();
    let expert = m.expert(&Profile::default());
    let shown_to = m.client();
    m.store
        .interactions()
        .create(interaction(
            shown_to,
            expert,
            InteractionType::SearchImpression,
            "2026-11-20T10:00:00Z",
        ))
        .expect("impression");
    for day in 10..16 {
        let clicker = m.client();
        m.store
            .interactions()
            .create(interaction(
                clicker,
                expert,
                InteractionType::Click,
                &format!("2026-11-{day}T10:05:00Z"),
            ))
            .expect("click");
    }
    let results = m.search(&query("rust engineer"));
    let click_through = weight_of(&results, expert, Signal::ClickThrough);
    assert!(click_through <= 0.0, "{click_through}");
    assert!(
        !reasons_of(&results, expert)
            .iter()
            .any(|r| r.text == "often chosen when shown"),
        "{:?}",
        reasons_of(&results, expert)
    );
}

/// Regression: an interaction dated after the present counted as brand new (full
/// weight) in an expert's engagement, while trending skipped it.
#[test]
fn a_future_dated_view_adds_nothing() {
    let mut m = Market::new();
    let expert = m.expert(&Profile::default());
    for day in 25..28 {
        let viewer = m.client();
        m.store
            .interactions()
            .create(interaction(
                viewer,
                expert,
                InteractionType::View,
                &format!("2026-11-{day}T10:00:00Z"),
            ))
            .expect("view");
    }
    let results = m.search(&query("rust engineer"));
    assert_eq!(
        weight_of(&results, expert, Signal::Popularity),
        0.0,
        "views dated after {NOW} are not engagement yet"
    );
    // A view dated a little ahead (another node's clock) counts as new.
    let viewer = m.client();
    m.store
        .interactions()
        .create(interaction(
            viewer,
            expert,
            InteractionType::View,
            "2026-11-24T09:02:00Z",
        ))
        .expect("view");
    let results = m.search(&query("rust engineer"));
    assert!(weight_of(&results, expert, Signal::Popularity) > 0.0);
}

/// Regression: an unsave weighed -4 at its own recent age while the save it undid had
/// decayed over three months, so withdrawing an old save wiped out the engagement of
/// everyone else. A withdrawn save now counts not at all, and nothing more.
#[test]
fn withdrawing_an_old_save_takes_away_only_that_save() {
    let mut m = Market::new();
    let unsaved = m.expert(&Profile::default());
    let control = m.expert(&Profile::default());
    let viewers = [m.client(), m.client(), m.client()];
    let saver = m.client();
    for expert in [unsaved, control] {
        for (viewer, day) in viewers.iter().zip(20..23) {
            m.store
                .interactions()
                .create(interaction(
                    *viewer,
                    expert,
                    InteractionType::View,
                    &format!("2026-11-{day}T10:00:00Z"),
                ))
                .expect("view");
        }
    }
    for (kind, when) in [
        (InteractionType::Favorite, "2026-08-26T09:00:00Z"),
        (InteractionType::Unfavorite, "2026-11-24T08:00:00Z"),
    ] {
        m.store
            .interactions()
            .create(interaction(saver, unsaved, kind, when))
            .expect("save");
    }
    let results = m.search(&query("rust engineer"));
    let kept = weight_of(&results, control, Signal::Popularity);
    assert!(kept > 0.0, "three views lift: {kept}");
    let after_unsave = weight_of(&results, unsaved, Signal::Popularity);
    assert!(
        (after_unsave - kept).abs() < 1e-6,
        "the views still count: {after_unsave} vs {kept}"
    );
}

/// Regression: a cached earliest slot was served until it started, though the last
/// hour before it (the slot policy's minimum notice) cannot be booked: the expert
/// passed `bookable_within_days` (and read "free today") on a slot nobody could take.
#[test]
fn a_cached_slot_within_the_minimum_notice_no_longer_makes_the_expert_bookable() {
    let mut m = Market::new();
    let expert = m.expert(&Profile::default());
    m.open_weekdays(expert);
    // Open on Tuesday from 11:00 in Berlin (10:00 UTC, an hour after NOW) for one
    // 90-minute session, then blocked until Friday.
    let mut block = exception(expert, "2026-11-24T11:45:00Z", "2026-11-27T00:00:00Z");
    block.is_blocked = true;
    m.store
        .availability_exceptions()
        .create(block)
        .expect("exception");
    m.settle();
    let within_a_day = MatchQuery {
        filters: MatchFilters {
            bookable_within_days: Some(1),
            ..MatchFilters::default()
        },
        ..query("rust engineer")
    };
    let matcher_at = |now: Timestamp| {
        Matcher::new(
            m.store.clone(),
            Arc::clone(&m.index),
            MatcherConfig {
                now: Some(now),
                stats_ttl: Duration::from_secs(3600),
                ..MatcherConfig::default()
            },
        )
    };
    let first_slot = at("2026-11-24T10:00:00Z");
    let first = matcher_at(at(NOW));
    let results = first.search(&within_a_day).expect("search");
    assert_eq!(earliest_slot_of(&results, expert), Some(first_slot));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stats.bin");
    assert_eq!(first.save_stats(&path).expect("save"), 1);
    // 59 minutes before that slot it can no longer be booked: the next slot is Friday's.
    let later = matcher_at(first_slot.plus_minutes(-59));
    assert_eq!(later.load_stats(&path).expect("load"), 1);
    let results = later.search(&within_a_day).expect("search");
    assert!(
        results.hits.iter().all(|h| h.expert.id != expert),
        "the cached slot within the notice is not bookable: {:?}",
        results
            .hits
            .iter()
            .map(|h| earliest_slot_of(&results, h.expert.id))
            .collect::<Vec<_>>()
    );
}

//! Honest signals, each test named after what a review found: one account
//! repeating an interaction counts once a day, one's own interactions count
//! for nothing, and what the ranking shows anyone (reasons, contribution
//! values) never tells another expert's no-shows, sessions, returning clients
//! or clicks, nor what a few other users saved. The ranking itself is
//! unchanged: the signals weigh what they weighed.

use droply_engine::availability::SlotPolicy;
use droply_engine::matching::{ExpertStats, MatchQuery, RankedExpert, Signal, record_matches};
use droply_models::{BookingStatus, InteractionType, UserId, UserInteraction};

use crate::fixtures::{at, favorite, full_booking, interaction};
use crate::market::{Market, NOW, Profile, rank_of};

fn query(text: &str, viewer: Option<UserId>) -> MatchQuery {
    MatchQuery {
        text: text.to_owned(),
        limit: 50,
        viewer,
        ..MatchQuery::default()
    }
}

fn stats(m: &Market, expert: UserId) -> ExpertStats {
    let user = m.store.users().get(expert).expect("expert");
    ExpertStats::load(&m.store, &user, at(NOW), &SlotPolicy::default()).expect("stats")
}

/// Writes every interaction in one transaction.
fn record_all(m: &Market, rows: Vec<UserInteraction>) {
    m.store
        .write(|txn| {
            for row in rows {
                txn.create(row)?;
            }
            Ok(())
        })
        .expect("interactions");
}

#[test]
fn engagement_counts_each_user_once_a_day() {
    let mut m = Market::new();
    let flooded = m.expert(&Profile::default());
    let liked = m.expert(&Profile::default());
    let spammer = m.client();
    // One account views one expert 500 times in a day...
    let mut rows: Vec<UserInteraction> = (0..500)
        .map(|i| {
            let at = format!("2026-11-23T10:{:02}:{:02}Z", i / 60, i % 60);
            interaction(spammer, flooded, InteractionType::View, &at)
        })
        .collect();
    // ...and clicks it 50 times: each kind counts once that day.
    rows.extend((0..50).map(|i| {
        let at = format!("2026-11-23T11:00:{i:02}Z");
        interaction(spammer, flooded, InteractionType::Click, &at)
    }));
    // Four people view the other expert once each.
    for _ in 0..4 {
        let client = m.client();
        rows.push(interaction(
            client,
            liked,
            InteractionType::View,
            "2026-11-23T10:00:00Z",
        ));
    }
    record_all(&m, rows);

    let decay = 0.5f32.powf((23.0 / 24.0) / 30.0); // a day (less an hour) old
    let flooded_stats = stats(&m, flooded);
    assert!(
        (flooded_stats.engagement - 3.0 * decay).abs() < 0.05,
        "one view (1) and one click (2): {flooded_stats:?}"
    );
    assert_eq!(
        flooded_stats.clicks, 0.0,
        "never shown the expert, so none of its clicks is click-through: {flooded_stats:?}"
    );
    let liked_stats = stats(&m, liked);
    assert!((liked_stats.engagement - 4.0 * decay).abs() < 0.05);
    // So the flood does not outrank four people on popularity.
    let ids = m.ids(&query("rust engineer", None));
    assert!(rank_of(&ids, liked) < rank_of(&ids, flooded), "{ids:?}");

    // The same account on another day counts again.
    record_all(
        &m,
        vec![interaction(
            spammer,
            flooded,
            InteractionType::View,
            "2026-11-22T10:00:00Z",
        )],
    );
    assert!(stats(&m, flooded).engagement > flooded_stats.engagement + 0.9);
}

#[test]
fn trending_counts_each_user_once_a_day() {
    let mut m = Market::new();
    let flooded = m.expert(&Profile::default());
    let liked = m.expert(&Profile::default());
    let spammer = m.client();
    let mut rows: Vec<UserInteraction> = (0..300)
        .map(|i| {
            let at = format!("2026-11-23T12:{:02}:{:02}Z", i / 60, i % 60);
            interaction(spammer, flooded, InteractionType::Share, &at)
        })
        .collect();
    for _ in 0..3 {
        let client = m.client();
        rows.push(interaction(
            client,
            liked,
            InteractionType::Share,
            "2026-11-23T10:00:00Z",
        ));
    }
    record_all(&m, rows);
    m.settle();
    let trending = m.matcher.trending(10, None).expect("trending");
    let ids: Vec<UserId> = trending.iter().map(|h| h.expert.id).collect();
    assert_eq!(ids, [liked, flooded], "three people beat one flood");
}

/// Of a user's saves and unsaves of an expert only the newest counts, and an
/// unsave weighs nothing: a save taken back lifts nothing in trending and
/// takes nothing from what others did. Before, each unsave weighed -4 at its
/// own (newer, so heavier) age against its save's +4 at an older one, and
/// three saves taken back sank the expert's two views below zero.
#[test]
fn a_save_taken_back_counts_for_nothing_in_trending() {
    let mut m = Market::new();
    let taken_back = m.expert(&Profile::default());
    let viewed_thrice = m.expert(&Profile::default());
    let viewed_once = m.expert(&Profile::default());
    let mut rows = Vec::new();
    for _ in 0..3 {
        let client = m.client();
        rows.push(interaction(
            client,
            taken_back,
            InteractionType::Favorite,
            "2026-11-19T10:00:00Z",
        ));
        rows.push(interaction(
            client,
            taken_back,
            InteractionType::Unfavorite,
            "2026-11-23T09:00:00Z",
        ));
    }
    let views = [(taken_back, 2), (viewed_thrice, 3), (viewed_once, 1)];
    for (expert, people) in views {
        for _ in 0..people {
            let client = m.client();
            rows.push(interaction(
                client,
                expert,
                InteractionType::View,
                "2026-11-23T10:00:00Z",
            ));
        }
    }
    record_all(&m, rows);
    m.settle();
    let trending = m.matcher.trending(10, None).expect("trending");
    let ids: Vec<UserId> = trending.iter().map(|h| h.expert.id).collect();
    // Two views between three and one: the saves neither lift nor sink it.
    assert_eq!(ids, [viewed_thrice, taken_back, viewed_once]);
}

#[test]
fn recording_oneself_lifts_nothing() {
    let mut m = Market::new();
    let vain = m.expert(&Profile::default());
    let rows = [
        InteractionType::View,
        InteractionType::Click,
        InteractionType::Share,
        InteractionType::Message,
    ]
    .into_iter()
    .map(|kind| interaction(vain, vain, kind, "2026-11-23T10:00:00Z"))
    .collect();
    record_all(&m, rows);
    let own = stats(&m, vain);
    assert_eq!((own.engagement, own.clicks), (0.0, 0.0), "{own:?}");
    m.settle();
    assert!(m.matcher.trending(10, None).expect("trending").is_empty());
}

/// The signals whose values come from other users' private activity.
const PRIVATE: [Signal; 3] = [Signal::Popularity, Signal::ClickThrough, Signal::Bookings];

/// Asserts that nothing `hits` show tells a private count.
fn assert_no_private_counts(hits: &[RankedExpert]) {
    for hit in hits {
        for c in hit
            .contributions
            .iter()
            .filter(|c| PRIVATE.contains(&c.signal) || c.signal == Signal::AlsoSaved)
        {
            assert!(
                !c.value.chars().any(|ch| ch.is_ascii_digit()),
                "{:?} shows a number: {c:?}",
                c.signal
            );
        }
        for reason in &hit.reasons {
            let private =
                PRIVATE.iter().any(|s| s.name() == reason.signal) || reason.signal == "also_saved";
            if private {
                assert!(
                    !(reason.text.chars().any(|ch| ch.is_ascii_digit())
                        || reason.value.chars().any(|ch| ch.is_ascii_digit())),
                    "{reason:?}"
                );
            }
            for word in ["no-show", "completed", "returning", "clicks", "showings"] {
                assert!(!reason.text.contains(word), "{reason:?}");
                assert!(!reason.value.contains(word), "{reason:?}");
            }
        }
    }
}

#[test]
fn anonymous_reasons_never_show_no_shows_or_counts() {
    let mut m = Market::new();
    let proven = m.expert(&Profile::default());
    let flaky = m.expert(&Profile::default());
    let regular = m.client();
    let once = m.client();
    // Five sessions with two clients, one of them back four times.
    for (client, day) in [
        (regular, 10),
        (regular, 11),
        (regular, 12),
        (regular, 13),
        (once, 14),
    ] {
        let done = full_booking(client, proven, &format!("2026-11-{day}T10:00:00Z"));
        m.store.bookings().create(done).expect("booking");
    }
    for day in [15, 16] {
        let mut missed = full_booking(once, flaky, &format!("2026-11-{day}T10:00:00Z"));
        missed.status = BookingStatus::NoShow;
        m.store.bookings().create(missed).expect("booking");
    }
    // Shown on ten days and clicked on six, by two people.
    let mut rows = Vec::new();
    for day in 10..20 {
        for client in [regular, once] {
            let at = format!("2026-11-{day}T09:00:00Z");
            rows.push(interaction(
                client,
                proven,
                InteractionType::SearchImpression,
                &at,
            ));
            rows.push(interaction(
                client,
                flaky,
                InteractionType::SearchImpression,
                &at,
            ));
        }
    }
    for day in 10..16 {
        let at = format!("2026-11-{day}T09:05:00Z");
        rows.push(interaction(regular, proven, InteractionType::Click, &at));
    }
    record_all(&m, rows);

    let anonymous = m.search(&query("rust engineer", None));
    let ids: Vec<UserId> = anonymous.hits.iter().map(|h| h.expert.id).collect();
    assert!(rank_of(&ids, proven) < rank_of(&ids, flaky), "{ids:?}");
    let proven_hit = anonymous
        .hits
        .iter()
        .find(|h| h.expert.id == proven)
        .expect("hit");
    for signal in PRIVATE {
        assert!(
            proven_hit.contributions.iter().any(|c| c.signal == signal),
            "{signal:?} still weighs: {:?}",
            proven_hit.contributions
        );
    }
    let texts = |id: UserId| -> Vec<String> {
        anonymous
            .hits
            .iter()
            .find(|h| h.expert.id == id)
            .expect("hit")
            .reasons
            .iter()
            .map(|r| r.text.clone())
            .collect()
    };
    assert!(
        texts(proven).contains(&"reliable: sessions take place as booked".to_owned()),
        "{:?}",
        texts(proven)
    );
    assert!(texts(flaky).contains(&"some sessions did not take place".to_owned()));
    assert_no_private_counts(&anonymous.hits);

    // Nor to a signed-in client, nor in stored matches or lists.
    let viewer = m.client();
    let personal = m.search(&query("rust engineer", Some(viewer)));
    assert_no_private_counts(&personal.hits);
    let stored = record_matches(&m.store, viewer, "rust engineer", &personal.hits).expect("store");
    for row in &stored {
        for reason in &row.match_reasons {
            assert!(!reason.text.contains("completed") && !reason.text.contains("no-show"));
        }
    }
    m.settle();
    assert_no_private_counts(&m.matcher.trending(10, None).expect("trending"));
    assert_no_private_counts(&m.matcher.similar(proven, 10, None).expect("similar"));
}

#[test]
fn a_co_save_by_fewer_than_three_people_neither_counts_nor_is_explained() {
    let mut m = Market::new();
    let garden = Profile {
        profession: "Consultant",
        industry: "Home",
        skills: ["Garden", "Design", "Roses"],
        tags: vec!["outdoor"],
        bio: "Designs gardens for city courtyards.",
        ..Profile::default()
    };
    let shared = m.expert(&Profile::default());
    let also = m.expert(&garden);
    let viewer = m.client();
    m.store
        .favorites()
        .create(favorite(viewer, shared, "2026-11-20T10:00:00Z"))
        .expect("favorite");
    let co_save = |m: &Market| {
        let results = m.search(&query("garden consultant", Some(viewer)));
        let hit = results
            .hits
            .into_iter()
            .find(|h| h.expert.id == also)
            .expect("hit");
        assert_no_private_counts(std::slice::from_ref(&hit));
        let contribution = hit
            .contributions
            .iter()
            .find(|c| c.signal == Signal::AlsoSaved)
            .cloned();
        let reason = hit.reasons.into_iter().find(|r| r.signal == "also_saved");
        (contribution, reason)
    };
    let mut weights = Vec::new();
    for people in 1..=4 {
        let other = m.client();
        for expert in [shared, also] {
            m.store
                .favorites()
                .create(favorite(other, expert, "2026-11-21T10:00:00Z"))
                .expect("favorite");
        }
        let (contribution, reason) = co_save(&m);
        if people < 3 {
            // Fewer people would point at what one or two others saved: no lift either.
            assert!(contribution.is_none(), "{people}: {contribution:?}");
            assert!(reason.is_none(), "{people}: {reason:?}");
        } else {
            let contribution = contribution.expect("the co-save counts");
            assert!(contribution.shown);
            weights.push(contribution.weight);
            let reason = reason.expect("explained by three people");
            assert_eq!(reason.text, "people with similar taste saved this");
            assert_eq!(reason.value, "");
        }
    }
    // The lift grows with the people.
    assert!(weights[0] < weights[1], "{weights:?}");
}

//! Tests of `editing`.

use droply_models::{BookingStatus, PaymentStatus, TimeZone};

use super::*;
use crate::test_rows::{ann_and_bob, booking, monday_rule, user};

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("instant")
}

/// A confirmed, paid one-hour booking of `provider` by `booker` at `start`.
fn confirmed(store: &Store, booker: UserId, provider: UserId, start: Timestamp) {
    let mut row = booking(booker, provider);
    row.start_time = start;
    row.end_time = start.plus_minutes(60);
    row.status = BookingStatus::Confirmed;
    row.payment_status = PaymentStatus::Succeeded;
    store.bookings().create(row).expect("booking");
}

/// Regression: listing slots read every booking the expert ever gave or
/// took. Reading only those near the asked days must change nothing,
/// including bookings whose buffer reaches over either end of the days.
#[test]
fn slots_read_from_the_bookings_near_the_days_equal_those_of_the_whole_history() {
    let (store, ann, bob) = ann_and_bob();
    // Ann (Berlin) works Mondays 09:00-17:00 and is open too from Sunday
    // 22:00Z to Monday 08:00Z and from 16:00Z to Tuesday 02:00Z.
    store
        .availability_rules()
        .create(monday_rule(ann.id))
        .expect("rule");
    for (start, end) in [
        ("2027-01-03T22:00:00Z", "2027-01-04T08:00:00Z"),
        ("2027-01-04T16:00:00Z", "2027-01-05T02:00:00Z"),
    ] {
        store
            .availability_exceptions()
            .create(AvailabilityException {
                id: AvailabilityExceptionId::new(0),
                user_id: ann.id,
                start: at(start),
                end: at(end),
                reason: None,
                is_blocked: false,
                created_at: at("2027-01-01T00:00:00Z"),
            })
            .expect("exception");
    }
    // Years of sessions long past, and many far ahead.
    for day in 0..600 {
        confirmed(
            &store,
            bob.id,
            ann.id,
            at("2025-01-01T10:00:00Z").plus_days(day),
        );
    }
    for day in 0..150 {
        confirmed(
            &store,
            bob.id,
            ann.id,
            at("2027-02-01T10:00:00Z").plus_days(day),
        );
    }
    // Near the asked Monday (a UTC day): one ending 23:30Z the evening
    // before and one starting 01:00Z after it, whose 45-minute buffers
    // reach into it, and one Ann booked with Bob at noon.
    confirmed(&store, bob.id, ann.id, at("2027-01-03T22:30:00Z"));
    confirmed(&store, bob.id, ann.id, at("2027-01-05T01:00:00Z"));
    confirmed(&store, ann.id, bob.id, at("2027-01-04T12:00:00Z"));
    let policy = SlotPolicy {
        buffer_minutes: 45,
        ..SlotPolicy::default()
    };
    let day = "2027-01-04".parse().expect("date");
    let query = SlotQuery {
        from: day,
        to: day,
        viewer_tz: TimeZone::UTC,
        duration_minutes: Some(60),
        now: at("2027-01-01T00:00:00Z"),
    };
    let listed = expert_slots(&store, ann.id, &query, &policy).expect("slots");
    let whole = find_slots(
        &expert_calendar(&store, &ann).expect("calendar"),
        &query,
        &policy,
    )
    .expect("slots");
    assert_eq!(listed, whole);
    let starts: Vec<Timestamp> = listed.iter().map(|slot| slot.start).collect();
    assert_eq!(
        starts.first(),
        Some(&at("2027-01-04T00:30:00Z")),
        "buffer before"
    );
    assert!(
        !starts.contains(&at("2027-01-04T11:00:00Z")),
        "Ann's own booking"
    );
    assert!(starts.contains(&at("2027-01-04T23:00:00Z")));
    assert_eq!(
        starts.last(),
        Some(&at("2027-01-04T23:00:00Z")),
        "buffer after"
    );
}

/// Regression: the slots of an expert who cannot be booked were answered
/// empty before the query was checked, so a range too long, a `to`
/// before `from` or a length the expert cannot be booked for was
/// accepted for them and refused for a bookable expert.
#[test]
fn slots_of_an_unbookable_expert_refuse_a_bad_query_like_those_of_a_bookable_one() {
    let (store, ann, _bob) = ann_and_bob();
    store
        .availability_rules()
        .create(monday_rule(ann.id))
        .expect("rule");
    let mut away = user("cara", "Tax Advisor");
    away.is_available = false;
    let away = store.users().create(away).expect("cara");
    store
        .availability_rules()
        .create(monday_rule(away.id))
        .expect("rule");
    assert!(ann.is_bookable() && !away.is_bookable());
    let policy = SlotPolicy::default();
    let query = |from: &str, to: &str, minutes: Option<u16>| SlotQuery {
        from: from.parse().expect("date"),
        to: to.parse().expect("date"),
        viewer_tz: TimeZone::UTC,
        duration_minutes: minutes,
        now: at("2027-01-01T00:00:00Z"),
    };
    let bad = [
        (
            "a year of days",
            query("2027-01-01", "2027-12-31", Some(60)),
        ),
        (
            "to before from",
            query("2027-01-10", "2027-01-04", Some(60)),
        ),
        (
            "not whole sessions",
            query("2027-01-04", "2027-01-04", Some(7)),
        ),
        ("all three", query("2027-01-01", "2027-12-31", Some(7))),
    ];
    for (what, bad) in bad {
        for expert in [&ann, &away] {
            let answer = expert_slots(&store, expert.id, &bad, &policy);
            // `Invalid` for the days, `Model` for the length: both 400.
            assert!(
                matches!(answer, Err(Error::Invalid(_) | Error::Model(_))),
                "{what} for expert {}: {answer:?}",
                expert.id.get()
            );
        }
    }
    // A good query: slots for the bookable expert, none for the other.
    let good = query("2027-01-04", "2027-01-04", None);
    assert!(
        !expert_slots(&store, ann.id, &good, &policy)
            .expect("ann's slots")
            .is_empty()
    );
    assert_eq!(
        expert_slots(&store, away.id, &good, &policy).expect("cara's slots"),
        Vec::new()
    );
}

/// Regression: adding a rule or exception again (a client resending
/// after a lost answer) made a twin, which kept the hours bookable (or
/// blocked) after the expert deleted "the" row. The repeat answers the
/// row already held, so deleting it leaves nothing behind.
#[test]
fn the_same_rule_or_exception_added_twice_is_kept_once() {
    let (store, ann, bob) = ann_and_bob();
    let new = NewRule {
        weekday: Weekday::new(0).expect("monday"),
        start: LocalTime::parse("09:00").expect("start"),
        end: LocalTime::parse("17:00").expect("end"),
    };
    let (first, created) = add_rule(&store, ann.id, new).expect("rule");
    assert!(created);
    let (again, created) = add_rule(&store, ann.id, new).expect("repeat");
    assert!(!created);
    assert_eq!(again, first);
    assert_eq!(
        list_rules(&store, ann.id).expect("rules"),
        vec![first.clone()]
    );
    // Bob's identical rule is his own.
    let (bobs, created) = add_rule(&store, bob.id, new).expect("bob's rule");
    assert!(created && bobs.id != first.id);
    delete_rule(&store, ann.id, first.id).expect("delete");
    assert_eq!(list_rules(&store, ann.id).expect("rules"), Vec::new());
    // A rule switched off is not the same as the active one asked for.
    let (kept, _) = add_rule(&store, ann.id, new).expect("rule");
    let off = RulePatch {
        is_active: Some(false),
        ..RulePatch::default()
    };
    update_rule(&store, ann.id, kept.id, off).expect("switch off");
    let (active, created) = add_rule(&store, ann.id, new).expect("active rule");
    assert!(created && active.id != kept.id && active.is_active);

    let start = Timestamp::now().plus_days(7);
    let holiday = NewException {
        start,
        end: start.plus_days(1),
        is_blocked: true,
        reason: Some("Holiday".to_owned()),
    };
    let (first, created) = add_exception(&store, ann.id, holiday.clone()).expect("exception");
    assert!(created);
    let (again, created) = add_exception(&store, ann.id, holiday.clone()).expect("repeat");
    assert!(!created);
    assert_eq!(again, first);
    // Another reason is another exception.
    let other = NewException {
        reason: None,
        ..holiday
    };
    let (other, created) = add_exception(&store, ann.id, other).expect("other");
    assert!(created && other.id != first.id);
    delete_exception(&store, ann.id, first.id).expect("delete");
    assert_eq!(
        list_exceptions(&store, ann.id).expect("exceptions"),
        vec![other]
    );
}

//! Every relationship query returns exactly the owner's rows, in key order,
//! and pages through them with cursors in both directions.

use droply_engine::Result;
use droply_engine::store::{Page, PageRequest, Record, RecordId};
use droply_models::{BookingId, InteractionType};

use crate::fixtures::*;

/// Reads a whole list two rows at a time, forwards, and checks it against one
/// big page and against the reverse order.
fn all_pages<R: Record>(list: impl Fn(&PageRequest) -> Result<Page<R>>) -> Vec<u64> {
    let whole: Vec<u64> = list(&PageRequest::first(100))
        .expect("list")
        .items
        .iter()
        .map(|r| r.id().raw())
        .collect();
    let mut paged = Vec::new();
    let mut request = PageRequest::first(2);
    loop {
        let page = list(&request).expect("page");
        assert!(page.items.len() <= 2);
        paged.extend(page.items.iter().map(|r| r.id().raw()));
        match page.next {
            Some(cursor) => request = PageRequest::first(2).after(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(paged, whole, "paging forwards gives the same rows");
    let mut backwards = Vec::new();
    let mut request = PageRequest::first(2).desc();
    loop {
        let page = list(&request).expect("page");
        backwards.extend(page.items.iter().map(|r| r.id().raw()));
        match page.next {
            Some(cursor) => request = PageRequest::first(2).desc().after(Some(cursor)),
            None => break,
        }
    }
    backwards.reverse();
    assert_eq!(
        backwards, whole,
        "paging backwards gives the same rows reversed"
    );
    whole
}

fn bookings_by_booker_and_by_provider_in_start_order(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let other = store.users().create(full_user("other")).expect("other");
    let starts = [
        "2026-10-09T09:00:00Z",
        "2026-10-05T09:00:00Z",
        "2026-10-07T15:00:00Z",
        "2026-10-06T08:00:00Z",
    ];
    let mut ids = Vec::new();
    for start in starts {
        ids.push(
            store
                .bookings()
                .create(full_booking(client.id, expert.id, start))
                .expect("booking"),
        );
    }
    store
        .bookings()
        .create(full_booking(other.id, client.id, "2026-10-01T09:00:00Z"))
        .expect("noise");
    let mut by_start = ids.clone();
    by_start.sort_by_key(|b| b.start_time);
    let expected: Vec<u64> = by_start.iter().map(|b| b.id.get()).collect();
    assert_eq!(
        all_pages(|p| store.bookings().by_booker(client.id, p)),
        expected
    );
    assert_eq!(
        all_pages(|p| store.bookings().by_provider(expert.id, p)),
        expected
    );
    assert_eq!(
        all_pages(|p| store.bookings().by_provider(client.id, p)).len(),
        1
    );
    assert!(all_pages(|p| store.bookings().by_booker(expert.id, p)).is_empty());
}

fn favorites_both_ways_in_time_order(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let e2 = store.users().create(full_user("expert2")).expect("e2");
    let e3 = store.users().create(full_user("expert3")).expect("e3");
    let f3 = store
        .favorites()
        .create(favorite(client.id, e3.id, "2026-10-03T00:00:00Z"))
        .expect("f");
    let f1 = store
        .favorites()
        .create(favorite(client.id, expert.id, "2026-10-01T00:00:00Z"))
        .expect("f");
    let f2 = store
        .favorites()
        .create(favorite(client.id, e2.id, "2026-10-02T00:00:00Z"))
        .expect("f");
    let g = store
        .favorites()
        .create(favorite(e2.id, expert.id, "2026-09-01T00:00:00Z"))
        .expect("f");
    assert_eq!(
        all_pages(|p| store.favorites().by_user(client.id, p)),
        vec![f1.id.get(), f2.id.get(), f3.id.get()]
    );
    assert_eq!(
        all_pages(|p| store.favorites().by_target(expert.id, p)),
        vec![g.id.get(), f1.id.get()]
    );
    assert_eq!(store.favorites().count_for(expert.id).expect("count"), 2);
}

fn interactions_by_user_and_by_target(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let b = store
        .interactions()
        .create(interaction(
            client.id,
            expert.id,
            InteractionType::Click,
            "2026-10-02T00:00:00Z",
        ))
        .expect("i");
    let a = store
        .interactions()
        .create(interaction(
            client.id,
            expert.id,
            InteractionType::View,
            "2026-10-01T00:00:00Z",
        ))
        .expect("i");
    let c = store
        .interactions()
        .create(interaction(
            expert.id,
            client.id,
            InteractionType::View,
            "2026-10-03T00:00:00Z",
        ))
        .expect("i");
    assert_eq!(
        all_pages(|p| store.interactions().by_user(client.id, p)),
        vec![a.id.get(), b.id.get()]
    );
    assert_eq!(
        all_pages(|p| store.interactions().by_target(expert.id, p)),
        vec![a.id.get(), b.id.get()]
    );
    assert_eq!(
        all_pages(|p| store.interactions().by_target(client.id, p)),
        vec![c.id.get()]
    );
}

fn availability_by_user(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let wed = store
        .availability_rules()
        .create(rule(expert.id, 2, "09:00", "12:00"))
        .expect("r");
    let mon_late = store
        .availability_rules()
        .create(rule(expert.id, 0, "13:00", "17:00"))
        .expect("r");
    let mon = store
        .availability_rules()
        .create(rule(expert.id, 0, "08:00", "12:00"))
        .expect("r");
    store
        .availability_rules()
        .create(rule(client.id, 0, "08:00", "12:00"))
        .expect("noise");
    assert_eq!(
        all_pages(|p| store.availability_rules().by_user(expert.id, p)),
        vec![mon.id.get(), mon_late.id.get(), wed.id.get()]
    );
    let late = store
        .availability_exceptions()
        .create(exception(
            expert.id,
            "2026-12-24T00:00:00Z",
            "2026-12-26T00:00:00Z",
        ))
        .expect("x");
    let early = store
        .availability_exceptions()
        .create(exception(
            expert.id,
            "2026-11-01T00:00:00Z",
            "2026-11-02T00:00:00Z",
        ))
        .expect("x");
    assert_eq!(
        all_pages(|p| store.availability_exceptions().by_user(expert.id, p)),
        vec![early.id.get(), late.id.get()]
    );
}

fn payouts_referrals_and_rewards(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let p2 = store
        .payouts()
        .create(payout(expert.id, "2026-10-02T00:00:00Z"))
        .expect("p");
    let p1 = store
        .payouts()
        .create(payout(expert.id, "2026-10-01T00:00:00Z"))
        .expect("p");
    assert_eq!(
        all_pages(|p| store.payouts().by_user(expert.id, p)),
        vec![p1.id.get(), p2.id.get()]
    );
    assert!(all_pages(|p| store.payouts().by_user(client.id, p)).is_empty());

    let r = store
        .referrals()
        .create(referral(expert.id, client.id, "2026-10-01T00:00:00Z"))
        .expect("r");
    assert_eq!(
        all_pages(|p| store.referrals().by_referrer(expert.id, p)),
        vec![r.id.get()]
    );
    assert_eq!(
        all_pages(|p| store.referrals().by_referred(client.id, p)),
        vec![r.id.get()]
    );
    assert!(all_pages(|p| store.referrals().by_referrer(client.id, p)).is_empty());

    let booking = store
        .bookings()
        .create(full_booking(client.id, expert.id, "2026-10-05T09:00:00Z"))
        .expect("b");
    let w1 = store
        .referral_rewards()
        .create(reward(
            expert.id,
            client.id,
            Some(booking.id),
            "2026-10-06T00:00:00Z",
        ))
        .expect("w");
    let w0 = store
        .referral_rewards()
        .create(reward(expert.id, client.id, None, "2026-10-01T00:00:00Z"))
        .expect("w");
    assert_eq!(
        all_pages(|p| store.referral_rewards().by_booking(booking.id, p)),
        vec![w1.id.get()]
    );
    assert!(
        all_pages(|p| store
            .referral_rewards()
            .by_booking(BookingId::new(424242), p))
        .is_empty()
    );
    assert_eq!(
        all_pages(|p| store.referral_rewards().by_referrer(expert.id, p)),
        vec![w0.id.get(), w1.id.get()]
    );
}

fn content_and_purchases(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let c2 = store
        .contents()
        .create(content(expert.id, "2026-10-02T00:00:00Z"))
        .expect("c");
    let c1 = store
        .contents()
        .create(content(expert.id, "2026-10-01T00:00:00Z"))
        .expect("c");
    assert_eq!(
        all_pages(|p| store.contents().by_creator(expert.id, p)),
        vec![c1.id.get(), c2.id.get()]
    );
    let b2 = store
        .content_purchases()
        .create(purchase(client.id, c1.id, "2026-10-05T00:00:00Z"))
        .expect("p");
    let b1 = store
        .content_purchases()
        .create(purchase(client.id, c2.id, "2026-10-04T00:00:00Z"))
        .expect("p");
    let b3 = store
        .content_purchases()
        .create(purchase(expert.id, c1.id, "2026-10-06T00:00:00Z"))
        .expect("p");
    assert_eq!(
        all_pages(|p| store.content_purchases().by_buyer(client.id, p)),
        vec![b1.id.get(), b2.id.get()]
    );
    assert_eq!(
        all_pages(|p| store.content_purchases().by_content(c1.id, p)),
        vec![b2.id.get(), b3.id.get()]
    );
}

fn dropin_participants_messages_and_matches(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let s = store
        .dropin_sessions()
        .create(dropin(expert.id, "ROOM01", "2026-10-01T00:00:00Z"))
        .expect("s");
    let other = store
        .dropin_sessions()
        .create(dropin(expert.id, "ROOM02", "2026-10-02T00:00:00Z"))
        .expect("s");
    assert_eq!(
        all_pages(|p| store.dropin_sessions().by_host(expert.id, p)),
        vec![s.id.get(), other.id.get()]
    );
    let late = store
        .dropin_participants()
        .create(participant(s.id, None, "2026-10-01T00:20:00Z"))
        .expect("p");
    let early = store
        .dropin_participants()
        .create(participant(s.id, Some(client.id), "2026-10-01T00:05:00Z"))
        .expect("p");
    store
        .dropin_participants()
        .create(participant(other.id, None, "2026-10-02T00:05:00Z"))
        .expect("noise");
    assert_eq!(
        all_pages(|p| store.dropin_participants().by_session(s.id, p)),
        vec![early.id.get(), late.id.get()]
    );
    let m2 = store
        .dropin_messages()
        .create(message(s.id, late.id, "2026-10-01T00:30:00Z"))
        .expect("m");
    let m1 = store
        .dropin_messages()
        .create(message(s.id, early.id, "2026-10-01T00:25:00Z"))
        .expect("m");
    // Messages list in id order, the order they were stored and delivered
    // in, whatever their clocks say.
    assert_eq!(
        all_pages(|p| store.dropin_messages().by_session(s.id, p)),
        vec![m2.id.get(), m1.id.get()]
    );

    let a2 = store
        .ai_matches()
        .create(ai_match(client.id, expert.id, "2026-10-02T00:00:00Z"))
        .expect("a");
    let a1 = store
        .ai_matches()
        .create(ai_match(client.id, expert.id, "2026-10-01T00:00:00Z"))
        .expect("a");
    assert_eq!(
        all_pages(|p| store.ai_matches().by_user(client.id, p)),
        vec![a1.id.get(), a2.id.get()]
    );
    assert!(all_pages(|p| store.ai_matches().by_user(expert.id, p)).is_empty());
}

fn a_cursor_from_another_list_is_refused(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    for start in ["2026-10-05T09:00:00Z", "2026-10-06T09:00:00Z"] {
        store
            .bookings()
            .create(full_booking(client.id, expert.id, start))
            .expect("b");
    }
    let page = store
        .bookings()
        .by_booker(client.id, &PageRequest::first(1))
        .expect("page");
    let cursor = page.next.expect("more");
    let err = store
        .bookings()
        .by_booker(expert.id, &PageRequest::first(1).after(Some(cursor)))
        .expect_err("foreign cursor");
    assert!(matches!(err, droply_engine::Error::InvalidCursor));
}

/// Regression: a list read its keys, then each row; a row deleted in between
/// failed the whole page with `NotFound` (a client's favorites answered 404
/// while they forgot one in another tab).
fn a_row_deleted_while_its_page_is_read_is_left_out(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let done = std::sync::atomic::AtomicBool::new(false);
    let (reads, failures) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let (mut reads, mut failures) = (0_u32, Vec::new());
            while !done.load(std::sync::atomic::Ordering::Relaxed) || reads == 0 {
                reads += 1;
                if let Err(err) = store
                    .favorites()
                    .by_user(client.id, &PageRequest::first(10))
                {
                    failures.push(err.to_string());
                }
            }
            (reads, failures)
        });
        for _ in 0..400 {
            let saved = store
                .favorites()
                .create(favorite(client.id, expert.id, "2026-10-01T00:00:00Z"))
                .expect("save");
            store.favorites().delete(saved.id).expect("forget");
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.join().expect("reader")
    });
    assert!(reads > 0);
    assert!(
        failures.is_empty(),
        "{} of {reads} reads failed: {:?}",
        failures.len(),
        failures.first()
    );
}

droply_test_support::on_both_backends!(
    a_row_deleted_while_its_page_is_read_is_left_out,
    bookings_by_booker_and_by_provider_in_start_order,
    favorites_both_ways_in_time_order,
    interactions_by_user_and_by_target,
    availability_by_user,
    payouts_referrals_and_rewards,
    content_and_purchases,
    dropin_participants_messages_and_matches,
    a_cursor_from_another_list_is_refused,
);

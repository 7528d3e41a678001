//! A property test: random operations run against the store and against a
//! plain in-memory model must agree after every step, including after the
//! store is closed and reopened; every index tree must agree with the rows.

use std::collections::BTreeMap;

use droply_engine::{Error, PageRequest, Store};
use droply_models::{BookingId, Email, FavoriteId, ReferralCode, UserId, Username};
use proptest::prelude::*;

use crate::fixtures::*;

#[derive(Debug, Clone)]
enum Op {
    CreateUser(u8),
    RenameUser(u8, u8),
    DeleteUser(u8),
    Favorite(u8, u8),
    Unfavorite(u8),
    Book(u8, u8, u8),
    MoveBooking(u8, u8),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u8>().prop_map(|n| Op::CreateUser(n % 12)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(u, n)| Op::RenameUser(u, n % 12)),
        1 => any::<u8>().prop_map(Op::DeleteUser),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(u, e)| Op::Favorite(u, e)),
        1 => any::<u8>().prop_map(Op::Unfavorite),
        3 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(u, e, d)| Op::Book(u, e, d % 20)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(b, d)| Op::MoveBooking(b, d % 20)),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Default)]
struct Model {
    users: BTreeMap<UserId, String>,
    favorites: BTreeMap<FavoriteId, (UserId, UserId, i64)>,
    bookings: BTreeMap<BookingId, (UserId, UserId, u8)>,
    clock: i64,
}

fn pick<K: Copy, V>(map: &BTreeMap<K, V>, n: u8) -> Option<K> {
    if map.is_empty() {
        return None;
    }
    map.keys().nth(n as usize % map.len()).copied()
}

/// A user whose email, referral code and connected account are unique by
/// `serial`, so only the username can clash.
fn user_named(name: &str, serial: i64) -> droply_models::User {
    let mut user = full_user(name);
    user.email = Email::parse(&format!("u{serial}@example.com")).expect("email");
    user.stripe_account_id = Some(format!("acct_{serial}"));
    user.referral_code = ReferralCode::parse(&format!("RC{serial:06}")).expect("code");
    user
}

fn day(d: u8) -> String {
    format!("2026-11-{:02}T10:00:00Z", d + 1)
}

fn apply(store: &Store, model: &mut Model, op: &Op) {
    match *op {
        Op::CreateUser(n) => {
            let name = format!("user_{n}");
            let taken = model.users.values().any(|u| *u == name);
            model.clock += 1;
            match store.users().create(user_named(&name, model.clock)) {
                Ok(user) => {
                    assert!(!taken, "duplicate username accepted");
                    model.users.insert(user.id, name);
                }
                Err(Error::Conflict { field, .. }) => assert!(taken && field == "username"),
                Err(err) => panic!("{err}"),
            }
        }
        Op::RenameUser(u, n) => {
            let Some(id) = pick(&model.users, u) else {
                return;
            };
            let name = format!("user_{n}");
            let taken = model
                .users
                .iter()
                .any(|(other, v)| *v == name && *other != id);
            let result = store.users().modify(id, |user| {
                user.username = Username::parse(&name).map_err(Error::from)?;
                Ok(())
            });
            match result {
                Ok(_) => {
                    assert!(!taken);
                    model.users.insert(id, name);
                }
                Err(Error::Conflict { .. }) => assert!(taken),
                Err(err) => panic!("{err}"),
            }
        }
        Op::DeleteUser(u) => {
            let Some(id) = pick(&model.users, u) else {
                return;
            };
            // Only a user nothing refers to: PostgreSQL's foreign keys keep
            // bookings and favorites from pointing at no one.
            let referred = model
                .bookings
                .values()
                .any(|(a, b, _)| *a == id || *b == id)
                || model
                    .favorites
                    .values()
                    .any(|(a, b, _)| *a == id || *b == id);
            if referred {
                return;
            }
            store.users().delete(id).expect("delete");
            model.users.remove(&id);
        }
        Op::Favorite(u, e) => {
            let (Some(user), Some(expert)) = (pick(&model.users, u), pick(&model.users, e)) else {
                return;
            };
            model.clock += 1;
            let mut row = favorite(user, expert, "2026-10-01T00:00:00Z");
            row.created_at = row.created_at.plus_minutes(model.clock);
            let exists = model
                .favorites
                .values()
                .any(|(a, b, _)| *a == user && *b == expert);
            match store.favorites().create(row) {
                Ok(fav) => {
                    assert!(!exists && user != expert);
                    model.favorites.insert(fav.id, (user, expert, model.clock));
                }
                Err(Error::Conflict { .. }) => assert!(exists),
                Err(Error::Model(_)) => assert_eq!(user, expert, "only self-favorites are invalid"),
                Err(err) => panic!("{err}"),
            }
        }
        Op::Unfavorite(f) => {
            let Some(id) = pick(&model.favorites, f) else {
                return;
            };
            store.favorites().delete(id).expect("delete");
            model.favorites.remove(&id);
        }
        Op::Book(u, e, d) => {
            let (Some(user), Some(expert)) = (pick(&model.users, u), pick(&model.users, e)) else {
                return;
            };
            if user == expert {
                return;
            }
            let booking = store
                .bookings()
                .create(full_booking(user, expert, &day(d)))
                .expect("book");
            model.bookings.insert(booking.id, (user, expert, d));
        }
        Op::MoveBooking(b, d) => {
            let Some(id) = pick(&model.bookings, b) else {
                return;
            };
            store
                .bookings()
                .modify(id, |booking| {
                    booking.start_time = at(&day(d));
                    booking.end_time = booking.start_time.plus_minutes(60);
                    Ok(())
                })
                .expect("move");
            if let Some(entry) = model.bookings.get_mut(&id) {
                entry.2 = d;
            }
        }
        Op::Reopen => {}
    }
}

fn assert_agree(store: &Store, model: &Model) {
    let all = PageRequest::first(1000);
    let users: BTreeMap<UserId, String> = store
        .users()
        .list(&all)
        .expect("users")
        .items
        .into_iter()
        .map(|u| (u.id, u.username.as_str().to_owned()))
        .collect();
    assert_eq!(users, model.users);
    for (id, name) in &model.users {
        let found = store
            .users()
            .by_username(&Username::parse(name).expect("name"))
            .expect("lookup");
        assert_eq!(found.map(|u| u.id), Some(*id));
        let mut favs: Vec<_> = model
            .favorites
            .iter()
            .filter(|(_, f)| f.0 == *id)
            .map(|(k, f)| (f.2, *k))
            .collect();
        favs.sort();
        let listed: Vec<FavoriteId> = store
            .favorites()
            .by_user(*id, &all)
            .expect("favs")
            .items
            .iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(listed, favs.into_iter().map(|(_, k)| k).collect::<Vec<_>>());
        let mut booked: Vec<_> = model
            .bookings
            .iter()
            .filter(|(_, b)| b.1 == *id)
            .map(|(k, b)| (b.2, *k))
            .collect();
        booked.sort();
        let listed: Vec<BookingId> = store
            .bookings()
            .by_provider(*id, &all)
            .expect("bookings")
            .items
            .iter()
            .map(|b| b.id)
            .collect();
        assert_eq!(
            listed,
            booked.into_iter().map(|(_, k)| k).collect::<Vec<_>>()
        );
    }
    assert_eq!(store.favorites().count(), model.favorites.len());
    assert_eq!(store.bookings().count(), model.bookings.len());
}

/// Applies `ops` to a store at `place` and to the model, comparing after each.
fn agree_throughout(place: &StorePlace, ops: &[Op]) {
    let mut store = place.open();
    let mut model = Model::default();
    for op in ops {
        if matches!(op, Op::Reopen) {
            drop(store);
            store = place.open();
        }
        apply(&store, &mut model, op);
        assert_agree(&store, &model);
    }
    drop(store);
    let store = place.open();
    assert_agree(&store, &model);
    let report = store.verify_integrity().expect("check");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn sled_agrees_with_an_in_memory_model(ops in prop::collection::vec(op(), 1..60)) {
        agree_throughout(&StorePlace::new(Backend::Sled), &ops);
    }
}

proptest! {
    // Fewer cases: each makes a database.
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn postgres_agrees_with_an_in_memory_model(ops in prop::collection::vec(op(), 1..60)) {
        agree_throughout(&StorePlace::new(Backend::Postgres), &ops);
    }
}

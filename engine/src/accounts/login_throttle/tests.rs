//! The sign-in throttle over each store backend: the window, a success
//! forgetting the pair, an undone attempt, the bound on pairs, the sweep,
//! attempts shared by every throttle over one store (another node, or this
//! one after a restart), and rows that hold neither the address nor the
//! email.

use std::net::{IpAddr, Ipv4Addr};

use sha2::{Digest, Sha256};

use super::*;
use crate::records::on_both_backends;
use crate::store::Record;

const HOME: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
const ELSEWHERE: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)));

fn throttle(store: &Store, max_tracked: usize) -> LoginThrottle {
    LoginThrottle::new(
        LoginThrottleConfig {
            max_tracked,
            ..LoginThrottleConfig::default()
        },
        store.clone(),
    )
}

fn locked(begun: Result<Attempt>) -> bool {
    matches!(begun, Err(Error::TooManyAttempts { .. }))
}

fn five_attempts_lock_the_pair_and_success_forgets_it(store: &Store, _: Option<&str>) {
    let throttle = throttle(store, 100);
    for _ in 0..5 {
        drop(throttle.begin(HOME, "a@example.com").expect("counted"));
    }
    assert!(locked(throttle.begin(HOME, "a@example.com")));
    assert!(throttle.begin(HOME, "b@example.com").is_ok());
    let from_elsewhere = throttle
        .begin(ELSEWHERE, "a@example.com")
        .expect("other pair");
    throttle.succeeded(from_elsewhere);
    assert!(
        locked(throttle.begin(HOME, "a@example.com")),
        "another pair's success forgets only that pair"
    );
    // Four failures, then the right password: the pair starts afresh.
    for _ in 0..4 {
        drop(throttle.begin(ELSEWHERE, "c@example.com").expect("counted"));
    }
    let right = throttle.begin(ELSEWHERE, "c@example.com").expect("fifth");
    throttle.succeeded(right);
    for _ in 0..5 {
        drop(
            throttle
                .begin(ELSEWHERE, "c@example.com")
                .expect("counted afresh"),
        );
    }
    assert!(locked(throttle.begin(ELSEWHERE, "c@example.com")));
    assert!(store.verify_integrity().expect("verify").is_consistent());
}

/// Regression: the lockout was keyed by the whole IPv6 address, so a host
/// holding a /64 got five fresh attempts from each of its addresses.
fn the_addresses_of_one_ipv6_64_share_their_attempts(store: &Store, _: Option<&str>) {
    let throttle = throttle(store, 100);
    for host in 1..=5u16 {
        let address = IpAddr::from([0x2001, 0xdb8, 1, 2, 0, 0, 0, host]);
        drop(
            throttle
                .begin(Some(address), "a@example.com")
                .expect("counted"),
        );
    }
    let next = IpAddr::from([0x2001, 0xdb8, 1, 2, 0xffff, 0, 0, 6]);
    assert!(locked(throttle.begin(Some(next), "a@example.com")));
    let other_network = IpAddr::from([0x2001, 0xdb8, 1, 3, 0, 0, 0, 1]);
    assert!(throttle.begin(Some(other_network), "a@example.com").is_ok());
}

fn attempts_count_before_the_password_is_checked(store: &Store, _: Option<&str>) {
    let throttle = throttle(store, 100);
    // Five attempts in flight at once, none finished: the sixth is refused.
    let in_flight: Vec<Attempt> = (0..5)
        .map(|_| throttle.begin(HOME, "a@example.com").expect("counted"))
        .collect();
    assert!(locked(throttle.begin(HOME, "a@example.com")));
    // One that never got to the check is handed back and no longer counts.
    let mut in_flight = in_flight.into_iter();
    throttle.undo(in_flight.next().expect("one"));
    assert!(throttle.begin(HOME, "a@example.com").is_ok());
    assert!(locked(throttle.begin(HOME, "a@example.com")));
    // A pair whose only attempt is undone is forgotten.
    let lone = throttle.begin(HOME, "lone@example.com").expect("counted");
    assert_eq!(throttle.tracked(), 2);
    throttle.undo(lone);
    assert_eq!(throttle.tracked(), 1);
    assert!(store.verify_integrity().expect("verify").is_consistent());
}

fn attempts_leave_the_window(store: &Store, _: Option<&str>) {
    let throttle = throttle(store, 100);
    let start = Timestamp::now();
    for _ in 0..5 {
        drop(
            throttle
                .begin_at(HOME, "a@example.com", start)
                .expect("counted"),
        );
    }
    let err = throttle
        .begin_at(HOME, "a@example.com", start.plus_minutes(1))
        .expect_err("locked");
    assert!(
        matches!(err, Error::TooManyAttempts { retry_after_secs } if retry_after_secs == 14 * 60),
        "{err}"
    );
    let later = start.plus_minutes(15);
    assert!(throttle.begin_at(HOME, "a@example.com", later).is_ok());
}

/// Regression: the attempts were each process's own, so two nodes behind
/// one load balancer gave a guesser ten attempts a window, and a restart
/// gave fresh ones.
fn another_node_and_a_restart_count_the_same_attempts(store: &Store, url: Option<&str>) {
    let first = throttle(store, 100);
    for _ in 0..3 {
        drop(first.begin(HOME, "a@example.com").expect("counted"));
    }
    // A second node over the same database, or (sled, one process) this
    // node's throttle made anew, as after a restart.
    let other = match url {
        Some(url) => Store::open_postgres(url).expect("a second node"),
        None => store.clone(),
    };
    let second = throttle(&other, 100);
    for _ in 0..2 {
        drop(second.begin(HOME, "a@example.com").expect("counted"));
    }
    assert!(locked(second.begin(HOME, "a@example.com")));
    assert!(locked(first.begin(HOME, "a@example.com")));
    assert_eq!(first.tracked(), 1);
}

fn the_least_recently_tried_pairs_make_room(store: &Store, _: Option<&str>) {
    let throttle = throttle(store, 3);
    let start = Timestamp::now();
    let email = |n: i64| format!("p{n}@example.com");
    for n in 0..3 {
        drop(
            throttle
                .begin_at(HOME, &email(n), start.plus_minutes(n))
                .expect("counted"),
        );
    }
    // p0 is tried again: p1 is now the least recently tried.
    drop(
        throttle
            .begin_at(HOME, &email(0), start.plus_minutes(3))
            .expect("counted"),
    );
    assert_eq!(throttle.tracked(), 3);
    drop(
        throttle
            .begin_at(HOME, &email(3), start.plus_minutes(4))
            .expect("counted"),
    );
    assert_eq!(throttle.tracked(), 3);
    let kept = |n: i64| {
        let key = throttle.pair_key(HOME, &email(n)).expect("key");
        store
            .lookup_unique(UniqueName::LoginPair, key.as_bytes())
            .expect("lookup")
            .is_some()
    };
    assert!(!kept(1), "the least recently tried pair made room");
    assert!(kept(0) && kept(2) && kept(3));
    for n in 4..12 {
        drop(
            throttle
                .begin_at(HOME, &email(n), start.plus_minutes(n))
                .expect("counted"),
        );
        assert!(throttle.tracked() <= 3, "{}", throttle.tracked());
    }
    assert!(store.verify_integrity().expect("verify").is_consistent());
}

fn expired_pairs_are_swept_and_live_ones_kept(store: &Store, _: Option<&str>) {
    let throttle = throttle(store, 100);
    let now = Timestamp::now();
    let long_ago = now.plus_minutes(-60);
    for n in 0..3 {
        drop(
            throttle
                .begin_at(HOME, &format!("old{n}@example.com"), long_ago)
                .expect("counted"),
        );
    }
    // Tried again five minutes ago: within the window, so kept.
    drop(
        throttle
            .begin_at(HOME, "old0@example.com", now.plus_minutes(-5))
            .expect("counted"),
    );
    drop(
        throttle
            .begin_at(HOME, "recent@example.com", now)
            .expect("counted"),
    );
    assert_eq!(sweep_login_attempts(store, now).expect("sweep"), 2);
    assert_eq!(throttle.tracked(), 2);
    assert_eq!(sweep_login_attempts(store, now).expect("again"), 0);
    assert!(store.verify_integrity().expect("verify").is_consistent());
}

fn no_address_or_email_is_kept_in_clear(store: &Store, url: Option<&str>) {
    let throttle = throttle(store, 100);
    let email = "secret.person@example.com";
    let octets = [192_u8, 0, 2, 1];
    drop(throttle.begin(HOME, email).expect("counted"));
    // What each backend keeps: the row (sled's codec, PostgreSQL's JSON),
    // its unique key and its index key.
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for row in store.iter::<LoginAttempts>() {
        let row = row.expect("row");
        kept.push(row.encode().expect("sled's form"));
        kept.push(serde_json::to_vec(&row).expect("PostgreSQL's form"));
        kept.extend(row.unique_entries().into_iter().map(|entry| entry.key));
        kept.extend(row.index_entries().into_iter().map(|entry| entry.prefix));
        // Keyed: not a plain hash that a guess of the pair could be checked against.
        let plain = hex::encode(Sha256::digest([&octets[..], email.as_bytes()].concat()));
        assert_ne!(row.pair_key, plain);
    }
    assert_eq!(kept.len(), 4, "one pair, one row");
    if let Some(url) = url {
        // The tables as the database holds them.
        let mut sql = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        for query in [
            "SELECT convert_to(to_jsonb(t)::text, 'UTF8') FROM login_attempts AS t",
            "SELECT key FROM uniq_login_pair",
            "SELECT key FROM idx_login_attempts_by_expiry",
        ] {
            let rows = sql.query(query, &[]).expect("read");
            assert_eq!(rows.len(), 1, "{query}");
            kept.extend(rows.iter().map(|row| row.get::<_, Vec<u8>>(0)));
        }
    }
    for bytes in &kept {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("secret.person"), "{text}");
        assert!(!text.contains("192.0.2.1"), "{text}");
        assert!(!bytes.windows(4).any(|four| four == octets), "{bytes:?}");
    }
}

on_both_backends!(
    five_attempts_lock_the_pair_and_success_forgets_it,
    the_addresses_of_one_ipv6_64_share_their_attempts,
    attempts_count_before_the_password_is_checked,
    attempts_leave_the_window,
    another_node_and_a_restart_count_the_same_attempts,
    the_least_recently_tried_pairs_make_room,
    expired_pairs_are_swept_and_live_ones_kept,
    no_address_or_email_is_kept_in_clear,
);

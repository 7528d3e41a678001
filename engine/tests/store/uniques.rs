//! Every unique key refuses a duplicate with a conflict naming the field, and
//! frees its value when the row changes or goes.

use droply_engine::Error;
use droply_models::{Email, ReferralCode, SessionCode, Username};

use crate::fixtures::*;

fn assert_conflict(err: Error, field: &str) {
    match err {
        Error::Conflict { field: got, .. } => assert_eq!(got, field),
        other => panic!("expected a conflict on {field}, got {other}"),
    }
}

fn username_is_unique_case_insensitively(place: &StorePlace) {
    let store = place.open();
    store.users().create(full_user("ada")).expect("first");
    let mut twin = full_user("ada");
    twin.email = Email::parse("other@example.com").expect("email");
    twin.referral_code = ReferralCode::parse("OTHER123").expect("code");
    assert_conflict(
        store.users().create(twin).expect_err("duplicate"),
        "username",
    );
    let found = store
        .users()
        .by_username(&Username::parse("ADA").expect("name"))
        .expect("lookup");
    assert!(found.is_some());
}

fn email_is_unique_case_insensitively(place: &StorePlace) {
    let store = place.open();
    store.users().create(full_user("ada")).expect("first");
    let mut twin = full_user("bob");
    twin.email = Email::parse("ADA@Example.com").expect("email");
    assert_conflict(store.users().create(twin).expect_err("duplicate"), "email");
    let found = store
        .users()
        .by_email(&Email::parse("ada@EXAMPLE.com").expect("email"))
        .expect("lookup");
    assert_eq!(
        found.map(|u| u.username.as_str().to_owned()),
        Some("ada".to_owned())
    );
}

/// Regression: PostgreSQL's own email index lowered addresses by the
/// database's locale, folding a dotted capital I into a plain i and a final
/// sigma into a medial one, so it refused (409) accounts the engine's key,
/// and sled, hold as distinct.
fn addresses_the_engines_key_tells_apart_are_both_kept(place: &StorePlace) {
    let store = place.open();
    for (n, (one, other)) in [
        ("\u{130}a@example.com", "ia@example.com"),
        ("\u{391}\u{3a3}@example.com", "\u{3b1}\u{3c3}@example.com"),
    ]
    .into_iter()
    .enumerate()
    {
        for (side, address) in [one, other].into_iter().enumerate() {
            let mut user = full_user(&format!("pair{n}side{side}"));
            user.email = Email::parse(address).expect("email");
            user.referral_code = ReferralCode::parse(&format!("PAIR{n}{side}00")).expect("code");
            store.users().create(user).expect(address);
        }
    }
    assert!(store.verify_integrity().expect("check").is_consistent());
}

fn referral_code_is_unique(place: &StorePlace) {
    let store = place.open();
    let ada = store.users().create(full_user("ada")).expect("first");
    let mut bob = full_user("bob");
    bob.referral_code = ada.referral_code.clone();
    assert_conflict(
        store.users().create(bob).expect_err("duplicate"),
        "referral_code",
    );
    assert_eq!(
        store
            .users()
            .by_referral_code(ada.referral_code.as_str())
            .expect("lookup")
            .map(|u| u.id),
        Some(ada.id)
    );
}

fn session_code_is_unique(place: &StorePlace) {
    let store = place.open();
    let (_, host) = two_users(&store);
    store
        .dropin_sessions()
        .create(dropin(host.id, "ROOM42", "2026-10-01T00:00:00Z"))
        .expect("first");
    let err = store
        .dropin_sessions()
        .create(dropin(host.id, "ROOM42", "2026-10-02T00:00:00Z"))
        .expect_err("dup");
    assert_conflict(err, "session_code");
    let code = SessionCode::parse("ROOM42").expect("code");
    assert!(
        store
            .dropin_sessions()
            .by_code(&code)
            .expect("lookup")
            .is_some()
    );
}

fn a_user_favorites_an_expert_once(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    store
        .favorites()
        .create(favorite(client.id, expert.id, "2026-10-01T00:00:00Z"))
        .expect("first");
    let err = store
        .favorites()
        .create(favorite(client.id, expert.id, "2026-10-02T00:00:00Z"))
        .expect_err("dup");
    assert_conflict(err, "favorite");
}

fn changing_a_unique_value_frees_the_old_one(place: &StorePlace) {
    let store = place.open();
    let ada = store.users().create(full_user("ada")).expect("ada");
    store
        .users()
        .modify(ada.id, |u| {
            u.username = Username::parse("ada_l").expect("name");
            Ok(())
        })
        .expect("rename");
    // Updating a row that keeps its own unique values is no conflict.
    store
        .users()
        .modify(ada.id, |u| {
            u.bio = "still me".to_owned();
            Ok(())
        })
        .expect("same keys");
    let mut newcomer = full_user("ada");
    newcomer.email = Email::parse("new@example.com").expect("email");
    newcomer.referral_code = ReferralCode::parse("NEWCOMER1").expect("code");
    newcomer.stripe_account_id = Some("acct_newcomer".to_owned());
    store.users().create(newcomer).expect("old name is free");
    assert!(store.verify_integrity().expect("check").is_consistent());
}

fn a_failed_write_leaves_nothing_behind(place: &StorePlace) {
    let store = place.open();
    store.users().create(full_user("ada")).expect("ada");
    let seq = store.last_seq();
    let result = store.write(|txn| {
        txn.create(full_user("bob"))?;
        txn.create(full_user("ada"))
    });
    assert!(result.is_err());
    assert_eq!(store.users().count(), 1, "bob was not written either");
    assert_eq!(store.last_seq(), seq, "no change-feed entry");
    assert!(store.verify_integrity().expect("check").is_consistent());
}

/// One connected Stripe account belongs to one user: a second user given
/// the same one is refused with a conflict naming the field (and not the
/// account's id), users without one never clash, and an account let go is
/// free again.
fn a_connected_account_belongs_to_one_user(place: &StorePlace) {
    let store = place.open();
    let mut ada = full_user("ada");
    ada.stripe_account_id = Some("acct_shared".to_owned());
    let ada = store.users().create(ada).expect("ada");
    for name in ["bob", "cyd"] {
        let mut user = full_user(name);
        user.stripe_account_id = None;
        store.users().create(user).expect("no account, no clash");
    }
    let bob = store
        .users()
        .by_username(&Username::parse("bob").expect("name"))
        .expect("lookup")
        .expect("bob");
    let take = |u: &mut droply_models::User| -> Result<(), Error> {
        u.stripe_account_id = Some("acct_shared".to_owned());
        Ok(())
    };
    let err = store
        .users()
        .modify(bob.id, take)
        .expect_err("a second holder");
    assert!(!err.to_string().contains("acct_shared"), "{err}");
    assert_conflict(err, "stripe_account");
    assert_eq!(
        store.users().get(bob.id).expect("bob").stripe_account_id,
        None,
        "the refused write left nothing"
    );
    let mut twin = full_user("dee");
    twin.stripe_account_id = Some("acct_shared".to_owned());
    assert_conflict(
        store.users().create(twin).expect_err("a new holder"),
        "stripe_account",
    );
    store
        .users()
        .modify(ada.id, |u| {
            u.stripe_account_id = None;
            Ok(())
        })
        .expect("ada lets it go");
    store.users().modify(bob.id, take).expect("free again");
    assert!(store.verify_integrity().expect("check").is_consistent());
}

droply_test_support::on_both_backends!(
    username_is_unique_case_insensitively,
    email_is_unique_case_insensitively,
    addresses_the_engines_key_tells_apart_are_both_kept,
    referral_code_is_unique,
    session_code_is_unique,
    a_user_favorites_an_expert_once,
    changing_a_unique_value_frees_the_old_one,
    a_failed_write_leaves_nothing_behind,
    a_connected_account_belongs_to_one_user,
);

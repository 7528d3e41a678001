//! Changing one's password: the way out for a user whose password leaked,
//! where signing out everywhere alone lets the attacker sign in again.
//!
//! The current password is checked as closing an account checks it
//! (`close::confirm_password_or_replacement`: counted by the sign-in throttle
//! first, verified under a hashing permit, `InvalidCredentials` when
//! wrong). When it does not match, the new one is checked as a guess of its
//! own (a second attempt, counted like the first: guessing through a change
//! costs an attempt a guess); when it matches, the change is made already:
//! a retry whose first answer was lost. It answers as the first did, with
//! no session ended this time, and the matching check forgets the pair's
//! attempts as a sign-in does. The new one
//! must pass the sign-up rule (`check_password`) and differ from the
//! current one. The new hash is computed before the write, under a hashing
//! permit; the write checks that the stored hash is still the one checked
//! (as a sign-in's `issue_token_to_checked` does: a password changed or an
//! account closed meanwhile gets `InvalidCredentials`, nothing written),
//! stores the new hash and ends every other session of the user. The
//! session the change was asked from stays, so the caller keeps working
//! with the token they hold: no new token has to be handed out, and a
//! browser's cookie stays good. Neither password nor hash is ever logged.

use std::net::IpAddr;

use droply_models::{User, UserId};

use super::auth_session::{AuthSession, token_hash};
use super::close::{Confirmed, confirm_password_or_replacement};
use super::hashing_permits::HashingPermits;
use super::login_throttle::LoginThrottle;
use super::password::{check_password, hash_password};
use crate::store::{IndexName, Store};
use crate::{Error, Result};

/// A password change as its owner asks for it. No `Debug`: it holds
/// passwords.
#[derive(Clone, Copy)]
pub struct PasswordChange<'a> {
    /// The password the account has now, asked again.
    pub current: &'a str,
    /// The password wanted instead (the sign-up rule: 8 to 128 characters).
    pub new: &'a str,
    /// The bearer token (or session cookie) the change is asked with: its
    /// session is the one that stays.
    pub keep_token: &'a str,
}

/// Changes `user`'s password, asked from `client` (its address, when
/// known), and ends every session of theirs but the one of
/// `change.keep_token`, in the write that stores the new hash; returns how
/// many sessions ended. A change repeated once made (the current password
/// no longer matches, the new one does) succeeds again, ending none: 0.
///
/// `Model(Invalid)` on `new_password` when the new password breaks the
/// sign-up rule or equals the current one (nothing counted);
/// `InvalidCredentials` when the current password is wrong, or the
/// password changed or the account closed while this one was checked;
/// `TooManyAttempts` once the sign-in throttle's attempts are used up;
/// `Overloaded` when no hashing permit came free in time.
pub fn change_password(
    store: &Store,
    throttle: &LoginThrottle,
    hashing: &HashingPermits,
    client: Option<IpAddr>,
    user: UserId,
    change: PasswordChange<'_>,
) -> Result<usize> {
    check_password(change.new).map_err(|err| -> Error {
        match err {
            Error::Model(droply_models::Error::Invalid { reason, .. }) => {
                droply_models::Error::invalid("new_password", reason).into()
            }
            other => other,
        }
    })?;
    if change.new == change.current {
        return Err(droply_models::Error::invalid(
            "new_password",
            "must differ from the current password",
        )
        .into());
    }
    // The hash the check below is of: read before it, so that a change
    // between this read and the check's own makes the write refuse.
    let checked: User = store.require(user)?;
    let confirmed = confirm_password_or_replacement(
        store,
        throttle,
        hashing,
        client,
        user,
        change.current,
        Some(change.new),
    )?;
    match confirmed {
        Confirmed::Password => {}
        Confirmed::Replacement => {
            tracing::info!(user = %user, "password change repeated: made already");
            return Ok(0);
        }
    }
    // Hashing is the slow part: do it before taking the writer lock.
    let new_hash = {
        let mut permit = hashing.acquire()?;
        hash_password(change.new, &mut permit)?
    };
    let keep = token_hash(change.keep_token);
    let ended = store.write(|txn| {
        let mut row: User = txn.get::<User>(user)?.ok_or(Error::InvalidCredentials)?;
        if row.is_closed() || row.password_hash != checked.password_hash {
            return Err(Error::InvalidCredentials);
        }
        row.password_hash = new_hash;
        row.updated_at = txn.now();
        txn.update(row)?;
        let sessions: Vec<AuthSession> =
            txn.list_index(IndexName::SessionsByUser, &user.to_be_bytes())?;
        let mut ended = 0;
        for session in sessions {
            if session.token_hash != keep {
                txn.delete::<AuthSession>(session.id)?;
                ended += 1;
            }
        }
        Ok(ended)
    })?;
    tracing::info!(user = %user, sessions_ended = ended, "password changed");
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::accounts::{
        HashingLimits, IssuedToken, LoginThrottleConfig, Registration, authenticate, login,
        register,
    };

    const HOME: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    const OLD: &str = "correct horse battery";
    const NEW: &str = "tr0ub4dor and three";

    /// A temporary store with ann signed up (password [`OLD`]) and signed
    /// in twice: the store, its throttle and permits, ann's id, the token
    /// the change is asked with and another session's token.
    struct Signed {
        store: Store,
        throttle: LoginThrottle,
        hashing: HashingPermits,
        ann: UserId,
        mine: String,
        other: String,
    }

    fn signed_in_twice() -> Signed {
        let store = Store::open_temporary().expect("store");
        let throttle = LoginThrottle::new(LoginThrottleConfig::default(), store.clone());
        let hashing = HashingPermits::new(HashingLimits::default());
        let (ann, mine) = register(
            &store,
            &hashing,
            &Registration {
                username: "ann".to_owned(),
                email: "ann@example.com".to_owned(),
                password: OLD.to_owned(),
                full_name: "Ann".to_owned(),
                currency: None,
                timezone: None,
                language: None,
                referral_code: None,
            },
        )
        .expect("signed up");
        let other = login(&store, &throttle, &hashing, None, "ann@example.com", OLD)
            .expect("signed in elsewhere");
        Signed {
            store,
            throttle,
            hashing,
            ann: ann.id,
            mine: mine.token,
            other: other.token,
        }
    }

    fn change(signed: &Signed, current: &str, new: &str) -> Result<usize> {
        change_password(
            &signed.store,
            &signed.throttle,
            &signed.hashing,
            HOME,
            signed.ann,
            PasswordChange {
                current,
                new,
                keep_token: &signed.mine,
            },
        )
    }

    fn sign_in(signed: &Signed, password: &str) -> Result<IssuedToken> {
        login(
            &signed.store,
            &signed.throttle,
            &signed.hashing,
            None,
            "ann@example.com",
            password,
        )
    }

    fn stored_hash(signed: &Signed) -> String {
        let row: User = signed.store.require(signed.ann).expect("ann");
        row.password_hash
    }

    #[test]
    fn a_wrong_current_password_is_refused_and_the_hash_stays() {
        let signed = signed_in_twice();
        let before = stored_hash(&signed);
        let refused = change(&signed, "not the password", NEW).expect_err("wrong current");
        assert!(matches!(refused, Error::InvalidCredentials), "{refused}");
        assert_eq!(stored_hash(&signed), before);
        assert!(authenticate(&signed.store, &signed.other).is_ok());
        assert!(sign_in(&signed, OLD).is_ok());
        assert!(matches!(
            sign_in(&signed, NEW),
            Err(Error::InvalidCredentials)
        ));
    }

    #[test]
    fn wrong_current_passwords_are_throttled_as_sign_ins_are() {
        let signed = signed_in_twice();
        // A wrong change counts two attempts: the current password's, then
        // the new one's (see `a_wrong_new_password_is_a_guess_counted_of_its_own`).
        for _ in 0..LoginThrottleConfig::default().max_failures / 2 {
            let refused = change(&signed, "not the password", NEW).expect_err("wrong");
            assert!(matches!(refused, Error::InvalidCredentials), "{refused}");
        }
        let used_up = change(&signed, "not the password", NEW).expect_err("used up");
        assert!(
            matches!(used_up, Error::TooManyAttempts { .. }),
            "{used_up}"
        );
        let locked = change(&signed, OLD, NEW).expect_err("locked");
        assert!(matches!(locked, Error::TooManyAttempts { .. }), "{locked}");
    }

    #[test]
    fn after_a_change_the_new_password_signs_in_and_the_old_does_not() {
        let signed = signed_in_twice();
        let before = stored_hash(&signed);
        change(&signed, OLD, NEW).expect("changed");
        let after = stored_hash(&signed);
        assert_ne!(after, before);
        assert!(after.starts_with("$argon2id$"), "a hash, not the password");
        assert!(!after.contains(NEW));
        assert!(matches!(
            sign_in(&signed, OLD),
            Err(Error::InvalidCredentials)
        ));
        assert!(sign_in(&signed, NEW).is_ok());
    }

    #[test]
    fn a_change_ends_every_other_session_and_keeps_the_callers() {
        let signed = signed_in_twice();
        assert_eq!(signed.store.count::<AuthSession>(), 2);
        let ended = change(&signed, OLD, NEW).expect("changed");
        assert_eq!(ended, 1);
        assert_eq!(
            authenticate(&signed.store, &signed.mine).ok(),
            Some(signed.ann)
        );
        assert!(matches!(
            authenticate(&signed.store, &signed.other),
            Err(Error::Unauthorized)
        ));
        assert_eq!(signed.store.count::<AuthSession>(), 1);
    }

    #[test]
    fn a_change_sent_twice_succeeds_both_times_uncounted() {
        let signed = signed_in_twice();
        assert_eq!(change(&signed, OLD, NEW).expect("changed"), 1);
        let changed = stored_hash(&signed);
        // More retries than the throttle allows failures: none counts.
        for _ in 0..LoginThrottleConfig::default().max_failures + 1 {
            assert_eq!(change(&signed, OLD, NEW).expect("made already"), 0);
        }
        assert_eq!(stored_hash(&signed), changed, "not hashed again");
        assert_eq!(
            authenticate(&signed.store, &signed.mine).ok(),
            Some(signed.ann)
        );
        assert!(sign_in(&signed, NEW).is_ok(), "not locked out");
        // Neither password matching is still refused, and counted.
        let refused = change(&signed, "not the password", "another new one").expect_err("wrong");
        assert!(matches!(refused, Error::InvalidCredentials), "{refused}");
    }

    /// Regression (review): the new password was checked with the current
    /// one in a single counted attempt, so someone holding a stolen token
    /// tested two guesses for each attempt the throttle counted.
    #[test]
    fn a_wrong_new_password_is_a_guess_counted_of_its_own() {
        let signed = signed_in_twice();
        let max = LoginThrottleConfig::default().max_failures;
        assert_eq!(max, 5, "the counts below assume five attempts");
        for guess in 0..2 {
            let refused = change(
                &signed,
                &format!("guess {guess}a"),
                &format!("guess {guess}b"),
            )
            .expect_err("wrong");
            assert!(matches!(refused, Error::InvalidCredentials), "{refused}");
        }
        // Four attempts counted: the fifth is the current password's, and the
        // sixth, the new one's, is refused.
        let refused = change(&signed, "guess 2a", "guess 2b").expect_err("used up");
        assert!(
            matches!(refused, Error::TooManyAttempts { .. }),
            "{refused}"
        );
    }

    #[test]
    fn a_new_password_too_short_or_the_same_is_refused_before_any_check() {
        let signed = signed_in_twice();
        let before = stored_hash(&signed);
        for (new, says) in [("short", "characters"), (OLD, "differ")] {
            match change(&signed, OLD, new) {
                Err(Error::Model(droply_models::Error::Invalid { field, reason })) => {
                    assert_eq!(field, "new_password");
                    assert!(reason.contains(says), "{reason}");
                }
                other => panic!("expected invalid input, got {other:?}"),
            }
        }
        // Refused before the current password was checked: nothing counted,
        // nothing changed, no session ended.
        for _ in 0..LoginThrottleConfig::default().max_failures + 1 {
            assert!(change(&signed, OLD, "short").is_err());
        }
        assert_eq!(stored_hash(&signed), before);
        assert!(authenticate(&signed.store, &signed.other).is_ok());
        change(&signed, OLD, NEW).expect("not locked out");
    }
}

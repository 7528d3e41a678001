//! Signing in and out and recognising a bearer token: one session ends by
//! its own token ([`logout`]), or every session of a user at once
//! ([`logout_all`], signing out everywhere).

use std::net::IpAddr;

use droply_models::{Email, Timestamp, User, UserId};

use super::auth_session::{AuthSession, AuthSessionId, SESSION_DAYS, token_hash};
use super::hashing_permits::HashingPermits;
use super::login_throttle::LoginThrottle;
use super::password::verify_password;
use crate::store::{IndexName, Store, Txn, UniqueName};
use crate::{Error, Result};

/// A freshly issued bearer token: shown to its owner once, stored only hashed.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The token to send as `Authorization: Bearer ...`.
    pub token: String,
    /// When it stops working.
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"(redacted)")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A PHC string no password matches, verified when the email is unknown so
/// that unknown and known emails take about as long.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZHVtbXlzYWx0ZHVtbXk$ucoDGZ6qTmd1TwT4XJtVULJGzxBrgvMAE1bJ1PDBm0Q";

/// The most sign-in sessions one user keeps; signing in once more ends the
/// oldest.
pub const MAX_SESSIONS_PER_USER: usize = 20;

/// Makes a random token, stores its hash for `user` and returns it.
pub(super) fn issue_token(txn: &mut Txn<'_>, user: UserId) -> Result<IssuedToken> {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let token = hex::encode(bytes);
    let now = txn.now();
    let expires_at = now.plus_days(SESSION_DAYS);
    // Bounded sessions per user: the oldest make room for the new one.
    let sessions: Vec<AuthSession> =
        txn.list_index(IndexName::SessionsByUser, &user.to_be_bytes())?;
    let surplus = (sessions.len() + 1).saturating_sub(MAX_SESSIONS_PER_USER);
    for old in sessions.into_iter().take(surplus) {
        txn.delete::<AuthSession>(old.id)?;
    }
    txn.create(AuthSession {
        id: AuthSessionId::new(0),
        user_id: user,
        token_hash: token_hash(&token),
        created_at: now,
        expires_at,
    })?;
    Ok(IssuedToken { token, expires_at })
}

/// Issues a token to `checked`, the user whose password a sign-in checked
/// before this write: read again inside it, and `InvalidCredentials` when
/// the account was closed or its password changed since (the check was of
/// a password that opens nothing now), so no session outlives a closing
/// that ran while the password was hashed.
pub(super) fn issue_token_to_checked(txn: &mut Txn<'_>, checked: &User) -> Result<IssuedToken> {
    let now: User = txn
        .get::<User>(checked.id)?
        .ok_or(Error::InvalidCredentials)?;
    if now.is_closed() || now.password_hash != checked.password_hash {
        return Err(Error::InvalidCredentials);
    }
    issue_token(txn, checked.id)
}

/// Checks the email and password of a sign-in from `client` (its address,
/// when known) and issues a token. The attempt counts against the (client,
/// email) pair in `throttle` before the password is checked; the check runs
/// under one of the `hashing` permits. `InvalidCredentials` when they do not
/// match; `TooManyAttempts` after repeated failures; `Overloaded` when no
/// hashing permit came free in time (that attempt does not count).
pub fn login(
    store: &Store,
    throttle: &LoginThrottle,
    hashing: &HashingPermits,
    client: Option<IpAddr>,
    email: &str,
    password: &str,
) -> Result<IssuedToken> {
    let email = Email::parse(email).map_err(|_| Error::InvalidCredentials)?;
    let attempt = throttle.begin(client, &email.normalized())?;
    let checked = store.users().by_email(&email).and_then(|user| {
        let mut permit = hashing.acquire()?;
        let matches = match &user {
            Some(user) => verify_password(password, &user.password_hash, &mut permit),
            None => {
                verify_password(password, DUMMY_HASH, &mut permit);
                false
            }
        };
        Ok(user.filter(|_| matches))
    });
    let user = match checked {
        Ok(Some(user)) => user,
        // The attempt stays counted.
        Ok(None) => return Err(Error::InvalidCredentials),
        Err(err) => {
            throttle.undo(attempt);
            return Err(err);
        }
    };
    throttle.succeeded(attempt);
    store.write(|txn| issue_token_to_checked(txn, &user))
}

fn find_session(store: &Store, token: &str) -> Result<Option<AuthSession>> {
    match store.lookup_unique(UniqueName::TokenHash, token_hash(token).as_bytes())? {
        Some(raw) => store.get::<AuthSession>(AuthSessionId::new(raw)),
        None => Ok(None),
    }
}

/// The user a bearer token belongs to; `Unauthorized` when it is unknown or expired.
pub fn authenticate(store: &Store, token: &str) -> Result<UserId> {
    live_session(store, token).map(|session| session.user_id)
}

/// The sign-in session of a bearer token; `Unauthorized` when it is
/// unknown or expired.
pub(crate) fn live_session(store: &Store, token: &str) -> Result<AuthSession> {
    match find_session(store, token)? {
        Some(session) if session.is_live(Timestamp::now()) => Ok(session),
        _ => Err(Error::Unauthorized),
    }
}

/// Ends the session of `token`; `Unauthorized` when there is none.
pub fn logout(store: &Store, token: &str) -> Result<()> {
    let hash = token_hash(token);
    store.write(|txn| {
        let raw = txn
            .lookup_unique(UniqueName::TokenHash, hash.as_bytes())?
            .ok_or(Error::Unauthorized)?;
        txn.delete::<AuthSession>(AuthSessionId::new(raw))?;
        Ok(())
    })
}

/// Ends every session of `user` (signing out everywhere: each device and
/// browser, expired rows too) in one write; returns how many ended. A user
/// keeps at most [`MAX_SESSIONS_PER_USER`], so the write stays small.
pub fn logout_all(store: &Store, user: UserId) -> Result<usize> {
    store.write(|txn| {
        let sessions: Vec<AuthSession> =
            txn.list_index(IndexName::SessionsByUser, &user.to_be_bytes())?;
        for session in &sessions {
            txn.delete::<AuthSession>(session.id)?;
        }
        Ok(sessions.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rows::user;

    /// Regression: a sign-in whose password was checked before the account
    /// closed was issued a session on the closed account.
    #[test]
    fn a_sign_in_checked_before_the_account_closed_gets_no_session() {
        let store = Store::open_temporary().expect("store");
        let ann = store.write(|txn| txn.create(user("ann", ""))).expect("ann");
        // What the sign-in read before hashing; the account closes meanwhile.
        let checked: User = store.require(ann.id).expect("ann");
        super::super::close::close(&store, ann.id, &[]).expect("closed");
        let refused = store
            .write(|txn| issue_token_to_checked(txn, &checked))
            .expect_err("closed meanwhile");
        assert!(matches!(refused, Error::InvalidCredentials), "{refused}");
        assert_eq!(store.count::<AuthSession>(), 0);
    }

    #[test]
    fn a_sign_in_checked_before_the_password_changed_gets_no_session() {
        let store = Store::open_temporary().expect("store");
        let ann = store.write(|txn| txn.create(user("ann", ""))).expect("ann");
        let checked: User = store.require(ann.id).expect("ann");
        store
            .write(|txn| {
                let mut row: User = txn.require(ann.id)?;
                row.password_hash = "$argon2id$changed".to_owned();
                txn.update(row)
            })
            .expect("changed");
        let refused = store
            .write(|txn| issue_token_to_checked(txn, &checked))
            .expect_err("changed meanwhile");
        assert!(matches!(refused, Error::InvalidCredentials), "{refused}");
        assert_eq!(store.count::<AuthSession>(), 0);
        let fresh: User = store.require(ann.id).expect("ann");
        store
            .write(|txn| issue_token_to_checked(txn, &fresh))
            .expect("issued");
        assert_eq!(store.count::<AuthSession>(), 1);
    }
}

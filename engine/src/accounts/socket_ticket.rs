//! Socket tickets: a short-lived stand-in for a sign-in token on a
//! WebSocket URL. A browser cannot set `Authorization` on a WebSocket, and a
//! URL ends up in proxy and CDN logs and in browser history, where a 30-day
//! sign-in token must not go; so a client asks for a ticket with its bearer
//! token and puts the ticket in the URL instead. A ticket names what it
//! opens (one drop-in room or one booking's signal relay), the caller's
//! sign-in session and when it expires ([`SOCKET_TICKET_SECS`] after it was
//! issued), and binds them and the session's user with HMAC-SHA256 under a
//! key that the store's secret key derives from the session's stored token
//! hash (`key`); the caller's [`SecretKeyCell`] (the engine holds one for
//! its tickets) reads that secret from the store once and keeps it. The
//! secret key is in no row, so the `AuthSession` rows alone (a leaked
//! backup, a read-only SQL injection) sign no ticket, as they let no one
//! sign in; the token hash makes every session's key its own. Nothing is
//! stored per ticket: one for one socket opens no other, and it dies at its
//! expiry or with its session (signing out, the sweep), whichever comes
//! first; until then it can be used again. Its MAC is compared in constant
//! time by the webhooks' verifier ([`verify_timestamped_hmac`]). A ticket
//! only proves who the caller is: the room or the relay still checks what
//! they may open.
//!
//! `droply migrate` carries the secret key, so a copy takes the tickets its
//! source issued. Tickets issued before this key (when it came from the
//! token hash alone) are refused after an upgrade; they lived a minute.

#[cfg(test)]
mod tests;

use droply_models::{BookingId, DropinSessionId, Timestamp, UserId};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::auth_session::{AuthSession, AuthSessionId, token_hash};
use crate::payments::verify_timestamped_hmac;
use crate::store::{SecretKeyCell, Store, UniqueName};
use crate::{Error, Result};

/// How many seconds a ticket works after it is issued.
pub const SOCKET_TICKET_SECS: i64 = 60;

/// The longest ticket read; a longer one is refused unread.
const MAX_TICKET_LEN: usize = 256;

/// What a ticket's key is for: no other hash under the store's secret key
/// matches it.
const KEY_LABEL: &str = "droply socket ticket key v2";

/// The one socket a ticket opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketTarget {
    /// The live room of a drop-in (`/v1/dropins/{id}/live`).
    DropinRoom(DropinSessionId),
    /// The WebRTC signal relay of a booking (`/v1/bookings/{id}/signal`).
    SignalRelay(BookingId),
}

impl SocketTarget {
    /// How a ticket names the target: its purpose and id, each followed by
    /// a dot (the session's id comes next).
    fn prefix(self) -> String {
        match self {
            SocketTarget::DropinRoom(id) => format!("dropin.{id}."),
            SocketTarget::SignalRelay(id) => format!("signal.{id}."),
        }
    }
}

/// A ticket as issued: the text to send as `?ticket=`, and when it stops
/// working.
#[derive(Clone, PartialEq, Eq)]
pub struct SocketTicket {
    /// `{purpose}.{target id}.{session id}.{expiry, unix seconds}.{hex MAC}`.
    pub ticket: String,
    /// When it stops working (whole seconds).
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for SocketTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketTicket")
            .field("ticket", &"(redacted)")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Issues a ticket for `target` at `now` to the caller signed in with the
/// sign-in `token`, keyed under `store`'s secret key as `secret` holds it;
/// `Unauthorized` when it signs nobody in (unknown, expired or signed out).
pub(crate) fn issue_socket_ticket(
    store: &Store,
    secret: &SecretKeyCell,
    token: &str,
    target: SocketTarget,
    now: Timestamp,
) -> Result<SocketTicket> {
    let session = match store.lookup_unique(UniqueName::TokenHash, token_hash(token).as_bytes())? {
        Some(raw) => store.get::<AuthSession>(AuthSessionId::new(raw))?,
        None => None,
    }
    .filter(|session| session.is_live(now))
    .ok_or(Error::Unauthorized)?;
    let expires = unix_secs(now).saturating_add(SOCKET_TICKET_SECS);
    let claims = format!("{}{}", target.prefix(), session.id);
    let signature = mac(store, secret, &session, expires, &claims)?;
    Ok(SocketTicket {
        ticket: format!("{claims}.{expires}.{}", hex::encode(signature)),
        expires_at: Timestamp::from_micros(expires.saturating_mul(1_000_000))?,
    })
}

/// The user `ticket` proves at `now` for `target`, checked under `store`'s
/// secret key as `secret` holds it; `Unauthorized` when it is malformed,
/// was issued for another socket, was tampered with, has expired or its
/// session ended.
pub(crate) fn redeem_socket_ticket(
    store: &Store,
    secret: &SecretKeyCell,
    ticket: &str,
    target: SocketTarget,
    now: Timestamp,
) -> Result<UserId> {
    redeem_socket_ticket_session(store, secret, ticket, target, now).map(|session| session.user_id)
}

/// The sign-in session `ticket` was issued under, checked as
/// [`redeem_socket_ticket`] checks it: what a socket that must close when
/// that sign-in ends remembers.
pub(crate) fn redeem_socket_ticket_session(
    store: &Store,
    secret: &SecretKeyCell,
    ticket: &str,
    target: SocketTarget,
    now: Timestamp,
) -> Result<AuthSession> {
    if ticket.len() > MAX_TICKET_LEN {
        return Err(Error::Unauthorized);
    }
    let mut tail = ticket.rsplitn(3, '.');
    let (Some(sent_mac), Some(expires_text), Some(claims)) =
        (tail.next(), tail.next(), tail.next())
    else {
        return Err(Error::Unauthorized);
    };
    let session_text = claims
        .strip_prefix(target.prefix().as_str())
        .ok_or(Error::Unauthorized)?;
    let session_id: u64 = digits(session_text)?;
    let expires: i64 = digits(expires_text)?;
    let sent_mac = hex::decode(sent_mac).map_err(|_| Error::Unauthorized)?;
    let session = store
        .get::<AuthSession>(AuthSessionId::new(session_id))?
        .filter(|session| session.is_live(now))
        .ok_or(Error::Unauthorized)?;
    verify_timestamped_hmac(
        &key(store, secret, &session)?,
        expires_text,
        expires,
        claims_of(claims, session.user_id).as_bytes(),
        &[sent_mac],
        unix_secs(now),
    )
    .map_err(|err| match err {
        Error::InvalidSignature(_) => Error::Unauthorized,
        other => other,
    })?;
    if unix_secs(now) >= expires {
        return Err(Error::Unauthorized);
    }
    Ok(session)
}

/// The user a socket admitted at `at` with `ticket` for `target` still
/// holds at `now`: the ticket checked as it was at `at` (its minute is not
/// held against a long call), and its sign-in session still live at `now`
/// (signed out, closed or expired since: `Unauthorized`). What an open
/// socket re-checks.
pub(crate) fn socket_ticket_still_stands(
    store: &Store,
    secret: &SecretKeyCell,
    ticket: &str,
    target: SocketTarget,
    at: Timestamp,
    now: Timestamp,
) -> Result<UserId> {
    let session = redeem_socket_ticket_session(store, secret, ticket, target, at)?;
    if session.is_live(now) {
        Ok(session.user_id)
    } else {
        Err(Error::Unauthorized)
    }
}

/// What the MAC covers besides the expiry: the ticket's claims as written
/// (purpose, target, session) and the session's user.
fn claims_of(claims: &str, user: UserId) -> String {
    format!("{claims}.{user}")
}

/// The MAC of a ticket of `session` in `store` expiring at `expires` over
/// `claims`, as [`verify_timestamped_hmac`] checks it: HMAC-SHA256 of
/// `"{expires}.{claims}.{user}"` under [`key`].
fn mac(
    store: &Store,
    secret: &SecretKeyCell,
    session: &AuthSession,
    expires: i64,
    claims: &str,
) -> Result<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(store, secret, session)?)
        .map_err(|_| Error::Corrupt("a socket ticket key cannot key an HMAC".to_owned()))?;
    mac.update(expires.to_string().as_bytes());
    mac.update(b".");
    mac.update(claims_of(claims, session.user_id).as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The key of `session`'s tickets in `store`: the store's keyed hash of
/// [`KEY_LABEL`] and the session's stored token hash, under its secret key
/// (the 64 hex digits, as bytes). The secret key comes from `secret`, which
/// reads it from the store's metadata on its first use and keeps it (it
/// never changes once made): so an issue, a redemption and each re-check of
/// an open relay ([`socket_ticket_still_stands`], every few seconds) cost
/// no store round trip once the holder has it. `secret` must be `store`'s
/// own cell: a cell holds the key of the store it first read.
fn key(store: &Store, secret: &SecretKeyCell, session: &AuthSession) -> Result<Vec<u8>> {
    Ok(secret
        .get(store)?
        .keyed_hash(KEY_LABEL, &[session.token_hash.as_bytes()])?
        .into_bytes())
}

/// A number written in ASCII digits only (no sign, no spaces).
fn digits<T: std::str::FromStr>(text: &str) -> Result<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Unauthorized);
    }
    text.parse().map_err(|_| Error::Unauthorized)
}

fn unix_secs(at: Timestamp) -> i64 {
    at.as_micros().div_euclid(1_000_000)
}

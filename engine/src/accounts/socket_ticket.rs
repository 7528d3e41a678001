//! Socket tickets: a short-lived stand-in for a sign-in token on a
//! WebSocket URL. A browser cannot set `Authorization` on a WebSocket, and a
//! URL ends up in proxy and CDN logs and in browser history, where a 30-day
//! sign-in token must not go; so a client asks for a ticket with its bearer
//! token and puts the ticket in the URL instead. A ticket names what it
//! opens (one drop-in room or one booking's signal relay), the caller's
//! sign-in session and when it expires ([`SOCKET_TICKET_SECS`] after it was
//! issued), and binds them and the session's user with HMAC-SHA256 under a
//! key that the store's secret key derives from the session's stored token
//! hash (`key`). The secret key is in no row, so the `AuthSession` rows
//! alone (a leaked backup, a read-only SQL injection) sign no ticket, as
//! they let no one sign in; the token hash makes every session's key its
//! own. Nothing is stored per ticket: one for one socket opens no other,
//! and it dies at its expiry or with its session (signing out, the sweep),
//! whichever comes first; until then it can be used again. Its MAC is
//! compared in constant time by the webhooks' verifier
//! ([`verify_timestamped_hmac`]). A ticket only proves who the caller is:
//! the room or the relay still checks what they may open.
//!
//! `droply migrate` carries the secret key, so a copy takes the tickets its
//! source issued. Tickets issued before this key (when it came from the
//! token hash alone) are refused after an upgrade; they lived a minute.

use droply_models::{BookingId, DropinSessionId, Timestamp, UserId};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::auth_session::{AuthSession, AuthSessionId, token_hash};
use crate::payments::verify_timestamped_hmac;
use crate::store::{Store, UniqueName};
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
/// sign-in `token`; `Unauthorized` when it signs nobody in (unknown,
/// expired or signed out).
pub fn issue_socket_ticket(
    store: &Store,
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
    let signature = mac(store, &session, expires, &claims)?;
    Ok(SocketTicket {
        ticket: format!("{claims}.{expires}.{}", hex::encode(signature)),
        expires_at: Timestamp::from_micros(expires.saturating_mul(1_000_000))?,
    })
}

/// The user `ticket` proves at `now` for `target`; `Unauthorized` when it is
/// malformed, was issued for another socket, was tampered with, has expired
/// or its session ended.
pub fn redeem_socket_ticket(
    store: &Store,
    ticket: &str,
    target: SocketTarget,
    now: Timestamp,
) -> Result<UserId> {
    redeem_socket_ticket_session(store, ticket, target, now).map(|session| session.user_id)
}

/// The sign-in session `ticket` was issued under, checked as
/// [`redeem_socket_ticket`] checks it: what a socket that must close when
/// that sign-in ends remembers.
pub fn redeem_socket_ticket_session(
    store: &Store,
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
        &key(store, &session)?,
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
pub fn socket_ticket_still_stands(
    store: &Store,
    ticket: &str,
    target: SocketTarget,
    at: Timestamp,
    now: Timestamp,
) -> Result<UserId> {
    let session = redeem_socket_ticket_session(store, ticket, target, at)?;
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
fn mac(store: &Store, session: &AuthSession, expires: i64, claims: &str) -> Result<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(store, session)?)
        .map_err(|_| Error::Corrupt("a socket ticket key cannot key an HMAC".to_owned()))?;
    mac.update(expires.to_string().as_bytes());
    mac.update(b".");
    mac.update(claims_of(claims, session.user_id).as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The key of `session`'s tickets in `store`: the store's keyed hash of
/// [`KEY_LABEL`] and the session's stored token hash, under its secret key
/// (the 64 hex digits, as bytes). Read from the store's metadata at each
/// use: once per socket opened, and at each re-check of an open relay
/// ([`socket_ticket_still_stands`], every few seconds).
fn key(store: &Store, session: &AuthSession) -> Result<Vec<u8>> {
    Ok(store
        .secret_key()?
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

#[cfg(test)]
mod tests {
    use sha2::Digest;

    use super::*;
    use crate::accounts::login::{issue_token, logout};
    use crate::records::copy_store;

    const ROOM: SocketTarget = SocketTarget::DropinRoom(DropinSessionId::new(7));
    const USER: UserId = UserId::new(41);

    /// A store with one live sign-in session of [`USER`]: its token.
    fn signed_in() -> (Store, String) {
        let store = Store::open_temporary().expect("store");
        let issued = store.write(|txn| issue_token(txn, USER)).expect("session");
        (store, issued.token)
    }

    /// The session row `store` keeps for `token`: all that a reader of the
    /// rows (a leaked backup, a read-only SQL injection) learns of it.
    fn stored_row(store: &Store, token: &str) -> AuthSession {
        let raw = store
            .lookup_unique(UniqueName::TokenHash, token_hash(token).as_bytes())
            .expect("lookup")
            .expect("the session's row");
        store
            .get::<AuthSession>(AuthSessionId::new(raw))
            .expect("read")
            .expect("the session's row")
    }

    /// A ticket for `target` expiring at `expires`, signed from `row` alone
    /// as tickets were before the store's secret key keyed them: HMAC-SHA256
    /// under SHA-256 of the old label and the stored token hash.
    fn forged_the_old_way(row: &AuthSession, target: SocketTarget, expires: i64) -> String {
        let key = <Sha256 as Digest>::digest(
            [
                b"droply-socket-ticket\0".as_slice(),
                row.token_hash.as_bytes(),
            ]
            .concat(),
        );
        let claims = format!("{}{}", target.prefix(), row.id);
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_slice()).expect("an HMAC key");
        mac.update(format!("{expires}.{claims}.{}", row.user_id).as_bytes());
        format!(
            "{claims}.{expires}.{}",
            hex::encode(mac.finalize().into_bytes())
        )
    }

    fn refused(result: Result<UserId>) {
        assert!(
            matches!(result, Err(Error::Unauthorized)),
            "{result:?} should be refused"
        );
    }

    #[test]
    fn a_ticket_opens_its_socket_for_its_user_until_it_expires() {
        let (store, token) = signed_in();
        let now = Timestamp::now();
        let issued = issue_socket_ticket(&store, &token, ROOM, now).expect("ticket");
        let expiry = unix_secs(now) + SOCKET_TICKET_SECS;
        assert_eq!(unix_secs(issued.expires_at), expiry);
        assert!(issued.ticket.starts_with("dropin.7."), "{}", issued.ticket);
        assert!(
            !issued.ticket.contains(&token),
            "the sign-in token stays out"
        );
        assert_eq!(
            redeem_socket_ticket(&store, &issued.ticket, ROOM, now).expect("at once"),
            USER
        );
        let last_moment = Timestamp::from_micros((expiry - 1) * 1_000_000).expect("instant");
        assert_eq!(
            redeem_socket_ticket(&store, &issued.ticket, ROOM, last_moment).expect("in time"),
            USER,
            "usable again within its minute"
        );
        let expired = Timestamp::from_micros(expiry * 1_000_000).expect("instant");
        refused(redeem_socket_ticket(&store, &issued.ticket, ROOM, expired));
        refused(redeem_socket_ticket(
            &store,
            &issued.ticket,
            ROOM,
            now.plus_minutes(10),
        ));
    }

    /// Regression: an open relay re-checked its ticket as of when it was
    /// admitted, its session's expiry included, so a sign-in that ran out
    /// during a call kept the relay open until the sweep deleted it.
    #[test]
    fn a_socket_admitted_by_ticket_stands_while_its_session_lives_and_not_after() {
        let (store, token) = signed_in();
        let at = Timestamp::now();
        let ticket = issue_socket_ticket(&store, &token, ROOM, at)
            .expect("ticket")
            .ticket;
        let hour_later = at.plus_minutes(60);
        assert_eq!(
            socket_ticket_still_stands(&store, &ticket, ROOM, at, hour_later).expect("stands"),
            USER,
            "the ticket's own minute is long past"
        );
        let session_over = at.plus_days(crate::accounts::SESSION_DAYS + 1);
        refused(socket_ticket_still_stands(
            &store,
            &ticket,
            ROOM,
            at,
            session_over,
        ));
        logout(&store, &token).expect("sign out");
        refused(socket_ticket_still_stands(
            &store, &ticket, ROOM, at, hour_later,
        ));
    }

    #[test]
    fn a_ticket_opens_no_other_socket() {
        let (store, token) = signed_in();
        let now = Timestamp::now();
        let ticket = issue_socket_ticket(&store, &token, ROOM, now)
            .expect("ticket")
            .ticket;
        for other in [
            SocketTarget::DropinRoom(DropinSessionId::new(8)),
            SocketTarget::DropinRoom(DropinSessionId::new(70)),
            SocketTarget::SignalRelay(BookingId::new(7)),
        ] {
            refused(redeem_socket_ticket(&store, &ticket, other, now));
        }
    }

    #[test]
    fn a_tampered_ticket_is_refused() {
        let (store, token) = signed_in();
        let now = Timestamp::now();
        let ticket = issue_socket_ticket(&store, &token, ROOM, now)
            .expect("ticket")
            .ticket;
        let parts: Vec<&str> = ticket.split('.').collect();
        assert_eq!(parts.len(), 5, "{ticket}");
        let (session, expires, mac) = (parts[2], parts[3], parts[4]);
        let (kept, last) = mac.split_at(mac.len() - 1);
        let flipped = format!("{kept}{}", if last == "0" { "1" } else { "0" });
        let (short, _) = mac.split_at(mac.len() - 2);
        let later: i64 = expires.parse::<i64>().expect("expiry") + 3600;
        for tampered in [
            format!("dropin.7.{session}.{expires}.{flipped}"),
            format!("dropin.8.{session}.{expires}.{mac}"),
            format!("signal.7.{session}.{expires}.{mac}"),
            format!("dropin.7.0{session}.{expires}.{mac}"),
            format!("dropin.7.{session}.{later}.{mac}"),
            format!("dropin.7.{session}.0{expires}.{mac}"),
            format!("dropin.7.{session}.{expires}.{short}"),
            format!("dropin.7.{session}.{expires}"),
            format!("dropin.7.{session}.{expires}.{mac}.x"),
            String::new(),
            "x".repeat(300),
        ] {
            refused(redeem_socket_ticket(&store, &tampered, ROOM, now));
        }
        // Another session's key does not sign this one's tickets.
        let other = store
            .write(|txn| issue_token(txn, UserId::new(42)))
            .expect("other session")
            .token;
        let theirs = issue_socket_ticket(&store, &other, ROOM, now)
            .expect("ticket")
            .ticket;
        let their_mac = theirs.rsplit('.').next().expect("mac");
        refused(redeem_socket_ticket(
            &store,
            &format!("dropin.7.{session}.{expires}.{their_mac}"),
            ROOM,
            now,
        ));
    }

    #[test]
    fn signing_out_ends_the_sessions_tickets() {
        let (store, token) = signed_in();
        let now = Timestamp::now();
        let ticket = issue_socket_ticket(&store, &token, ROOM, now)
            .expect("ticket")
            .ticket;
        logout(&store, &token).expect("sign out");
        refused(redeem_socket_ticket(&store, &ticket, ROOM, now));
        assert!(matches!(
            issue_socket_ticket(&store, &token, ROOM, now),
            Err(Error::Unauthorized)
        ));
    }

    #[test]
    fn only_a_live_sign_in_gets_a_ticket() {
        let (store, token) = signed_in();
        let now = Timestamp::now();
        assert!(matches!(
            issue_socket_ticket(&store, "not-a-token", ROOM, now),
            Err(Error::Unauthorized)
        ));
        assert!(matches!(
            issue_socket_ticket(&store, &token, ROOM, now.plus_days(31)),
            Err(Error::Unauthorized)
        ));
        let ticket = issue_socket_ticket(&store, &token, ROOM, now)
            .expect("ticket")
            .ticket;
        refused(redeem_socket_ticket(
            &store,
            &ticket,
            ROOM,
            now.plus_days(31),
        ));
    }

    /// Regression: a ticket's key was SHA-256 of a label and the session's
    /// stored token hash, so whoever read the `AuthSession` rows could sign
    /// tickets for any signed-in user: open any host's room as its host, or
    /// any booking's signal relay.
    #[test]
    fn a_ticket_forged_from_the_stored_session_row_is_refused() {
        let (store, token) = signed_in();
        let now = Timestamp::now();
        let row = stored_row(&store, &token);
        let expires = unix_secs(now) + SOCKET_TICKET_SECS;
        for target in [ROOM, SocketTarget::SignalRelay(BookingId::new(9))] {
            let forged = forged_the_old_way(&row, target, expires);
            refused(redeem_socket_ticket(&store, &forged, target, now));
            let genuine = issue_socket_ticket(&store, &token, target, now)
                .expect("ticket")
                .ticket;
            assert_eq!(
                redeem_socket_ticket(&store, &genuine, target, now).expect("a genuine ticket"),
                USER
            );
        }
    }

    /// Regression: the same session row in another store (another secret
    /// key) took the tickets the first store issued; a copy made by `droply
    /// migrate`, which carries the secret key, takes them.
    #[test]
    fn a_ticket_redeems_only_in_a_store_with_the_issuers_secret_key() {
        let (store, token) = signed_in();
        let now = Timestamp::now();
        let ticket = issue_socket_ticket(&store, &token, ROOM, now)
            .expect("ticket")
            .ticket;
        let row = stored_row(&store, &token);
        let elsewhere = Store::open_temporary().expect("another store");
        elsewhere
            .write(|txn| txn.put(row.clone()))
            .expect("the same session row");
        assert_eq!(stored_row(&elsewhere, &token), row);
        refused(redeem_socket_ticket(&elsewhere, &ticket, ROOM, now));
        let copy = Store::open_temporary().expect("a copy");
        copy_store(&store, &copy).expect("migrate");
        assert_eq!(
            redeem_socket_ticket(&copy, &ticket, ROOM, now).expect("in the copy"),
            USER
        );
    }
}

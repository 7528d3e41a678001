//! Tests of socket tickets: a ticket opens its one socket for its user
//! until it expires or its sign-in ends, and is refused tampered with,
//! forged from the stored session row, or in a store with another secret
//! key; a key a cell holds agrees with a fresh read, and an open relay's
//! re-checks read the store's secret key no more.

use sha2::Digest;

use super::*;
use crate::accounts::login::{issue_token, logout};
use crate::records::copy_store;

const ROOM: SocketTarget = SocketTarget::DropinRoom(DropinSessionId::new(7));
const USER: UserId = UserId::new(41);

/// A store with one live sign-in session of [`USER`], a cell for the
/// store's secret key (empty until first used), and the session's token.
fn signed_in() -> (Store, SecretKeyCell, String) {
    let store = Store::open_temporary().expect("store");
    let issued = store.write(|txn| issue_token(txn, USER)).expect("session");
    (store, SecretKeyCell::default(), issued.token)
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
    let (store, secret, token) = signed_in();
    let now = Timestamp::now();
    let issued = issue_socket_ticket(&store, &secret, &token, ROOM, now).expect("ticket");
    let expiry = unix_secs(now) + SOCKET_TICKET_SECS;
    assert_eq!(unix_secs(issued.expires_at), expiry);
    assert!(issued.ticket.starts_with("dropin.7."), "{}", issued.ticket);
    assert!(
        !issued.ticket.contains(&token),
        "the sign-in token stays out"
    );
    assert_eq!(
        redeem_socket_ticket(&store, &secret, &issued.ticket, ROOM, now).expect("at once"),
        USER
    );
    let last_moment = Timestamp::from_micros((expiry - 1) * 1_000_000).expect("instant");
    assert_eq!(
        redeem_socket_ticket(&store, &secret, &issued.ticket, ROOM, last_moment).expect("in time"),
        USER,
        "usable again within its minute"
    );
    let expired = Timestamp::from_micros(expiry * 1_000_000).expect("instant");
    refused(redeem_socket_ticket(
        &store,
        &secret,
        &issued.ticket,
        ROOM,
        expired,
    ));
    refused(redeem_socket_ticket(
        &store,
        &secret,
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
    let (store, secret, token) = signed_in();
    let at = Timestamp::now();
    let ticket = issue_socket_ticket(&store, &secret, &token, ROOM, at)
        .expect("ticket")
        .ticket;
    let hour_later = at.plus_minutes(60);
    assert_eq!(
        socket_ticket_still_stands(&store, &secret, &ticket, ROOM, at, hour_later).expect("stands"),
        USER,
        "the ticket's own minute is long past"
    );
    let session_over = at.plus_days(crate::accounts::SESSION_DAYS + 1);
    refused(socket_ticket_still_stands(
        &store,
        &secret,
        &ticket,
        ROOM,
        at,
        session_over,
    ));
    logout(&store, &token).expect("sign out");
    refused(socket_ticket_still_stands(
        &store, &secret, &ticket, ROOM, at, hour_later,
    ));
}

#[test]
fn a_ticket_opens_no_other_socket() {
    let (store, secret, token) = signed_in();
    let now = Timestamp::now();
    let ticket = issue_socket_ticket(&store, &secret, &token, ROOM, now)
        .expect("ticket")
        .ticket;
    for other in [
        SocketTarget::DropinRoom(DropinSessionId::new(8)),
        SocketTarget::DropinRoom(DropinSessionId::new(70)),
        SocketTarget::SignalRelay(BookingId::new(7)),
    ] {
        refused(redeem_socket_ticket(&store, &secret, &ticket, other, now));
    }
}

#[test]
fn a_tampered_ticket_is_refused() {
    let (store, secret, token) = signed_in();
    let now = Timestamp::now();
    let ticket = issue_socket_ticket(&store, &secret, &token, ROOM, now)
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
        refused(redeem_socket_ticket(&store, &secret, &tampered, ROOM, now));
    }
    // Another session's key does not sign this one's tickets.
    let other = store
        .write(|txn| issue_token(txn, UserId::new(42)))
        .expect("other session")
        .token;
    let theirs = issue_socket_ticket(&store, &secret, &other, ROOM, now)
        .expect("ticket")
        .ticket;
    let their_mac = theirs.rsplit('.').next().expect("mac");
    refused(redeem_socket_ticket(
        &store,
        &secret,
        &format!("dropin.7.{session}.{expires}.{their_mac}"),
        ROOM,
        now,
    ));
}

#[test]
fn signing_out_ends_the_sessions_tickets() {
    let (store, secret, token) = signed_in();
    let now = Timestamp::now();
    let ticket = issue_socket_ticket(&store, &secret, &token, ROOM, now)
        .expect("ticket")
        .ticket;
    logout(&store, &token).expect("sign out");
    refused(redeem_socket_ticket(&store, &secret, &ticket, ROOM, now));
    assert!(matches!(
        issue_socket_ticket(&store, &secret, &token, ROOM, now),
        Err(Error::Unauthorized)
    ));
}

#[test]
fn only_a_live_sign_in_gets_a_ticket() {
    let (store, secret, token) = signed_in();
    let now = Timestamp::now();
    assert!(matches!(
        issue_socket_ticket(&store, &secret, "not-a-token", ROOM, now),
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        issue_socket_ticket(&store, &secret, &token, ROOM, now.plus_days(31)),
        Err(Error::Unauthorized)
    ));
    let ticket = issue_socket_ticket(&store, &secret, &token, ROOM, now)
        .expect("ticket")
        .ticket;
    refused(redeem_socket_ticket(
        &store,
        &secret,
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
    let (store, secret, token) = signed_in();
    let now = Timestamp::now();
    let row = stored_row(&store, &token);
    let expires = unix_secs(now) + SOCKET_TICKET_SECS;
    for target in [ROOM, SocketTarget::SignalRelay(BookingId::new(9))] {
        let forged = forged_the_old_way(&row, target, expires);
        refused(redeem_socket_ticket(&store, &secret, &forged, target, now));
        let genuine = issue_socket_ticket(&store, &secret, &token, target, now)
            .expect("ticket")
            .ticket;
        assert_eq!(
            redeem_socket_ticket(&store, &secret, &genuine, target, now).expect("a genuine ticket"),
            USER
        );
    }
}

/// Regression: the same session row in another store (another secret
/// key) took the tickets the first store issued; a copy made by `droply
/// migrate`, which carries the secret key, takes them.
#[test]
fn a_ticket_redeems_only_in_a_store_with_the_issuers_secret_key() {
    let (store, secret, token) = signed_in();
    let now = Timestamp::now();
    let ticket = issue_socket_ticket(&store, &secret, &token, ROOM, now)
        .expect("ticket")
        .ticket;
    let row = stored_row(&store, &token);
    let elsewhere = Store::open_temporary().expect("another store");
    elsewhere
        .write(|txn| txn.put(row.clone()))
        .expect("the same session row");
    assert_eq!(stored_row(&elsewhere, &token), row);
    refused(redeem_socket_ticket(
        &elsewhere,
        &SecretKeyCell::default(),
        &ticket,
        ROOM,
        now,
    ));
    let copy = Store::open_temporary().expect("a copy");
    copy_store(&store, &copy).expect("migrate");
    assert_eq!(
        redeem_socket_ticket(&copy, &SecretKeyCell::default(), &ticket, ROOM, now)
            .expect("in the copy"),
        USER
    );
}

/// A key a cell holds and one read from the store afresh are the same:
/// a ticket issued through either redeems through the other, and an
/// open relay's re-check through a fresh read stands as through the
/// cell.
#[test]
fn a_ticket_keyed_by_a_cached_secret_and_by_a_fresh_read_agree() {
    let (store, secret, token) = signed_in();
    let now = Timestamp::now();
    let cached = issue_socket_ticket(&store, &secret, &token, ROOM, now)
        .expect("through the cell")
        .ticket;
    let fresh = issue_socket_ticket(&store, &SecretKeyCell::default(), &token, ROOM, now)
        .expect("through a fresh read")
        .ticket;
    assert!(cached == fresh, "the same key signs the same ticket");
    assert_eq!(
        redeem_socket_ticket(&store, &SecretKeyCell::default(), &cached, ROOM, now)
            .expect("the cell's ticket, read afresh"),
        USER
    );
    assert_eq!(
        redeem_socket_ticket(&store, &secret, &fresh, ROOM, now)
            .expect("the fresh ticket, through the cell"),
        USER
    );
    let later = now.plus_minutes(5);
    assert_eq!(
        socket_ticket_still_stands(&store, &SecretKeyCell::default(), &cached, ROOM, now, later)
            .expect("re-checked afresh"),
        USER
    );
}

/// Regression: every issue, redemption and re-check of a ticket read
/// the store's secret key from its metadata (on PostgreSQL an insert
/// and a select), an open relay's every few seconds; the holder's cell
/// now reads it once. Seen by replacing the store's key after the
/// first use (as only `droply migrate` does, with the service
/// stopped): the cell's re-checks go on standing, as they read no key,
/// while a fresh read takes the new key and refuses the ticket.
#[test]
fn an_open_relays_rechecks_do_not_read_the_stores_secret_key_again() {
    let (store, secret, token) = signed_in();
    let relay = SocketTarget::SignalRelay(BookingId::new(9));
    let at = Timestamp::now();
    let ticket = issue_socket_ticket(&store, &secret, &token, relay, at)
        .expect("ticket")
        .ticket;
    let other = Store::open_temporary().expect("another store");
    store
        .adopt_secret_key_of(&other)
        .expect("the store's key replaced");
    for minutes in [1, 2, 3] {
        let now = at.plus_minutes(minutes);
        assert_eq!(
            socket_ticket_still_stands(&store, &secret, &ticket, relay, at, now)
                .expect("the cell's key"),
            USER
        );
    }
    refused(socket_ticket_still_stands(
        &store,
        &SecretKeyCell::default(),
        &ticket,
        relay,
        at,
        at.plus_minutes(1),
    ));
}

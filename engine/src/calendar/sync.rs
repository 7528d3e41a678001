//! [`CalendarSync`]: Google Calendar's use cases over the store. Linking a
//! calendar (connecting, the status view, disconnecting) is `linking`'s;
//! sending the revocations of grants let go of is `revoking`'s; this module
//! holds the service and one sync pass: each connected expert's access
//! token is refreshed when it is about to expire (`invalid_grant` marks the
//! connection broken), FreeBusy is read for the next 90 days and written in
//! one transaction after the call, then the outbox of event operations is
//! sent, each operation's result recorded in a transaction of its own, then
//! the revocations that are due are sent again.

use std::collections::HashSet;

use droply_models::{Booking, BookingId, Timestamp, UserId};
use secrecy::SecretString;

use super::busy::{busy_past_the_window, clear_busy, normalise, replace_busy};
use super::config::{CalendarConfig, GoogleConfig};
use super::connection::{CalendarConnection, LinkState, token_aad};
use super::crypto::SecretKey;
use super::google_client::{EventBody, GoogleClient, GoogleError, GoogleFailure, TokenGrant};
use super::outbox::{CalendarEvent, CalendarOp, CalendarOpKind, has_event};
use crate::availability::Interval;
use crate::store::{Record, Store, TurnGuard, TurnName};
use crate::{Error, Result};

mod closing;
mod event_ids;
mod linking;
mod revoking;

use self::event_ids::{event_id_of, event_owner, other_event_id, remade_event_id};

/// What one sync pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    /// Experts whose busy times were read.
    pub synced: usize,
    /// Connections found broken in this pass.
    pub broken: usize,
    /// Access tokens refreshed.
    pub refreshed: usize,
    /// Event operations sent.
    pub events_sent: usize,
    /// Event operations that failed (retried later or given up).
    pub events_failed: usize,
    /// Grants revoked at Google (revocations pending since a disconnect).
    pub revoked: usize,
    /// Revocations that failed again (kept for later, or given up).
    pub revocations_failed: usize,
}

/// Google and the key, when calendar sync is on.
#[derive(Debug)]
struct Google {
    client: GoogleClient,
    key: SecretKey,
}

/// Calendar sync: its configuration and, when Google is configured, the
/// client and the key. A grant changes at Google (a code exchanged and its
/// connection stored, or a revocation sent) only in the store-wide turn
/// [`TurnName::GrantChange`], whichever node does it: a revocation of an
/// expert's old grant sent while their new consent is exchanged could end
/// the new grant (Google revokes a client's access to the account); in
/// turn, each sees what the other did.
#[derive(Debug)]
pub struct CalendarSync {
    config: CalendarConfig,
    google: Option<Google>,
}

impl CalendarSync {
    /// Calendar sync as `config` says (checked: Google needs a key).
    pub fn new(config: CalendarConfig) -> Result<CalendarSync> {
        config.validate()?;
        let google = match (&config.google, &config.secret_key) {
            (Some(google), Some(key)) => Some(Google {
                client: GoogleClient::new(google)?,
                key: key.clone(),
            }),
            _ => None,
        };
        Ok(CalendarSync { config, google })
    }

    /// The configuration.
    pub fn config(&self) -> &CalendarConfig {
        &self.config
    }

    /// Whether Google is configured.
    pub fn is_on(&self) -> bool {
        self.google.is_some()
    }

    fn google(&self) -> Result<&Google> {
        self.google.as_ref().ok_or(Error::CalendarNotConfigured)
    }

    fn google_config(&self) -> Result<&GoogleConfig> {
        Ok(self.google()?.client.config())
    }

    /// Takes the turn to change `user`'s grant at Google, store-wide (every
    /// node sharing `store` waits for it; `Overloaded` after a bounded wait;
    /// other experts' grant changes go on meanwhile).
    fn grant_change_turn(&self, store: &Store, user: UserId) -> Result<TurnGuard> {
        store.exclusive_turn(TurnName::GrantChange(user))
    }

    /// One pass: busy times of every connected expert, then the outbox,
    /// then the revocations due, then expired consent states. Off without
    /// Google (an empty report).
    pub fn sync_all(&self, store: &Store, now: Timestamp) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let Some(google) = &self.google else {
            return Ok(report);
        };
        let connections: Vec<CalendarConnection> =
            store.iter::<CalendarConnection>().collect::<Result<_>>()?;
        for connection in connections {
            if connection.state != LinkState::Connected {
                continue;
            }
            let user = connection.user_id;
            match self.read_busy(google, store, &connection, now, &mut report) {
                Ok(true) => report.synced += 1,
                Ok(false) => {}
                Err(err) => tracing::warn!(user = %user, %err, "busy times not read"),
            }
        }
        self.drain_outbox(google, store, now, &mut report)?;
        self.retry_revocations(google, store, now, &mut report)?;
        self.forget_expired_states(store, now)?;
        Ok(report)
    }

    /// Reads `connection`'s busy times and stores them; false when the
    /// connection turned out broken, or no longer held the grant they were
    /// read with once Google answered (disconnected, broken, or connected
    /// again meanwhile: what the old grant read is not the new
    /// connection's, and a disconnected expert has no busy times).
    fn read_busy(
        &self,
        google: &Google,
        store: &Store,
        connection: &CalendarConnection,
        now: Timestamp,
        report: &mut SyncReport,
    ) -> Result<bool> {
        let user = connection.user_id;
        let window_end = now.plus_days(i64::from(self.config.busy_window_days));
        let Some(window) = Interval::new(now, window_end) else {
            return Ok(false);
        };
        let busy = match self.with_access(google, store, user, now, report, |access| {
            google.client.free_busy(access, window)
        })? {
            Some(busy) => busy,
            None => return Ok(false),
        };
        let spans = busy_past_the_window(normalise(busy), window_end)?;
        store.write(|txn| {
            let Some(mut row) = txn.get::<CalendarConnection>(user)? else {
                return Ok(false);
            };
            if !still_connected_with(&row, connection) {
                return Ok(false);
            }
            replace_busy(txn, user, spans.clone())?;
            row.last_sync_at = Some(txn.now());
            txn.update(row)?;
            Ok(true)
        })
    }

    /// Runs `call` with `user`'s access token, refreshed first when it
    /// expires within the margin, and once more after a refresh when
    /// Google refuses it (with the refresh token the last refresh left:
    /// Google may have replaced the one read first). `None` when the
    /// connection is gone or broken (`invalid_grant` marks it so).
    fn with_access<T>(
        &self,
        google: &Google,
        store: &Store,
        user: UserId,
        now: Timestamp,
        report: &mut SyncReport,
        call: impl Fn(&SecretString) -> std::result::Result<T, GoogleError>,
    ) -> Result<Option<T>> {
        let Some(mut connection) = store.get::<CalendarConnection>(user)? else {
            return Ok(None);
        };
        if connection.state != LinkState::Connected {
            return Ok(None);
        }
        let margin = chrono::TimeDelta::from_std(self.config.refresh_margin).unwrap_or_default();
        let fresh = connection.access_expires_at > now.saturating_add(margin);
        let access = if fresh {
            google
                .key
                .open(&connection.access_token, &token_aad(user, "access"))?
        } else {
            match self.refresh(google, store, &connection, report)? {
                Some((access, refreshed)) => {
                    connection = refreshed;
                    access
                }
                None => return Ok(None),
            }
        };
        match call(&access) {
            Ok(value) => Ok(Some(value)),
            Err(err) if err.failure == GoogleFailure::Unauthorized => {
                let Some((access, _)) = self.refresh(google, store, &connection, report)? else {
                    return Ok(None);
                };
                call(&access).map(Some).map_err(Error::from)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Refreshes `connection`'s access token and stores it (after the
    /// call), with the refresh token Google gave in its place if it gave
    /// one; the new access token and `connection` as refreshed (what a
    /// later refresh must start from, stored or not). `invalid_grant` (or
    /// no refresh token) marks it broken.
    fn refresh(
        &self,
        google: &Google,
        store: &Store,
        connection: &CalendarConnection,
        report: &mut SyncReport,
    ) -> Result<Option<(SecretString, CalendarConnection)>> {
        let user = connection.user_id;
        let Some(sealed) = &connection.refresh_token else {
            if self.mark_broken(
                store,
                connection,
                "Google gave no refresh token; connect again",
            )? {
                report.broken += 1;
            }
            return Ok(None);
        };
        let refresh_token = google.key.open(sealed, &token_aad(user, "refresh"))?;
        let grant: TokenGrant = match google.client.refresh(&refresh_token) {
            Ok(grant) => grant,
            Err(err) if err.failure == GoogleFailure::InvalidGrant => {
                if self.mark_broken(
                    store,
                    connection,
                    "Google refused the stored grant (revoked or expired); connect again",
                )? {
                    report.broken += 1;
                    tracing::warn!(user = %user, "Google calendar connection broken: invalid_grant");
                }
                return Ok(None);
            }
            Err(err) => return Err(err.into()),
        };
        let mut refreshed = connection.clone();
        refreshed.access_token = google.key.seal(
            secrecy::ExposeSecret::expose_secret(&grant.access_token),
            &token_aad(user, "access"),
        )?;
        if let Some(token) = &grant.refresh_token {
            refreshed.refresh_token = Some(google.key.seal(
                secrecy::ExposeSecret::expose_secret(token),
                &token_aad(user, "refresh"),
            )?);
        }
        let expires_in = chrono::TimeDelta::seconds(grant.expires_in);
        let rotated = grant.refresh_token.is_some();
        let refreshed = store.write(|txn| {
            let mut refreshed = refreshed.clone();
            refreshed.access_expires_at = txn.now().saturating_add(expires_in);
            let Some(mut row) = txn.get::<CalendarConnection>(user)? else {
                return Ok(refreshed);
            };
            if !same_grant(&row, connection) {
                return Ok(refreshed); // reconnected meanwhile: the new grant stands
            }
            row.access_token = refreshed.access_token.clone();
            if rotated {
                row.refresh_token = refreshed.refresh_token.clone();
            } else {
                // Kept as stored: another run may have stored the one Google
                // rotated to while this one refreshed with the older.
                refreshed.refresh_token = row.refresh_token.clone();
            }
            row.access_expires_at = refreshed.access_expires_at;
            txn.update(row)?;
            Ok(refreshed)
        })?;
        report.refreshed += 1;
        Ok(Some((grant.access_token, refreshed)))
    }

    /// Marks `connection` broken, unless the user connected again since it was read
    /// (a refresh that fails with the old grant says nothing about the new one), or
    /// another run stored a refresh token Google rotated to since (a refresh with the
    /// one it replaced is refused, and says nothing about the grant either). Whether it
    /// marked it.
    fn mark_broken(
        &self,
        store: &Store,
        connection: &CalendarConnection,
        why: &str,
    ) -> Result<bool> {
        let user = connection.user_id;
        store.write(|txn| {
            let Some(mut row) = txn.get::<CalendarConnection>(user)? else {
                return Ok(false);
            };
            if !same_grant(&row, connection) || row.refresh_token != connection.refresh_token {
                return Ok(false);
            }
            row.state = LinkState::Broken;
            row.problem = Some(why.to_owned());
            txn.update(row)?;
            clear_busy(txn, user)?;
            Ok(true)
        })
    }

    /// Sends the due event operations in id order. The operations of one
    /// booking, and of the bookings it replaced, go in that order: one waits
    /// while an earlier one it depends on is still queued (waiting for its
    /// backoff, or kept back). A cancel sent before the reschedule it
    /// follows would find no event under the new booking (the link is still
    /// the old one's) and drop it, leaving the old event in Google for good.
    fn drain_outbox(
        &self,
        google: &Google,
        store: &Store,
        now: Timestamp,
        report: &mut SyncReport,
    ) -> Result<()> {
        let ops: Vec<CalendarOp> = store.iter::<CalendarOp>().collect::<Result<_>>()?;
        if ops.is_empty() {
            return Ok(());
        }
        let instance = store.instance_key()?;
        let mut waiting: HashSet<BookingId> = HashSet::new();
        for op in ops {
            let touches = std::iter::once(op.booking_id).chain(op.replaces);
            let sent = if op.not_before > now || touches.clone().any(|id| waiting.contains(&id)) {
                false
            } else {
                match self.send_op(google, store, &instance, &op, now, report) {
                    Ok(sent) => {
                        report.events_sent += usize::from(sent);
                        sent || store.get::<CalendarOp>(op.id)?.is_none()
                    }
                    Err(err) => {
                        report.events_failed += 1;
                        self.retry_later(store, &op, now, &err)?;
                        false
                    }
                }
            };
            if !sent {
                waiting.extend(touches);
            }
        }
        Ok(())
    }

    /// Sends one operation and records its result (the op deleted, the
    /// event link written or removed) in one transaction after the call;
    /// false when nothing was sent. While the expert's connection is broken
    /// the op stays queued, to be sent once they connect again (an op
    /// dropped then would leave a cancelled session's event in Google, or a
    /// confirmed one without its event). Without a connection, an op is
    /// sent with the grant let go of and not yet revoked, if there is one
    /// (their account closed: `closing`; a deletion, no new event), else it
    /// goes; one whose connection went during the call stays for the next
    /// pass to tell which.
    /// A new event's id and owner name this store (`instance`, its
    /// instance key) and the booking ([`event_ids`]).
    fn send_op(
        &self,
        google: &Google,
        store: &Store,
        instance: &str,
        op: &CalendarOp,
        now: Timestamp,
        report: &mut SyncReport,
    ) -> Result<bool> {
        let booking = store.get::<Booking>(op.booking_id)?;
        let link = store
            .get::<CalendarEvent>(op.booking_id)?
            .or(match op.replaces {
                Some(old) => store.get::<CalendarEvent>(old)?,
                None => None,
            });
        let user = op.expert_id;
        let connection = store.get::<CalendarConnection>(user)?;
        let connected = connection
            .as_ref()
            .is_some_and(|c| c.state == LinkState::Connected);
        let let_go = match connection {
            Some(_) => None,
            None => self.grant_let_go_of(store, user)?,
        };
        let outcome: Option<Option<String>> = match (op.kind, booking) {
            _ if !connected && let_go.is_none() => None,
            (CalendarOpKind::Upsert, Some(booking))
                if has_event(booking.status) && let_go.is_none() =>
            {
                let body = event_body(&booking, event_owner(instance, &booking));
                // Under an id we chose, so that a retry after a lost answer
                // finds the event made (409, and it is ours) instead of
                // making another; an id taken by an event not ours (another
                // store's) gives way to one of this operation's.
                let create =
                    |access: &SecretString, id: String| match google.client.create_event(
                        access,
                        &body,
                        Some(&id),
                    ) {
                        Err(err) if err.failure == GoogleFailure::Taken => google
                            .client
                            .create_event(access, &body, Some(&other_event_id(&id, op))),
                        other => other,
                    };
                self.with_access(google, store, user, now, report, |access| match &link {
                    Some(link) => match google.client.patch_event(access, &link.event_id, &body) {
                        // Deleted at Google: a new event, under an id of
                        // this operation's (the booking's stays taken by the
                        // deleted one).
                        Err(err) if err.failure == GoogleFailure::Gone => {
                            create(access, remade_event_id(instance, &booking, op))
                        }
                        other => other.map(|()| link.event_id.clone()),
                    },
                    None => create(access, event_id_of(instance, &booking)),
                })?
                .map(Some)
            }
            (CalendarOpKind::Upsert, _) => Some(link.as_ref().map(|l| l.event_id.clone())),
            (CalendarOpKind::Remove, _) => match &link {
                Some(link) => {
                    let delete =
                        |access: &SecretString| google.client.delete_event(access, &link.event_id);
                    let deleted = match &let_go {
                        Some(grant) => self.with_grant_let_go(google, store, grant, delete)?,
                        None => self.with_access(google, store, user, now, report, delete)?,
                    };
                    deleted.map(|()| None)
                }
                None => Some(None),
            },
        };
        store.write(|txn| {
            if outcome.is_none() && (connected || txn.get::<CalendarConnection>(user)?.is_some()) {
                // Broken, or let go of during the call: kept for later.
                return Ok(false);
            }
            if txn.get::<CalendarOp>(op.id)?.is_some() {
                txn.delete::<CalendarOp>(op.id)?;
            }
            let Some(event) = &outcome else {
                // Not connected at all: nothing can be written there.
                return Ok(false);
            };
            if let Some(old) = op.replaces
                && txn.get::<CalendarEvent>(old)?.is_some()
            {
                txn.delete::<CalendarEvent>(old)?;
            }
            let current = txn.get::<CalendarEvent>(op.booking_id)?;
            match (event, current) {
                (Some(event_id), Some(mut row)) => {
                    row.event_id = event_id.clone();
                    txn.update(row).map(drop)
                }
                (Some(event_id), None) if op.kind == CalendarOpKind::Upsert => txn
                    .put(CalendarEvent {
                        booking_id: op.booking_id,
                        expert_id: user,
                        event_id: event_id.clone(),
                    })
                    .map(drop),
                (None, Some(_)) if op.kind == CalendarOpKind::Remove => {
                    txn.delete::<CalendarEvent>(op.booking_id).map(drop)
                }
                _ => Ok(()),
            }
            .map(|()| true)
        })
    }

    /// Records a failed attempt: tried again after the backoff of
    /// [`CalendarConfig::event_retry`], given up after `max_attempts`.
    fn retry_later(
        &self,
        store: &Store,
        op: &CalendarOp,
        now: Timestamp,
        err: &Error,
    ) -> Result<()> {
        let attempts = op.attempts.saturating_add(1);
        let backoff = self.config.event_retry().delay_after(attempts);
        if backoff.is_none() {
            tracing::warn!(op = %op.id, booking = %op.booking_id, %err, "calendar event given up");
        } else {
            tracing::info!(op = %op.id, booking = %op.booking_id, %err, "calendar event retried later");
        }
        let message = err.to_string();
        write_failed_attempt(store, op.id, now, backoff, |row: &mut CalendarOp, due| {
            row.attempts = attempts;
            row.last_error = Some(message);
            row.not_before = due;
        })
    }
}

/// Writes a failed attempt of the retried row `id` (an event operation or a
/// pending revocation), if it is still there: deleted when `backoff` is
/// `None` (given up), else `retried` records the attempt on it with the
/// time it is due again, `backoff` after `now`.
fn write_failed_attempt<R: Record>(
    store: &Store,
    id: R::Id,
    now: Timestamp,
    backoff: Option<std::time::Duration>,
    retried: impl FnOnce(&mut R, Timestamp),
) -> Result<()> {
    store.write(|txn| {
        let Some(mut row) = txn.get::<R>(id)? else {
            return Ok(());
        };
        let Some(backoff) = backoff else {
            return txn.delete::<R>(id).map(drop);
        };
        retried(
            &mut row,
            now.saturating_add(chrono::TimeDelta::from_std(backoff).unwrap_or_default()),
        );
        txn.update(row).map(drop)
    })
}

/// Whether `row` still holds the grant `read` held: only connecting
/// changes `connected_at` (a new connection over an old one moves it on;
/// a disconnect deletes the row). Not the sealed refresh token: a refresh
/// may store a new one (sealed with a fresh nonce besides) for the same
/// grant.
fn same_grant(row: &CalendarConnection, read: &CalendarConnection) -> bool {
    row.connected_at == read.connected_at
}

/// Whether `row` is connected, with the grant `read` held: what was read
/// with that grant may be written on it.
fn still_connected_with(row: &CalendarConnection, read: &CalendarConnection) -> bool {
    row.state == LinkState::Connected && same_grant(row, read)
}

/// The event a booking shows in its expert's calendar, `owner`'s
/// ([`event_owner`]).
fn event_body(booking: &Booking, owner: String) -> EventBody {
    EventBody {
        summary: format!("Droply session with {}", booking.client_name),
        description: format!("Booked on Droply (booking {}).", booking.id),
        start: booking.start_time,
        end: booking.end_time,
        owner,
    }
}

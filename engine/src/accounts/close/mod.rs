//! Closing an account for good (the right to erasure, GDPR art. 17): the
//! owner's password is asked again, then their personal data is erased and
//! what they run is wound down, while the records other people hold and the
//! money records accounting needs stay (bookings, payments, ledger rows,
//! payouts, referrals, the reviews they wrote, the purchases others made of
//! their content).
//!
//! The engine's [`crate::Engine::close_account`] runs the steps, each safe
//! to repeat, with the account still open until the last: the password
//! ([`confirm_password`], counted by the sign-in throttle as a sign-in is),
//! the money check and the bookings the closing cancels
//! ([`bookings_to_cancel`]: an account is not closed while money owed to or
//! by it would be lost), each cancelled through the bookings' own path
//! (its refund by the same rules as any cancellation), the calendar
//! disconnected through its own path, what the user did on the platform
//! forgotten in batches ([`forget_activity`]), and then one write
//! ([`close`]) that checks again and closes: every sign-in session, favorite
//! (theirs, and others' of them), availability rule and exception, Google
//! consent in progress and what is left of their interactions and matches
//! deleted; their open drop-ins ended; their content archived (buyers keep
//! their access); the snapshots their bookings hold of them (`client_name`,
//! `client_email`, `client_message`) and the name on their reviews
//! replaced; the drop-in rows they joined with let out of the rooms still
//! open, detached from the account and named [`User::CLOSED_NAME`] in place
//! of any name they typed, the text of their messages kept as the room's
//! history (see `dropin_rows`); and the user row anonymised: a tombstone address
//! (`closed-{id}@closed.invalid`) no password opens, which frees their
//! address for a new account, the name [`User::CLOSED_NAME`], a username
//! `closed_{id}`, a fresh referral code, and every profile field cleared,
//! so they are no longer an expert, found, listed or booked. The id, the
//! currency, the balances and the Stripe account stay with the money
//! records. Last, once nothing can sign them in again, a row of theirs made
//! in an open drop-in while the closing ran is scrubbed the same way
//! ([`leave_open_dropins`]), so no pass of theirs opens anything.
//!
//! The closing tells the bookings it cancelled from others by their ids,
//! collected as it cancels them, and those of an earlier run by what only
//! an expert's own cancellation leaves, never by a reason anyone can type
//! (see `money`).

use std::collections::BTreeSet;
use std::net::IpAddr;

use droply_models::{
    AiMatch, AvailabilityException, AvailabilityRule, Booking, BookingId, BookingStatus, Content,
    ContentStatus, Email, Favorite, Money, Payout, PayoutStatus, ReferralCode, Timestamp, User,
    UserId, UserInteraction, Username,
};

use super::auth_session::AuthSession;
use super::hashing_permits::HashingPermits;
use super::login_throttle::LoginThrottle;
use super::password::verify_password;
use crate::calendar::{BusyTimes, CalendarConnection, OAuthState};
use crate::codes::random_code;
use crate::content::{StatusChange, change_status, give_up_open_purchases_of_buyer};
use crate::payments::ledger::{LedgerEntry, LedgerKind, available_in};
use crate::payments::{
    CANCELLED_BY_EXPERT, Payment, PaymentFor, PaymentId, has_money_underway_besides, payment_of,
};
use crate::reviews::{Review, ReviewId};
use crate::store::{IndexName, KeyBuilder, PageRequest, Record, RecordId, Store, Txn, UniqueName};
use crate::{Error, Result};

mod anonymise;
mod dropin_rows;
mod money;
#[cfg(test)]
mod tests;

use anonymise::{anonymise, fresh_referral_code, tombstone_email, tombstone_username};
pub use dropin_rows::leave_open_dropins;
use dropin_rows::{participant_rows_of, scrub_dropin_rows};
use money::{check_money_settled, check_nothing_underway};

/// The reason the bookings a closing cancels carry, shown to the other side.
pub const CLOSING_REASON: &str = "the account was closed";

/// What a closed account's password hash is: no PHC string, so no password
/// matches it.
const CLOSED_PASSWORD_HASH: &str = "!closed";

/// How many rows one of [`forget_activity`]'s writes deletes.
const FORGET_BATCH: usize = 500;

/// How long the referral codes a closed account gets are.
const CODE_LEN: usize = 10;

/// Checks `password` against `user`'s before their account is closed, as a
/// sign-in from `client` checks it: the attempt counts against the (client,
/// email) pair in `throttle` first (`TooManyAttempts` once used up), and
/// the check runs under one of the `hashing` permits (`Overloaded` when
/// none came free; that attempt does not count). `InvalidCredentials` when
/// it does not match.
pub fn confirm_password(
    store: &Store,
    throttle: &LoginThrottle,
    hashing: &HashingPermits,
    client: Option<IpAddr>,
    user: UserId,
    password: &str,
) -> Result<()> {
    confirm_password_or_replacement(store, throttle, hashing, client, user, password, None)
        .map(|_| ())
}

/// Which password [`confirm_password_or_replacement`] found stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Confirmed {
    /// The password asked again: the attempt succeeded.
    Password,
    /// The replacement: the change asked for is made already (a retry of a
    /// change whose first answer was lost). Its check succeeded, so the
    /// pair's attempts are forgotten, the miss on the old password with them.
    Replacement,
}

/// [`confirm_password`], and when `password` does not match, `replacement`
/// (when given) checked as a guess of its own: a second attempt, counted by
/// the throttle like the first (so guessing through a password change costs
/// one attempt a guess, as through sign-in), forgotten with the pair's
/// others when it matches ([`Confirmed::Replacement`]).
pub(crate) fn confirm_password_or_replacement(
    store: &Store,
    throttle: &LoginThrottle,
    hashing: &HashingPermits,
    client: Option<IpAddr>,
    user: UserId,
    password: &str,
    replacement: Option<&str>,
) -> Result<Confirmed> {
    let row: User = store.require(user)?;
    let email = row.email.normalized();
    if checked_guess(throttle, hashing, client, &email, &row, password)? {
        return Ok(Confirmed::Password);
    }
    match replacement {
        Some(new) if checked_guess(throttle, hashing, client, &email, &row, new)? => {
            Ok(Confirmed::Replacement)
        }
        _ => Err(Error::InvalidCredentials),
    }
}

/// Whether `guess` is `row`'s password: an attempt counted by the throttle
/// first (refused `TooManyAttempts` once the pair's are used up), verified
/// under a hashing permit; a match forgets the pair's attempts, a miss stays
/// counted, and an attempt never verified (no permit in time) is undone.
fn checked_guess(
    throttle: &LoginThrottle,
    hashing: &HashingPermits,
    client: Option<IpAddr>,
    email: &str,
    row: &User,
    guess: &str,
) -> Result<bool> {
    let attempt = throttle.begin(client, email)?;
    match hashing
        .acquire()
        .map(|mut permit| verify_password(guess, &row.password_hash, &mut permit))
    {
        Ok(true) => {
            throttle.succeeded(attempt);
            Ok(true)
        }
        Ok(false) => Ok(false),
        Err(err) => {
            throttle.undo(attempt);
            Err(err)
        }
    }
}

/// Whether `user`'s account may be closed now, and if so the bookings the
/// closing cancels: those of theirs, as client or as provider, that have
/// not started and still hold their time (awaiting payment or confirmed).
/// `InvalidState` (409) while money is on its way to or from them (a
/// booking awaiting its client's payment, a referral reward awaiting its
/// hold, a refund of a payment to them that Stripe has not settled) or
/// while their balance is not zero once the closing's own refunds are out
/// (see [`close`]). Reads only.
pub fn bookings_to_cancel(store: &Store, user: UserId) -> Result<Vec<BookingId>> {
    store.write(|txn| {
        let row: User = txn.require(user)?;
        check_nothing_underway(txn, user, &[])?;
        let ahead = future_bookings(txn, user)?;
        let giving: Vec<BookingId> = ahead
            .iter()
            .filter(|booking| booking.provider_id == user)
            .map(|booking| booking.id)
            .collect();
        check_money_settled(txn, &row, &giving)?;
        Ok(ahead.into_iter().map(|booking| booking.id).collect())
    })
}

/// Deletes, in writes of [`FORGET_BATCH`] rows, what `user` did on the
/// platform and what others did to their profile (interactions both ways)
/// and the matches made for them (which hold their queries); how many rows
/// went. Safe to repeat; [`close`] deletes whatever came meanwhile.
pub fn forget_activity(store: &Store, user: UserId) -> Result<usize> {
    let owner = user.to_be_bytes();
    Ok(
        delete_in_batches::<UserInteraction>(store, IndexName::InteractionsByUser, &owner)?
            + delete_in_batches::<UserInteraction>(store, IndexName::InteractionsByTarget, &owner)?
            + delete_in_batches::<AiMatch>(store, IndexName::MatchesByUser, &owner)?,
    )
}

/// Closes `user`'s account in one write, after checking again what
/// [`bookings_to_cancel`] checked: `InvalidState` when a booking that has
/// not started still holds time (one made while the closing ran), or when
/// their balance is not zero once the refunds of `cancelled` (the bookings
/// this closing cancelled, by these ids, whatever reason they carry) are
/// out. What it erases and keeps is in the module's docs. Their drop-in
/// rows are found before that write, by reading every participant row (no
/// index lists a user's), and scrubbed in it. Their Google calendar is
/// disconnected before, through its own path; a connection left (Google not
/// configured) is deleted here, its tokens with it.
pub fn close(store: &Store, user: UserId, cancelled: &[BookingId]) -> Result<()> {
    let dropin_rows = participant_rows_of(store, user)?;
    store.write(|txn| {
        let row: User = txn.require(user)?;
        if !future_bookings(txn, user)?.is_empty() {
            return Err(Error::InvalidState(
                "a booking was made while the account was being closed; close it again to \
                 cancel it"
                    .to_owned(),
            ));
        }
        check_nothing_underway(txn, user, cancelled)?;
        check_money_settled(txn, &row, cancelled)?;
        let now = txn.now();
        let owner = user.to_be_bytes();
        crate::dropins::end_dropins_of_host(txn, user)?;
        scrub_dropin_rows(txn, user, &dropin_rows)?;
        let content: Vec<Content> = txn.list_index(IndexName::ContentByCreator, &owner)?;
        for item in content {
            if item.status != ContentStatus::Archived {
                change_status(txn, item.id, user, StatusChange::Archive)?;
            }
        }
        // What they started buying and left unpaid: given up, so a payment
        // that lands anyway is refunded in full, never granted to this account.
        give_up_open_purchases_of_buyer(txn, user)?;
        delete_listed::<AuthSession>(txn, IndexName::SessionsByUser, &owner)?;
        delete_listed::<Favorite>(txn, IndexName::FavoritesByUser, &owner)?;
        delete_listed::<Favorite>(txn, IndexName::FavoritesByTarget, &owner)?;
        delete_listed::<AvailabilityRule>(txn, IndexName::RulesByUser, &owner)?;
        delete_listed::<AvailabilityException>(txn, IndexName::ExceptionsByUser, &owner)?;
        delete_listed::<UserInteraction>(txn, IndexName::InteractionsByUser, &owner)?;
        delete_listed::<UserInteraction>(txn, IndexName::InteractionsByTarget, &owner)?;
        delete_listed::<AiMatch>(txn, IndexName::MatchesByUser, &owner)?;
        delete_listed::<OAuthState>(txn, IndexName::OAuthStatesByUser, &owner)?;
        if txn.get::<CalendarConnection>(user)?.is_some() {
            tracing::warn!(user = %user, "a calendar connection is deleted unrevoked");
            txn.delete::<CalendarConnection>(user)?;
        }
        if txn.get::<BusyTimes>(user)?.is_some() {
            txn.delete::<BusyTimes>(user)?;
        }
        let email = tombstone_email(txn, user)?;
        let bookings: Vec<Booking> = txn.list_index(IndexName::BookingsByBooker, &owner)?;
        for mut booking in bookings {
            let reviewed =
                txn.lookup_unique(UniqueName::ReviewedBooking, &booking.id.to_be_bytes())?;
            if let Some(raw) = reviewed {
                let mut review: Review = txn.require(ReviewId::from_raw(raw))?;
                review.author_name = User::CLOSED_NAME.to_owned();
                txn.update(review)?;
            }
            booking.client_name = User::CLOSED_NAME.to_owned();
            booking.client_email = email.clone();
            booking.client_message = None;
            txn.update(booking)?;
        }
        let username = tombstone_username(txn, user)?;
        let referral_code = fresh_referral_code(txn)?;
        // Read again: what ran above may have moved the row (its balances).
        let mut row: User = txn.require(user)?;
        anonymise(&mut row, email, username, referral_code, now);
        txn.update(row)?;
        Ok(())
    })
}

/// `user`'s bookings, as client and as provider, that start after now and
/// still hold their time (awaiting payment or confirmed), read as key
/// ranges from now on.
pub(crate) fn future_bookings(txn: &Txn<'_>, user: UserId) -> Result<Vec<Booking>> {
    let now = txn.now();
    let lower = KeyBuilder::new().u64(user.get()).time(now).build();
    // The next owner's first key.
    let upper = KeyBuilder::new().u64(user.get().saturating_add(1)).build();
    let mut ahead: Vec<Booking> = Vec::new();
    for index in [IndexName::BookingsByBooker, IndexName::BookingsByProvider] {
        for booking in txn.list_index_range::<Booking>(index, &lower, &upper)? {
            if booking.start_time > now
                && booking.status.blocks_slot()
                && !ahead.iter().any(|seen| seen.id == booking.id)
            {
                ahead.push(booking);
            }
        }
    }
    Ok(ahead)
}

/// Deletes the rows of `R` listed in `index` under `prefix`, inside `txn`;
/// a row listed twice (an interaction with oneself, under both of its
/// owners) goes once.
fn delete_listed<R: Record>(txn: &mut Txn<'_>, index: IndexName, prefix: &[u8]) -> Result<usize> {
    let rows: Vec<R> = txn.list_index(index, prefix)?;
    let mut deleted = 0;
    for row in rows {
        if txn.get::<R>(row.id())?.is_some() {
            txn.delete::<R>(row.id())?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Deletes the rows of `R` listed in `index` under `prefix`, at most
/// [`FORGET_BATCH`] a write, until none are left; how many went.
fn delete_in_batches<R: Record>(store: &Store, index: IndexName, prefix: &[u8]) -> Result<usize> {
    let mut deleted = 0;
    loop {
        let page = store.list_index::<R>(index, prefix, &PageRequest::first(FORGET_BATCH))?;
        if page.items.is_empty() {
            return Ok(deleted);
        }
        let ids: Vec<R::Id> = page.items.iter().map(|row| row.id()).collect();
        let gone = store.write(|txn| {
            let mut gone = 0;
            for id in &ids {
                if txn.get::<R>(*id)?.is_some() {
                    txn.delete::<R>(*id)?;
                    gone += 1;
                }
            }
            Ok(gone)
        })?;
        if gone == 0 {
            // Listed but gone already: nothing this loop can delete.
            return Ok(deleted);
        }
        deleted += gone;
    }
}

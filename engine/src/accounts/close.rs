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
//! replaced; and the user row anonymised: a tombstone address
//! (`closed-{id}@closed.invalid`) no password opens, which frees their
//! address for a new account, the name [`User::CLOSED_NAME`], a username
//! `closed_{id}`, a fresh referral code, and every profile field cleared,
//! so they are no longer an expert, found, listed or booked. The id, the
//! currency, the balances and the Stripe account stay with the money
//! records. Last, once nothing can sign them in again, they leave the open
//! drop-ins they joined ([`leave_open_dropins`]), so their passes open
//! nothing.

use std::collections::BTreeSet;
use std::net::IpAddr;

use droply_models::{
    AiMatch, AvailabilityException, AvailabilityRule, Booking, BookingId, BookingStatus, Content,
    ContentStatus, DropinParticipant, DropinSession, Email, Favorite, Money, Payout, PayoutStatus,
    ReferralCode, Timestamp, User, UserId, UserInteraction, Username,
};

use super::auth_session::AuthSession;
use super::hashing_permits::HashingPermits;
use super::login_throttle::LoginThrottle;
use super::password::verify_password;
use crate::calendar::{BusyTimes, CalendarConnection, OAuthState};
use crate::codes::random_code;
use crate::content::{StatusChange, change_status};
use crate::payments::ledger::{LedgerEntry, LedgerKind, available_in};
use crate::payments::{Payment, PaymentFor, PaymentId, has_money_underway_besides, payment_of};
use crate::reviews::{Review, ReviewId};
use crate::store::{
    IndexName, KeyBuilder, MAX_PAGE_SIZE, PageRequest, Record, RecordId, Store, Txn, UniqueName,
};
use crate::{Error, Result};

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
    let row: User = store.require(user)?;
    let attempt = throttle.begin(client, &row.email.normalized())?;
    let checked = hashing
        .acquire()
        .map(|mut permit| verify_password(password, &row.password_hash, &mut permit));
    match checked {
        Ok(true) => {
            throttle.succeeded(attempt);
            Ok(())
        }
        // The attempt stays counted.
        Ok(false) => Err(Error::InvalidCredentials),
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
        check_nothing_underway(txn, user)?;
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
/// this closing cancelled) are out. What it erases and keeps is in the
/// module's docs. Their Google calendar is disconnected before, through its
/// own path; a connection left (Google not configured) is deleted here, its
/// tokens with it.
pub fn close(store: &Store, user: UserId, cancelled: &[BookingId]) -> Result<()> {
    store.write(|txn| {
        let row: User = txn.require(user)?;
        if !future_bookings(txn, user)?.is_empty() {
            return Err(Error::InvalidState(
                "a booking was made while the account was being closed; close it again to \
                 cancel it"
                    .to_owned(),
            ));
        }
        check_nothing_underway(txn, user)?;
        check_money_settled(txn, &row, cancelled)?;
        let now = txn.now();
        let owner = user.to_be_bytes();
        crate::dropins::end_dropins_of_host(txn, user)?;
        let content: Vec<Content> = txn.list_index(IndexName::ContentByCreator, &owner)?;
        for item in content {
            if item.status != ContentStatus::Archived {
                change_status(txn, item.id, user, StatusChange::Archive)?;
            }
        }
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

/// Lets `user` out of every open drop-in they joined (not as its host):
/// their participant rows leave, their seats free, and their passes open
/// nothing from then on. Run once they can no longer sign in or join (after
/// [`close`]); reads the open drop-ins page by page and writes only where
/// they are; how many they left.
pub fn leave_open_dropins(store: &Store, user: UserId) -> Result<usize> {
    let mut left = 0;
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let open = store.list_index::<DropinSession>(IndexName::OpenDropins, &[], &page)?;
        for session in &open.items {
            if session.host_id != user && is_member(store, session, user)? {
                left += store.write(|txn| leave(txn, session.id, user))?;
            }
        }
        match open.next {
            Some(cursor) => page = PageRequest::first(MAX_PAGE_SIZE).after(Some(cursor)),
            None => return Ok(left),
        }
    }
}

/// Whether `user` is an active participant of `session`, read page by page.
fn is_member(store: &Store, session: &DropinSession, user: UserId) -> Result<bool> {
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let got = store.list_index::<DropinParticipant>(
            IndexName::ParticipantsBySession,
            &session.id.to_be_bytes(),
            &page,
        )?;
        if got
            .items
            .iter()
            .any(|p| p.is_active && p.user_id == Some(user))
        {
            return Ok(true);
        }
        match got.next {
            Some(cursor) => page = PageRequest::first(MAX_PAGE_SIZE).after(Some(cursor)),
            None => return Ok(false),
        }
    }
}

/// `user`'s active participant rows of drop-in `id` leave now, and their
/// seats free; how many left.
fn leave(txn: &mut Txn<'_>, id: droply_models::DropinSessionId, user: UserId) -> Result<usize> {
    let mut session: DropinSession = txn.require(id)?;
    if !session.is_active || session.ended_at.is_some() {
        return Ok(0);
    }
    let now = txn.now();
    let participants: Vec<DropinParticipant> =
        txn.list_index(IndexName::ParticipantsBySession, &id.to_be_bytes())?;
    let mut left = 0_u32;
    for mut participant in participants {
        if !participant.is_active || participant.user_id != Some(user) {
            continue;
        }
        participant.is_active = false;
        participant.left_at = Some(now.max(participant.joined_at));
        txn.update(participant)?;
        left += 1;
    }
    if left > 0 {
        session.current_participants = session.current_participants.saturating_sub(left);
        txn.update(session)?;
    }
    Ok(usize::try_from(left).unwrap_or(usize::MAX))
}

/// `user`'s bookings, as client and as provider, that start after now and
/// still hold their time (awaiting payment or confirmed), read as key
/// ranges from now on.
fn future_bookings(txn: &Txn<'_>, user: UserId) -> Result<Vec<Booking>> {
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

/// `InvalidState` while money is on its way to or from `user` (a booking
/// awaiting its client's payment, a referral reward awaiting its hold, a
/// refund of a payment to them that Stripe has not settled), leaving out
/// the refunds of the bookings a closing of theirs cancelled
/// ([`refunded_by_closing`]): [`check_money_settled`] takes those off the
/// balance, so a closing stopped after its cancellations runs again.
fn check_nothing_underway(txn: &Txn<'_>, user: UserId) -> Result<()> {
    let underway = has_money_underway_besides(txn, user, |txn, payment| {
        refunded_by_closing(txn, user, payment)
    })?;
    if underway {
        return Err(Error::InvalidState(
            "money is still on its way to or from you (a booking awaiting its client's \
             payment, a referral reward awaiting its hold, or a refund Stripe has not \
             settled); close the account once it has arrived"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Whether `payment` is of a booking `user` gave that a closing of their
/// account cancelled (cancelled with [`CLOSING_REASON`]): that closing
/// refunded it in full, as a provider's cancellation is.
fn refunded_by_closing(txn: &Txn<'_>, user: UserId, payment: &Payment) -> Result<bool> {
    let PaymentFor::Booking(id) = payment.pays_for else {
        return Ok(false);
    };
    if payment.payee != user {
        return Ok(false);
    }
    let Some(booking) = txn.get::<Booking>(id)? else {
        return Ok(false);
    };
    Ok(booking.provider_id == user
        && booking.status == BookingStatus::Cancelled
        && booking.cancellation_reason.as_deref() == Some(CLOSING_REASON))
}

/// `InvalidState` unless `user`'s balance is zero once the refunds of
/// `refunded` are out: the bookings the closing cancels (or cancelled) as
/// their provider, whose payments it refunds in full, taking their earning
/// off the balance with the refund (however far Stripe has got with it);
/// so are those an earlier closing of theirs cancelled
/// ([`refunded_by_closing`]), should that one have stopped at its last
/// write. Whatever else is owed to them (available to pay out, or still held
/// after the sessions and sales it came from), owed by them (refunds after
/// a payout), or on its way (a payout reserved but not sent yet) would be
/// lost with the account.
fn check_money_settled(txn: &Txn<'_>, user: &User, refunded: &[BookingId]) -> Result<()> {
    let mut payments: BTreeSet<PaymentId> = BTreeSet::new();
    for booking in refunded {
        if let Some(payment) = payment_of(txn, *booking)?
            && payment.payee == user.id
        {
            payments.insert(payment.id);
        }
    }
    let currency = user.pending_balance.currency;
    let rows: Vec<LedgerEntry> = txn.list_index(IndexName::LedgerByUser, &user.id.to_be_bytes())?;
    let earned_from: BTreeSet<PaymentId> = rows
        .iter()
        .filter(|row| row.kind == LedgerKind::Earning)
        .filter_map(|row| row.payment_id)
        .collect();
    for id in earned_from {
        if !payments.contains(&id) {
            let payment: Payment = txn.require(id)?;
            if refunded_by_closing(txn, user.id, &payment)? {
                payments.insert(id);
            }
        }
    }
    let mut refunded_earnings = Money::zero(currency);
    for row in &rows {
        let of_refunded = row.payment_id.is_some_and(|id| payments.contains(&id));
        if of_refunded
            && row.amount.currency == currency
            && matches!(row.kind, LedgerKind::Earning | LedgerKind::EarningReversal)
        {
            refunded_earnings = refunded_earnings.checked_add(row.amount)?;
        }
    }
    let left = user.pending_balance.checked_sub(refunded_earnings)?;
    let available = available_in(txn, user, txn.now())?;
    if available.is_positive() {
        return Err(Error::InvalidState(format!(
            "pay out your balance of {available} first (POST /v1/payouts); an account is closed \
             only once nothing is owed to or by it"
        )));
    }
    if left.is_negative() {
        return Err(Error::InvalidState(format!(
            "your balance is {left}: refunds made after a payout are owed back from later \
             earnings; the account can be closed once this is settled"
        )));
    }
    if left.is_positive() {
        return Err(Error::InvalidState(format!(
            "{left} of your earnings is still held after the sessions and sales it came from; \
             the account can be closed once it has been paid out"
        )));
    }
    let payouts: Vec<Payout> = txn.list_index(IndexName::PayoutsByUser, &user.id.to_be_bytes())?;
    if let Some(payout) = payouts
        .iter()
        .find(|payout| payout.status == PayoutStatus::Pending)
    {
        return Err(Error::InvalidState(format!(
            "a payout of {} is still being sent to your Stripe account; close the account once \
             it is on its way",
            payout.amount
        )));
    }
    Ok(())
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

/// The tombstone address of closed account `user`: `closed-{id}@closed.invalid`,
/// or a random one in that domain when someone signed up with that one.
fn tombstone_email(txn: &Txn<'_>, user: UserId) -> Result<Email> {
    let mut local = format!("closed-{user}");
    for _ in 0..8 {
        let email = Email::parse(&format!("{local}@{}", User::CLOSED_EMAIL_DOMAIN))?;
        match txn.lookup_unique(UniqueName::Email, email.normalized().as_bytes())? {
            Some(holder) if holder != user.get() => {
                local = format!("closed-{}", random_code(12).to_lowercase());
            }
            _ => return Ok(email),
        }
    }
    Err(Error::Storage(
        "no free address for a closed account".to_owned(),
    ))
}

/// The username of closed account `user`: `closed_{id}`, or a random one
/// when someone signed up with that one.
fn tombstone_username(txn: &Txn<'_>, user: UserId) -> Result<Username> {
    let mut name = format!("closed_{user}");
    for _ in 0..8 {
        let username = Username::parse(&name)?;
        match txn.lookup_unique(
            UniqueName::Username,
            username.as_str().to_lowercase().as_bytes(),
        )? {
            Some(holder) if holder != user.get() => {
                name = format!("closed_{}", random_code(12).to_lowercase());
            }
            _ => return Ok(username),
        }
    }
    Err(Error::Storage(
        "no free username for a closed account".to_owned(),
    ))
}

/// A referral code nobody holds, so the closed account's old links no
/// longer name anyone as a referrer.
fn fresh_referral_code(txn: &Txn<'_>) -> Result<ReferralCode> {
    for _ in 0..8 {
        let code = ReferralCode::parse(&random_code(CODE_LEN))?;
        if txn
            .lookup_unique(UniqueName::ReferralCode, code.as_str().as_bytes())?
            .is_none()
        {
            return Ok(code);
        }
    }
    Err(Error::Storage("no free referral code".to_owned()))
}

/// Erases `user`'s personal data: every field is named, so a field added to
/// `User` must be decided here. The tombstone address, username and
/// referral code replace theirs; the profile, links, skills, pricing,
/// Google fields and preferences that say anything about them are
/// cleared. Kept: the id, the branding (the platform's defaults or colours,
/// about no one), the currency, balances and Stripe account (the money
/// records need them), the rating others gave, the referral bookkeeping,
/// the language and zone, and the dates.
fn anonymise(
    user: &mut User,
    tombstone: Email,
    handle: Username,
    code: ReferralCode,
    now: Timestamp,
) {
    let User {
        id: _,
        username,
        email,
        password_hash,
        full_name,
        phone,
        bio,
        industry,
        profession,
        location,
        skills,
        skills_1,
        skills_2,
        skills_3,
        specialty_tags,
        profile_picture,
        background_color: _,
        primary_color: _,
        secondary_color: _,
        font_family: _,
        font_size: _,
        profile_layout: _,
        hourly_rate,
        currency: _,
        rating: _,
        is_available,
        is_featured_user,
        stripe_account_id: _,
        stripe_account_status: _,
        payout_enabled: _,
        payout_schedule: _,
        total_earnings: _,
        total_payouts: _,
        pending_balance: _,
        linkedin_url,
        twitter_url,
        github_url,
        instagram_url,
        facebook_url,
        youtube_url,
        snapchat_url,
        website_url,
        service_description,
        session_duration: _,
        content_description,
        content_categories,
        google_calendar_connected,
        google_calendar_token,
        google_calendar_refresh_token,
        google_calendar_id,
        referral_code,
        referred_by: _,
        total_referral_earnings: _,
        referral_count: _,
        language: _,
        timezone: _,
        email_notifications,
        created_at,
        updated_at,
    } = user;
    *username = handle;
    *email = tombstone;
    *password_hash = CLOSED_PASSWORD_HASH.to_owned();
    *full_name = User::CLOSED_NAME.to_owned();
    *phone = None;
    for text in [
        bio,
        industry,
        profession,
        location,
        skills,
        service_description,
        content_description,
    ] {
        text.clear();
    }
    for skill in [skills_1, skills_2, skills_3] {
        *skill = None;
    }
    specialty_tags.clear();
    for link in [
        profile_picture,
        linkedin_url,
        twitter_url,
        github_url,
        instagram_url,
        facebook_url,
        youtube_url,
        snapchat_url,
        website_url,
    ] {
        *link = None;
    }
    *hourly_rate = None;
    *is_available = false;
    *is_featured_user = false;
    content_categories.clear();
    *google_calendar_connected = false;
    *google_calendar_token = None;
    *google_calendar_refresh_token = None;
    *google_calendar_id = None;
    *referral_code = code;
    *email_notifications = false;
    *updated_at = now.max(*created_at);
}

#[cfg(test)]
mod tests {
    use droply_models::{FavoriteId, InteractionType, PaymentStatus, PhoneNumber};

    use super::*;
    use crate::accounts::auth_session::{AuthSessionId, token_hash};
    use crate::test_rows::{booking, user};

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("instant")
    }

    #[test]
    fn anonymising_leaves_no_personal_field_and_a_valid_row() {
        let mut row = user("anna", "Tax Advisor");
        row.id = UserId::new(7);
        row.bio = "Twenty years of VAT returns in Berlin.".to_owned();
        row.phone = Some(PhoneNumber::parse("+4915112345678").expect("phone"));
        row.skills_1 = Some("VAT".to_owned());
        row.specialty_tags = vec!["freelancers".to_owned()];
        row.hourly_rate = Some(Money::new(9_000, row.currency));
        row.google_calendar_id = Some("primary".to_owned());
        let before = row.clone();
        let now = row.created_at.plus_days(1);
        anonymise(
            &mut row,
            Email::parse("closed-7@closed.invalid").expect("email"),
            Username::parse("closed_7").expect("username"),
            ReferralCode::parse("NEWCODE234").expect("code"),
            now,
        );
        assert!(row.is_closed());
        assert_eq!(row.public_name(), User::CLOSED_NAME);
        assert!(!row.is_expert() && !row.is_bookable());
        assert_eq!(row.username.as_str(), "closed_7");
        assert_eq!(row.phone, None);
        assert!(row.bio.is_empty() && row.specialty_tags.is_empty());
        assert_eq!((row.skills_1.as_deref(), row.hourly_rate), (None, None));
        assert_eq!(row.google_calendar_id, None);
        assert_ne!(row.password_hash, before.password_hash);
        assert_eq!((row.id, row.currency), (before.id, before.currency));
        assert_eq!(row.pending_balance, before.pending_balance);
        assert_eq!(row.updated_at, now);
        assert_eq!(row.validate(), Ok(()));
    }

    #[test]
    fn closing_erases_the_user_frees_their_address_and_keeps_their_bookings() {
        let store = Store::open_temporary().expect("store");
        let now = Timestamp::now();
        let (ann, ed, squatter, past) = store
            .write(|txn| {
                let ann = txn.create(user("ann", ""))?;
                let ed = txn.create(user("eddie", "Tax Advisor"))?;
                // Someone signed up with the tombstone ann's closing would take.
                let mut squatter = user("sam", "");
                squatter.email = Email::parse(&format!("closed-{}@closed.invalid", ann.id))?;
                squatter.username = Username::parse(&format!("closed_{}", ann.id))?;
                let squatter = txn.create(squatter)?;
                let mut past = booking(ann.id, ed.id);
                past.start_time = at("2026-01-05T09:00:00Z");
                past.end_time = past.start_time.plus_minutes(60);
                past.created_at = at("2026-01-01T00:00:00Z");
                past.status = BookingStatus::Completed;
                past.client_name = ann.full_name.clone();
                past.client_email = ann.email.clone();
                past.client_message = Some("Call me on my mobile.".to_owned());
                let past = txn.create(past)?;
                txn.create(Favorite {
                    id: FavoriteId::new(0),
                    user_id: ann.id,
                    favorited_user_id: ed.id,
                    created_at: now,
                })?;
                txn.create(UserInteraction::new(
                    ann.id,
                    ed.id,
                    InteractionType::View,
                    now,
                ))?;
                txn.create(UserInteraction::new(
                    ann.id,
                    ann.id,
                    InteractionType::View,
                    now,
                ))?;
                txn.create(AuthSession {
                    id: AuthSessionId::new(0),
                    user_id: ann.id,
                    token_hash: token_hash("ann's token"),
                    created_at: now,
                    expires_at: now.plus_days(30),
                })?;
                Ok((ann, ed, squatter, past))
            })
            .expect("rows");

        let ahead = bookings_to_cancel(&store, ann.id).expect("closable");
        assert!(ahead.is_empty(), "{ahead:?}");
        close(&store, ann.id, &[]).expect("closed");

        let closed: User = store.require(ann.id).expect("kept");
        assert!(closed.is_closed());
        assert_eq!(closed.full_name, User::CLOSED_NAME);
        assert_ne!(
            closed.email, squatter.email,
            "a squatted tombstone is not taken"
        );
        assert_ne!(closed.username, squatter.username);
        assert!(closed.username.as_str().starts_with("closed_"));
        assert_ne!(closed.referral_code, ann.referral_code);
        let old = Email::parse("ann@example.com").expect("email");
        assert_eq!(store.users().by_email(&old).expect("read"), None);
        let kept: Booking = store.require(past.id).expect("the booking stays");
        assert_eq!(kept.status, BookingStatus::Completed);
        assert_eq!((kept.user_id, kept.provider_id), (ann.id, ed.id));
        assert_eq!(kept.client_name, User::CLOSED_NAME);
        assert_eq!(kept.client_email, closed.email);
        assert_eq!(kept.client_message, None);
        assert_eq!(store.count::<Favorite>(), 0);
        assert_eq!(store.count::<UserInteraction>(), 0);
        assert_eq!(store.count::<AuthSession>(), 0);
        assert!(store.require::<User>(ed.id).expect("ed").is_expert());
        let report = store.verify_integrity().expect("verify");
        assert!(report.is_consistent(), "{:?}", report.problems);
    }

    /// `eddie`, an expert, and a paid session of his, cancelled with
    /// `reason`, whose full refund Stripe has not settled (still requested).
    fn a_paid_session_cancelled_for(store: &Store, reason: &str) -> UserId {
        store
            .write(|txn| {
                let ed = txn.create(user("eddie", "Tax Advisor"))?;
                let bob = txn.create(user("bob", ""))?;
                let mut cancelled = booking(bob.id, ed.id);
                cancelled.start_time = txn.now().plus_days(30);
                cancelled.end_time = cancelled.start_time.plus_minutes(60);
                cancelled.status = BookingStatus::Cancelled;
                cancelled.cancellation_reason = Some(reason.to_owned());
                let cancelled = txn.create(cancelled)?;
                let terms = crate::payments::ChargeTerms {
                    payments_on: true,
                    platform_fee_bps: 1_500,
                    earnings_hold_days: 7,
                };
                let mut payment = Payment::for_booking(&cancelled, &terms)?;
                payment.status = PaymentStatus::Succeeded;
                let mut payment = crate::payments::create_payment(txn, payment)?;
                crate::payments::ledger::record_charge(txn, &payment)?;
                let amount = payment.amount;
                payment.push_refund(amount, "cancelled by the expert", txn.now());
                txn.update(payment)?;
                Ok(ed.id)
            })
            .expect("rows")
    }

    /// Regression: a closing refused at its last write after cancelling a
    /// paid session was refused again until Stripe settled the refund that
    /// closing had asked for itself.
    #[test]
    fn a_closing_stopped_after_its_cancellations_runs_again_before_their_refunds_settle() {
        let store = Store::open_temporary().expect("store");
        let ed = a_paid_session_cancelled_for(&store, CLOSING_REASON);
        let underway = store
            .write(|txn| crate::payments::has_money_underway(txn, ed))
            .expect("read");
        assert!(underway, "the refund is underway for every other caller");
        let ahead = bookings_to_cancel(&store, ed).expect("closable again");
        assert!(ahead.is_empty(), "{ahead:?}");
        close(&store, ed, &[]).expect("closed");
        assert!(store.require::<User>(ed).expect("ed").is_closed());
    }

    #[test]
    fn a_refund_of_another_cancellation_still_holds_the_closing() {
        let store = Store::open_temporary().expect("store");
        let ed = a_paid_session_cancelled_for(&store, "I am ill");
        let refused = bookings_to_cancel(&store, ed).expect_err("a refund on its way");
        assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
        let refused = close(&store, ed, &[]).expect_err("checked again");
        assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
        assert!(!store.require::<User>(ed).expect("ed").is_closed());
    }

    #[test]
    fn an_available_balance_is_paid_out_before_closing() {
        let store = Store::open_temporary().expect("store");
        let ed = store
            .write(|txn| {
                let ed = txn.create(user("eddie", "Tax Advisor"))?;
                crate::payments::ledger::record_opening_balance(
                    txn,
                    ed.id,
                    Money::new(5_000, ed.currency),
                    Timestamp::now(),
                )?;
                Ok(ed)
            })
            .expect("rows");
        let refused = bookings_to_cancel(&store, ed.id).expect_err("money is owed to ed");
        assert!(
            matches!(&refused, Error::InvalidState(message) if message.contains("EUR 50.00")),
            "{refused}"
        );
        let refused = close(&store, ed.id, &[]).expect_err("checked again");
        assert!(matches!(refused, Error::InvalidState(_)), "{refused}");
        let row: User = store.require(ed.id).expect("ed");
        assert!(!row.is_closed() && row.is_expert(), "nothing changed");
    }
}

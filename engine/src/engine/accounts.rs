//! The engine's account use cases: signing up, in and out, recognising a
//! token, one's own profile, public expert profiles, favorites,
//! interactions, one's referrals, changing one's password, and closing
//! one's account. Each delegates to the domain module that holds its rules
//! ([`crate::accounts`]); the engine adds the shared state (the sign-in
//! throttle, the password-hashing permits, the store's secret key that
//! socket tickets are keyed under) so callers pass none. Closing an account
//! also runs the bookings' cancellation and the calendar's disconnect, each
//! through its own use case.

use std::net::IpAddr;

use droply_models::{
    Favorite, InteractionType, Referral, ReferralReward, Timestamp, User, UserId, UserInteraction,
    Username,
};

use super::Engine;
use crate::accounts::{self, IssuedToken, ProfileUpdate, Registration, close};
use crate::booking::BookingAction;
use crate::calendar::CalendarConnection;
use crate::{Error, Page, PageRequest, Result};

impl Engine {
    /// Signs up a new user and signs them in. [`Error::Overloaded`] when
    /// every password-hashing permit stays taken for the configured wait.
    pub fn register(&self, registration: &Registration) -> Result<(User, IssuedToken)> {
        accounts::register(self.store(), &self.inner.password_hashing, registration)
    }

    /// Checks an email and password sent from `client` (its address, when
    /// known) and issues a token. Each attempt counts against the (client,
    /// email) pair in the engine's sign-in throttle before the password is
    /// checked; [`Error::Overloaded`] when no password-hashing permit came
    /// free in time.
    pub fn login(
        &self,
        client: Option<IpAddr>,
        email: &str,
        password: &str,
    ) -> Result<IssuedToken> {
        accounts::login(
            self.store(),
            &self.inner.login_throttle,
            &self.inner.password_hashing,
            client,
            email,
            password,
        )
    }

    /// Password hashes (sign-up, sign-in) running now.
    pub fn password_hashes_running(&self) -> usize {
        let permits = &self.inner.password_hashing;
        permits.limits().permits.saturating_sub(permits.available())
    }

    /// How many (client, email) pairs the sign-in throttle remembers now.
    pub fn login_throttle_tracked(&self) -> usize {
        self.inner.login_throttle.tracked()
    }

    /// Ends the session of `token`.
    pub fn logout(&self, token: &str) -> Result<()> {
        accounts::logout(self.store(), token)
    }

    /// Ends every session of `user` (signing out everywhere), in one write;
    /// how many ended.
    pub fn logout_all(&self, user: UserId) -> Result<usize> {
        accounts::logout_all(self.store(), user)
    }

    /// Changes `user`'s password, asked from `client` (its address, when
    /// known) with the sign-in `token`: `current` is checked as a sign-in's
    /// password is (counted by the sign-in throttle; `InvalidCredentials`
    /// when wrong, `TooManyAttempts` after repeated failures), `new` must
    /// pass the sign-up rule and differ from `current`. The new hash and the
    /// end of every other session of `user` land in one write; the session
    /// of `token` stays, so the caller stays signed in. How many sessions
    /// ended.
    pub fn change_password(
        &self,
        user: UserId,
        client: Option<IpAddr>,
        token: &str,
        current: &str,
        new: &str,
    ) -> Result<usize> {
        accounts::change_password(
            self.store(),
            &self.inner.login_throttle,
            &self.inner.password_hashing,
            client,
            user,
            accounts::PasswordChange {
                current,
                new,
                keep_token: token,
            },
        )
    }

    /// Closes `user`'s account for good (the right to erasure), once their
    /// `password`, sent from `client`, is checked as a sign-in's is
    /// (counted by the sign-in throttle; `InvalidCredentials` when wrong).
    /// `InvalidState`, with nothing changed, while money owed to or by them
    /// would be lost: a balance not paid out, earnings still held, money
    /// owed back, a payout not sent yet, a payment or refund on its way
    /// (not the refunds of the bookings a closing of theirs cancelled: those
    /// of this run known by the ids collected as it cancels them, those of
    /// an earlier run by the full refund their own cancellation as the
    /// expert asked for, never by the reason's words alone, which the other
    /// side may type). An
    /// `InvalidState` from the last write (a booking made meanwhile) leaves
    /// the bookings already cancelled cancelled; closing again finishes.
    /// Then, in steps each safe to repeat (the account stays open until the
    /// last): their bookings that have not started are cancelled as either
    /// side cancels one, refunded by the same rules (in full as the
    /// expert, by the refund policy as the client); their Google calendar is
    /// disconnected (the grant revoked after that write, or queued for the
    /// sync, which first deletes with it the events of the sessions just
    /// cancelled; without Google configured the last write only deletes the
    /// connection, with a warning); what they did on the platform is forgotten; and one write
    /// closes the account (`accounts::close`): sessions, favorites both
    /// ways, availability and consents deleted, open drop-ins ended,
    /// content archived (buyers keep it), the bookings' snapshots of them
    /// and their reviews' names replaced, their drop-in rows let out of
    /// open rooms, detached from the account and named "Closed account"
    /// (their messages' text stays, the room's history), the user row
    /// anonymised (a tombstone address that frees theirs, no password, no
    /// profile). Last, a drop-in row of theirs made meanwhile is scrubbed
    /// the same way.
    pub fn close_account(
        &self,
        user: UserId,
        client: Option<IpAddr>,
        password: &str,
    ) -> Result<()> {
        let store = self.store();
        close::confirm_password(
            store,
            &self.inner.login_throttle,
            &self.inner.password_hashing,
            client,
            user,
            password,
        )?;
        let mut cancelled = Vec::new();
        for id in close::bookings_to_cancel(store, user)? {
            let reason = Some(close::CLOSING_REASON.to_owned());
            match self.move_booking(id, user, BookingAction::Cancel, reason) {
                Ok((_, true)) => cancelled.push(id),
                // Cancelled meanwhile (answered as a repeat, nothing done),
                // or moved on: the closing write checks again.
                Ok((_, false)) | Err(Error::InvalidState(_)) => {}
                Err(err) => return Err(err),
            }
        }
        let connected = store.get::<CalendarConnection>(user)?.is_some();
        if connected && self.inner.calendar.is_on() {
            match self.inner.calendar.close_connection(store, user) {
                // Disconnected meanwhile.
                Ok(()) | Err(Error::NotFound { .. }) => {}
                Err(err) => return Err(err),
            }
        }
        close::forget_activity(store, user)?;
        close::close(store, user, &cancelled)?;
        // Nothing signs them in any more; a seat left is only held until it lapses.
        if let Err(err) = close::leave_open_dropins(store, user) {
            tracing::warn!(user = %user, %err, "a closed account is left in a drop-in");
        }
        tracing::info!(user = %user, "account closed");
        Ok(())
    }

    /// The user a bearer token belongs to; `Unauthorized` when unknown or expired.
    pub fn authenticate(&self, token: &str) -> Result<UserId> {
        accounts::authenticate(self.store(), token)
    }

    /// [`Engine::authenticate`] for a token that may simply be stale (a
    /// browser's session cookie): `None` when it signs nobody in.
    pub fn signed_in(&self, token: &str) -> Result<Option<UserId>> {
        match self.authenticate(token) {
            Ok(user) => Ok(Some(user)),
            Err(crate::Error::Unauthorized) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The signed-in user's own account.
    pub fn account(&self, user: UserId) -> Result<User> {
        self.store().users().get(user)
    }

    /// Changes the signed-in user's own profile through the allowlist.
    pub fn update_profile(&self, user: UserId, update: ProfileUpdate) -> Result<User> {
        accounts::update_profile(self.store(), user, update)
    }

    /// The expert `id`; `NotFound` (as an expert) for a missing user or one
    /// who offers no sessions.
    pub fn expert(&self, id: UserId) -> Result<User> {
        self.store()
            .users()
            .find(id)?
            .filter(User::is_expert)
            .ok_or(Error::NotFound {
                entity: "expert",
                id: id.get(),
            })
    }

    /// The expert with `username` (case-insensitive); `NotFound` for an
    /// unknown username or a user who offers no sessions.
    pub fn expert_by_username(&self, username: &Username) -> Result<User> {
        self.store()
            .users()
            .by_username(username)?
            .filter(User::is_expert)
            .ok_or(Error::NotFound {
                entity: "expert",
                id: 0,
            })
    }

    /// One page of experts in id order; every page but the last is full.
    pub fn list_experts(&self, page: &PageRequest) -> Result<Page<User>> {
        self.store().users().experts(page)
    }

    /// `user` saves `expert`.
    pub fn add_favorite(&self, user: UserId, expert: UserId) -> Result<Favorite> {
        accounts::add_favorite(self.store(), user, expert)
    }

    /// `user` forgets `expert`.
    pub fn remove_favorite(&self, user: UserId, expert: UserId) -> Result<Favorite> {
        accounts::remove_favorite(self.store(), user, expert)
    }

    /// One page of the experts `user` saved, oldest first.
    pub fn favorite_experts(&self, user: UserId, page: &PageRequest) -> Result<Page<User>> {
        accounts::favorite_experts(self.store(), user, page)
    }

    /// Records that `user` did `kind` to `target`, for the kinds a client
    /// may record itself; `false` when the same was already recorded today
    /// and that row is returned.
    pub fn record_interaction(
        &self,
        user: UserId,
        target: UserId,
        kind: InteractionType,
    ) -> Result<(UserInteraction, bool)> {
        accounts::record_interaction(self.store(), user, target, kind)
    }

    /// Deletes sign-in sessions that expired before now; how many went.
    pub fn sweep_expired_sessions(&self) -> Result<usize> {
        accounts::sweep_expired_sessions(self.store(), Timestamp::now())
    }

    /// A socket ticket for `target`, good for [`accounts::SOCKET_TICKET_SECS`],
    /// to the caller signed in with the sign-in `token`; `Unauthorized` when
    /// it signs nobody in.
    pub fn issue_socket_ticket(
        &self,
        token: &str,
        target: accounts::SocketTarget,
    ) -> Result<accounts::SocketTicket> {
        accounts::issue_socket_ticket(
            self.store(),
            &self.inner.socket_tickets,
            token,
            target,
            Timestamp::now(),
        )
    }

    /// The user a socket `ticket` proves for `target` now; `Unauthorized`
    /// when it is for another socket, tampered with, expired, or its
    /// session ended. What the user may open is the caller's to check.
    pub fn redeem_socket_ticket(
        &self,
        ticket: &str,
        target: accounts::SocketTarget,
    ) -> Result<UserId> {
        accounts::redeem_socket_ticket(
            self.store(),
            &self.inner.socket_tickets,
            ticket,
            target,
            Timestamp::now(),
        )
    }

    /// Whether a socket admitted at `at` with `ticket` still stands: the
    /// ticket as it was then (its short expiry is not held against a long
    /// call), and its sign-in session live now (signed out, closed or
    /// expired since: `Unauthorized`).
    pub fn redeem_socket_ticket_at(
        &self,
        ticket: &str,
        target: accounts::SocketTarget,
        at: Timestamp,
    ) -> Result<UserId> {
        accounts::socket_ticket_still_stands(
            self.store(),
            &self.inner.socket_tickets,
            ticket,
            target,
            at,
            Timestamp::now(),
        )
    }

    /// `user`'s referral rewards: the newest [`LATEST_REWARDS`], each with
    /// the referred user's public name, and the sums of all of them by
    /// status and currency (read page by page, however many there are).
    pub fn referral_rewards_of(&self, user: UserId) -> Result<RewardsSummary> {
        let mut latest = Vec::new();
        let mut totals: Vec<(&'static str, droply_models::Money)> = Vec::new();
        let mut page = PageRequest::first(crate::store::MAX_PAGE_SIZE).desc();
        loop {
            let got = self.store().referral_rewards().by_referrer(user, &page)?;
            for reward in got.items {
                let (status, amount) = (reward.status.as_str(), reward.reward_amount);
                match totals
                    .iter_mut()
                    .find(|(s, sum)| *s == status && sum.currency == amount.currency)
                {
                    Some((_, sum)) => *sum = sum.checked_add(amount)?,
                    None => totals.push((status, amount)),
                }
                if latest.len() < LATEST_REWARDS {
                    let referred: User = self.store().users().get(reward.referred_user_id)?;
                    latest.push((reward, referred.public_name()));
                }
            }
            match got.next {
                Some(cursor) => {
                    page = PageRequest::first(crate::store::MAX_PAGE_SIZE)
                        .desc()
                        .after(Some(cursor));
                }
                None => break,
            }
        }
        totals.sort_by(|a, b| (a.0, a.1.currency.as_str()).cmp(&(b.0, b.1.currency.as_str())));
        Ok(RewardsSummary { latest, totals })
    }

    /// The referrals `user` made, oldest first, each with the referred
    /// user's public name ("Carl P.").
    pub fn referrals_of(
        &self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<(Referral, String)>> {
        let referrals = self.store().referrals().by_referrer(user, page)?;
        let mut items = Vec::with_capacity(referrals.items.len());
        for referral in referrals.items {
            let referred: User = self.store().users().get(referral.referred_user_id)?;
            items.push((referral, referred.public_name()));
        }
        Ok(Page {
            items,
            next: referrals.next,
        })
    }
}

/// How many of a referrer's newest rewards [`Engine::referral_rewards_of`] lists.
pub const LATEST_REWARDS: usize = 100;

/// A referrer's rewards, as [`Engine::referral_rewards_of`] answers.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardsSummary {
    /// The newest [`LATEST_REWARDS`], newest first, each with the referred
    /// user's public name.
    pub latest: Vec<(ReferralReward, String)>,
    /// The sums of all of them by status name and currency, in that order.
    pub totals: Vec<(&'static str, droply_models::Money)>,
}

//! An expert editing their own availability (weekly rules and exceptions),
//! and the slots anyone may see. Another user's rule or exception is
//! `NotFound`, exactly as if it did not exist.

use droply_models::{
    AvailabilityException, AvailabilityExceptionId, AvailabilityRule, AvailabilityRuleId, Booking,
    LocalTime, Timestamp, User, UserId, Weekday,
};

use super::slot_finder::slot_span;
use super::{
    ExpertCalendar, Interval, MAX_BOOKING_MINUTES, Slot, SlotPolicy, SlotQuery, find_slots,
};
use crate::booking::{BookingRole, bookings_starting_within};
use crate::store::{IndexName, MAX_PAGE_SIZE, PageRequest, Record, Store, Txn};
use crate::{Error, Result};

/// A new weekly rule, in the owner's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRule {
    /// Day of the week.
    pub weekday: Weekday,
    /// Local start.
    pub start: LocalTime,
    /// Local end (after start; `24:00` allowed).
    pub end: LocalTime,
}

/// Changes to a rule; `None` keeps a field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RulePatch {
    /// New day of the week.
    pub weekday: Option<Weekday>,
    /// New local start.
    pub start: Option<LocalTime>,
    /// New local end.
    pub end: Option<LocalTime>,
    /// Switch the rule on or off.
    pub is_active: Option<bool>,
}

/// A new exception: blocked or extra open time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewException {
    /// Start of the range.
    pub start: Timestamp,
    /// End of the range.
    pub end: Timestamp,
    /// Blocks the range when true, opens it when false.
    pub is_blocked: bool,
    /// Why.
    pub reason: Option<String>,
}

/// Changes to an exception; `None` keeps a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionPatch {
    /// New start.
    pub start: Option<Timestamp>,
    /// New end.
    pub end: Option<Timestamp>,
    /// New blocked flag.
    pub is_blocked: Option<bool>,
    /// New reason (`Some(None)` clears it).
    pub reason: Option<Option<String>>,
}

fn not_found(entity: &'static str, id: u64) -> Error {
    Error::NotFound { entity, id }
}

/// Every row of `owner` in `index`, page by page.
fn all_of<R: Record>(store: &Store, index: IndexName, owner: UserId) -> Result<Vec<R>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_index::<R>(
            index,
            &owner.to_be_bytes(),
            &PageRequest::first(MAX_PAGE_SIZE).after(cursor),
        )?;
        out.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// The most weekly rules one expert may have.
pub const MAX_RULES: usize = 50;
/// The most exceptions one expert may have.
pub const MAX_EXCEPTIONS: usize = 500;

/// How far ahead an exception may start, in days.
pub const EXCEPTION_DAYS_AHEAD: i64 = 2 * 366;

/// An exception over `[start, end)` written at `now` must still be to come
/// in part (end after `now`) and start within [`EXCEPTION_DAYS_AHEAD`].
fn check_exception_window(start: Timestamp, end: Timestamp, now: Timestamp) -> Result<()> {
    if end <= now {
        return Err(droply_models::Error::invalid("end", "must be in the future").into());
    }
    if start > now.plus_days(EXCEPTION_DAYS_AHEAD) {
        return Err(droply_models::Error::invalid(
            "start",
            format!("must be within {EXCEPTION_DAYS_AHEAD} days from now"),
        )
        .into());
    }
    Ok(())
}

/// Deletes `owner`'s exceptions that ended over a day ago: they shape no
/// slot any more, and would hold places under [`MAX_EXCEPTIONS`] for good.
fn forget_past_exceptions(txn: &mut Txn<'_>, owner: UserId, now: Timestamp) -> Result<()> {
    let held: Vec<AvailabilityException> =
        txn.list_index(IndexName::ExceptionsByUser, &owner.to_be_bytes())?;
    for old in held.into_iter().filter(|x| x.end < now.plus_days(-1)) {
        txn.delete::<AvailabilityException>(old.id)?;
    }
    Ok(())
}

/// `LimitReached` when `owner` already has `max` rows in `index`.
fn check_room(
    txn: &Txn<'_>,
    index: IndexName,
    owner: UserId,
    max: usize,
    what: &str,
) -> Result<()> {
    let held = txn.count_index(index, &owner.to_be_bytes())?;
    if held >= max {
        return Err(Error::LimitReached(format!(
            "at most {max} {what} per expert; delete one first"
        )));
    }
    Ok(())
}

/// Adds a weekly rule for `owner` (at most [`MAX_RULES`]). When `owner`
/// already has an active rule of the same weekday, start and end (a client
/// resending after a lost answer), that rule is returned and nothing is
/// written: a twin would keep the hours bookable after the expert switched
/// off or deleted "the" rule. The flag is true when this call created the
/// rule.
pub fn add_rule(store: &Store, owner: UserId, new: NewRule) -> Result<(AvailabilityRule, bool)> {
    store.write(|txn| {
        txn.require::<User>(owner)?;
        // The zone is the owner's, the same for all their rules; a new rule
        // is active, so only an active one is the same rule.
        let held: Vec<AvailabilityRule> =
            txn.list_index(IndexName::RulesByUser, &owner.to_be_bytes())?;
        if let Some(twin) = held.into_iter().find(|rule| {
            rule.is_active
                && rule.weekday == new.weekday
                && rule.start == new.start
                && rule.end == new.end
        }) {
            return Ok((twin, false));
        }
        check_room(
            txn,
            IndexName::RulesByUser,
            owner,
            MAX_RULES,
            "availability rules",
        )?;
        let now = txn.now();
        let rule = txn.create(AvailabilityRule {
            id: AvailabilityRuleId::new(0),
            user_id: owner,
            weekday: new.weekday,
            start: new.start,
            end: new.end,
            is_active: true,
            created_at: now,
            updated_at: now,
        })?;
        Ok((rule, true))
    })
}

/// The weekly rules of `owner`, by weekday and start.
pub fn list_rules(store: &Store, owner: UserId) -> Result<Vec<AvailabilityRule>> {
    all_of(store, IndexName::RulesByUser, owner)
}

/// Changes `owner`'s rule `id`.
pub fn update_rule(
    store: &Store,
    owner: UserId,
    id: AvailabilityRuleId,
    patch: RulePatch,
) -> Result<AvailabilityRule> {
    store.write(|txn| {
        let mut rule: AvailabilityRule = txn
            .get(id)?
            .filter(|r: &AvailabilityRule| r.user_id == owner)
            .ok_or_else(|| not_found("availability_rule", id.get()))?;
        if let Some(weekday) = patch.weekday {
            rule.weekday = weekday;
        }
        if let Some(start) = patch.start {
            rule.start = start;
        }
        if let Some(end) = patch.end {
            rule.end = end;
        }
        if let Some(active) = patch.is_active {
            rule.is_active = active;
        }
        rule.updated_at = txn.now();
        txn.update(rule)
    })
}

/// Deletes `owner`'s rule `id`.
pub fn delete_rule(store: &Store, owner: UserId, id: AvailabilityRuleId) -> Result<()> {
    store.write(|txn| {
        txn.get::<AvailabilityRule>(id)?
            .filter(|r| r.user_id == owner)
            .ok_or_else(|| not_found("availability_rule", id.get()))?;
        txn.delete::<AvailabilityRule>(id).map(drop)
    })
}

/// Adds an exception for `owner` (at most [`MAX_EXCEPTIONS`], those past
/// forgotten first; it must end in the future and start within
/// [`EXCEPTION_DAYS_AHEAD`]). When `owner` already has an exception of the
/// same start, end, blocked flag and reason (a client resending after a
/// lost answer), that one is returned and nothing is written: a blocked
/// twin would keep the time blocked after the expert deleted "the"
/// exception. The flag is true when this call created the exception.
pub fn add_exception(
    store: &Store,
    owner: UserId,
    new: NewException,
) -> Result<(AvailabilityException, bool)> {
    store.write(|txn| {
        txn.require::<User>(owner)?;
        let now = txn.now();
        check_exception_window(new.start, new.end, now)?;
        forget_past_exceptions(txn, owner, now)?;
        let held: Vec<AvailabilityException> =
            txn.list_index(IndexName::ExceptionsByUser, &owner.to_be_bytes())?;
        if let Some(twin) = held.into_iter().find(|x| {
            x.start == new.start
                && x.end == new.end
                && x.is_blocked == new.is_blocked
                && x.reason == new.reason
        }) {
            return Ok((twin, false));
        }
        check_room(
            txn,
            IndexName::ExceptionsByUser,
            owner,
            MAX_EXCEPTIONS,
            "availability exceptions",
        )?;
        let exception = txn.create(AvailabilityException {
            id: AvailabilityExceptionId::new(0),
            user_id: owner,
            start: new.start,
            end: new.end,
            reason: new.reason,
            is_blocked: new.is_blocked,
            created_at: now,
        })?;
        Ok((exception, true))
    })
}

/// The exceptions of `owner`, by start.
pub fn list_exceptions(store: &Store, owner: UserId) -> Result<Vec<AvailabilityException>> {
    all_of(store, IndexName::ExceptionsByUser, owner)
}

/// Changes `owner`'s exception `id`.
pub fn update_exception(
    store: &Store,
    owner: UserId,
    id: AvailabilityExceptionId,
    patch: ExceptionPatch,
) -> Result<AvailabilityException> {
    store.write(|txn| {
        let mut exception: AvailabilityException = txn
            .get(id)?
            .filter(|x: &AvailabilityException| x.user_id == owner)
            .ok_or_else(|| not_found("availability_exception", id.get()))?;
        if let Some(start) = patch.start {
            exception.start = start;
        }
        if let Some(end) = patch.end {
            exception.end = end;
        }
        if let Some(blocked) = patch.is_blocked {
            exception.is_blocked = blocked;
        }
        if let Some(reason) = patch.reason {
            exception.reason = reason;
        }
        check_exception_window(exception.start, exception.end, txn.now())?;
        txn.update(exception)
    })
}

/// Deletes `owner`'s exception `id`.
pub fn delete_exception(store: &Store, owner: UserId, id: AvailabilityExceptionId) -> Result<()> {
    store.write(|txn| {
        txn.get::<AvailabilityException>(id)?
            .filter(|x| x.user_id == owner)
            .ok_or_else(|| not_found("availability_exception", id.get()))?;
        txn.delete::<AvailabilityException>(id).map(drop)
    })
}

/// The committed calendar of `expert`: zone, rules, exceptions, bookings
/// (the sessions they give and those they booked with others, their whole
/// history) and busy times from their outside calendar.
pub fn expert_calendar(store: &Store, expert: &User) -> Result<ExpertCalendar> {
    let mut bookings = all_of(store, IndexName::BookingsByProvider, expert.id)?;
    bookings.extend(all_of(store, IndexName::BookingsByBooker, expert.id)?);
    calendar_with(store, expert, bookings)
}

/// [`expert_calendar`] with only the bookings that can take time from
/// `hours`: those starting from the longest booking
/// ([`MAX_BOOKING_MINUTES`]) plus the policy's buffer before it, to the
/// buffer after it, read as key ranges of the start-time ordered booking
/// indexes rather than the expert's whole history (the same window read
/// booking re-checks a slot with, [`bookings_starting_within`]).
fn calendar_over(
    store: &Store,
    expert: &User,
    hours: Interval,
    policy: &SlotPolicy,
) -> Result<ExpertCalendar> {
    let buffer = i64::from(policy.buffer_minutes);
    let from = hours
        .start
        .plus_minutes(-buffer - i64::from(MAX_BOOKING_MINUTES));
    let to = hours.end.plus_minutes(buffer);
    let mut bookings =
        bookings_starting_within(store, BookingRole::Provider, expert.id, from, Some(to))?;
    bookings.extend(bookings_starting_within(
        store,
        BookingRole::Client,
        expert.id,
        from,
        Some(to),
    )?);
    calendar_with(store, expert, bookings)
}

/// `expert`'s calendar holding `bookings`.
fn calendar_with(store: &Store, expert: &User, bookings: Vec<Booking>) -> Result<ExpertCalendar> {
    Ok(ExpertCalendar {
        timezone: expert.timezone,
        rules: all_of(store, IndexName::RulesByUser, expert.id)?,
        exceptions: all_of(store, IndexName::ExceptionsByUser, expert.id)?,
        bookings,
        busy: crate::calendar::busy_of(store, expert.id)?,
    })
}

/// The bookable slots of expert `id`; `NotFound` when `id` is no expert;
/// `Invalid` for a bad query (days, length) whether or not they can be
/// booked; none when they cannot be booked now ([`User::is_bookable`]).
pub fn expert_slots(
    store: &Store,
    id: UserId,
    query: &SlotQuery,
    policy: &SlotPolicy,
) -> Result<Vec<Slot>> {
    let expert = store
        .users()
        .find(id)?
        .filter(User::is_expert)
        .ok_or_else(|| not_found("expert", id.get()))?;
    // The expert's own length unless another is asked; one they cannot be
    // booked for is refused, as booking it would be.
    let minutes = query.duration_minutes.unwrap_or(expert.session_duration);
    policy.check_duration(expert.session_duration, minutes)?;
    let query = SlotQuery {
        duration_minutes: Some(minutes),
        ..*query
    };
    // Only the bookings that can touch the hours the slots are cut from.
    // Checked before bookability, so a bad query is refused alike for
    // every expert.
    let Some(span) = slot_span(&query, policy)? else {
        return Ok(Vec::new());
    };
    if !expert.is_bookable() {
        // Not available, or priced without an active payout account: what
        // is offered is what can be booked, so nothing.
        return Ok(Vec::new());
    }
    find_slots(
        &calendar_over(store, &expert, span.hours, policy)?,
        &query,
        policy,
    )
}

#[cfg(test)]
mod tests;

//! Availability: weekly rules in the expert's own time zone (office hours
//! with variations, some evenings and weekends) and a few one-off
//! exceptions (vacations and conferences that block time, the odd extra
//! Saturday that opens it).

use chrono::{Days, NaiveDate};
use droply_models::{
    AvailabilityException, AvailabilityExceptionId, AvailabilityRule, AvailabilityRuleId,
    LocalTime, Timestamp, User, Weekday,
};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

use super::bio::pick_text;
use super::id_counter::IdCounter;
use super::instants;
use super::vocab::Vocab;
use droply_engine::{Error, Result};

const MON_FRI: &[u8] = &[0, 1, 2, 3, 4];

/// One weekly window: days (Monday = 0), start and end in local minutes.
type Window = (&'static [u8], u16, u16);

/// Weekly patterns and how common each is.
const PATTERNS: &[(u32, &[Window])] = &[
    (40, &[(MON_FRI, 9 * 60, 17 * 60)]),
    (10, &[(MON_FRI, 8 * 60, 16 * 60)]),
    (10, &[(MON_FRI, 10 * 60, 18 * 60)]),
    (
        15,
        &[(MON_FRI, 9 * 60, 12 * 60), (MON_FRI, 13 * 60, 17 * 60)],
    ),
    (10, &[(MON_FRI, 17 * 60, 21 * 60), (&[5], 10 * 60, 14 * 60)]),
    (10, &[(&[0, 2, 3], 10 * 60, 16 * 60)]),
    (5, &[(&[0, 1, 2, 3, 4, 5], 8 * 60, 20 * 60)]),
];

/// The windows an expert can be booked in, as the slot finder needs them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Schedule {
    /// Active windows per weekday (Monday = 0), in local minutes.
    pub windows: [Vec<(u16, u16)>; 7],
    /// Blocked ranges from exceptions.
    pub blocked: Vec<(Timestamp, Timestamp)>,
}

/// The rows and the bookable windows of one expert.
#[derive(Debug, Default)]
pub(crate) struct ExpertSchedule {
    pub rules: Vec<AvailabilityRule>,
    pub exceptions: Vec<AvailabilityException>,
    pub schedule: Schedule,
}

/// Generates `user`'s availability, taking row ids from `ids`.
pub(crate) fn schedule(
    rng: &mut impl Rng,
    vocab: &Vocab,
    user: &User,
    ids: &mut IdCounter,
    now: Timestamp,
) -> Result<ExpertSchedule> {
    let mut out = ExpertSchedule::default();
    let weights = WeightedIndex::new(PATTERNS.iter().map(|(w, _)| *w))
        .map_err(|e| Error::Invalid(format!("availability patterns: {e}")))?;
    let (_, pattern) = PATTERNS[weights.sample(rng)];
    let shift: i32 = if rng.random_bool(0.2) {
        if rng.random_bool(0.5) { 30 } else { -30 }
    } else {
        0
    };
    let mut windows: Vec<(u8, u16, u16, bool)> = Vec::new();
    for &(days, start, end) in pattern {
        let start = (i32::from(start) + shift).clamp(0, 23 * 60) as u16;
        let end = (i32::from(end) + shift).clamp(60, 24 * 60) as u16;
        windows.extend(days.iter().map(|&d| (d, start, end, true)));
    }
    let has_day = |windows: &[(u8, u16, u16, bool)], day: u8| windows.iter().any(|w| w.0 == day);
    if rng.random_bool(0.15) && !has_day(&windows, 5) {
        windows.push((5, 10 * 60, 14 * 60, true));
    }
    if rng.random_bool(0.05) && !has_day(&windows, 6) {
        windows.push((6, 11 * 60, 15 * 60, true));
    }
    if rng.random_bool(0.04) && !has_day(&windows, 6) {
        // A Sunday slot the expert switched off again.
        windows.push((6, 10 * 60, 12 * 60, false));
    }

    let created_at =
        instants::between(rng, user.created_at, user.created_at.plus_days(30)).min(now);
    for (day, start, end, is_active) in windows {
        let updated_at = if rng.random_bool(0.3) {
            instants::between(rng, created_at, now)
        } else {
            created_at
        };
        out.rules.push(AvailabilityRule {
            id: AvailabilityRuleId::new(ids.next()),
            user_id: user.id,
            weekday: Weekday::new(day)?,
            start: LocalTime::from_minutes(start)?,
            end: LocalTime::from_minutes(end)?,
            is_active,
            created_at,
            updated_at,
        });
        if is_active {
            out.schedule.windows[usize::from(day)].push((start, end));
        }
    }

    if rng.random_bool(0.25) {
        let days = rng.random_range(3..=14);
        let offset = rng.random_range(-60..60);
        let reason = pick_text(rng, &vocab.texts.exception_reasons).to_owned();
        let span = Block {
            offset,
            days,
            reason,
        };
        block(rng, user, ids, now, &mut out, span)?;
    }
    if rng.random_bool(0.08) {
        let days = rng.random_range(1..=2);
        let offset = rng.random_range(-30..45);
        let span = Block {
            offset,
            days,
            reason: "Conference".to_owned(),
        };
        block(rng, user, ids, now, &mut out, span)?;
    }
    if rng.random_bool(0.04) {
        open_saturday(rng, user, ids, now, &mut out)?;
    }
    Ok(out)
}

/// Midnight at the start of `date` in the user's zone (or 01:00 where
/// midnight does not exist that day).
fn local_midnight(user: &User, date: NaiveDate) -> Option<Timestamp> {
    let zone = user.timezone;
    zone.at_local(date, LocalTime::MIDNIGHT).or_else(|| {
        LocalTime::from_hm(1, 0)
            .ok()
            .and_then(|one| zone.at_local(date, one))
    })
}

/// A run of blocked whole local days.
struct Block {
    /// First day, in days from now.
    offset: i64,
    /// How many days.
    days: u64,
    reason: String,
}

/// Adds a blocked exception for `span`.
fn block(
    rng: &mut impl Rng,
    user: &User,
    ids: &mut IdCounter,
    now: Timestamp,
    out: &mut ExpertSchedule,
    span: Block,
) -> Result<()> {
    let Block {
        offset,
        days,
        reason,
    } = span;
    let first = user.timezone.local_date(now.plus_days(offset));
    let Some(last) = first.checked_add_days(Days::new(days)) else {
        return Ok(());
    };
    let (Some(start), Some(end)) = (local_midnight(user, first), local_midnight(user, last)) else {
        return Ok(());
    };
    let created_at = instants::plus_seconds(start, -rng.random_range(7 * 86_400..40 * 86_400))
        .min(now.plus_minutes(-60))
        .max(user.created_at);
    out.exceptions.push(AvailabilityException {
        id: AvailabilityExceptionId::new(ids.next()),
        user_id: user.id,
        start,
        end,
        reason: Some(reason),
        is_blocked: true,
        created_at,
    });
    out.schedule.blocked.push((start, end));
    Ok(())
}

/// Opens a Saturday morning in the coming weeks.
fn open_saturday(
    rng: &mut impl Rng,
    user: &User,
    ids: &mut IdCounter,
    now: Timestamp,
    out: &mut ExpertSchedule,
) -> Result<()> {
    let mut date = user
        .timezone
        .local_date(now.plus_days(rng.random_range(3..30)));
    while Weekday::from(chrono::Datelike::weekday(&date)).get() != 5 {
        let Some(next) = date.succ_opt() else {
            return Ok(());
        };
        date = next;
    }
    let zone = user.timezone;
    let (Some(start), Some(end)) = (
        zone.at_local(date, LocalTime::from_hm(10, 0)?),
        zone.at_local(date, LocalTime::from_hm(13, 0)?),
    ) else {
        return Ok(());
    };
    out.exceptions.push(AvailabilityException {
        id: AvailabilityExceptionId::new(ids.next()),
        user_id: user.id,
        start,
        end,
        reason: Some("Extra weekend hours".to_owned()),
        is_blocked: false,
        created_at: now.plus_days(-rng.random_range(1..10)).max(user.created_at),
    });
    Ok(())
}

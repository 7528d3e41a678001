//! The fields a filter may name, which kinds of result each applies to, and the
//! condition `name op values` builds. Experts have `industry`, `profession`, `location`,
//! `skills`, `specialty_tags`, `rating`, `is_available`, `is_featured`,
//! `bookable_within_days` and `hourly_rate`; content has `content_type`, `price` and
//! `creator`; `category` (also spelled `category_id`) applies to both.

use droply_models::{CategoryId, ContentType, UserId};

use super::tokens::Op;
use super::{FilterError, Parsed, fail};
use crate::matching::kind::SearchKind;
use crate::matching::query::MAX_BOOKABLE_DAYS;

/// Experts only.
const EXPERTS: &[SearchKind] = &[SearchKind::Experts];
/// Content only.
const CONTENT: &[SearchKind] = &[SearchKind::Content];
/// Every kind.
const ANY_KIND: &[SearchKind] = &[SearchKind::Experts, SearchKind::Content];

/// A field holding a list of values to match any of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListField {
    Industry,
    Profession,
    Location,
    Skills,
    SpecialtyTags,
}

impl ListField {
    pub(super) fn name(self) -> &'static str {
        match self {
            ListField::Industry => "industry",
            ListField::Profession => "profession",
            ListField::Location => "location",
            ListField::Skills => "skills",
            ListField::SpecialtyTags => "specialty_tags",
        }
    }
}

/// A field a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    List(ListField),
    Category,
    Rating,
    IsAvailable,
    IsFeatured,
    BookableWithinDays,
    HourlyRate,
    ContentType,
    Price,
    Creator,
}

impl Field {
    pub(super) fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "industry" => Field::List(ListField::Industry),
            "profession" => Field::List(ListField::Profession),
            "location" => Field::List(ListField::Location),
            "skills" => Field::List(ListField::Skills),
            "specialty_tags" => Field::List(ListField::SpecialtyTags),
            "category" | "category_id" => Field::Category,
            "rating" => Field::Rating,
            "is_available" => Field::IsAvailable,
            "is_featured" | "is_featured_user" => Field::IsFeatured,
            "bookable_within_days" => Field::BookableWithinDays,
            "hourly_rate" => Field::HourlyRate,
            "content_type" => Field::ContentType,
            "price" => Field::Price,
            "creator" => Field::Creator,
            _ => return None,
        })
    }
}

/// One condition the engine can run.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Condition {
    AnyOf(ListField, Vec<String>),
    Categories(Vec<CategoryId>),
    MinRating(f32),
    Available,
    Featured,
    BookableWithin(u16),
    Rate { min: Option<i64>, max: Option<i64> },
    ContentTypes(Vec<String>),
    Price { min: Option<i64>, max: Option<i64> },
    Creators(Vec<UserId>),
}

impl Condition {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Condition::AnyOf(field, _) => field.name(),
            Condition::Categories(_) => "category",
            Condition::MinRating(_) => "rating",
            Condition::Available => "is_available",
            Condition::Featured => "is_featured",
            Condition::BookableWithin(_) => "bookable_within_days",
            Condition::Rate { .. } => "hourly_rate",
            Condition::ContentTypes(_) => "content_type",
            Condition::Price { .. } => "price",
            Condition::Creators(_) => "creator",
        }
    }

    /// The kinds of result the condition can restrict.
    pub(super) fn kinds(&self) -> &'static [SearchKind] {
        match self {
            Condition::Categories(_) => ANY_KIND,
            Condition::ContentTypes(_) | Condition::Price { .. } | Condition::Creators(_) => {
                CONTENT
            }
            Condition::AnyOf(..)
            | Condition::MinRating(_)
            | Condition::Available
            | Condition::Featured
            | Condition::BookableWithin(_)
            | Condition::Rate { .. } => EXPERTS,
        }
    }
}

/// Whole, non-negative ids or amounts in `values`, each read by `parse`.
fn each<T>(values: &[String], parse: impl Fn(&str) -> Option<T>, bad: &str) -> Parsed<Vec<T>> {
    values
        .iter()
        .map(|value| parse(value).ok_or_else(|| FilterError(format!("{bad}: `{value}`"))))
        .collect()
}

/// The bounds `name op raw` sets on an amount in minor units (`op` is not `!=`).
fn amount_bounds(name: &str, op: Op, raw: &str) -> Parsed<(Option<i64>, Option<i64>)> {
    let bad = || {
        FilterError(format!(
            "{name}: `{raw}` is not a whole, non-negative amount in minor units"
        ))
    };
    let value = raw
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(bad)?;
    Ok(match op {
        Op::Eq => (Some(value), Some(value)),
        Op::Ge => (Some(value), None),
        Op::Gt => (Some(value.checked_add(1).ok_or_else(bad)?), None),
        Op::Le => (None, Some(value)),
        Op::Lt | Op::Ne => (
            None,
            Some(value.checked_sub(1).filter(|v| *v >= 0).ok_or_else(bad)?),
        ),
    })
}

/// Builds the condition `name op values` (`op` is `None` for IN).
pub(super) fn condition(
    field: Field,
    name: &str,
    op: Option<Op>,
    values: Vec<String>,
) -> Parsed<Condition> {
    let single = || values.first().cloned().unwrap_or_default();
    let unsupported = |supported: &str| {
        let used = op.map_or("IN", Op::symbol);
        fail(format!("`{name}` takes {supported}, not `{used}`"))
    };
    match (field, op) {
        (Field::List(list), None | Some(Op::Eq)) => Ok(Condition::AnyOf(list, values)),
        (Field::List(_), _) => unsupported("`=` or IN"),
        (Field::Category, None | Some(Op::Eq)) => values
            .iter()
            .map(|value| {
                value
                    .parse::<u64>()
                    .map(CategoryId::new)
                    .map_err(|_| FilterError(format!("category: `{value}` is not a category id")))
            })
            .collect::<Parsed<Vec<_>>>()
            .map(Condition::Categories),
        (Field::Category, _) => unsupported("`=` or IN"),
        (Field::Rating, Some(op @ (Op::Ge | Op::Gt))) => {
            let raw = single();
            let value = raw
                .parse::<f32>()
                .ok()
                .filter(|v| (0.0..=5.0).contains(v))
                .ok_or_else(|| {
                    FilterError(format!("rating: `{raw}` is not a number from 0 to 5"))
                })?;
            Ok(Condition::MinRating(if op == Op::Gt {
                value.next_up()
            } else {
                value
            }))
        }
        (Field::Rating, _) => unsupported("`>=` or `>`"),
        (Field::IsAvailable | Field::IsFeatured, Some(Op::Eq)) => {
            let raw = single();
            if raw.eq_ignore_ascii_case("true") {
                Ok(if field == Field::IsAvailable {
                    Condition::Available
                } else {
                    Condition::Featured
                })
            } else if raw.eq_ignore_ascii_case("false") {
                fail(format!(
                    "`{name} = false` is not supported, only `{name} = true`"
                ))
            } else {
                fail(format!("`{name}` compares with true, not `{raw}`"))
            }
        }
        (Field::IsAvailable | Field::IsFeatured, _) => unsupported("`= true`"),
        (Field::BookableWithinDays, Some(op @ (Op::Le | Op::Lt))) => {
            let raw = single();
            let days = raw
                .parse::<u16>()
                .ok()
                .map(|days| {
                    if op == Op::Lt {
                        days.saturating_sub(1)
                    } else {
                        days
                    }
                })
                .filter(|days| (1..=MAX_BOOKABLE_DAYS).contains(days))
                .ok_or_else(|| {
                    FilterError(format!(
                        "bookable_within_days: `{raw}` must allow 1 to {MAX_BOOKABLE_DAYS} days"
                    ))
                })?;
            Ok(Condition::BookableWithin(days))
        }
        (Field::BookableWithinDays, _) => unsupported("`<=` or `<`"),
        (Field::HourlyRate, Some(op)) if op != Op::Ne => {
            let (min, max) = amount_bounds("hourly_rate", op, &single())?;
            Ok(Condition::Rate { min, max })
        }
        (Field::HourlyRate, _) => unsupported("`>=`, `>`, `<=`, `<` or `=`"),
        (Field::Price, Some(op)) if op != Op::Ne => {
            let (min, max) = amount_bounds("price", op, &single())?;
            Ok(Condition::Price { min, max })
        }
        (Field::Price, _) => unsupported("`>=`, `>`, `<=`, `<` or `=`"),
        (Field::ContentType, None | Some(Op::Eq)) => {
            let known: Vec<&str> = ContentType::ALL.iter().map(|t| t.as_str()).collect();
            let bad = format!("content_type is one of {}, not", known.join(", "));
            each(
                &values,
                |value| {
                    let value = value.trim().to_lowercase();
                    known.contains(&value.as_str()).then_some(value)
                },
                &bad,
            )
            .map(Condition::ContentTypes)
        }
        (Field::ContentType, _) => unsupported("`=` or IN"),
        (Field::Creator, None | Some(Op::Eq)) => each(
            &values,
            |value| value.parse::<u64>().ok().map(UserId::new),
            "creator: not a user id",
        )
        .map(Condition::Creators),
        (Field::Creator, _) => unsupported("`=` or IN"),
    }
}

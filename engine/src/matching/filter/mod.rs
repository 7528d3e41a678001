//! The `filter` of a search or match request, Meilisearch style, parsed into the
//! engine's [`MatchFilters`]. A filter is an expression string, or an array whose items
//! are joined with AND (a string item is an expression, an inner array of strings means
//! OR). Expressions join conditions with `AND` / `OR` (case-insensitive) and
//! parentheses: `industry = Finance`, `skills IN [Rust, "Machine Learning"]`,
//! `category = 3`, `rating >= 4.5`, `is_available = true`, `is_featured = true`,
//! `bookable_within_days <= 7`, `hourly_rate >= 5000` (minor units of the request's
//! `currency`). What the engine can run is an AND of conditions in which an OR joins
//! only `=` / `IN` on one list field (it becomes one `IN`); anything else is refused
//! with a message naming the problem.

use super::query::{Budget, MAX_BOOKABLE_DAYS, MatchFilters};
use droply_models::{CategoryId, Currency};
use serde_json::Value;

use tokens::{Op, Token, tokenize};

mod tokens;

/// Why a filter was refused, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "filter: {}", self.0)
    }
}

type Parsed<T> = Result<T, FilterError>;

fn fail<T>(message: impl Into<String>) -> Parsed<T> {
    Err(FilterError(message.into()))
}

/// The fields a filter may name.
pub const FILTERABLE: &str = "industry, profession, location, skills, specialty_tags, category, \
                              rating, is_available, is_featured, bookable_within_days, hourly_rate";

/// How deeply parentheses may nest.
const MAX_DEPTH: usize = 16;

/// A parsed filter: the engine's filters without the budget, and the hourly-rate
/// bounds, which need the request's currency to become a [`Budget`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchFilter {
    filters: MatchFilters,
    rate_min: Option<i64>,
    rate_max: Option<i64>,
}

impl SearchFilter {
    /// Parses a request's `filter` (absent or `null`: no restriction).
    pub fn parse(value: Option<&Value>) -> Parsed<SearchFilter> {
        let node = match value {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => parse_expression(text)?,
            Some(Value::Array(items)) => parse_array(items)?,
            Some(_) => return fail("must be a string or an array"),
        };
        let mut conditions = Vec::new();
        if let Some(node) = node {
            conjuncts(node, &mut conditions)?;
        }
        let mut filter = SearchFilter::default();
        for condition in conditions {
            filter.add(condition)?;
        }
        Ok(filter)
    }

    /// The engine's filters; `currency` prices the hourly-rate bounds, and is required
    /// when there are any.
    pub fn into_match_filters(self, currency: Option<Currency>) -> Parsed<MatchFilters> {
        let mut filters = self.filters;
        if self.rate_min.is_some() || self.rate_max.is_some() {
            let Some(currency) = currency else {
                return fail(
                    "hourly_rate is in minor units of the request's `currency`, which is missing",
                );
            };
            if let (Some(min), Some(max)) = (self.rate_min, self.rate_max)
                && min > max
            {
                return fail("the hourly_rate bounds leave nothing between them");
            }
            filters.budget = Some(Budget {
                currency,
                min_minor: self.rate_min,
                max_minor: self.rate_max,
            });
        }
        Ok(filters)
    }

    fn add(&mut self, condition: Condition) -> Parsed<()> {
        let twice = |name: &str| {
            fail(format!(
                "`{name}` is restricted twice with AND; use `{name} IN [a, b]` for any of several values"
            ))
        };
        let f = &mut self.filters.experts;
        match condition {
            Condition::AnyOf(field, values) => {
                let list = match field {
                    ListField::Industry => &mut f.industries,
                    ListField::Profession => &mut f.professions,
                    ListField::Location => &mut f.locations,
                    ListField::Skills => &mut f.skills,
                    ListField::SpecialtyTags => &mut f.specialty_tags,
                };
                if !list.is_empty() {
                    return twice(field.name());
                }
                *list = values;
            }
            Condition::Categories(ids) => {
                if !f.categories.is_empty() {
                    return twice("category");
                }
                f.categories = ids;
            }
            Condition::MinRating(min) => {
                if f.min_rating.is_some() {
                    return fail("`rating` has two lower bounds");
                }
                f.min_rating = Some(min);
            }
            Condition::Available => f.available_only = true,
            Condition::Featured => f.featured_only = true,
            Condition::BookableWithin(days) => {
                if self.filters.bookable_within_days.is_some() {
                    return fail("`bookable_within_days` has two bounds");
                }
                self.filters.bookable_within_days = Some(days);
            }
            Condition::Rate { min, max } => {
                if (min.is_some() && self.rate_min.is_some())
                    || (max.is_some() && self.rate_max.is_some())
                {
                    return fail("`hourly_rate` has two bounds on the same side");
                }
                self.rate_min = self.rate_min.or(min);
                self.rate_max = self.rate_max.or(max);
            }
        }
        Ok(())
    }
}

/// A field holding a list of values to match any of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListField {
    Industry,
    Profession,
    Location,
    Skills,
    SpecialtyTags,
}

impl ListField {
    fn name(self) -> &'static str {
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
enum Field {
    List(ListField),
    Category,
    Rating,
    IsAvailable,
    IsFeatured,
    BookableWithinDays,
    HourlyRate,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "industry" => Field::List(ListField::Industry),
            "profession" => Field::List(ListField::Profession),
            "location" => Field::List(ListField::Location),
            "skills" => Field::List(ListField::Skills),
            "specialty_tags" => Field::List(ListField::SpecialtyTags),
            "category" => Field::Category,
            "rating" => Field::Rating,
            "is_available" => Field::IsAvailable,
            "is_featured" | "is_featured_user" => Field::IsFeatured,
            "bookable_within_days" => Field::BookableWithinDays,
            "hourly_rate" => Field::HourlyRate,
            _ => return None,
        })
    }
}

/// One condition the engine can run.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    AnyOf(ListField, Vec<String>),
    Categories(Vec<CategoryId>),
    MinRating(f32),
    Available,
    Featured,
    BookableWithin(u16),
    Rate { min: Option<i64>, max: Option<i64> },
}

impl Condition {
    fn name(&self) -> &'static str {
        match self {
            Condition::AnyOf(field, _) => field.name(),
            Condition::Categories(_) => "category",
            Condition::MinRating(_) => "rating",
            Condition::Available => "is_available",
            Condition::Featured => "is_featured",
            Condition::BookableWithin(_) => "bookable_within_days",
            Condition::Rate { .. } => "hourly_rate",
        }
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Leaf(Condition),
}

/// Collects the AND-joined conditions of `node`, each OR group merged into one.
fn conjuncts(node: Node, out: &mut Vec<Condition>) -> Parsed<()> {
    match node {
        Node::And(items) => items.into_iter().try_for_each(|item| conjuncts(item, out)),
        Node::Or(items) => {
            let mut options = Vec::new();
            for item in items {
                disjuncts(item, &mut options)?;
            }
            out.push(merge_or(options)?);
            Ok(())
        }
        Node::Leaf(condition) => {
            out.push(condition);
            Ok(())
        }
    }
}

fn disjuncts(node: Node, out: &mut Vec<Condition>) -> Parsed<()> {
    match node {
        Node::Or(items) => items.into_iter().try_for_each(|item| disjuncts(item, out)),
        Node::Leaf(condition) => {
            out.push(condition);
            Ok(())
        }
        Node::And(_) => fail(
            "AND inside OR is not supported; OR may only join `=` or IN conditions on one field",
        ),
    }
}

/// One condition from OR-joined ones: `=` / IN on one list field become one IN.
fn merge_or(options: Vec<Condition>) -> Parsed<Condition> {
    let mut merged: Option<Condition> = None;
    for option in options {
        merged = Some(match (merged, option) {
            (None, option) => option,
            (Some(Condition::AnyOf(field, mut values)), Condition::AnyOf(other, more))
                if field == other =>
            {
                values.extend(more);
                Condition::AnyOf(field, values)
            }
            (Some(Condition::Categories(mut ids)), Condition::Categories(more)) => {
                ids.extend(more);
                Condition::Categories(ids)
            }
            (Some(first), option) => {
                let (a, b) = (first.name(), option.name());
                return if a == b {
                    fail(format!(
                        "OR on `{a}` is only supported between `=` or IN conditions"
                    ))
                } else {
                    fail(format!(
                        "OR across different fields (`{a}` and `{b}`) is not supported"
                    ))
                };
            }
        });
    }
    merged.map_or_else(|| fail("an empty OR group"), Ok)
}

fn parse_array(items: &[Value]) -> Parsed<Option<Node>> {
    let mut all = Vec::new();
    for item in items {
        let node = match item {
            Value::String(text) => parse_expression(text)?,
            Value::Array(options) => {
                let mut any = Vec::new();
                for option in options {
                    let Value::String(text) = option else {
                        return fail("the items of an inner array must be strings");
                    };
                    any.extend(parse_expression(text)?);
                }
                (!any.is_empty()).then_some(Node::Or(any))
            }
            _ => return fail("array items must be strings or arrays of strings"),
        };
        all.extend(node);
    }
    Ok((!all.is_empty()).then_some(Node::And(all)))
}

/// Parses one expression string; blank is no restriction.
fn parse_expression(text: &str) -> Parsed<Option<Node>> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser { tokens, at: 0 };
    let node = parser.or_group(0)?;
    if let Some((token, column)) = parser.tokens.get(parser.at) {
        return fail(format!(
            "unexpected {} at column {column}; join conditions with AND or OR",
            token.describe()
        ));
    }
    Ok(Some(node))
}

/// Recursive descent over the tokens: OR binds looser than AND, parentheses group.
struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(token, _)| token)
    }

    /// The next token and its column; an error naming `wanted` at the end.
    fn next(&mut self, wanted: &str) -> Parsed<(Token, usize)> {
        match self.tokens.get(self.at) {
            Some(found) => {
                self.at += 1;
                Ok(found.clone())
            }
            None => fail(format!("expected {wanted} at the end")),
        }
    }

    fn or_group(&mut self, depth: usize) -> Parsed<Node> {
        let mut items = vec![self.and_group(depth)?];
        while self.peek().is_some_and(|t| t.is_keyword("or")) {
            self.at += 1;
            items.push(self.and_group(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::Or(items)
        })
    }

    fn and_group(&mut self, depth: usize) -> Parsed<Node> {
        let mut items = vec![self.primary(depth)?];
        while self.peek().is_some_and(|t| t.is_keyword("and")) {
            self.at += 1;
            items.push(self.primary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::And(items)
        })
    }

    fn primary(&mut self, depth: usize) -> Parsed<Node> {
        let (token, column) = self.next("a condition")?;
        match token {
            Token::Open => {
                if depth >= MAX_DEPTH {
                    return fail(format!("parentheses nest deeper than {MAX_DEPTH}"));
                }
                let node = self.or_group(depth + 1)?;
                match self.next("`)`")? {
                    (Token::Close, _) => Ok(node),
                    (other, at) => fail(format!(
                        "expected `)` at column {at}, found {}",
                        other.describe()
                    )),
                }
            }
            Token::Word(word) if word.eq_ignore_ascii_case("not") => fail(format!(
                "NOT (column {column}) is not supported; filter on the values wanted"
            )),
            Token::Word(word) if !is_keyword(&word) => {
                let field = Field::parse(&word).ok_or_else(|| {
                    FilterError(format!(
                        "unknown field `{word}` at column {column}; filterable fields: {FILTERABLE}"
                    ))
                })?;
                self.condition(field, &word).map(Node::Leaf)
            }
            other => fail(format!(
                "expected a field name at column {column}, found {}",
                other.describe()
            )),
        }
    }

    /// What follows a field name: an operator and a value, or `IN [values]`.
    fn condition(&mut self, field: Field, name: &str) -> Parsed<Condition> {
        let (token, column) = self.next(&format!("an operator after `{name}`"))?;
        let (op, values) = match token {
            Token::Op(op) => (Some(op), vec![self.value(name)?]),
            Token::Word(word) if word.eq_ignore_ascii_case("in") => (None, self.list(name)?),
            Token::Word(word) if word.eq_ignore_ascii_case("not") => {
                return fail(format!("`{name} NOT ...` is not supported"));
            }
            other => {
                return fail(format!(
                    "expected an operator after `{name}` at column {column}, found {}",
                    other.describe()
                ));
            }
        };
        condition(field, name, op, values)
    }

    fn value(&mut self, name: &str) -> Parsed<String> {
        match self.next(&format!("a value for `{name}`"))? {
            (Token::Quoted(text), _) => Ok(text),
            (Token::Word(word), _) if !is_keyword(&word) => Ok(word),
            (other, column) => fail(format!(
                "expected a value for `{name}` at column {column}, found {}",
                other.describe()
            )),
        }
    }

    /// `[a, "b c", d]` after IN.
    fn list(&mut self, name: &str) -> Parsed<Vec<String>> {
        match self.next(&format!("`[` after `{name} IN`"))? {
            (Token::OpenList, _) => {}
            (other, column) => {
                return fail(format!(
                    "expected `[` after `{name} IN` at column {column}, found {}",
                    other.describe()
                ));
            }
        }
        let mut values = Vec::new();
        loop {
            if values.is_empty() && self.peek() == Some(&Token::CloseList) {
                return fail(format!("`{name} IN []` lists no values"));
            }
            values.push(self.value(name)?);
            match self.next("`]`")? {
                (Token::Comma, _) => {}
                (Token::CloseList, _) => return Ok(values),
                (other, column) => {
                    return fail(format!(
                        "expected `,` or `]` at column {column}, found {}",
                        other.describe()
                    ));
                }
            }
        }
    }
}

fn is_keyword(word: &str) -> bool {
    ["and", "or", "not", "in"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// Builds the condition `name op values` (`op` is `None` for IN).
fn condition(field: Field, name: &str, op: Option<Op>, values: Vec<String>) -> Parsed<Condition> {
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
        (Field::HourlyRate, Some(op @ (Op::Eq | Op::Ge | Op::Gt | Op::Le | Op::Lt))) => {
            let raw = single();
            let bad = || {
                FilterError(format!(
                    "hourly_rate: `{raw}` is not a whole, non-negative amount in minor units"
                ))
            };
            let value = raw
                .parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(bad)?;
            let (min, max) = match op {
                Op::Eq => (Some(value), Some(value)),
                Op::Ge => (Some(value), None),
                Op::Gt => (Some(value.checked_add(1).ok_or_else(bad)?), None),
                Op::Le => (None, Some(value)),
                _ => (
                    None,
                    Some(value.checked_sub(1).filter(|v| *v >= 0).ok_or_else(bad)?),
                ),
            };
            Ok(Condition::Rate { min, max })
        }
        (Field::HourlyRate, _) => unsupported("`>=`, `>`, `<=`, `<` or `=`"),
    }
}

#[cfg(test)]
mod tests;

//! The `filter` of a search or match request, Meilisearch style, parsed into the
//! engine's [`MatchFilters`]. A filter is an expression string, or an array whose items
//! are joined with AND (a string item is an expression, an inner array of strings means
//! OR). Expressions join conditions with `AND` / `OR` (case-insensitive) and
//! parentheses: `industry = Finance`, `location = Berlin` (a location also matches one
//! of its comma-separated parts), `skills IN [Rust, "Machine Learning"]`,
//! `category = 3`, `rating >= 4.5`, `is_available = true`, `is_featured = true`,
//! `bookable_within_days <= 7`, `hourly_rate >= 5000` (minor units of the request's
//! `currency`; an expert with free sessions counts as 0), and for content
//! `content_type = video`, `price <= 2000` (minor units of `currency`), `creator = 42`.
//! What the engine can run is an AND of conditions in which
//! an OR joins only `=` / `IN` on one list field (it becomes one `IN`); anything else is
//! refused with a message naming the problem, and so is a field that does not apply to
//! every kind of result the request asks for ([`SearchFilter::check_kinds`]).
//!
//! `fields` holds the fields, the kinds each applies to and how a condition is built;
//! `tokens` splits an expression into tokens.

use super::kind::SearchKind;
use super::query::{Budget, MatchFilters};
use droply_models::Currency;
use serde_json::Value;

use fields::{Condition, Field, ListField, condition};
use tokens::{Token, tokenize};

mod fields;
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
                              rating, is_available, is_featured, bookable_within_days, \
                              hourly_rate (experts); content_type, price, creator (content); \
                              category (both)";

/// How deeply parentheses may nest.
const MAX_DEPTH: usize = 16;

/// Lower and upper bounds on an amount in minor units, before the currency is known.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Bounds {
    min: Option<i64>,
    max: Option<i64>,
}

impl Bounds {
    /// Adds `min` and `max`; an error when a side is bounded twice.
    fn add(&mut self, name: &str, min: Option<i64>, max: Option<i64>) -> Parsed<()> {
        if (min.is_some() && self.min.is_some()) || (max.is_some() && self.max.is_some()) {
            return fail(format!("`{name}` has two bounds on the same side"));
        }
        self.min = self.min.or(min);
        self.max = self.max.or(max);
        Ok(())
    }

    /// The bounds as a budget in `currency`, `None` when unbounded; `currency` is
    /// required when they are bounded.
    fn budget(self, name: &str, currency: Option<Currency>) -> Parsed<Option<Budget>> {
        if self.min.is_none() && self.max.is_none() {
            return Ok(None);
        }
        let Some(currency) = currency else {
            return fail(format!(
                "{name} is in minor units of the request's `currency`, which is missing"
            ));
        };
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return fail(format!("the {name} bounds leave nothing between them"));
        }
        Ok(Some(Budget {
            currency,
            min_minor: self.min,
            max_minor: self.max,
        }))
    }
}

/// A parsed filter: the engine's filters without the budgets, the hourly-rate and
/// price bounds, which need the request's currency to become [`Budget`]s, and the
/// fields used with the kinds each applies to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchFilter {
    filters: MatchFilters,
    rate: Bounds,
    price: Bounds,
    used: Vec<(&'static str, &'static [SearchKind])>,
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

    /// Refuses a field that does not apply to every kind in `kinds` (a filter on
    /// `content_type` cannot restrict experts, nor `industry` content), naming it.
    pub fn check_kinds(&self, kinds: &[SearchKind]) -> Parsed<()> {
        for (name, applies) in &self.used {
            if let Some(kind) = kinds.iter().find(|kind| !applies.contains(kind)) {
                let names: Vec<&str> = applies.iter().map(|k| k.name()).collect();
                return fail(format!(
                    "`{name}` applies to {} only, and `kinds` asks for {}",
                    names.join(" and "),
                    kind.name()
                ));
            }
        }
        Ok(())
    }

    /// The engine's filters; `currency` prices the hourly-rate and price bounds, and is
    /// required when there are any.
    pub fn into_match_filters(self, currency: Option<Currency>) -> Parsed<MatchFilters> {
        let mut filters = self.filters;
        filters.budget = self.rate.budget("hourly_rate", currency)?;
        filters.content_price = self.price.budget("price", currency)?;
        Ok(filters)
    }

    fn add(&mut self, condition: Condition) -> Parsed<()> {
        let name = condition.name();
        if !self.used.iter().any(|(used, _)| *used == name) {
            self.used.push((name, condition.kinds()));
        }
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
                f.categories.clone_from(&ids);
                self.filters.content.categories = ids;
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
            Condition::Rate { min, max } => self.rate.add("hourly_rate", min, max)?,
            Condition::Price { min, max } => self.price.add("price", min, max)?,
            Condition::ContentTypes(types) => {
                let list = &mut self.filters.content.content_types;
                if !list.is_empty() {
                    return twice("content_type");
                }
                *list = types;
            }
            Condition::Creators(ids) => {
                let list = &mut self.filters.content.creators;
                if !list.is_empty() {
                    return twice("creator");
                }
                *list = ids;
            }
        }
        Ok(())
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
            (Some(Condition::ContentTypes(mut types)), Condition::ContentTypes(more)) => {
                types.extend(more);
                Condition::ContentTypes(types)
            }
            (Some(Condition::Creators(mut ids)), Condition::Creators(more)) => {
                ids.extend(more);
                Condition::Creators(ids)
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

#[cfg(test)]
mod tests;

//! What a match request asks for ([`MatchQuery`]): which kinds of result, the text,
//! the filters, how much the meaning weighs against the words, which page, which
//! facets, and whether to explain. [`MatchQuery::validate`] enforces the limits every
//! caller shares.

use droply_index::{ContentFacet, ContentFilters, ExpertFilters, FacetField, PriceRange};
use droply_models::UserId;

use super::fusion::Fusion;
use super::kind::SearchKind;
use crate::{Error, Result};

/// The most results one page may hold.
pub const MAX_LIMIT: usize = 100;
/// The deepest offset a page may start at: a page that deep re-ranks every
/// expert before it, so deeper pages would cost without bound.
pub const MAX_OFFSET: usize = 200;
/// The longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// The most values of one filter list.
pub const MAX_FILTER_VALUES: usize = 50;
/// The furthest ahead "bookable within N days" may look.
pub const MAX_BOOKABLE_DAYS: u16 = 60;

/// A budget: what the searcher is willing to pay per hour, in one currency (rates
/// in other currencies are converted through the matcher's rate table).
pub type Budget = PriceRange;

/// Which experts and content may be returned: what the indexes apply, plus what needs
/// the matcher (budgets read across currencies, and the calendar). The fields combine
/// with AND; each kind of result is restricted by its own fields only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchFilters {
    /// What the indexes apply. A `budget` replaces its `prices`, and
    /// `bookable_within_days` implies its `available_only` and `bookable_only`.
    pub experts: ExpertFilters,
    /// Hourly-rate budget.
    pub budget: Option<Budget>,
    /// Only experts with an open slot within this many days.
    pub bookable_within_days: Option<u16>,
    /// What the content indexes apply. A `content_price` replaces its `prices`.
    pub content: ContentFilters,
    /// Content price budget.
    pub content_price: Option<Budget>,
}

impl MatchFilters {
    /// Only the index's filters `experts`.
    pub fn experts(experts: ExpertFilters) -> Self {
        MatchFilters {
            experts,
            ..MatchFilters::default()
        }
    }
}

/// A search or match request.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchQuery {
    /// The kinds of result asked for, sorted, each once (experts only by default).
    pub kinds: Vec<SearchKind>,
    /// What the searcher typed; empty lists experts by the other signals.
    pub text: String,
    /// Restrictions.
    pub filters: MatchFilters,
    /// 0 ranks by words only (BM25), 1 by meaning only (vectors).
    pub semantic_ratio: f32,
    /// How the two rankings are fused.
    pub fusion: Fusion,
    /// Results skipped.
    pub offset: usize,
    /// Results returned, at most [`MAX_LIMIT`].
    pub limit: usize,
    /// Fields to count values of among the matched experts.
    pub facets: Vec<FacetField>,
    /// Fields to count values of among the matched content.
    pub content_facets: Vec<ContentFacet>,
    /// Who is searching (personalizes the ranking).
    pub viewer: Option<UserId>,
    /// Whether behaviour, quality and personal signals re-rank the fused list.
    pub rerank: bool,
}

impl Default for MatchQuery {
    fn default() -> Self {
        MatchQuery {
            kinds: vec![SearchKind::Experts],
            text: String::new(),
            filters: MatchFilters::default(),
            semantic_ratio: 0.5,
            fusion: Fusion::default(),
            offset: 0,
            limit: 20,
            facets: Vec::new(),
            content_facets: Vec::new(),
            viewer: None,
            rerank: true,
        }
    }
}

impl MatchQuery {
    /// A query for `text` with the defaults.
    pub fn text(text: impl Into<String>) -> Self {
        MatchQuery {
            text: text.into(),
            ..MatchQuery::default()
        }
    }

    /// Whether the query asks for experts only (the shape every caller had before
    /// other kinds could be searched).
    pub fn experts_only(&self) -> bool {
        self.kinds == [SearchKind::Experts]
    }

    /// Whether the query asks for `kind`.
    pub fn wants(&self, kind: SearchKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Checks every limit; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::Invalid(message));
        if self.kinds.is_empty() {
            return invalid("kinds: name at least one kind of result".to_owned());
        }
        if self.text.chars().count() > MAX_QUERY_CHARS {
            return invalid(format!("q: at most {MAX_QUERY_CHARS} characters"));
        }
        if !(0.0..=1.0).contains(&self.semantic_ratio) {
            return invalid("semanticRatio: must be between 0 and 1".to_owned());
        }
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return invalid(format!("limit: must be between 1 and {MAX_LIMIT}"));
        }
        if self.offset > MAX_OFFSET {
            return invalid(format!("offset: at most {MAX_OFFSET}"));
        }
        let f = &self.filters.experts;
        for (name, values) in [
            ("industry", &f.industries),
            ("profession", &f.professions),
            ("location", &f.locations),
            ("skills", &f.skills),
            ("specialty_tags", &f.specialty_tags),
        ] {
            if values.len() > MAX_FILTER_VALUES {
                return invalid(format!("{name}: at most {MAX_FILTER_VALUES} values"));
            }
            if values.iter().any(|v| v.trim().is_empty() || v.len() > 200) {
                return invalid(format!("{name}: values must be 1 to 200 bytes of UTF-8"));
            }
        }
        if f.categories.len() > MAX_FILTER_VALUES {
            return invalid(format!("category: at most {MAX_FILTER_VALUES} values"));
        }
        let c = &self.filters.content;
        for (name, count) in [
            ("content_type", c.content_types.len()),
            ("creator", c.creators.len()),
        ] {
            if count > MAX_FILTER_VALUES {
                return invalid(format!("{name}: at most {MAX_FILTER_VALUES} values"));
            }
        }
        for (name, budget) in [
            ("hourly_rate", &self.filters.budget),
            ("price", &self.filters.content_price),
        ] {
            let Some(budget) = budget else { continue };
            let negative =
                budget.min_minor.is_some_and(|v| v < 0) || budget.max_minor.is_some_and(|v| v < 0);
            if negative {
                return invalid(format!("{name}: bounds cannot be negative"));
            }
            if let (Some(min), Some(max)) = (budget.min_minor, budget.max_minor)
                && min > max
            {
                return invalid(format!("{name}: the lower bound is above the upper bound"));
            }
        }
        if let Some(min) = f.min_rating
            && !(0.0..=5.0).contains(&min)
        {
            return invalid("min_rating: must be between 0 and 5".to_owned());
        }
        if let Some(days) = self.filters.bookable_within_days
            && !(1..=MAX_BOOKABLE_DAYS).contains(&days)
        {
            return invalid(format!(
                "bookable_within_days: must be between 1 and {MAX_BOOKABLE_DAYS}"
            ));
        }
        Ok(())
    }
}

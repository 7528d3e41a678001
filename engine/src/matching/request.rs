//! [`SearchRequest`]: a search or match request as a client sent it (words,
//! a filter expression, facets, paging, the mix of words and meaning), and
//! the one place it is checked and turned into the engine's [`MatchQuery`].
//! A bad filter is [`Error::InvalidFilter`], a facet that cannot be counted
//! [`Error::InvalidFacets`], any other bad value [`Error::Invalid`] naming
//! the field.

use droply_index::FacetField;
use droply_models::{Currency, UserId};
use serde_json::Value;

use super::filter::SearchFilter;
use super::fusion::Fusion;
use super::query::MatchQuery;
use crate::{Error, Result};

/// A request before checking; `None` takes the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    /// What the searcher typed.
    pub q: Option<String>,
    /// A filter expression, or an array of them (see [`super::filter`]).
    pub filter: Option<Value>,
    /// The ISO 4217 currency of `hourly_rate` bounds in the filter.
    pub currency: Option<String>,
    /// Fields to count values of; `*` is all of them.
    pub facets: Option<Vec<String>>,
    /// Hits per page (default 20).
    pub limit: Option<usize>,
    /// Hits skipped (default 0).
    pub offset: Option<usize>,
    /// 0 ranks by words only, 1 by meaning only (default 0.5).
    pub semantic_ratio: Option<f32>,
    /// `rrf` or `normalized` (default).
    pub fusion: Option<String>,
}

impl SearchRequest {
    /// The engine's query for `viewer`, every part and limit checked.
    pub fn into_query(self, viewer: Option<UserId>) -> Result<MatchQuery> {
        let defaults = MatchQuery::default();
        let fusion = match self.fusion.as_deref() {
            None => Fusion::default(),
            Some(name) => Fusion::parse(name).ok_or_else(|| {
                Error::Invalid(format!("fusion: {name:?} is not `rrf` or `normalized`"))
            })?,
        };
        let facets = facet_fields(self.facets)?;
        let currency = self
            .currency
            .map(|code| {
                Currency::parse(&code).map_err(|err| Error::Invalid(format!("currency: {err}")))
            })
            .transpose()?;
        let filters = SearchFilter::parse(self.filter.as_ref())
            .and_then(|filter| filter.into_match_filters(currency))
            .map_err(|err| Error::InvalidFilter(err.to_string()))?;
        let query = MatchQuery {
            text: self.q.unwrap_or_default(),
            filters,
            semantic_ratio: self.semantic_ratio.unwrap_or(defaults.semantic_ratio),
            fusion,
            limit: self.limit.unwrap_or(defaults.limit),
            offset: self.offset.unwrap_or(defaults.offset),
            facets,
            viewer,
            ..defaults
        };
        query.validate()?;
        Ok(query)
    }
}

/// The facet fields named in a request; `*` is all of them.
fn facet_fields(names: Option<Vec<String>>) -> Result<Vec<FacetField>> {
    let mut fields = Vec::new();
    for name in names.unwrap_or_default() {
        if name == "*" {
            fields.extend(FacetField::ALL);
            continue;
        }
        let field = FacetField::parse(&name).ok_or_else(|| {
            let known: Vec<&str> = FacetField::ALL.iter().map(|f| f.name()).collect();
            Error::InvalidFacets(format!(
                "facets: `{name}` cannot be counted; use {} or *",
                known.join(", ")
            ))
        })?;
        fields.push(field);
    }
    fields.sort_unstable();
    fields.dedup();
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_make_the_default_query() {
        let query = SearchRequest::default().into_query(None).expect("valid");
        assert_eq!(query, MatchQuery::default());
    }

    #[test]
    fn each_kind_of_mistake_has_its_own_error() {
        let bad = |request: SearchRequest| request.into_query(None).expect_err("refused");
        let filter = bad(SearchRequest {
            filter: Some(json!("price >= 5")),
            ..SearchRequest::default()
        });
        assert!(matches!(filter, Error::InvalidFilter(ref m) if m.contains("price")));
        let facets = bad(SearchRequest {
            facets: Some(vec!["salary".to_owned()]),
            ..SearchRequest::default()
        });
        assert!(matches!(facets, Error::InvalidFacets(ref m) if m.contains("salary")));
        for request in [
            SearchRequest {
                limit: Some(0),
                ..SearchRequest::default()
            },
            SearchRequest {
                currency: Some("XYZ1".to_owned()),
                ..SearchRequest::default()
            },
            SearchRequest {
                fusion: Some("max".to_owned()),
                ..SearchRequest::default()
            },
        ] {
            assert!(matches!(bad(request), Error::Invalid(_)));
        }
    }

    #[test]
    fn facets_star_is_every_field_once() {
        let query = SearchRequest {
            facets: Some(vec!["*".to_owned(), "industry".to_owned()]),
            ..SearchRequest::default()
        }
        .into_query(Some(UserId::new(7)))
        .expect("valid");
        assert_eq!(query.facets.len(), FacetField::ALL.len());
        assert_eq!(query.viewer, Some(UserId::new(7)));
    }
}

//! [`SearchRequest`]: a search or match request as a client sent it (the kinds
//! of result, words, a filter expression, facets, paging, the mix of words and
//! meaning), and the one place it is checked and turned into the engine's
//! [`MatchQuery`]. A bad filter (or one on a field that does not apply to a
//! requested kind) is [`Error::InvalidFilter`], a facet that cannot be counted
//! for the requested kinds [`Error::InvalidFacets`], any other bad value (an
//! unknown kind too) [`Error::Invalid`] naming the field.

use droply_index::{ContentFacet, FacetField};
use droply_models::{Currency, UserId};
use serde_json::Value;

use super::filter::SearchFilter;
use super::fusion::Fusion;
use super::kind::SearchKind;
use super::query::MatchQuery;
use crate::{Error, Result};

/// A request before checking; `None` takes the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    /// The kinds of result: `experts` (the default), `content`, or both.
    pub kinds: Option<Vec<String>>,
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
        let kinds = SearchKind::parse_list(self.kinds.as_deref())?;
        let (facets, content_facets) = facet_fields(self.facets, &kinds)?;
        let currency = self
            .currency
            .map(|code| {
                Currency::parse(&code).map_err(|err| Error::Invalid(format!("currency: {err}")))
            })
            .transpose()?;
        let filters = SearchFilter::parse(self.filter.as_ref())
            .and_then(|filter| {
                filter.check_kinds(&kinds)?;
                filter.into_match_filters(currency)
            })
            .map_err(|err| Error::InvalidFilter(err.to_string()))?;
        let query = MatchQuery {
            kinds,
            text: self.q.unwrap_or_default(),
            filters,
            semantic_ratio: self.semantic_ratio.unwrap_or(defaults.semantic_ratio),
            fusion,
            limit: self.limit.unwrap_or(defaults.limit),
            offset: self.offset.unwrap_or(defaults.offset),
            facets,
            content_facets,
            viewer,
            ..defaults
        };
        query.validate()?;
        Ok(query)
    }
}

/// The facet fields named in a request, for experts and for content; `*` is every
/// field of every requested kind. A name no requested kind can count is refused.
fn facet_fields(
    names: Option<Vec<String>>,
    kinds: &[SearchKind],
) -> Result<(Vec<FacetField>, Vec<ContentFacet>)> {
    let experts = kinds.contains(&SearchKind::Experts);
    let content = kinds.contains(&SearchKind::Content);
    let mut fields = Vec::new();
    let mut content_fields = Vec::new();
    for name in names.unwrap_or_default() {
        if name == "*" {
            if experts {
                fields.extend(FacetField::ALL);
            }
            if content {
                content_fields.extend(ContentFacet::ALL);
            }
            continue;
        }
        if let Some(field) = FacetField::parse(&name).filter(|_| experts) {
            fields.push(field);
        } else if let Some(field) = ContentFacet::parse(&name).filter(|_| content) {
            content_fields.push(field);
        } else {
            let mut known: Vec<&str> = Vec::new();
            if experts {
                known.extend(FacetField::ALL.iter().map(|f| f.name()));
            }
            if content {
                known.extend(ContentFacet::ALL.iter().map(|f| f.name()));
            }
            let kinds: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
            return Err(Error::InvalidFacets(format!(
                "facets: `{name}` cannot be counted for {}; use {} or *",
                kinds.join(" and "),
                known.join(", ")
            )));
        }
    }
    fields.sort_unstable();
    fields.dedup();
    content_fields.sort_unstable();
    content_fields.dedup();
    Ok((fields, content_fields))
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
    fn a_filter_or_facet_of_another_kind_is_refused() {
        let experts_only = SearchRequest {
            filter: Some(json!("content_type = video")),
            ..SearchRequest::default()
        };
        let err = experts_only.into_query(None).expect_err("refused");
        assert!(
            matches!(err, Error::InvalidFilter(ref m) if m.contains("content_type") && m.contains("experts")),
            "{err}"
        );
        let mixed = SearchRequest {
            kinds: Some(vec!["experts".to_owned(), "content".to_owned()]),
            filter: Some(json!("industry = Finance")),
            ..SearchRequest::default()
        };
        assert!(
            matches!(mixed.into_query(None), Err(Error::InvalidFilter(m)) if m.contains("industry"))
        );
        let content_facet_on_experts = SearchRequest {
            facets: Some(vec!["content_type".to_owned()]),
            ..SearchRequest::default()
        };
        assert!(matches!(
            content_facet_on_experts.into_query(None),
            Err(Error::InvalidFacets(_))
        ));
        let unknown = SearchRequest {
            kinds: Some(vec!["webinars".to_owned()]),
            ..SearchRequest::default()
        };
        assert!(
            matches!(unknown.into_query(None), Err(Error::Invalid(m)) if m.starts_with("kinds:"))
        );
    }

    #[test]
    fn content_filters_and_facets_reach_the_query() {
        let query = SearchRequest {
            kinds: Some(vec!["content".to_owned()]),
            filter: Some(json!(
                "content_type IN [video, Course] AND price <= 2000 AND category_id = 3 AND creator = 9"
            )),
            currency: Some("EUR".to_owned()),
            facets: Some(vec!["*".to_owned()]),
            ..SearchRequest::default()
        }
        .into_query(None)
        .expect("valid");
        assert_eq!(query.kinds, [SearchKind::Content]);
        let content = &query.filters.content;
        assert_eq!(content.content_types, ["video", "course"]);
        assert_eq!(content.categories, [droply_models::CategoryId::new(3)]);
        assert_eq!(content.creators, [UserId::new(9)]);
        let price = query.filters.content_price.expect("price");
        assert_eq!((price.min_minor, price.max_minor), (None, Some(2000)));
        assert_eq!(query.content_facets, ContentFacet::ALL);
        assert!(query.facets.is_empty());
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

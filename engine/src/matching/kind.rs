//! [`SearchKind`]: the kinds of result one search can return (experts, content, live
//! drop-ins), as a request names them in `kinds`. Each kind has its own retrieval,
//! filters and facets; a search over several kinds returns one ranking with each hit
//! tagged by its kind.

use crate::{Error, Result};

/// A kind of result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SearchKind {
    /// Experts' public profiles (the default).
    Experts,
    /// Published content for sale.
    Content,
    /// Drop-ins live now.
    Dropins,
}

impl SearchKind {
    /// Every kind, in the order results of equal score are listed.
    pub const ALL: [SearchKind; 3] = [
        SearchKind::Experts,
        SearchKind::Content,
        SearchKind::Dropins,
    ];

    /// The name a request uses in `kinds` (`experts`, `content`, `dropins`).
    pub fn name(self) -> &'static str {
        match self {
            SearchKind::Experts => "experts",
            SearchKind::Content => "content",
            SearchKind::Dropins => "dropins",
        }
    }

    /// The tag one hit of this kind carries (`expert`, `content`, `dropin`).
    pub fn hit_tag(self) -> &'static str {
        match self {
            SearchKind::Experts => "expert",
            SearchKind::Content => "content",
            SearchKind::Dropins => "dropin",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<SearchKind> {
        SearchKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The kinds a request names: absent is experts only; an empty list or an unknown
    /// name is an [`Error::Invalid`] naming `kinds`. Sorted, each once.
    pub fn parse_list(names: Option<&[String]>) -> Result<Vec<SearchKind>> {
        let known = || {
            SearchKind::ALL
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(names) = names else {
            return Ok(vec![SearchKind::Experts]);
        };
        if names.is_empty() {
            return Err(Error::Invalid(format!(
                "kinds: name at least one of {}",
                known()
            )));
        }
        let mut kinds = names
            .iter()
            .map(|name| {
                SearchKind::parse(name).ok_or_else(|| {
                    Error::Invalid(format!(
                        "kinds: `{name}` is not a kind of result; use {}",
                        known()
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        kinds.sort_unstable();
        kinds.dedup();
        Ok(kinds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_default_to_experts_and_unknown_ones_are_refused() {
        assert_eq!(
            SearchKind::parse_list(None).expect("default"),
            [SearchKind::Experts]
        );
        let both = [
            "content".to_owned(),
            "experts".to_owned(),
            "content".to_owned(),
        ];
        assert_eq!(
            SearchKind::parse_list(Some(&both)).expect("both"),
            [SearchKind::Experts, SearchKind::Content]
        );
        for bad in [vec![], vec!["webinars".to_owned()]] {
            let err = SearchKind::parse_list(Some(&bad)).expect_err("refused");
            assert!(
                matches!(err, Error::Invalid(ref m) if m.starts_with("kinds:")),
                "{err}"
            );
        }
    }
}

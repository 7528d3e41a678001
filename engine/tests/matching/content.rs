//! Searching content, alone and with experts: one ranking with each hit tagged by its
//! kind, paging over the merged list, content filters and facets, a filter of another
//! kind refused, and an experts-only search unchanged by content in the store.

use droply_engine::Error;
use droply_engine::matching::{
    ContentFacet, MatchQuery, RankedHit, SearchKind, SearchRequest, SearchResults,
};
use droply_models::{CategoryId, Content, ContentId, ContentStatus, ContentType, UserId};
use serde_json::json;

use crate::fixtures::{category, content, eur};
use crate::market::{Market, Profile};

/// Adds a published item of `creator`; returns its id.
fn item(
    m: &Market,
    creator: UserId,
    title: &str,
    description: &str,
    content_type: ContentType,
    price_minor: i64,
    category: Option<CategoryId>,
) -> ContentId {
    let mut row: Content = content(creator, "2026-10-01T10:00:00Z");
    row.title = title.to_owned();
    row.description = description.to_owned();
    row.content_type = content_type;
    row.price = eur(price_minor);
    row.earnings = eur(0);
    row.category_id = category;
    m.store.contents().create(row).expect("content").id
}

fn run(m: &Market, request: SearchRequest) -> SearchResults {
    m.settle();
    let query = request.into_query(None).expect("valid request");
    m.matcher.search_kinds(&query).expect("search")
}

fn kinds(names: &[&str]) -> Option<Vec<String>> {
    Some(names.iter().map(|n| (*n).to_owned()).collect())
}

/// The hits as (kind, raw id).
fn tagged(results: &SearchResults) -> Vec<(SearchKind, u64)> {
    results
        .hits
        .iter()
        .map(|hit| match hit {
            RankedHit::Expert(e) => (SearchKind::Experts, e.expert.id.get()),
            RankedHit::Content(c) => (SearchKind::Content, c.content.id.get()),
            RankedHit::Dropin(d) => (SearchKind::Dropins, d.session.id.get()),
        })
        .collect()
}

/// A small market: a tax advisor and a yoga teacher, each selling content.
struct Shop {
    m: Market,
    tax: UserId,
    yoga: UserId,
    tax_course: ContentId,
    yoga_video: ContentId,
    vat_guide: ContentId,
}

fn shop() -> Shop {
    let mut m = Market::new();
    let tax = m.expert(&Profile {
        profession: "Tax Advisor",
        industry: "Finance",
        skills: ["Tax Returns", "Bookkeeping", "VAT"],
        tags: vec!["freelancers"],
        bio: "Files tax returns for freelancers.",
        ..Profile::default()
    });
    let yoga = m.expert(&Profile {
        profession: "Yoga Teacher",
        industry: "Health",
        skills: ["Yoga", "Meditation", "Breathing"],
        tags: vec!["stress"],
        bio: "Calm morning yoga classes.",
        ..Profile::default()
    });
    let books = m
        .store
        .categories()
        .create(category("Books"))
        .expect("category")
        .id;
    let tax_course = item(
        &m,
        tax,
        "Tax returns for freelancers",
        "A course on filing your own tax returns.",
        ContentType::Course,
        4_900,
        Some(books),
    );
    let yoga_video = item(
        &m,
        yoga,
        "Morning yoga flow",
        "Twenty minutes of gentle yoga.",
        ContentType::Video,
        900,
        None,
    );
    let vat_guide = item(
        &m,
        tax,
        "VAT guide",
        "How VAT works for small business, with tax examples.",
        ContentType::Document,
        0,
        Some(books),
    );
    Shop {
        m,
        tax,
        yoga,
        tax_course,
        yoga_video,
        vat_guide,
    }
}

#[test]
fn content_is_searched_by_words_and_meaning() {
    let s = shop();
    let by_words = run(
        &s.m,
        SearchRequest {
            kinds: kinds(&["content"]),
            q: Some("yoga".to_owned()),
            semantic_ratio: Some(0.0),
            ..SearchRequest::default()
        },
    );
    assert_eq!(
        tagged(&by_words),
        [(SearchKind::Content, s.yoga_video.get())]
    );
    let by_meaning = run(
        &s.m,
        SearchRequest {
            kinds: kinds(&["content"]),
            q: Some("gentle morning flow".to_owned()),
            semantic_ratio: Some(1.0),
            ..SearchRequest::default()
        },
    );
    assert_eq!(
        tagged(&by_meaning).first(),
        Some(&(SearchKind::Content, s.yoga_video.get()))
    );
    let RankedHit::Content(hit) = &by_meaning.hits[0] else {
        panic!("a content hit");
    };
    assert_eq!(hit.creator.id, s.yoga, "the creator comes with the hit");
}

#[test]
fn both_kinds_share_one_ranking_and_pages_cut_the_merged_list() {
    let s = shop();
    let request = |offset: usize, limit: usize| SearchRequest {
        kinds: kinds(&["experts", "content"]),
        q: Some("tax returns".to_owned()),
        offset: Some(offset),
        limit: Some(limit),
        ..SearchRequest::default()
    };
    let all = run(&s.m, request(0, 10));
    let hits = tagged(&all);
    assert!(
        hits.contains(&(SearchKind::Experts, s.tax.get())),
        "{hits:?}"
    );
    assert!(
        hits.contains(&(SearchKind::Content, s.tax_course.get())),
        "{hits:?}"
    );
    // The words match the tax advisor and the tax course best, whatever their kind.
    let top_two: Vec<_> = hits.iter().take(2).copied().collect();
    assert!(
        top_two.contains(&(SearchKind::Experts, s.tax.get())),
        "{hits:?}"
    );
    assert!(
        top_two.contains(&(SearchKind::Content, s.tax_course.get())),
        "{hits:?}"
    );
    let scores: Vec<f32> = all.hits.iter().map(RankedHit::score).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "one ranking, best first: {scores:?}"
    );
    assert_eq!(all.total, hits.len() as u64, "every match of both kinds");
    let first = tagged(&run(&s.m, request(0, 2)));
    let second = tagged(&run(&s.m, request(2, 2)));
    assert_eq!([first, second].concat(), hits[..4.min(hits.len())]);
}

#[test]
fn content_filters_restrict_content_and_other_kinds_filters_are_refused() {
    let s = shop();
    let content_only = |filter: &str| {
        let results = run(
            &s.m,
            SearchRequest {
                kinds: kinds(&["content"]),
                filter: Some(json!(filter)),
                currency: Some("EUR".to_owned()),
                limit: Some(50),
                ..SearchRequest::default()
            },
        );
        let mut ids: Vec<u64> = tagged(&results).into_iter().map(|(_, id)| id).collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(content_only("content_type = video"), [s.yoga_video.get()]);
    assert_eq!(
        content_only("content_type IN [course, document]"),
        [s.tax_course.get(), s.vat_guide.get()]
    );
    assert_eq!(
        content_only("price <= 1000"),
        [s.yoga_video.get(), s.vat_guide.get()]
    );
    assert_eq!(content_only("price > 1000"), [s.tax_course.get()]);
    assert_eq!(
        content_only(&format!("creator = {}", s.tax)),
        [s.tax_course.get(), s.vat_guide.get()]
    );
    let books =
        s.m.store
            .contents()
            .get(s.vat_guide)
            .expect("row")
            .category_id;
    let books = books.expect("a category").get();
    assert_eq!(
        content_only(&format!("category_id = {books}")),
        [s.tax_course.get(), s.vat_guide.get()]
    );

    for (kinds_asked, filter) in [
        (None, "content_type = video"),
        (kinds(&["experts"]), "price <= 1000"),
        (kinds(&["content"]), "industry = Finance"),
        (kinds(&["experts", "content"]), "creator = 1"),
    ] {
        let request = SearchRequest {
            kinds: kinds_asked.clone(),
            filter: Some(json!(filter)),
            currency: Some("EUR".to_owned()),
            ..SearchRequest::default()
        };
        let err = request.into_query(None).expect_err("refused");
        assert!(
            matches!(err, Error::InvalidFilter(ref m) if m.contains(filter.split(' ').next().unwrap_or_default())),
            "{kinds_asked:?} {filter}: {err}"
        );
    }
}

#[test]
fn facets_are_counted_per_kind() {
    let s = shop();
    let results = run(
        &s.m,
        SearchRequest {
            kinds: kinds(&["experts", "content"]),
            facets: Some(vec!["*".to_owned()]),
            limit: Some(50),
            ..SearchRequest::default()
        },
    );
    let field = |facet: ContentFacet| {
        results
            .content_facets
            .iter()
            .find(|(f, _)| *f == facet)
            .map(|(_, counts)| counts.clone())
            .unwrap_or_else(|| panic!("{facet:?} counted"))
    };
    let mut types = field(ContentFacet::ContentType);
    types.sort();
    assert_eq!(
        types,
        [
            ("course".to_owned(), 1),
            ("document".to_owned(), 1),
            ("video".to_owned(), 1)
        ]
    );
    let books =
        s.m.store
            .contents()
            .get(s.tax_course)
            .expect("row")
            .category_id;
    let books = books.expect("a category").get().to_string();
    assert_eq!(field(ContentFacet::CategoryId), [(books, 2)]);
    let industries = results
        .facets
        .iter()
        .find(|(f, _)| f.name() == "industry")
        .map(|(_, counts)| counts.len());
    assert_eq!(industries, Some(2), "expert facets count experts only");
    assert_eq!(results.total, 5, "two experts and three items");
}

#[test]
fn an_experts_only_search_ignores_content_and_drafts_are_never_found() {
    let s = shop();
    let draft = {
        let mut row = content(s.yoga, "2026-10-02T10:00:00Z");
        row.title = "Secret yoga retreat".to_owned();
        row.status = ContentStatus::Draft;
        s.m.store.contents().create(row).expect("draft").id
    };
    let experts_only = run(
        &s.m,
        SearchRequest {
            q: Some("yoga".to_owned()),
            ..SearchRequest::default()
        },
    );
    assert!(
        tagged(&experts_only)
            .iter()
            .all(|(kind, _)| *kind == SearchKind::Experts),
        "the default is experts only"
    );
    let plain = s.m.search(&MatchQuery::text("yoga"));
    assert_eq!(
        plain
            .hits
            .iter()
            .map(|h| h.expert.id.get())
            .collect::<Vec<_>>(),
        tagged(&experts_only)
            .iter()
            .map(|h| h.1)
            .collect::<Vec<_>>(),
        "the same answer as before kinds existed"
    );
    let content = run(
        &s.m,
        SearchRequest {
            kinds: kinds(&["content"]),
            q: Some("secret retreat".to_owned()),
            ..SearchRequest::default()
        },
    );
    assert!(
        !tagged(&content).contains(&(SearchKind::Content, draft.get())),
        "a draft is never a hit"
    );
}

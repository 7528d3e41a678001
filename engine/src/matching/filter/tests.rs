//! The filter parser: every supported form, and a refusal naming the problem for
//! each unsupported one.

use crate::matching::{Budget, MatchFilters};
use droply_models::{CategoryId, Currency};
use serde_json::{Value, json};

use super::{FilterError, SearchFilter};

fn parse(filter: Value) -> Result<MatchFilters, FilterError> {
    SearchFilter::parse(Some(&filter))?.into_match_filters(Some(Currency::EUR))
}

fn ok(filter: Value) -> MatchFilters {
    parse(filter.clone()).unwrap_or_else(|err| panic!("{filter}: {err}"))
}

fn refused(filter: Value) -> String {
    match parse(filter.clone()) {
        Ok(parsed) => panic!("{filter} was accepted as {parsed:?}"),
        Err(err) => err.to_string(),
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[test]
fn blank_filters_restrict_nothing() {
    assert_eq!(ok(json!(null)), MatchFilters::default());
    assert_eq!(ok(json!("  ")), MatchFilters::default());
    assert_eq!(ok(json!([])), MatchFilters::default());
    assert_eq!(
        SearchFilter::parse(None).and_then(|f| f.into_match_filters(None)),
        Ok(MatchFilters::default())
    );
}

#[test]
fn equality_on_list_fields_quoted_or_bare() {
    let filters = ok(json!(
        r#"industry = Finance AND profession = "Tax Advisor" and location='Berlin'"#
    ));
    assert_eq!(filters.experts.industries, strings(&["Finance"]));
    assert_eq!(filters.experts.professions, strings(&["Tax Advisor"]));
    assert_eq!(filters.experts.locations, strings(&["Berlin"]));
    let filters = ok(json!(r#"skills = "C\"++\\" AND specialty_tags = payments"#));
    assert_eq!(filters.experts.skills, strings(&["C\"++\\"]));
    assert_eq!(filters.experts.specialty_tags, strings(&["payments"]));
}

#[test]
fn in_lists_and_or_groups_on_one_field() {
    let filters = ok(json!(
        r#"skills IN [Rust, "Machine Learning"] AND category in [3, 4]"#
    ));
    assert_eq!(
        filters.experts.skills,
        strings(&["Rust", "Machine Learning"])
    );
    assert_eq!(
        filters.experts.categories,
        vec![CategoryId::new(3), CategoryId::new(4)]
    );
    let filters = ok(json!(
        r#"(industry = Finance OR industry = "Legal" OR industry IN [Health]) AND is_available = true"#
    ));
    assert_eq!(
        filters.experts.industries,
        strings(&["Finance", "Legal", "Health"])
    );
    assert!(filters.experts.available_only);
}

#[test]
fn the_array_form_ands_items_and_ors_inner_arrays() {
    let filters = ok(json!([
        ["location = Berlin", "location = Paris"],
        "rating >= 4.5",
        "is_featured = true"
    ]));
    assert_eq!(filters.experts.locations, strings(&["Berlin", "Paris"]));
    assert_eq!(filters.experts.min_rating, Some(4.5));
    assert!(filters.experts.featured_only);
}

#[test]
fn numeric_conditions() {
    let filters = ok(json!(
        "rating > 4 AND bookable_within_days <= 7 AND hourly_rate >= 5000 AND hourly_rate <= 9000"
    ));
    assert!(
        filters
            .experts
            .min_rating
            .is_some_and(|r| r > 4.0 && r < 4.001)
    );
    assert_eq!(filters.bookable_within_days, Some(7));
    assert_eq!(
        filters.budget,
        Some(Budget {
            currency: Currency::EUR,
            min_minor: Some(5000),
            max_minor: Some(9000),
        })
    );
    let filters = ok(json!("bookable_within_days < 7 AND hourly_rate < 100"));
    assert_eq!(filters.bookable_within_days, Some(6));
    assert_eq!(filters.budget.and_then(|b| b.max_minor), Some(99));
}

#[test]
fn an_hourly_rate_needs_a_currency() {
    let parsed = SearchFilter::parse(Some(&json!("hourly_rate >= 100"))).expect("parses");
    let err = parsed.into_match_filters(None).expect_err("no currency");
    assert!(err.to_string().contains("currency"), "{err}");
}

#[test]
fn refusals_name_the_problem() {
    for (filter, needle) in [
        (json!("salary >= 5"), "unknown field `salary`"),
        (
            json!("industry = Finance OR location = Berlin"),
            "different fields",
        ),
        (json!(r#"industry = "Finance"#), "unterminated string"),
        (json!("rating >= lots"), "rating: `lots`"),
        (json!("rating >= 7"), "rating"),
        (json!("category = x"), "not a category id"),
        (json!("bookable_within_days <= 0"), "bookable_within_days"),
        (json!("bookable_within_days <= 999"), "bookable_within_days"),
        (json!("bookable_within_days >= 3"), "takes `<=` or `<`"),
        (json!("hourly_rate >= -5"), "hourly_rate"),
        (json!("hourly_rate >= 1.5"), "hourly_rate"),
        (json!("is_available = false"), "only `is_available = true`"),
        (json!("is_available = maybe"), "compares with true"),
        (json!("industry > 3"), "takes `=` or IN"),
        (json!("industry != Finance"), "takes `=` or IN"),
        (json!("NOT industry = Finance"), "NOT"),
        (
            json!("industry = Finance AND"),
            "expected a condition at the end",
        ),
        (
            json!("industry = Finance location = Berlin"),
            "unexpected `location`",
        ),
        (json!("industry Finance"), "expected an operator"),
        (json!("industry ="), "expected a value"),
        (json!("industry IN []"), "lists no values"),
        (json!("industry IN [a b]"), "expected `,` or `]`"),
        (json!("(industry = a"), "expected `)` at the end"),
        (json!("industry = a AND industry = b"), "restricted twice"),
        (json!("rating >= 4 AND rating >= 3"), "two lower bounds"),
        (
            json!("hourly_rate >= 10 AND hourly_rate > 20"),
            "two bounds",
        ),
        (
            json!("hourly_rate >= 500 AND hourly_rate <= 100"),
            "nothing between",
        ),
        (
            json!("(industry = a AND location = b) OR industry = c"),
            "AND inside OR",
        ),
        (
            json!("rating >= 4 OR rating >= 3"),
            "only supported between",
        ),
        (json!("a ! b"), "`!` at column 3"),
        (json!(42), "must be a string or an array"),
        (json!([1]), "array items"),
        (json!([[1]]), "inner array"),
    ] {
        let message = refused(filter.clone());
        assert!(
            message.starts_with("filter: ") && message.contains(needle),
            "{filter}: {message:?} should mention {needle:?}"
        );
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowing() {
    let deep = format!("{}industry = a{}", "(".repeat(5000), ")".repeat(5000));
    assert!(refused(json!(deep)).contains("nest deeper"));
    let fine = format!("{}industry = a{}", "(".repeat(10), ")".repeat(10));
    assert_eq!(ok(json!(fine)).experts.industries, strings(&["a"]));
}

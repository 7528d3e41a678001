"""The search page: a query, a filter, facet counts and readable reasons."""

from conftest import shoot


def test_search_with_a_filter_shows_experts_with_reasons(page):
    page.goto("/")
    page.get_by_label("What do you need help with?").fill("tax advice")
    page.get_by_role("button", name="Search", exact=True).click()
    hits = page.locator("ol.hits > li")
    assert hits.count() > 0
    # Every kind is searched by default; the first hits are experts with reasons.
    first_expert = page.locator("article.hit-expert").first
    assert first_expert.locator("ul.reasons li").count() > 0
    shoot(page, "search")

    # A filter narrows to experts of one industry, and says why.
    industry = first_expert.locator(".headline").inner_text()
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Rating").select_option("")
    page.get_by_label("Available").select_option("30")
    page.get_by_role("button", name="Apply filters").click()
    assert "within_days=30" in page.url
    experts = page.locator("article.hit")
    assert experts.count() > 0
    kinds = set(experts.evaluate_all("els => els.map(e => e.dataset.kind)"))
    assert kinds == {"expert"}, kinds
    # Availability within 30 days is a reason people can read.
    reasons = " ".join(page.locator("ul.reasons li").all_inner_texts())
    assert "free" in reasons or "available" in reasons, reasons
    # Facet counts are links that narrow the search further.
    facet = page.locator("aside.facets section.facet").first.locator("a").first
    facet_text = facet.inner_text()
    facet.click()
    assert page.locator("article.hit").count() > 0
    assert industry is not None and facet_text


def test_a_bad_filter_value_is_told_not_a_server_error(page):
    response = page.goto("/?min_price=lots")
    assert response.status == 400
    assert "lowest price" in page.get_by_role("alert").inner_text()

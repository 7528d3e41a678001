"""An expert's profile page is drawn in their branding, in each layout."""

from conftest import shoot
from test_accessibility import audit
from experts import make_expert

LAYOUTS = ("classic", "modern", "minimal", "grid", "card")


def rgb(hex_color):
    """`#RRGGBB` as the browser computes it: `rgb(r, g, b)`."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def computed(page, selector, prop):
    return page.eval_on_selector(
        selector, f"el => getComputedStyle(el).getPropertyValue('{prop}')"
    )


def test_the_profile_wears_the_experts_branding(server, page):
    expert_id, name, token = make_expert(
        server,
        bio="<b>not bold</b> & honest",
        background_color="#FDF6E3",
        primary_color="#8B1E3F",
        font_family="Merriweather",
        font_size=18,
        profile_layout="card",
    )
    # The API reads the branding back as the page should draw it.
    status, profile = server.api("GET", f"/v1/experts/{expert_id}")
    assert status == 200
    branding = profile["branding"]
    assert branding["background_color"] == "#FDF6E3"
    assert branding["font_family"] == "merriweather"

    response = page.goto(f"/@{name}")
    assert response.status == 200
    assert computed(page, "body", "background-color") == rgb(branding["background_color"])
    font = computed(page, "body", "font-family")
    assert font.split(",")[0].strip().strip('"') == "Merriweather", font
    assert computed(page, "html", "font-size") == "18px"
    assert "layout-card" in page.locator("body").get_attribute("class")
    # The bio is text, never markup.
    assert page.locator(".bio").inner_text() == "<b>not bold</b> & honest"
    assert page.locator(".bio b").count() == 0
    assert page.get_by_role("heading", name="Book a session").is_visible()
    assert page.locator("button.slot").count() > 0
    shoot(page, "profile")


def test_each_layout_is_drawn_differently(server, page):
    _, name, token = make_expert(server)
    shapes = {}
    for layout in LAYOUTS:
        status, _ = server.api("PATCH", "/v1/users/me", {"profile_layout": layout}, token)
        assert status == 200
        page.goto(f"/@{name}")
        assert f"layout-{layout}" in page.locator("body").get_attribute("class")
        hero = page.locator(".profile-hero").bounding_box()
        booking = page.locator(".profile-booking").bounding_box()
        about = page.locator(".profile-about").bounding_box()
        shapes[layout] = (
            round(hero["x"]), round(hero["width"]),
            round(booking["x"]), round(booking["y"] - about["y"]), round(about["width"]),
        )
        shoot(page, f"profile-{layout}")
    assert len(set(shapes.values())) == len(LAYOUTS), shapes


def test_a_demo_expert_found_by_search_wears_their_branding(server, page):
    status, found = server.api("GET", "/v1/experts?limit=1")
    assert status == 200 and found["experts"], found
    expert = found["experts"][0]
    page.goto(f"/@{expert['username']}")
    branding = expert["branding"]
    assert computed(page, "body", "background-color") == rgb(branding["background_color"])
    assert computed(page, "html", "font-size") == f"{branding['font_size']}px"
    assert f"layout-{branding['profile_layout']}" in page.locator("body").get_attribute("class")


def test_an_unknown_username_is_the_404_page(page):
    response = page.goto("/@no_such_expert_here")
    assert response.status == 404
    assert page.get_by_role("alert").is_visible()


def test_the_profile_passes_the_accessibility_audit_on_a_phone(server, new_context):
    _, name, token = make_expert(server, linkedin_url="https://linkedin.com/in/someone")
    page = new_context(viewport={"width": 375, "height": 800}).new_page()
    for layout in LAYOUTS:
        status, _ = server.api("PATCH", "/v1/users/me", {"profile_layout": layout}, token)
        assert status == 200
        audit(page, f"/@{name}")

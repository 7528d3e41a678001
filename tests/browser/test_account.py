"""The account pages: the overview after signing up, the profile form, and
the branding editor's live preview with its contrast warning."""

from conftest import shoot, sign_up


def test_the_account_shows_who_signed_up_and_the_profile_saves(page):
    name, _ = sign_up(page, "acct")
    assert page.get_by_role("heading", name="My account").is_visible()
    assert f"@{name}" in page.locator(".account-summary").inner_text()
    assert "/signup?ref=" in page.get_by_label("Your referral link").input_value()
    shoot(page, "account")

    page.get_by_role("link", name="Profile", exact=True).click()
    page.get_by_label("Profession").fill("Tax Advisor")
    page.get_by_label("Hourly rate").fill("90.50")
    page.get_by_label("Tags").fill("tax, vat")
    page.get_by_role("button", name="Save profile").click()
    assert page.get_by_role("status").filter(has_text="saved").is_visible()
    assert page.get_by_label("Hourly rate").input_value() == "90.50"

    page.get_by_label("Hourly rate").fill("12.345")
    page.get_by_role("button", name="Save profile").click()
    assert page.get_by_role("alert").is_visible()


def test_the_branding_preview_follows_the_inputs_and_warns_on_low_contrast(page):
    sign_up(page, "brand")
    page.goto("/account/branding")
    preview = page.locator("#brand-preview")
    before = preview.evaluate("el => getComputedStyle(el).backgroundColor")
    assert page.locator(".contrast-warning").count() == 0

    page.get_by_label("Background").fill("#888888")
    page.get_by_label("Text (secondary colour)").fill("#777777")
    after = preview.evaluate("el => getComputedStyle(el).backgroundColor")
    assert after == "rgb(136, 136, 136)", after
    assert after != before
    report = page.locator("#contrast-report")
    assert report.get_attribute("role") == "status"
    warning = page.locator(".contrast-warning").first
    assert warning.is_visible()
    assert "below the 4.5:1" in warning.inner_text()

    page.get_by_label("Typeface").select_option("merriweather")
    assert "Merriweather" in preview.evaluate("el => getComputedStyle(el).fontFamily")
    page.get_by_label("grid").check()
    assert preview.get_attribute("data-layout") == "grid"
    shoot(page, "branding")

    # Saved, the server checks the same contrast and still warns.
    page.get_by_role("button", name="Save branding").click()
    assert page.get_by_role("status").filter(has_text="saved").is_visible()
    assert page.locator(".contrast-warning").first.is_visible()
    assert page.get_by_label("Background").input_value() == "#888888"

    # Readable colours clear the warning live.
    page.get_by_label("Background").fill("#ffffff")
    page.get_by_label("Text (secondary colour)").fill("#111111")
    page.get_by_label("Primary colour").fill("#1d4ed8")
    assert page.locator(".contrast-warning").count() == 0

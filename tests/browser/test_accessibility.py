"""Every page, anonymous and signed in, checked in the browser for the basics
of accessibility: one h1, a label for every form control, alt text on every
image, a skip link to the main content, focus reaching the first link with
Tab, and no sideways scrolling at 375 px."""

import pytest

from conftest import sign_up

# Pages anyone can open, and pages that need a signed-in viewer.
PUBLIC = ["/", "/?q=tax+advice", "/signin", "/signup"]
SIGNED_IN = ["/account", "/account/profile", "/account/branding", "/account/availability", "/account/earnings"]

AUDIT = """() => {
  const problems = [];
  const h1s = document.querySelectorAll('h1');
  if (h1s.length !== 1) problems.push(`${h1s.length} h1 elements`);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || el.type === 'submit') continue;
    const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`))
      || el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push(`unlabelled ${el.tagName} ${el.name}`);
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`img without alt: ${img.src}`);
  }
  for (const button of document.querySelectorAll('button')) {
    if (!button.textContent.trim() && !button.getAttribute('aria-label')) problems.push('a button without a name');
  }
  if (!document.querySelector('a.skip-link[href="#main"]') || !document.getElementById('main')) {
    problems.push('no skip link to #main');
  }
  const width = document.documentElement.scrollWidth;
  if (width > window.innerWidth + 1) problems.push(`scrolls sideways: ${width} > ${window.innerWidth}`);
  return problems;
}"""


def audit(page, path):
    response = page.goto(path)
    assert response.status == 200, f"{path}: {response.status}"
    page.wait_for_load_state("networkidle")
    problems = page.evaluate(AUDIT)
    assert problems == [], f"{path}: {problems}"
    # Keyboard: the first Tab lands on the skip link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link", path


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_are_accessible_on_a_phone(new_context, path):
    page = new_context(viewport={"width": 375, "height": 800}).new_page()
    audit(page, path)


def test_signed_in_pages_are_accessible_on_a_phone(new_context):
    page = new_context(viewport={"width": 375, "height": 800}).new_page()
    sign_up(page, "a11y")
    for path in ["/"] + SIGNED_IN:
        audit(page, path)

"""Reviewing cards in a real Chromium: by keyboard without reloads, and with plain forms."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.steps import create_page, sign_in
from tests.e2e.test_accessibility import blocking_violations

pytestmark = pytest.mark.e2e

DECK = """\
Cards for the browser tests.

- Capital of France :: Paris
- ==Flask== is a micro framework #card
"""


@pytest.fixture(scope="module")
def deck(browser, server, admin) -> str:
    from tests.e2e.conftest import BASE_OPTIONS

    context = browser.new_context(base_url=server.url, storage_state=str(admin.state),
                                  **BASE_OPTIONS)
    slug = create_page(context.new_page(), "Review Deck", DECK)
    context.close()
    return slug


def question(page: Page):
    return page.locator(".review-card__question")


def test_a_reader_reviews_by_keyboard_without_reloading(new_context, reader, deck):
    page = new_context().new_page()
    sign_in(page, reader)
    page.goto(f"/wiki/{deck}")
    page.get_by_role("link", name="Review this page (2 review cards)").click()
    expect(question(page)).to_have_text("Capital of France")
    expect(page.get_by_text("Paris")).to_have_count(0)
    page.evaluate("window.stillTheSamePage = true")  # a reload would forget it

    page.keyboard.press("Space")
    expect(page.locator("#review-answer")).to_contain_text("Paris")
    expect(page.locator("#review-answer")).to_be_focused()
    page.keyboard.press("3")
    expect(question(page)).to_have_text("[…] is a micro framework")
    page.keyboard.press("Space")
    expect(page.locator("#review-answer")).to_contain_text("Flask")
    page.keyboard.press("4")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing to review now")
    expect(page.get_by_text("Your next card is due")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True

    page.goto("/review/stats")
    expect(page.locator(".review-stats__numbers")).to_contain_text("Learning")
    expect(page.locator("svg.chart__svg rect.chart__bar")).to_have_count(1)


def test_without_javascript_the_plain_link_and_forms_review(new_context, admin, deck):
    page = new_context(admin, java_script_enabled=False).new_page()
    page.goto(f"/review?under={deck}")
    expect(question(page)).to_have_text("Capital of France")
    page.get_by_role("link", name="Show answer").click()
    expect(page.locator("#review-answer")).to_contain_text("Paris")
    page.get_by_role("button", name="Good").click()
    expect(question(page)).to_have_text("[…] is a micro framework")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_review_screens_have_no_serious_accessibility_problem(new_context, admin, deck, scheme):
    axe = Axe()
    page = new_context(admin, color_scheme=scheme).new_page()
    screens = {}
    page.goto(f"/review?under={deck}")
    screens["question"] = blocking_violations(axe, page)
    page.keyboard.press("Space")
    expect(page.locator("#review-answer")).to_be_visible()
    screens["answer"] = blocking_violations(axe, page)
    page.goto("/review?tag=no-such-tag")
    screens["nothing due"] = blocking_violations(axe, page)
    page.goto("/review/stats")
    screens["stats"] = blocking_violations(axe, page)
    page.goto("/account")
    screens["account"] = blocking_violations(axe, page)
    assert {name: problems for name, problems in screens.items() if problems} == {}

"""A long page's table of contents in a real Chromium: beside the text and sticky on wide
screens, marking the section being read; folded behind one line on a phone. And red links
that differ from links by more than colour."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.steps import BASE_OPTIONS, create_page
from tests.e2e.test_accessibility import blocking_violations

pytestmark = pytest.mark.e2e

PARAGRAPH = ("A paragraph long enough to take several lines on any screen, so that each section "
             "is taller than the window and scrolling moves from one section to the next. ") * 6
SECTIONS = ["Install", "Configure", "Deploy", "Upgrade"]
BODY = "Read [[Nobody Wrote This Yet]] first, or [[Guide Contents]].\n\n" + "\n\n".join(
    f"## {name}\n\n{PARAGRAPH}\n\n### {name} in detail\n\n{PARAGRAPH}\n\n{PARAGRAPH}"
    for name in SECTIONS)


@pytest.fixture(scope="module")
def guide(browser, server, admin) -> str:
    context = browser.new_context(base_url=server.url, storage_state=str(admin.state),
                                  **BASE_OPTIONS)
    page = context.new_page()
    create_page(page, "Guide Contents", "The page the guide links to.")
    slug = create_page(page, "Deployment Guide", BODY)
    context.close()
    return slug


def open_guide(new_context, admin, guide, width: int, **options) -> Page:
    page = new_context(admin, viewport={"width": width, "height": 800}, **options).new_page()
    page.goto(f"/wiki/{guide}")
    return page


def box(page: Page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_contents_stand_beside_the_text_and_stay_in_view(new_context, admin, guide, width):
    page = open_guide(new_context, admin, guide, width)
    contents = page.get_by_role("navigation", name="Contents")
    expect(contents.get_by_role("link", name="Configure in detail")).to_be_visible()
    assert box(page, ".page-toc")["x"] >= box(page, ".markdown")["x"] + \
        box(page, ".markdown")["width"], "the contents are not right of the text"
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.locator("#h-deploy-in-detail").scroll_into_view_if_needed()
    page.mouse.wheel(0, 600)
    expect(page.locator("#h-install")).not_to_be_in_viewport()
    expect(contents.get_by_role("link", name="Install", exact=True)).to_be_in_viewport()
    top = box(page, ".page-toc")["y"]
    assert 0 <= top < 100, f"the contents scrolled away (top at {top})"


def test_the_section_being_read_is_marked_in_the_contents(new_context, admin, guide):
    page = open_guide(new_context, admin, guide, 1280)
    contents = page.get_by_role("navigation", name="Contents")
    current = contents.locator("[aria-current=location]")
    for heading, name in (("#h-configure", "Configure"), ("#h-deploy-in-detail",
                          "Deploy in detail"), ("#h-install", "Install")):
        page.locator(heading).evaluate("heading => heading.scrollIntoView()")
        expect(current).to_have_count(1)
        expect(current).to_have_text(name)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")  # one jump
    expect(current).to_have_text("Upgrade in detail")


def test_without_javascript_wide_screens_still_show_the_contents(new_context, admin, guide):
    page = open_guide(new_context, admin, guide, 1280, java_script_enabled=False)
    link = page.get_by_role("navigation", name="Contents").get_by_role("link", name="Upgrade",
                                                                        exact=True)
    expect(link).to_be_visible()
    assert box(page, ".page-toc")["x"] > box(page, ".markdown")["x"]


def test_on_a_phone_the_contents_fold_behind_one_line_above_the_text(new_context, admin, guide):
    page = open_guide(new_context, admin, guide, 360)
    summary = page.locator(".page-toc summary")
    expect(summary).to_have_text("Contents")
    contents = page.get_by_role("navigation", name="Contents")
    expect(contents.get_by_role("link", name="Install", exact=True)).to_be_hidden()
    assert box(page, ".page-toc")["height"] < 60
    expect(page.get_by_text("Read Nobody Wrote This Yet first")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    summary.click()
    expect(contents.get_by_role("link", name="Install", exact=True)).to_be_visible()
    contents.get_by_role("link", name="Deploy in detail").click()
    expect(page.locator("#h-deploy-in-detail")).to_be_in_viewport()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_red_links_differ_from_links_by_more_than_colour(new_context, admin, guide, scheme):
    page = open_guide(new_context, admin, guide, 1280, color_scheme=scheme)
    style = "link => getComputedStyle(link).textDecorationStyle"
    red = page.get_by_role("link", name="Nobody Wrote This Yet")
    blue = page.locator(".markdown").get_by_role("link", name="Guide Contents")
    assert red.evaluate(style) == "dotted"
    assert blue.evaluate(style) == "solid"
    expect(red).to_have_attribute("title", "create this page")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [360, 1280])
def test_the_contents_pass_axe_open_folded_and_marked(new_context, admin, guide, width, scheme):
    page = open_guide(new_context, admin, guide, width, color_scheme=scheme)
    if width == 360:
        page.locator(".page-toc summary").click()
    page.locator("#h-configure").evaluate("heading => heading.scrollIntoView()")
    expect(page.locator("[aria-current=location]")).to_have_text("Configure")
    problems = blocking_violations(Axe(), page)
    assert not problems, f"axe on the contents at {width} px ({scheme}):\n{problems}"


def test_beside_the_text_the_summary_folds_the_contents_away(new_context, admin, guide):
    page = open_guide(new_context, admin, guide, 1280)
    link = page.get_by_role("navigation", name="Contents").get_by_role("link", name="Deploy",
                                                                        exact=True)
    expect(link).to_be_visible()
    page.locator(".page-toc summary").click()
    expect(link).to_be_hidden()


FOOTNOTE_LINES = """() => {
    const widths = [];
    const rule = document.querySelector('.markdown hr.footnotes-sep');
    const notes = document.querySelector('.markdown .footnotes');
    const style = getComputedStyle(rule);
    for (const side of ['borderTopWidth', 'borderBottomWidth']) widths.push(style[side]);
    widths.push(getComputedStyle(notes).borderTopWidth);
    return widths.filter(width => parseFloat(width) > 0).length;
}"""


def test_one_thin_line_sets_the_footnotes_apart(new_context, admin):
    """The footnotes were under a double line (the rule's two inset borders, then the list's
    own top border): one line is enough."""
    page = new_context(admin).new_page()
    create_page(page, "Footnoted", "A claim.[^1]\n\n[^1]: Its source.")
    expect(page.locator(".markdown .footnotes")).to_contain_text("Its source.")
    assert page.evaluate(FOOTNOTE_LINES) == 1

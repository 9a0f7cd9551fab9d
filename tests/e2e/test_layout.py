"""The layout grid as the browser draws it: wide screens really wide, edges that line up,
long titles that wrap, a footer at the bottom, an editor whose parts never overlap, and a
phone header that leaves room for the page."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.steps import create_page, page_width, show_live_preview, site_link, too_wide

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
LONG_TITLE = "Unbroken" + "x" * 192  # 200 characters and not one place to break a line


def box(locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found, f"{locator} is not drawn"
    return found


def overlap(one: dict[str, float], other: dict[str, float]) -> bool:
    return (one["x"] < other["x"] + other["width"] and other["x"] < one["x"] + one["width"]
            and one["y"] < other["y"] + other["height"] and other["y"] < one["y"] + one["height"])


FITS_ITS_BOX = "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth + 1"


def wrapped_times(page: Page) -> list[str]:
    """The relative times ("3 minutes ago") drawn on more than one line."""
    return page.evaluate("""() => [...document.querySelectorAll('main time')]
        .filter(time => time.getClientRects().length > 1).map(time => time.textContent)""")


@pytest.fixture(scope="module")
def long_titled(browser, server, admin) -> str:
    """A page whose title is 200 characters without a space, saved twice (so a history)."""
    context = browser.new_context(base_url=server.url, storage_state=str(admin.state))
    page = context.new_page()
    slug = create_page(page, LONG_TITLE, "A title a layout must wrap.")
    create_page(page, LONG_TITLE, "A title a layout must wrap, twice.", slug=slug,
                summary="A summary with a long word: " + "y" * 120)
    context.close()
    return slug


def test_a_side_by_side_diff_uses_the_width_of_a_laptop_screen(new_context, admin, sample_page):
    page = new_context(admin).new_page()  # 1280 × 800
    page.goto(f"/diff/{sample_page}?from=1&to=2&view=split")
    assert box(page.locator("table.diff"))["width"] > 900


def test_header_text_and_footer_start_at_one_left_edge(new_context, admin, sample_page):
    for width in (768, 1280, 1920):
        page = new_context(admin, viewport={"width": width, "height": 800}).new_page()
        for path in (f"/wiki/{sample_page}", f"/diff/{sample_page}?from=1&to=2", "/recent"):
            page.goto(path)
            edges = {name: round(box(page.locator(selector).first)["x"]) for name, selector in
                     {"site name": ".site-name", "heading": "main h1",
                      "footer": ".site-footer p"}.items()}
            assert len(set(edges.values())) == 1, f"{path} at {width} px: {edges}"


def test_the_footer_sits_at_the_bottom_of_a_short_page(new_context):
    page = new_context().new_page()  # 1280 × 800, signed out: the short sign-in page
    page.goto("/login")
    footer = box(page.get_by_role("contentinfo"))
    assert round(footer["y"] + footer["height"]) == 800


def test_long_titles_wrap_and_times_stay_on_one_line(new_context, admin, long_titled):
    for options in ({}, PHONE):
        page = new_context(admin, **options).new_page()
        width = page.viewport_size["width"]
        for path in ("/recent", f"/history/{long_titled}", "/pages", f"/wiki/{long_titled}",
                     f"/search?q={LONG_TITLE}"):
            page.goto(path)
            assert page_width(page) <= width, f"{path} at {width} px: {too_wide(page, width)}"
            assert not wrapped_times(page), f"{path} at {width} px: {wrapped_times(page)}"
            for table in page.locator("main table.listing").all():  # wrapped, not scrolled
                assert table.evaluate(FITS_ITS_BOX), f"{path} at {width} px: the table scrolls"


def test_the_editor_with_preview_is_wide_aligned_and_nothing_overlaps(new_context, admin,
                                                                      sample_page):
    page = new_context(admin).new_page()  # 1280 × 800
    page.goto(f"/edit/{sample_page}")
    show_live_preview(page)
    text = box(page.get_by_label("Text (Markdown)"))
    preview = box(page.get_by_role("region", name="Live preview"))
    summary_label = box(page.locator("label", has_text="Edit summary"))
    assert not overlap(text, summary_label), (text, summary_label)
    assert not overlap(text, preview), (text, preview)
    header = box(page.locator(".site-name"))
    assert round(text["x"]) == round(header["x"])  # aligned with the header...
    assert preview["x"] + preview["width"] <= 1280 - 16  # ...not edge to edge
    assert preview["x"] + preview["width"] - text["x"] > 1000  # and wide
    assert abs(preview["height"] - (box(page.locator(".field--body"))["height"])) < 1


def test_the_phone_header_leaves_the_first_screen_to_the_page(new_context, admin, sample_page):
    page = new_context(admin, **PHONE).new_page()
    page.goto(f"/wiki/{sample_page}")
    assert box(page.get_by_role("banner"))["height"] < 740 / 5
    expect(page.get_by_role("search")).to_be_visible()
    expect(page.get_by_role("link", name="Recent changes")).to_be_hidden()
    site_link(page, "Recent changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recent changes")


def test_the_phone_menu_opens_without_javascript(new_context, admin):
    page = new_context(admin, java_script_enabled=False, **PHONE).new_page()
    page.goto("/pages")
    expect(page.get_by_role("link", name="New page")).to_be_hidden()
    page.locator("summary", has_text="Menu").click()
    expect(page.get_by_role("link", name="New page")).to_be_visible()

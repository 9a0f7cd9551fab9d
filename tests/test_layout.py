"""The layout's structure, as the server writes it: each screen says how wide its content
runs, the header's links fold behind a menu that needs no script, listings are tables.
What the browser draws from it (widths, edges, overlaps) is checked in tests/e2e/test_layout.py.
"""

from html.parser import HTMLParser

import pytest

from tests.helpers import save_page


class Elements(HTMLParser):
    """Every element's tag, classes and the tags of its open ancestors, in document order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, set[str], list[str], dict[str, str]]] = []
        self.open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.found.append((tag, set(attributes.get("class", "").split()), list(self.open),
                           attributes))
        if tag not in {"meta", "link", "input", "br", "img", "hr", "source", "col", "wbr"}:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag):]

    def with_class(self, name: str):
        return [(tag, ancestors, attributes) for tag, classes, ancestors, attributes in self.found
                if name in classes]


def elements(response) -> Elements:
    assert response.status_code == 200
    return Elements(response.get_data(as_text=True))


def main_classes(page: Elements) -> set[str]:
    (classes,) = [classes for tag, classes, _, _ in page.found if tag == "main"]
    return classes


@pytest.fixture
def changed_page(editor):
    save_page(editor, "notes", "Notes", "first text\n")
    save_page(editor, "notes", "Notes", "first text\nsecond line\n")
    return "notes"


@pytest.mark.parametrize("url", ["/diff/notes?from=1&to=2", "/diff/notes?from=1&to=2&view=split",
                                 "/recent", "/history/notes"])
def test_diffs_and_tables_of_changes_render_in_the_wide_layout(editor, changed_page, url):
    page = elements(editor.get(url))
    assert {"content", "content--wide"} <= main_classes(page)
    # The width is the main element's own, never a wrapper inside the prose column.
    assert [tag for tag, _, _ in page.with_class("content--wide")] == ["main"]
    assert "content--prose" not in main_classes(page)


@pytest.mark.parametrize("url", ["/wiki/notes", "/edit/notes", "/search?q=text", "/pages"])
def test_reading_and_writing_screens_keep_the_prose_measure(editor, changed_page, url):
    assert {"content", "content--prose"} <= main_classes(elements(editor.get(url)))


def test_header_content_and_footer_share_one_frame(editor, changed_page):
    page = elements(editor.get("/wiki/notes"))
    framed = [(tag, ancestors[-1] if ancestors else None)
              for tag, ancestors, _ in page.with_class("frame")]
    assert framed == [("div", "header"), ("main", "body"), ("div", "footer")]


def test_the_site_s_links_fold_behind_a_menu_that_needs_no_script(editor):
    page = elements(editor.get("/pages"))
    (menu,) = page.with_class("site-menu")
    assert menu[0] == "details" and "open" not in menu[2]  # closed until asked, on a phone
    (toggle,) = page.with_class("site-menu__toggle")
    assert toggle[0] == "summary" and toggle[1][-1] == "details"
    nav = [ancestors for tag, _, ancestors, attributes in page.found
           if tag == "nav" and attributes.get("aria-label") == "Site"]
    assert nav == [[*menu[1], "details"]]  # the site's links sit inside the menu


@pytest.mark.parametrize(("url", "title_cells"), [("/recent", 3), ("/pages", 2),
                                                   ("/history/notes", 0)])
def test_listings_mark_title_cells_and_times_that_must_not_wrap(editor, changed_page, url,
                                                                title_cells):
    save_page(editor, "x" * 200, "x" * 200, "a page with a long unbroken title")
    page = elements(editor.get(url))
    assert len(page.with_class("listing__title")) == title_cells
    when = page.with_class("listing__when")
    assert when
    times = [attributes for tag, _, _, attributes in page.found if tag == "time"]
    assert len(times) == len(when) and all("datetime" in time for time in times)


def test_search_results_show_title_address_and_snippet(editor):
    save_page(editor, "flask/routing", "Flask/Routing", "How a request finds its view function.")
    html = editor.get("/search?q=request").get_data(as_text=True)
    assert '<p class="search-result__path">/wiki/flask/routing</p>' in html
    assert html.index("search-result__title") < html.index("search-result__path") \
        < html.index("search-result__snippet")

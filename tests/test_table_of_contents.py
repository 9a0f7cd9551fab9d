"""A page's table of contents: the outline of its headings, nested, shown apart from the text
(beside it on wide screens, folded above it on narrow ones)."""

import re
from html.parser import HTMLParser

from sqlalchemy import select

from tests.helpers import save_page
from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services.contents import contents_and_text
from wiki.services.rendering import render

OUTLINE = """\
## Install
### On Debian
### On macOS
#### With Homebrew
## Configure
### Settings
## Deploy
"""


class Outline(HTMLParser):
    """The tree of a contents list: each link's text with the links nested under it."""

    def __init__(self) -> None:
        super().__init__()
        self.root: list = []
        self.lists = [self.root]
        self.text: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "ol" and self.lists[-1]:  # a list inside the last item
            self.lists.append(self.lists[-1][-1][1])
        elif tag == "a":
            self.text = ""

    def handle_endtag(self, tag) -> None:
        if tag == "ol" and len(self.lists) > 1:
            self.lists.pop()
        elif tag == "a":
            self.lists[-1].append((self.text, []))
            self.text = None

    def handle_data(self, data) -> None:
        if self.text is not None:
            self.text += data


def outline(html: str) -> list:
    parser = Outline()
    parser.feed(html)
    return parser.root


EXPECTED = [
    ("Install", [("On Debian", []), ("On macOS", [("With Homebrew", [])])]),
    ("Configure", [("Settings", [])]),
    ("Deploy", []),
]


def test_the_contents_nest_each_heading_under_the_one_above_it():
    html = render(OUTLINE).html
    contents, text = contents_and_text(html)
    assert outline(contents) == EXPECTED
    assert outline(re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)) == EXPECTED
    assert text.startswith('<h2 id="h-install">') and "toc" not in text


def test_a_skipped_level_nests_once_and_what_follows_stays_beside_it():
    contents, _ = contents_and_text(render("## A\n#### Deep\n### Less deep\n## B\n").html)
    assert outline(contents) == [("A", [("Deep", []), ("Less deep", [])]), ("B", [])]
    contents, _ = contents_and_text(render("### Early\n## A\n### Under A\n").html)
    assert outline(contents) == [("Early", []), ("A", [("Under A", [])])]


def test_heading_text_in_the_contents_stays_escaped():
    contents, _ = contents_and_text(render("## <b>1</b> & 2\n## B\n## C\n").html)
    assert "&lt;b&gt;1&lt;/b&gt; &amp; 2" in contents and "<b>" not in contents


def test_a_heading_without_text_has_no_entry_an_empty_link():
    contents, text = contents_and_text(render("## A\n##\n## ![](x.png)\n## B\n## C\n").html)
    assert outline(contents) == [("A", []), ("B", []), ("C", [])]
    assert "></a>" not in contents and text.count("<h2") == 5
    assert contents_and_text(render("## A\n##\n## B\n").html)[0] == ""  # two named: none


def test_text_without_contents_is_left_whole():
    html = render("## One\n\nJust two.\n\n## Two\n").html
    assert contents_and_text(html) == ("", html)


# As render() wrote the contents before they were nested.
FLAT = ('<nav class="toc" aria-label="Contents"><h2 class="toc__title">Contents</h2><ol>'
        '<li class="toc__level-1"><a href="#h-install">Install</a></li>'
        '<li class="toc__level-2"><a href="#h-on-debian">On Debian</a></li>'
        '<li class="toc__level-2"><a href="#h-on-macos">On macOS</a></li>'
        '<li class="toc__level-3"><a href="#h-with-homebrew">With Homebrew</a></li>'
        '<li class="toc__level-1"><a href="#h-configure">Configure</a></li>'
        '<li class="toc__level-2"><a href="#h-settings">Settings</a></li>'
        '<li class="toc__level-1"><a href="#h-deploy">Deploy</a></li></ol></nav>\n')


def current_html(app, slug: str, html: str | None = None) -> str:
    """The stored HTML of *slug*'s current revision; replaced by *html* when given."""
    with app.app_context():
        revision = db.session.scalar(
            select(Revision).join(Page, Page.current_revision_id == Revision.id)
            .where(Page.slug == slug))
        if html is not None:
            revision.html = html
            db.session.commit()
        return revision.html


def test_pages_stored_with_flat_contents_show_them_nested(app, editor, runner):
    save_page(editor, "setup", "Setup", OUTLINE)
    nested = current_html(app, "setup")
    current_html(app, "setup", FLAT + nested.split("</nav>\n", 1)[1])  # as stored before
    page = editor.get("/wiki/setup").get_data(as_text=True)
    folded = re.search(r'<details class="toc" data-toc>\s*<summary class="toc__title">Contents'
                       r'</summary>\s*<nav aria-label="Contents">(.*?)</nav>\s*</details>',
                       page, re.S)
    assert folded, "no contents folded behind one line"
    assert outline(folded[1]) == EXPECTED

    assert runner.invoke(args=["pages", "reindex"]).exit_code == 0
    assert current_html(app, "setup") == nested  # the stored contents nested too


def test_the_page_shows_its_contents_folded_in_a_side_column_and_loads_their_script(editor):
    save_page(editor, "setup", "Setup", OUTLINE)
    page = editor.get("/wiki/setup").get_data(as_text=True)
    assert '<article class="page page-with-toc"' in page
    aside = re.search(r'<aside class="page-toc">\s*<details class="toc" data-toc>(.*?)</details>'
                      r'\s*</aside>', page, re.S)
    assert aside and outline(aside[1]) == EXPECTED
    assert "<details class=\"toc\" data-toc open" not in page  # phones: folded until asked
    assert page.count('aria-label="Contents"') == 1  # shown once, not also in the text
    assert re.search(r'<script src="/static/js/toc\.js\?v=\w+" defer></script>', page)
    assert page.index('class="page-toc"') < page.index('<div class="markdown">')

    save_page(editor, "short", "Short", "## One\n\n## Two\n")
    short = editor.get("/wiki/short").get_data(as_text=True)
    assert "page-with-toc" not in short and "toc.js" not in short

"""Math and diagrams through HTTP: the page, its policy and scripts, the feed, search, history."""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from sqlalchemy import select

from tests.helpers import save_page
from wiki.extensions import db
from wiki.models import Page, Revision

ATOM = "{http://www.w3.org/2005/Atom}"
DIAGRAM = "```mermaid\nflowchart LR\n  A --> B\n```\n"
SCRIPT_TAGS = re.compile(r"<script\b[^>]*>")


def style_policy(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("style-src"))


def script_policy(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("script-src"))


def scripts(html: str) -> list[str]:
    return SCRIPT_TAGS.findall(html)


def test_a_page_with_a_diagram_loads_the_diagram_script_and_lets_mermaid_style_it(editor):
    save_page(editor, "flow", "Flow", "Before.\n\n" + DIAGRAM)
    response = editor.get("/wiki/flow")
    html = response.get_data(as_text=True)
    (diagram_script,) = [tag for tag in scripts(html) if "diagrams.js" in tag]
    assert "defer" in diagram_script
    assert re.search(r'data-mermaid-url="/static/vendor/mermaid/mermaid\.min\.js\?v=[0-9a-f]{10}"',
                     diagram_script)
    assert all("src=" in tag for tag in scripts(html)), "inline script"
    assert '<div class="diagram"><pre class="diagram__source">' in html
    assert style_policy(response) == "style-src 'self' 'unsafe-inline'"
    assert script_policy(response) == "script-src 'self'"


def test_a_page_without_a_diagram_keeps_the_strict_policy_and_loads_no_mermaid(editor):
    save_page(editor, "plain", "Plain", "Just $x^2$ and `code`.\n\n```python\nx = 1\n```\n")
    response = editor.get("/wiki/plain")
    html = response.get_data(as_text=True)
    assert "<math" in html
    assert "diagrams.js" not in html and "mermaid" not in html
    assert style_policy(response) == "style-src 'self'"


def test_an_old_revision_with_a_diagram_gets_what_it_needs(editor):
    save_page(editor, "flow", "Flow", DIAGRAM)
    save_page(editor, "flow", "Flow", "No diagram any more.")
    assert style_policy(editor.get("/wiki/flow")) == "style-src 'self'"
    old = editor.get("/wiki/flow?rev=1")
    assert "diagrams.js" in old.get_data(as_text=True)
    assert style_policy(old) == "style-src 'self' 'unsafe-inline'"


def test_a_diagram_page_answered_from_a_cache_keeps_its_policy(editor, client):
    save_page(editor, "flow", "Flow", DIAGRAM)
    first = editor.get("/wiki/flow")
    revalidated = editor.get("/wiki/flow", headers={"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304
    assert style_policy(revalidated) == "style-src 'self' 'unsafe-inline'"
    for _ in range(2):  # rendered, then the worker's kept copy for anonymous readers
        kept = client.get("/wiki/flow")
        assert kept.status_code == 200
        assert style_policy(kept) == "style-src 'self' 'unsafe-inline'"


def test_the_editor_can_draw_diagrams_in_its_preview(editor):
    save_page(editor, "plain", "Plain", "No diagram yet.")
    for url in ("/edit/plain", "/new"):
        response = editor.get(url)
        assert response.status_code == 200
        assert any("diagrams.js" in tag for tag in scripts(response.get_data(as_text=True)))
        assert style_policy(response) == "style-src 'self' 'unsafe-inline'"
        assert script_policy(response) == "script-src 'self'"


def test_the_live_preview_typesets_math(editor):
    page = editor.get("/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = editor.post("/api/v1/preview", data={"body": "$E = mc^2$\n\n" + DIAGRAM},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    html = answer.get_json()["html"]
    assert '<math display="inline">' in html and "<msup>" in html
    assert '<div class="diagram">' in html


def test_malformed_tex_saves_and_shows_its_error(editor):
    body = "Oops: $x^{$ and\n\n$$\n\\frac{\n$$\n"
    assert save_page(editor, "bad", "Bad", body).status_code == 303
    response = editor.get("/wiki/bad")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('class="math-error"') == 2 and "TeX error:" in html


class Elements(HTMLParser):
    """The tags of an HTML fragment, checking that each one opened is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []
        self.seen: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.seen.append(tag)
        if tag not in {"hr", "br", "img", "input"}:
            self.opened.append(tag)

    def handle_endtag(self, tag) -> None:
        assert self.opened.pop() == tag


def test_the_feed_carries_the_math_as_mathml(editor):
    save_page(editor, "energy", "Energy", "Famous: $E = mc^2$\n\n$$\n\\sqrt{a^2 + b^2}\n$$\n")
    root = ET.fromstring(editor.get("/recent.atom").data)  # well-formed XML
    (entry,) = root.findall(f"{ATOM}entry")
    content = entry.findtext(f"{ATOM}content")
    assert content.startswith("<pre>")  # the change first
    elements = Elements()
    elements.feed(content)
    elements.close()
    assert elements.opened == []  # every element closed, in order
    assert elements.seen.count("math") == 2
    assert {"msup", "msqrt", "mi", "mo"} <= set(elements.seen)


def test_a_long_page_is_linked_from_the_feed_rather_than_shown(editor):
    save_page(editor, "long", "Long", "$x$ word\n\n" * 3_000)
    content = ET.fromstring(editor.get("/recent.atom").data).find(
        f"{ATOM}entry/{ATOM}content").text
    assert "<math" not in content
    assert 'href="http://localhost/wiki/long?rev=1"' in content


def test_math_is_found_by_its_source(editor):
    save_page(editor, "pythagoras", "Pythagoras", "The theorem: $hypotenuse^2 = a^2 + b^2$")
    results = editor.get("/search", query_string={"q": "hypotenuse"}).get_data(as_text=True)
    assert 'href="/wiki/pythagoras"' in results


def test_revisions_stored_before_math_still_show_and_reindex_typesets_the_current(
        app, editor, runner):
    save_page(editor, "prices", "Prices", "Old: $x$ and $5 and $10.")
    save_page(editor, "prices", "Prices", "New: $y$ and $5 and $10.")
    with app.app_context():  # as both revisions were stored before math was typeset
        page_id = db.session.scalar(select(Page.id).where(Page.slug == "prices"))
        revisions = db.session.scalars(select(Revision).where(Revision.page_id == page_id)
                                       .order_by(Revision.number)).all()
        for revision, letter in zip(revisions, "xy", strict=True):
            revision.html = f"<p>{revision.body.split(':')[0]}: ${letter}$ and $5 and $10.</p>"
        db.session.commit()
    assert "$y$" in editor.get("/wiki/prices").get_data(as_text=True)

    result = runner.invoke(args=["pages", "reindex"])
    assert result.exit_code == 0, result.output
    current = editor.get("/wiki/prices").get_data(as_text=True)
    assert "<math" in current and "$5 and $10" in current
    old = editor.get("/wiki/prices?rev=1")
    assert old.status_code == 200
    assert "$x$ and $5 and $10" in old.get_data(as_text=True)  # kept as it was stored
    diff = editor.get("/diff/prices?from=1&to=2")
    assert diff.status_code == 200


def test_the_writing_help_shows_the_syntax_and_is_linked_from_the_footer_and_editor(editor):
    help_page = editor.get("/help/writing")
    assert help_page.status_code == 200
    text = help_page.get_data(as_text=True)
    for example in ("<code>$E = mc^2$</code>", "```mermaid", "\\frac{-b", "<code>\\$5</code>"):
        assert example in text
    footer = editor.get("/").get_data(as_text=True).split('<footer class="site-footer">')[1]
    assert 'href="/help/writing"' in footer
    assert 'href="/help/writing"' in editor.get("/new").get_data(as_text=True)

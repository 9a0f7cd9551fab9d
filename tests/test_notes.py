"""The user's notes ship as the wiki's first pages."""

from html.parser import HTMLParser

from sqlalchemy import func, select

from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services.importing import close_open_fences

SECTIONS = {
    "what-is-flask": "What is Flask?",
    "features": "features",
    "what-is-wsgi": "What is WSGI?",
    "flask-vs-web-server-important-difference": "Flask vs Web Server (Important Difference)",
    "request-response-lifecycle": "Request → Response Lifecycle",
    "request-response-flow-in-flask": "Request–Response Flow in Flask",
}


class Tags(HTMLParser):
    """Collects (tag, attrs, text-so-far) events, enough to assert on document structure."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[tuple[str, dict, tuple[str, ...]]] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, dict(attrs), tuple(self.stack)))
        if tag not in {"input", "br", "hr", "img", "meta", "link"}:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def test_flask_init_imports_the_notes_once(runner, app):
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "Imported the shipped notes: 7 pages" in first.output
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Page.id))) == 7
        assert db.session.scalar(select(func.count(Revision.id))) == 7


def test_home_page_is_titled_and_links_to_every_section(client, notes):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Flask – Notes &amp; Learnings</h1>" in html
    hrefs = {attrs.get("href") for tag, attrs, _ in parse(html).seen if tag == "a"}
    for slug in SECTIONS:
        assert f"/wiki/{slug}" in hrefs


def test_each_section_page_has_its_title_and_the_users_words(client, notes):
    for slug, title in SECTIONS.items():
        response = client.get(f"/wiki/{slug}")
        assert response.status_code == 200, slug
        assert f"<title>{title.replace('&', '&amp;')} ·" in response.get_data(as_text=True)
    wsgi = client.get("/wiki/what-is-wsgi").get_data(as_text=True)
    assert "WSGI stands for <strong>Web Server Gateway Interface</strong>." in wsgi
    assert "Flask uses <strong>Werkzeug</strong> internally as its WSGI toolkit." in wsgi


def test_section_bodies_are_stored_as_written(app, notes):
    with app.app_context():
        page = db.session.scalar(select(Page).where(Page.slug == "features"))
        assert page.current_revision.body == (
            "- Simple and minimal\n- Easy to learn\n- Highly flexible\n"
            "- Great for APIs and small to medium applications\n"
            "- Gives full control over architecture\n"
        )
        flask = db.session.scalar(select(Page).where(Page.slug == "what-is-flask"))
        body = flask.current_revision.body
        assert "Flask does **not** directly handle network communication.  \n" in body


def test_flow_diagram_is_code_and_the_steps_an_ordered_list(client, notes):
    html = client.get("/wiki/request-response-flow-in-flask").get_data(as_text=True)
    tree = parse(html)
    pres = [stack for tag, _, stack in tree.seen if tag == "pre"]
    assert len(pres) == 1
    code_start = html.index("<pre")
    code_end = html.index("</pre>")
    assert "Web Server (Werkzeug / Gunicorn / uWSGI)" in html[code_start:code_end]
    assert "Step-by-step Flow" not in html[code_start:code_end]
    steps = [stack for tag, _, stack in tree.seen if tag == "li" and "ol" in stack]
    assert len(steps) == 7
    assert "<h3" in html[code_end:] and "Step-by-step Flow" in html[code_end:]


def test_open_fence_is_closed_before_the_next_heading():
    text = "```text\na\n  b\n\n\n### After\n1. one\n"
    assert close_open_fences(text) == "```text\na\n  b\n```\n\n\n### After\n1. one\n"
    closed = "```\ncode\n```\n# Heading\n"
    assert close_open_fences(closed) == closed
    assert close_open_fences("```\nno end") == "```\nno end\n```"

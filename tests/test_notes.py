"""The user's notes ship as the wiki's first pages, with the worked example beside them."""

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt
from sqlalchemy import func, select

from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services.importing import SHIPPED_EXAMPLE, close_open_fences

ROOT = Path(__file__).resolve().parent.parent

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
    assert "Imported the shipped notes: 8 pages" in first.output  # 7 of notes, the example
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Page.id))) == 8
        assert db.session.scalar(select(func.count(Revision.id))) == 8


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


# --- the worked example: "How this wiki answers a request" ------------------------------------
#
# The page names the code in inline code spans, written so that each can be checked:
#   `wiki/web/caching.py`, `static/`, `.flaskenv`   a file or folder of the project: it exists;
#   `wiki.web.caching.PageCacheMiddleware`          module.name (module.Class.method): the module's
#                                                   file defines it (found with ast);
#   `require(Action.READ)`                          a call quoted from the code: found as written in
#                                                   wiki/ or templates/;
#   `{% extends "base.html" %}`                     a template line: found in templates/;
#   `/wiki/<path:slug>`                             a route rule: found in wiki/views/;
#   `WIKI_PROXY_FIX`, `FLASK_APP=wiki`              a setting in wiki/config.py; a .flaskenv line.
# Anything else in backticks (headers, commands, URLs) is prose. Its ```http block is a response
# the app really sends: same header names, same values but for the per-response ones.

EXAMPLE = "how-this-wiki-answers-a-request"
EXAMPLE_TEXT = (ROOT / "wiki" / SHIPPED_EXAMPLE).read_text(encoding="utf-8")
PATH = re.compile(r"(?!/)[\w.-]*(?:/[\w.-]*)+|[\w.-]+\.(?:py|html|md|toml|cfg|css|js)|\.\w+")
DOTTED = re.compile(r"((?:wiki|wsgi)(?:\.\w+)+)(?:\(.*\))?")
CALL = re.compile(r"([A-Za-z_]\w*)\(.*\)")
ROUTE = re.compile(r"/\S*<\S+>\S*")
SETTING = re.compile(r"WIKI_([A-Z_]+)")
ENVIRONMENT = re.compile(r"[A-Z_]+=\S+")
PER_RESPONSE = {"etag", "last-modified", "server-timing"}


def inline_code(markdown: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [child.content for token in tokens if token.type == "inline"
            for child in token.children or () if child.type == "code_inline"]


def defined(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """The names a module or class body defines: functions, classes, assigned names."""
    names: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update((target.id, node) for target in targets if isinstance(target, ast.Name))
    return names


def resolves(dotted: str, root: Path) -> bool:
    """Whether *dotted* (``wiki.web.access.require``) names a module of *root*, or something its
    file defines (a function, class, method or assigned name)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = root.joinpath(*parts[:cut])
        for source in (base.with_suffix(".py"), base / "__init__.py"):
            if source.is_file():
                scope = ast.parse(source.read_text(encoding="utf-8")).body
                for name in parts[cut:]:
                    node = defined(scope).get(name)
                    if node is None:
                        return False
                    scope = getattr(node, "body", [])
                return True
    return False


def found_in(text: str, folder: Path, pattern: str) -> bool:
    return any(text in path.read_text(encoding="utf-8") for path in folder.rglob(pattern))


def unchecked_or_missing(spans: list[str], root: Path = ROOT) -> tuple[list[str], list[str]]:
    """The spans checked against the code under *root*, and those of them it lacks."""
    checked, missing = [], []
    for span in spans:
        if PATH.fullmatch(span):
            ok = (root / span).exists()
        elif dotted := DOTTED.fullmatch(span):
            ok = resolves(dotted.group(1), root)
        elif CALL.fullmatch(span):
            ok = (found_in(span, root / "wiki", "*.py")
                  or found_in(span, root / "templates", "*.html"))
        elif span.startswith("{%"):
            ok = found_in(span, root / "templates", "*.html")
        elif ROUTE.fullmatch(span):
            ok = found_in(f'"{span}"', root / "wiki" / "views", "*.py")
        elif setting := SETTING.fullmatch(span):
            config = ast.parse((root / "wiki" / "config.py").read_text(encoding="utf-8"))
            ok = setting.group(1) in defined(config.body)
        elif ENVIRONMENT.fullmatch(span):
            ok = span in (root / ".flaskenv").read_text(encoding="utf-8").split("\n")
        else:
            continue
        checked.append(span)
        if not ok:
            missing.append(span)
    return checked, missing


def test_the_worked_example_names_only_what_the_code_has():
    checked, missing = unchecked_or_missing(inline_code(EXAMPLE_TEXT))
    assert missing == []
    for kind in (PATH, DOTTED, CALL, ROUTE, SETTING, ENVIRONMENT):
        assert any(kind.fullmatch(span) for span in checked), kind.pattern
    assert len(checked) >= 30


def test_a_name_gone_from_the_code_fails_the_check():
    names = ["wiki/web/caching.py", "wiki/web/gone.py", "wiki.permissions.can",
             "wiki.permissions.gone", "wiki.gone.can", "wiki.web.timing.RequestTiming.header",
             "wiki.web.timing.RequestTiming.gone", "wiki.views.pages.bp", "wsgi.app",
             "require(Action.READ)", "gone(Action.READ)", '{% extends "base.html" %}',
             '{% extends "gone.html" %}', "/wiki/<path:slug>", "/gone/<path:slug>",
             "WIKI_PROXY_FIX", "WIKI_GONE", "FLASK_APP=wiki", "FLASK_APP=gone",
             "Server-Timing", "flask routes"]
    checked, missing = unchecked_or_missing(names)
    assert checked == names[:-2]
    assert missing == ["wiki/web/gone.py", "wiki.permissions.gone", "wiki.gone.can",
                       "wiki.web.timing.RequestTiming.gone", "gone(Action.READ)",
                       '{% extends "gone.html" %}', "/gone/<path:slug>", "WIKI_GONE",
                       "FLASK_APP=gone"]


def test_the_worked_example_shows_the_headers_the_app_sends(auth, notes):
    auth.login("reader")
    response = auth.client.get(f"/wiki/{EXAMPLE}")
    assert response.status_code == 200
    block = next(token.content for token in MarkdownIt("commonmark").parse(EXAMPLE_TEXT)
                 if token.type == "fence" and token.info == "http")
    status, *lines = block.strip().split("\n")
    assert status == f"HTTP/1.1 {response.status}"
    shown = dict(line.split(": ", 1) for line in lines)
    assert set(shown) >= {"Content-Security-Policy", "Server-Timing"}
    for name, value in shown.items():
        assert name in response.headers, name
        if name.lower() not in PER_RESPONSE:
            assert response.headers[name] == value, name
    assert re.fullmatch(r'db;dur=[\d.]+;desc="\d+ queries", tpl;dur=[\d.]+;desc="templates", '
                        r"total;dur=[\d.]+", response.headers["Server-Timing"])


def test_the_worked_example_is_a_page_linking_to_the_notes(client, notes):
    assert EXAMPLE in notes.created
    html = client.get(f"/wiki/{EXAMPLE}").get_data(as_text=True)
    assert "<title>How this wiki answers a request ·" in html
    assert "wikilink-missing" not in html
    hrefs = {attrs.get("href") for tag, attrs, _ in parse(html).seen if tag == "a"}
    for slug in set(SECTIONS) - {"features"}:
        assert f"/wiki/{slug}" in hrefs, slug
    assert "/wiki/request-response-flow-in-flask#h-step-by-step-flow" in hrefs
    flow = client.get("/wiki/request-response-flow-in-flask").get_data(as_text=True)
    assert 'id="h-step-by-step-flow"' in flow

"""Helpers for tests that use the wiki the way a browser does (forms, tokens, saves), and
one that watches the SQL it runs."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from wiki.extensions import db

PASSWORD = "correct horse battery staple"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def submit(client, url: str, data: dict | None = None, *, form_url: str | None = None,
           **kwargs):
    """Load the form at *form_url* (default: *url*) and post *data* with its CSRF token."""
    page = client.get(form_url or url)
    payload = {"csrf_token": csrf_token(page.get_data(as_text=True)), **(data or {})}
    return client.post(url, data=payload, **kwargs)


def save_page(client, slug: str, title: str, body: str, **extra):
    """Open the editor of *slug* and save it, as a person would."""
    page = client.get(f"/edit/{slug}")
    html = page.get_data(as_text=True)
    base = re.search(r'name="base_revision" type="hidden" value="([^"]*)"', html)
    data = {"csrf_token": csrf_token(html), "title": title, "body": body,
            "base_revision": base.group(1) if base else "", "summary": "", "tags": "", **extra}
    return client.post(f"/edit/{slug}", data=data)


def textarea(html: str, name: str = "body") -> str:
    """The text a browser would show in the named textarea."""
    import html as html_module

    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {name!r}"
    return html_module.unescape(match.group(1))


@contextmanager
def sql_statements(app) -> Iterator[list[str]]:
    """The SQL statements *app* sends inside the block, as its engine sends them."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)

"""What every template can use: the permission policy, dates, counts with their nouns,
fingerprinted static URLs."""

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, url_for

from wiki.models import Page, as_utc
from wiki.permissions import can
from wiki.services import access, sections
from wiki.services.rendering import has_diagram, under_root
from wiki.services.slugs import slugify
from wiki.services.text import counted
from wiki.web import signed_in


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(can=can, site_name=app.config["SITE_NAME"],
                                 who_may=who_may, has_diagram=has_diagram)
    app.jinja_env.filters.update(isotime=isotime, exacttime=exacttime, ago=ago, from_now=from_now,
                                 counted=counted, under_script_root=under_script_root,
                                 slug=slugify, section_edit_links=section_edit_links)
    app.url_defaults(fingerprint_static)
    app.jinja_env.globals["url_for"] = url_for_remembering_site_links(app)
    app.jinja_env.globals["csrf_token"] = signed_in.csrf_token  # for layouts kept per role


SITE_LINKS_KEPT = 1000  # script roots come from a header behind a proxy: bound what is kept


def url_for_remembering_site_links(app: Flask):
    """``url_for`` for templates, remembering the links that are the same on every page:
    those to a route without arguments and to static files. The layout shows about twenty
    on every page; each is built once per path the app is reached at (the script root)."""
    links: dict[tuple, str] = {}

    def url_for_in_templates(endpoint: str, **values) -> str:
        if (not has_request_context() or endpoint.startswith(".")
                or (values and (endpoint != "static" or any(k.startswith("_") for k in values)))):
            return app.url_for(endpoint, **values)
        key = (request.script_root, endpoint, *values.items())
        if (link := links.get(key)) is None:
            if len(links) >= SITE_LINKS_KEPT:
                links.clear()
            link = links[key] = app.url_for(endpoint, **values)
        return link

    return url_for_in_templates


def fingerprint_static(endpoint: str, values: dict) -> None:
    """Add ``?v=<content hash>`` to static URLs so they can be cached for a year."""
    if endpoint == "static" and "filename" in values:
        values.setdefault("v", _static_version(current_app.static_folder, values["filename"]))


@cache
def _static_version(folder: str, filename: str) -> str:
    path = Path(folder, filename)
    if not path.is_file():
        return "0"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def under_script_root(html: str) -> str:
    """Rendered HTML as stored, its wiki links under the path this request reached the app at."""
    return under_root(html, request.script_root)


READERS = {"anyone": "anyone", "reader": "readers, editors and admins",
           "editor": "editors and admins", "admin": "admins only"}


def who_may(slug: str) -> str:
    """Who may read and edit the page at *slug*, and by which access rule: the line
    administrators see on each page. Rules only narrow the roles: readers never edit."""
    rule = access.current_rules().rule_for(slug)
    read = rule.read_role if rule else "anyone"
    if read == "anyone" and not current_app.config["ANONYMOUS_READ"]:
        read = "reader"
    edit = "admin" if rule and rule.edit_rank == access.ADMIN_RANK else "editor"
    said = f"Who can see this page: {READERS[read]}; who can edit it: {READERS[edit]}"
    return f"{said} (access rule {rule.pattern})." if rule else f"{said} (no access rule)."

def section_edit_links(html: str, page: Page) -> str:
    """The current revision's rendered *html* with a link beside each heading to edit its
    section (for those the template found may edit the page)."""
    editor = url_for("pages.edit", slug=page.slug)  # built once: a page may have many sections
    return sections.with_edit_links(html, lambda number: f"{editor}?section={number}")


def isotime(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="seconds")


def exacttime(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def from_now(moment: datetime, now: datetime | None = None) -> str:
    """``"in 10 minutes"``: how far ahead *moment* is, in the largest whole unit."""
    seconds = int((as_utc(moment) - (now or datetime.now(UTC))).total_seconds())
    for unit, size in (("year", 31_536_000), ("month", 2_592_000), ("day", 86_400),
                       ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            return f"in {counted(seconds // size, unit)}"
    return "in less than a minute"


def ago(moment: datetime, now: datetime | None = None) -> str:
    """``"5 minutes ago"``: how long ago *moment* was, in the largest whole unit."""
    seconds = int(((now or datetime.now(UTC)) - as_utc(moment)).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("year", 31_536_000), ("month", 2_592_000), ("day", 86_400),
                       ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            return f"{counted(seconds // size, unit)} ago"
    return "just now"

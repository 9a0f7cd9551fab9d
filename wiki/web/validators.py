"""Conditional requests: the validators a page view answers with (a weak ``ETag``
digesting everything it shows, and ``Last-Modified``), so that a browser revalidates its
copy and gets a 304. What is kept per worker is :mod:`wiki.web.caching`'s."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, make_response, request, session
from flask_login import current_user
from werkzeug.http import http_date, is_resource_modified, parse_date, quote_etag, unquote_etag

from wiki.models import as_utc
from wiki.services import access

if TYPE_CHECKING:  # the page view's parts, for the validators' signature
    from wiki.services.reading import Child, ShownPage, ShownRevision

TOKEN_BUCKET_SECONDS = 3600


# --- validators ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Validators:
    etag: str  # the opaque part, without W/ and quotes
    last_modified: datetime

    @cached_property
    def headers(self) -> dict[str, str]:
        """The response headers they make, worked out once for every time they are sent."""
        return {"ETag": quote_etag(self.etag, weak=True),
                "Last-Modified": http_date(self.last_modified),
                "Cache-Control": "private, no-cache"}

    @classmethod
    def sent_in(cls, headers: Iterable[tuple[str, str]]) -> Validators | None:
        """The validators a response carries in *headers*, if it has both."""
        found = {name.lower(): value for name, value in headers}
        etag, _weak = unquote_etag(found.get("etag"))
        last_modified = parse_date(found.get("last-modified"))
        return cls(etag, last_modified) if etag and last_modified else None


def page_validators(*, page: ShownPage, revision: ShownRevision, backlinks: int,
                    breadcrumbs: Iterable[tuple[str, str]], children: Iterable[Child],
                    html: str, cards: int = 0, tags: Iterable[str] = ()) -> Validators:
    """The validators of a page view showing *revision* of *page* (as *html*) with these
    surroundings, and the access rule that decides who may do what with it; the reader is
    added by :func:`for_this_reader`."""
    digest = hashlib.blake2b(digest_size=16)
    parts = (
        page.id, page.slug, page.title, page.revision_number, revision.id, revision.title,
        revision.author.username if revision.author else "", list(tags),
        backlinks, list(breadcrumbs), [(child.slug, child.title) for child in children], cards,
        access.current_rules().rule_for(page.slug),
    )
    digest.update(repr(parts).encode())
    digest.update(html.encode())
    last_modified = max(as_utc(revision.created_at), as_utc(page.updated_at))
    return Validators(digest.hexdigest(), last_modified)


def for_this_reader(validators: Validators) -> Validators:
    """*validators* of what a page shows, made those of the page this reader gets."""
    user = current_user._get_current_object()  # one look-up, not one per attribute
    viewer = signed_in_viewer(user) if user.is_authenticated else ("anonymous",)
    return for_viewer(validators, viewer, current_app)


def for_viewer(validators: Validators, viewer: tuple, app: Flask) -> Validators:
    """*validators* of what a page shows, made those of the page *viewer* gets from *app*:
    with who they are and the deployment's templates and static files."""
    digest = hashlib.blake2b(validators.etag.encode(), digest_size=16)
    digest.update(repr((viewer, deployment_digest(app.template_folder,
                                                  app.static_folder))).encode())
    return Validators(digest.hexdigest(), validators.last_modified)


def signed_in_viewer(user) -> tuple:
    """What the page shows differently to *user*, a signed-in reader (their CSRF token
    changes within the hour)."""
    return (user.id, user.session_version, user.role, user.username,
            int(time.time() // TOKEN_BUCKET_SECONDS))


@cache
def deployment_digest(*folders: str | None) -> str:
    """A digest of every file under *folders*: changes when templates or static files do."""
    digest = hashlib.blake2b(digest_size=8)
    for folder in filter(None, folders):
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# --- answering ---------------------------------------------------------------------------


def respond(validators: Validators, render: Callable[[], str]) -> Response:
    """The page *render* makes, with its validators; or 304 if the client's copy still holds."""
    if "_flashes" not in session and not is_resource_modified(
            request.environ, validators.etag, last_modified=validators.last_modified):
        response = Response(status=304)
    else:
        response = make_response(render())
    response.headers.update(validators.headers)
    response.vary.add("Cookie")
    return response

"""Conditional page views: ``ETag`` and ``Last-Modified``, and ``304 Not Modified``.

What a page view shows depends on more than the page's revision number, so the ETag is a
digest of everything the view puts on the page, all of which it loads anyway:

- the revision shown and its rendered HTML: a save elsewhere re-renders it in place when
  one of its links turns blue or red, without a new revision;
- the page's title, newest revision number, tags, backlink count, sub-pages and parents;
- who is asking: a signed-in reader sees their name, the actions their role allows, and a
  sign-out form whose CSRF token expires (``WTF_CSRF_TIME_LIMIT``). For them the digest
  also takes the user, their session version and role, and the current hour, so a copy
  kept by the browser never carries a token anywhere near expiry;
- the templates and static files of this deployment, so a new release invalidates copies.

On a match only the template is skipped; the queries have run. The ETag is weak (``W/``):
the "edited 5 minutes ago" wording drifts with the clock while the page stays the same.

Responses say ``Cache-Control: private, no-cache``: the browser may keep the page but asks
again each time (that is what the 304 answers), and shared caches keep nothing, since one
URL gives each user different HTML (``Vary: Cookie`` is set too, as Flask does whenever
the session is read). A request with flash messages waiting (the redirect after a save)
always gets the full page: a 304 would swallow the message.

``Last-Modified`` is the later of the revision's and the page's time. A client that sends
only ``If-Modified-Since`` gets the coarser answer (a changed backlink count or a link
turned blue does not move the date); browsers send ``If-None-Match`` as well, which wins.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from flask import Response, current_app, make_response, request, session
from flask_login import current_user

from wiki.models import Page, Revision

TOKEN_BUCKET_SECONDS = 3600


@dataclass(frozen=True)
class Validators:
    etag: str  # the opaque part, without W/ and quotes
    last_modified: datetime


def page_validators(*, page: Page, revision: Revision, backlinks: int,
                    breadcrumbs: Iterable[tuple[str, str]], children: Iterable[Page]) -> Validators:
    """The validators of a page view showing *revision* of *page* with these surroundings."""
    digest = hashlib.blake2b(digest_size=16)
    parts = (
        page.id, page.slug, page.title, page.revision_number, revision.id, revision.title,
        revision.author.username if revision.author else "", [tag.name for tag in page.tags],
        backlinks, list(breadcrumbs), [(child.slug, child.title) for child in children],
        _viewer(), deployment_digest(current_app.template_folder, current_app.static_folder),
    )
    digest.update(repr(parts).encode())
    digest.update(revision.html.encode())
    return Validators(digest.hexdigest(), max(_utc(revision.created_at), _utc(page.updated_at)))


def respond(validators: Validators, render: Callable[[], str]) -> Response:
    """The page *render* makes, with its validators; or 304 if the client's copy still holds."""
    if "_flashes" not in session:
        unchanged = _with_validators(Response(), validators).make_conditional(request)
        if unchanged.status_code == 304:
            return unchanged
    return _with_validators(make_response(render()), validators)


def _with_validators(response: Response, validators: Validators) -> Response:
    response.set_etag(validators.etag, weak=True)
    response.last_modified = validators.last_modified
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.vary.add("Cookie")
    return response


def _viewer() -> tuple:
    """What the page shows differently to this reader."""
    if not current_user.is_authenticated:
        return ("anonymous",)
    return (current_user.id, current_user.session_version, current_user.role,
            current_user.username, int(time.time() // TOKEN_BUCKET_SECONDS))


@cache
def deployment_digest(*folders: str | None) -> str:
    """A digest of every file under *folders*: changes when templates or static files do."""
    digest = hashlib.blake2b(digest_size=8)
    for folder in filter(None, folders):
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

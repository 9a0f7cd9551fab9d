"""Page views for signed-in readers: the layout kept around an article, and the views
answered before Flask, the way Flask answered them.

Each worker keeps a page's article for a role (wiki.web.caching) and, here, the layout
around it, cut where the reader's own name, id and CSRF token go (:func:`page_around`).
Then what a signed-in reader's view costs is the request around it: Flask's contexts, the session,
Flask-Login's checks, the rate limiter's and CSRF's hooks. They decide the same thing for
the same request each time, so :class:`SignedInPageMiddleware` remembers what they decided
and answers the next such request itself:

- a **reader**, by everything Flask-Login reads to know them: the ``Cookie`` header (so
  the session, signed and checked by Flask), the client's address (``X-Forwarded-For``
  too) and ``User-Agent`` (session protection). Kept when Flask signed them in, showed
  them a kept layout and neither changed their session nor set a cookie;
- a **page**: the layout Flask filled, kept by address and role (:func:`layouts`), with
  the headers Flask sent with it.

Each is good while the wiki's change counter has not moved (every change to an account
moves it, as every save does), and the reader's while their session has not expired and
their CSRF token is still reused (:func:`kept_csrf_token`). Anything else
(a message to flash, a different browser, a change anywhere) goes to Flask, which answers
and is remembered again.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass, replace
from functools import cached_property
from typing import NamedTuple

from flask import Flask, Response, current_app, g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape
from werkzeug.http import quote_etag

from wiki.web import timing
from wiki.web.auth import still_valid
from wiki.web.caching import (
    CachedPage,
    KeptArticle,
    PageCache,
    article_key,
    plain_read,
    recording,
    role_page_key,
    worker_cache,
)
from wiki.web.counter import change_counter
from wiki.web.validators import Validators, for_viewer, signed_in_viewer

CSRF_TOKEN_SIGNED_SECONDS = 60  # how long one signed CSRF token is reused (see reader_csrf_token)
CSRF_TOKENS_KEPT = 10_000  # sessions' tokens kept per worker
READERS_KEPT = 10_000  # per worker; a few hundred bytes each
SEEN = "wiki.signed_in_view"  # in the WSGI environ: the reader and page Flask just showed
PER_READER_HEADERS = {"set-cookie", "server-timing", "date", "etag", "content-length"}


# --- the layout around a kept article -----------------------------------------------------

# Rendered where the layout shows the reader's own bits, then cut out. Random per worker,
# so no page (its title, say) can hold it and be cut in the wrong place.
STAND_IN = f"wiki-reader-{secrets.token_hex(16)}-"
READER_BITS = re.compile(re.escape(STAND_IN) + "(name|id|token)")


class StandInReader:
    """The reader as the layout sees them, their name and id replaced by stand-ins; the
    rest (role, signed in or not) is theirs, so the layout shows what their role may do.
    Their bits are put back HTML-escaped: the layout must show them only in HTML text and
    attribute values (not, say, inside a script through ``tojson``)."""

    username = STAND_IN + "name"
    id = STAND_IN + "id"

    def __init__(self, user) -> None:
        self._user = user

    def __getattr__(self, name: str):
        return getattr(self._user, name)


def csrf_token() -> str:
    """The CSRF token forms carry (``csrf_token()`` in templates): the reader's own, or the
    stand-in while a layout to keep is rendered."""
    return g.get("csrf_stand_in") or reader_csrf_token()


def reader_csrf_token() -> str:
    """The CSRF token of this reader's session, as Flask-WTF makes it, but signed at most
    once a minute per session and worker, not at every page: a token then lasts up to a
    minute less than ``WTF_CSRF_TIME_LIMIT`` (an hour; a shorter limit, a shorter reuse)."""
    field = csrf_field(current_app)
    found = kept_csrf_token(current_app, session.get(field))
    if found is not None:
        return found
    token = generate_csrf()  # makes the session's secret token first, if it has none
    kept = current_app.extensions.setdefault("csrf_tokens", {})
    if len(kept) >= CSRF_TOKENS_KEPT:
        kept.clear()
    kept[session[field]] = (token, time.monotonic())
    return token


def kept_csrf_token(app: Flask, secret: str | None) -> str | None:
    """The token this worker signed for the session with CSRF *secret*, if still reused."""
    limit = app.config.get("WTF_CSRF_TIME_LIMIT", 3600) or 3600  # None: tokens never expire
    found = app.extensions.get("csrf_tokens", {}).get(secret)
    if found is not None and time.monotonic() - found[1] < min(CSRF_TOKEN_SIGNED_SECONDS,
                                                               limit / 60):
        return found[0]
    return None


def csrf_field(app: Flask) -> str:
    """The session key of the CSRF secret, and the form field of the token."""
    return app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


@dataclass(frozen=True)
class KeptLayout:
    """The page view around one kept article, cut where the reader's own bits go: the
    static pieces (UTF-8: a page with one "—" in it would take two bytes a character as a
    str) and, between them, which bit ("name", "id" or "token")."""

    version: int
    validators: Validators  # of the article it was rendered around
    pieces: tuple[bytes, ...]
    bits: tuple[str, ...]  # one fewer than the pieces
    size: int  # the pieces' bytes (what PageCache counts)
    # The headers Flask sent with it, less those made per reader and per response: set
    # once it was sent (wiki.web.signed_in answers with the layout from then on).
    headers: tuple[tuple[str, str], ...] | None = None
    made: float = 0.0

    @cached_property
    def needs_token(self) -> bool:
        return "token" in self.bits

    def for_reader(self, user) -> str:
        return self.filled(user, reader_csrf_token() if self.needs_token else None).decode()

    def filled(self, user, token: str | None) -> bytes:
        """The page for *user*, with their CSRF *token* (if the page has a form)."""
        values = {"name": escape(user.username).encode(), "id": str(user.id).encode(),
                  "token": escape(token or "").encode()}
        page = [self.pieces[0]]
        for bit, piece in zip(self.bits, self.pieces[1:], strict=True):
            page += (values[bit], piece)
        return b"".join(page)


def page_around(article: KeptArticle) -> str:
    """The page view of *article* for this reader: for a signed-in one, the layout this
    worker rendered around it for their role, their name, id and CSRF token put in (each
    escaped); rendered afresh when there are messages to show (once) or nothing is kept."""
    key = article_key()
    if key is None or article.version is None or "_flashes" in session:
        return render_template("pages/view.html", article=article)
    kept = layouts(current_app)
    layout = kept.get(key, article.version)
    if layout is None or layout.validators != article.validators:
        layout = _layout_around(article)
        if layout is None:
            return render_template("pages/view.html", article=article)
        kept.put(key, layout)
    g.kept_layout = layout  # what wiki.web.signed_in keeps for the reader's next view
    return layout.for_reader(current_user._get_current_object())


def _layout_around(article: KeptArticle) -> KeptLayout | None:
    """The layout around *article*, rendered for a stand-in of this reader and cut at the
    stand-ins; None if one shows anywhere else (changed by a filter, say)."""
    g.csrf_stand_in = STAND_IN + "token"
    try:
        page = render_template("pages/view.html", article=article,
                               current_user=StandInReader(current_user._get_current_object()))
    finally:
        g.pop("csrf_stand_in")
    parts = READER_BITS.split(page)
    if any(STAND_IN in part for part in parts[::2]):
        return None
    pieces = tuple(part.encode() for part in parts[::2])
    return KeptLayout(article.version, article.validators, pieces, tuple(parts[1::2]),
                      sum(map(len, pieces)))


def layouts(app: Flask) -> PageCache[KeptLayout]:
    """The layouts *app* keeps in this worker: nearly all a signed-in page view needs."""
    return worker_cache(app, "layout_cache", 1.5)


# --- answering before Flask --------------------------------------------------------------


class Account(NamedTuple):
    """What a page view shows of the reader's account (and its ETag digests)."""

    id: int
    username: str
    role: str
    session_version: int


@dataclass(frozen=True)
class Reader:
    """A signed-in reader as Flask found them, with what their page views need."""

    version: int  # the change counter, read before their account was
    user: Account
    csrf_secret: str | None  # in their session: names the CSRF token they are given
    signed_at: float  # when their session cookie was signed: it expires as Flask's would


def init_app(app: Flask) -> None:
    app.after_request(_leave_reader)
    # Inside ProxyFix, as the anonymous cache is: it sees the address Flask-Login sees.
    app.wsgi_app = SignedInPageMiddleware(app.wsgi_app, app)  # type: ignore[method-assign]


def _leave_reader(response: Response) -> Response:
    """After a signed-in page view from a kept layout, leave the reader and the layout in
    the environ for the middleware (which keeps them if no cookie is set after this)."""
    layout = g.get("kept_layout")
    if (layout is None or request.method != "GET" or response.status_code != 200
            or "wiki_version" not in g):
        return response
    signed_at = current_app.session_interface.signed_at(current_app, request)
    if signed_at is not None:
        user = current_user._get_current_object()
        account = Account(user.id, user.username, user.role, user.session_version)
        reader = Reader(g.wiki_version, account, session.get(csrf_field(current_app)),
                        signed_at)
        request.environ[SEEN] = (reader, layout)
    return response


class SignedInPageMiddleware:
    """WSGI middleware: a signed-in reader's page view answered as Flask last answered it,
    if nothing it depends on has changed; else answered by Flask, and remembered."""

    def __init__(self, wsgi_app, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        self.counter = change_counter(app)
        self.readers: dict[bytes, Reader] = {}

    def __call__(self, environ, start_response):
        if not _read_with_cookies(environ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        reader = self.readers.get(reader_key(environ))
        if reader is not None and still_valid(self.app, reader.signed_at):
            answer = self._answer(reader, environ, start_response, started)
            if answer is not None:
                return answer
        return self._through_flask(environ, start_response)

    def _answer(self, reader: Reader, environ, start_response, started: float):
        """The page, if this worker keeps it for the reader's role and their token; else None."""
        version = self.counter.read()
        if version is None or version != reader.version:
            return None
        layout = layouts(self.app).get(role_page_key(environ, reader.user.role), version)
        if layout is None or layout.headers is None:
            return None
        token = kept_csrf_token(self.app, reader.csrf_secret) if layout.needs_token else None
        if token is None and layout.needs_token:
            return None
        body = layout.filled(reader.user, token)
        validators = for_viewer(layout.validators, signed_in_viewer(reader.user), self.app)
        headers = (*layout.headers, ("ETag", quote_etag(validators.etag, weak=True)),
                   ("Content-Length", str(len(body))))
        db_seconds = time.perf_counter() - started
        return CachedPage(version, validators, headers, body).send(
            environ, start_response, timing.RequestTiming(started, 1, db_seconds).header())

    def _through_flask(self, environ, start_response):
        sent, remember = recording(start_response)
        body = self.wsgi_app(environ, remember)
        seen = environ.get(SEEN)
        if seen is not None and not any(name.lower() == "set-cookie"
                                        for name, _ in sent.get("headers", ())):
            self._keep(environ, *seen, sent["headers"])
        return body

    def _keep(self, environ, reader: Reader, layout: KeptLayout, headers) -> None:
        if len(self.readers) >= READERS_KEPT:
            self.readers.clear()
        self.readers[reader_key(environ)] = reader
        if layout.headers is None:  # the first time it is sent: kept with its headers
            kept = tuple((name, value) for name, value in headers
                         if name.lower() not in PER_READER_HEADERS)
            layouts(self.app).put(role_page_key(environ, reader.user.role),
                                  replace(layout, headers=kept))


def reader_key(environ) -> bytes:
    """A digest of everything in the request that Flask-Login knows a reader by: headers
    a client chooses (up to 8 KB each) are not kept whole, ten thousand times over."""
    known_by = "\0".join(environ.get(name, "") for name in (
        "HTTP_COOKIE", "REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT"))
    return hashlib.blake2b(known_by.encode("utf-8", "surrogateescape"), digest_size=16).digest()


def _read_with_cookies(environ) -> bool:
    return plain_read(environ) and bool(environ.get("HTTP_COOKIE"))

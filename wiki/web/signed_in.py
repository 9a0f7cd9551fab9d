"""Page views for signed-in readers answered before Flask, the way Flask answered them.

Once a worker keeps a page's article and layout for a role (wiki.web.caching), what a
signed-in reader's view costs is the request around it: Flask's contexts, the session,
Flask-Login's checks, the rate limiter's and CSRF's hooks. They decide the same thing for
the same request each time, so :class:`SignedInPageMiddleware` remembers what they decided
and answers the next such request itself:

- a **reader**, by everything Flask-Login reads to know them: the ``Cookie`` header (so
  the session, signed and checked by Flask), the client's address (``X-Forwarded-For``
  too) and ``User-Agent`` (session protection). Kept when Flask signed them in, showed
  them a kept layout and neither changed their session nor set a cookie;
- a **page**: the layout Flask filled, kept by address and role
  (:func:`wiki.web.caching.layouts`), with the headers Flask sent with it.

Each is good while the wiki's change counter has not moved (every change to an account
moves it, as every save does), and the reader's while their session has not expired and
their CSRF token is still reused (:func:`wiki.web.caching.kept_csrf_token`). Anything else
(a message to flash, a different browser, a change anywhere) goes to Flask, which answers
and is remembered again.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from typing import NamedTuple

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from werkzeug.http import quote_etag

from wiki.web import timing
from wiki.web.auth import still_valid
from wiki.web.caching import (
    CachedPage,
    KeptLayout,
    csrf_field,
    for_viewer,
    kept_csrf_token,
    layouts,
    role_page_key,
    signed_in_viewer,
)
from wiki.web.counter import change_counter

READERS_KEPT = 10_000  # per worker; a few hundred bytes each
SEEN = "wiki.signed_in_view"  # in the WSGI environ: the reader and page Flask just showed
PER_READER_HEADERS = {"set-cookie", "server-timing", "date", "etag", "content-length"}


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
        sent = {}

        def remember(status, headers, exc_info=None):
            sent.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

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
    """A GET or HEAD with cookies and without other credentials or a range of bytes."""
    return (environ.get("REQUEST_METHOD") in ("GET", "HEAD") and bool(environ.get("HTTP_COOKIE"))
            and not environ.get("HTTP_AUTHORIZATION") and not environ.get("HTTP_RANGE"))

"""Page views that cost little: rendered pages kept per worker.

A page view answers with validators (:mod:`wiki.web.validators`), so a browser revalidates
with a 304. A view marked :func:`keeps_page` also has its anonymous answers kept by
:class:`PageCacheMiddleware` in each worker until the wiki changes; the page itself (the
article, without the layout) is kept for each role by :func:`kept_article`, for signed-in
readers, and the layout around it by :func:`wiki.web.signed_in.page_around`, with each
reader's own bits put in. Why each choice: docs/architecture.md, "Page cache".
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Generic, Protocol, TypeVar

from flask import Flask, current_app, g, request
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.http import is_resource_modified
from werkzeug.routing import MapAdapter
from werkzeug.wsgi import get_path_info

from wiki.web import timing
from wiki.web.counter import change_counter
from wiki.web.validators import Validators

View = TypeVar("View", bound=Callable)


# --- articles kept per role ---------------------------------------------------------------


@dataclass(frozen=True)
class KeptArticle:
    """A page view's article (the page, without the layout around it) as rendered for one
    role, with what the layout needs of the page and the validators of what it shows."""

    version: int | None  # the wiki's change counter when it was rendered
    validators: Validators  # of the article, the reader aside: see for_this_reader
    title: str
    slug: str
    diagram: bool  # whether it draws diagrams (the page needs Mermaid's styles)
    contents: bool  # whether it has a table of contents (the page loads toc.js)
    body: Markup  # the article's HTML, as pages/article.html made it
    made: float = 0.0  # time.monotonic() when it was kept; set by PageCache.put

    @property
    def size(self) -> int:  # what PageCache counts
        return len(self.body)


def wiki_version() -> int | None:
    """The wiki's change counter for a signed-in reader's page view (None for others: the
    middleware keeps the pages of anonymous readers). Read before the page's own queries,
    as the middleware does, so what is rendered after it is at least as new."""
    if article_key() is None:
        return None
    return request_version()


def request_version() -> int | None:
    """The change counter as this request first read it (the account of a signed-in
    reader is kept under it too: one read serves both)."""
    if "wiki_version" not in g:
        started = time.perf_counter()
        g.wiki_version = change_counter(current_app).read()
        if (this_request := timing.current()) is not None:  # a query, if not the ORM's
            this_request.queries += 1
            this_request.db_seconds += time.perf_counter() - started
    return g.wiki_version


def reads_kept_page() -> bool:
    """Whether this request is a GET or HEAD of a view marked :func:`keeps_page`."""
    if request.method not in ("GET", "HEAD"):
        return False
    endpoints = current_app.extensions.get("kept_endpoints")
    if endpoints is None:  # the route table is complete once requests are served
        endpoints = current_app.extensions["kept_endpoints"] = kept_endpoints(current_app)
    return request.endpoint in endpoints


def kept_article(version: int | None) -> KeptArticle | None:
    """The article this request shows, if this worker rendered it for a signed-in reader of
    the same role since the wiki last changed (and at most ``PAGE_CACHE_SECONDS`` ago)."""
    key = article_key()
    return _articles().get(key, version) if key and version is not None else None


def keep_article(article: KeptArticle) -> KeptArticle:
    if (key := article_key()) and article.version is not None:
        _articles().put(key, article)
    return article


def article_key() -> str | None:
    """What an article and its layout depend on: the URL as asked (the anonymous page
    cache's key: the prefix its links start with, the path and query) and the reader's
    role, which decides the actions and the pages they see. None for a reader who is not
    signed in."""
    user = current_user._get_current_object()
    if not (user.is_authenticated and user.is_active):
        return None
    return role_page_key(request.environ, user.role)


def role_page_key(environ, role: str) -> str:
    return page_key(environ) + "\n" + role


def _articles() -> PageCache[KeptArticle]:
    return worker_cache(current_app, "article_cache", 0.25)


def worker_cache(app: Flask, name: str, fraction: float) -> PageCache:
    """The cache *name* of this worker, of *fraction* times ``PAGE_CACHE_BYTES``."""
    cache = app.extensions.get(name)
    if cache is None:
        cache = app.extensions[name] = PageCache(int(app.config["PAGE_CACHE_BYTES"] * fraction),
                                                 app.config["PAGE_CACHE_SECONDS"])
    return cache


# --- the per-worker cache -----------------------------------------------------------------


def keeps_page(view: View) -> View:
    """Mark *view* as one whose answers to anonymous readers each worker may keep.

    :class:`PageCacheMiddleware` keeps a successful ``GET`` of a marked view's routes that
    carries validators (as :func:`respond` gives it) and sends it again until the wiki changes.
    """
    view.keeps_page = True  # type: ignore[attr-defined]
    return view


def kept_endpoints(app: Flask) -> set[str]:
    """The endpoints whose views are marked :func:`keeps_page`."""
    return {endpoint for endpoint, view in app.view_functions.items()
            if getattr(view, "keeps_page", False)}


UNKEPT_HEADERS = {"set-cookie", "server-timing", "date"}  # made for each response


class PageCacheMiddleware:
    """WSGI middleware: page views for anonymous readers, answered from the worker's cache.

    A request without cookies (so without a session, a login or flash messages) for a route
    of a view marked :func:`keeps_page` is anonymous, and every such reader gets the same
    page. If the worker kept that page and the change counter has not moved since, it is
    sent as it was sent before (headers included), without reaching Flask; conditional
    requests get their 304 here too. Else the request goes on to Flask, with the counter read
    *before* the page's queries, and a successful answer with validators is kept whole.
    """

    def __init__(self, wsgi_app, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        self.counter = change_counter(app)
        self.cache = app.extensions["page_cache"] = PageCache(
            app.config["PAGE_CACHE_BYTES"], app.config["PAGE_CACHE_SECONDS"])

    @cached_property
    def routes(self) -> tuple[MapAdapter, set[str]]:
        """The app's URL map and the endpoints kept, read at the first request: by then the
        route table is complete (Flask refuses new routes once it serves)."""
        return self.app.url_map.bind("localhost"), kept_endpoints(self.app)

    def routes_to_kept_view(self, environ) -> bool:
        """Whether the request's path leads to a view marked :func:`keeps_page`."""
        urls, endpoints = self.routes
        try:
            endpoint, _ = urls.match(get_path_info(environ), "GET")
        except HTTPException:  # not found, or redirected: Flask answers
            return False
        return endpoint in endpoints

    def __call__(self, environ, start_response):
        if not _anonymous_read(environ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        key = page_key(environ)
        # A page kept already was a kept view's: a hit need not ask the URL map again.
        if key not in self.cache and not self.routes_to_kept_view(environ):
            return self.wsgi_app(environ, start_response)
        version = self.version()
        entry = self.cache.get(key, version)
        if entry is None:
            return self._render_and_keep(key, version, environ, start_response)
        db_seconds = time.perf_counter() - started
        return entry.send(environ, start_response,
                          timing.RequestTiming(started, 1, db_seconds).header())

    def version(self) -> int | None:
        return self.counter.read()

    def _render_and_keep(self, key, version, environ, start_response):
        sent, remember = recording(start_response)
        body = self.wsgi_app(environ, remember)
        validators = Validators.sent_in(sent.get("headers", ()))
        if (validators is None or version is None or environ["REQUEST_METHOD"] != "GET"
                or not sent["status"].startswith("200")):
            return body  # HEAD: Flask sent no body to keep
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        if not any(name.lower() == "set-cookie" for name, _ in sent["headers"]):
            headers = tuple((name, value) for name, value in sent["headers"]
                            if name.lower() not in UNKEPT_HEADERS)
            self.cache.put(key, CachedPage(version, validators, headers, content))
        return [content]


def page_key(environ) -> str:
    """What a kept page is found by: everything in the request its bytes depend on.

    Behind ``WIKI_PROXY_FIX`` the scheme, host and prefix come from ``X-Forwarded-*``
    headers that a client may send too; the prefix starts every link on the page, so one
    request with a hostile prefix must not make the copy every other reader gets.
    """
    return "\n".join(environ.get(name, "") for name in (
        "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME",
        "PATH_INFO", "QUERY_STRING"))


def _anonymous_read(environ) -> bool:
    """A plain read without cookies: every such reader gets the same page."""
    return plain_read(environ) and not environ.get("HTTP_COOKIE")


def plain_read(environ) -> bool:
    """A GET or HEAD without an ``Authorization`` header, for all of a page (one asking for
    a range of bytes, of an attached file, is left to the view)."""
    return (environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and not environ.get("HTTP_AUTHORIZATION") and not environ.get("HTTP_RANGE"))


def recording(start_response) -> tuple[dict, Callable]:
    """*start_response*, noting the status and headers sent in the dict returned with it."""
    sent: dict = {}

    def remember(status, headers, exc_info=None):
        sent.update(status=status, headers=headers)
        return start_response(status, headers, exc_info)

    return sent, remember


@dataclass(frozen=True)
class CachedPage:
    version: int  # the wiki's change counter when it was rendered
    validators: Validators
    headers: tuple[tuple[str, str], ...]  # as Flask sent them, less the per-request ones
    body: bytes
    made: float = 0.0  # time.monotonic() when it was kept; set by PageCache.put

    @property
    def size(self) -> int:
        return len(self.body)

    def send(self, environ, start_response, server_timing: str):
        extra = [("Server-Timing", server_timing)]
        if not is_resource_modified(environ, self.validators.etag,
                                    last_modified=self.validators.last_modified):
            kept = [(name, value) for name, value in self.headers
                    if name.lower() not in ("content-type", "content-length")]
            start_response("304 NOT MODIFIED", kept + extra)
            return [b""]
        start_response("200 OK", list(self.headers) + extra)
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [self.body]


class Kept(Protocol):
    """What a PageCache keeps: a page, an article or a layout."""

    version: int | None  # the wiki's change counter when it was rendered
    made: float  # time.monotonic() when it was kept

    @property
    def size(self) -> int: ...  # in characters or bytes: what the cache counts


K = TypeVar("K", bound=Kept)


class PageCache(Generic[K]):
    """Rendered pages by URL, least recently used dropped first, bounded in bytes."""

    def __init__(self, max_size: int, max_age: float) -> None:
        self.max_size, self.max_age = max_size, max_age
        self.size = 0
        self._entries: OrderedDict[str, K] = OrderedDict()
        self._lock = threading.Lock()  # `flask run` serves requests in threads

    def get(self, key: str, version: int | None) -> K | None:
        """The page kept under *key*, if it was rendered at *version* and is young enough."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != version or time.monotonic() - entry.made > self.max_age:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: K) -> None:
        if entry.size > self.max_size // 4:
            return  # one huge page would push out dozens of others
        with self._lock:
            self._drop(key)
            self._entries[key] = replace(entry, made=time.monotonic())
            self.size += entry.size
            while self.size > self.max_size:
                self._drop(next(iter(self._entries)))

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def _drop(self, key: str) -> None:
        if (entry := self._entries.pop(key, None)) is not None:
            self.size -= entry.size

    def __len__(self) -> int:
        return len(self._entries)

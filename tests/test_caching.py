"""Conditional page views (ETag and Last-Modified, answered with 304 while they still hold)
and the rendered pages each worker keeps for anonymous readers."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import count

import pytest
from flask import template_rendered
from sqlalchemy import text

from tests.helpers import save_page
from wiki.extensions import db
from wiki.web import caching
from wiki.web.caching import CachedPage, PageCache
from wiki.web.validators import Validators, respond


@pytest.fixture
def page(editor, auth):
    """A page written by the editor, then read anonymously."""
    save_page(editor, "routing", "Routing", "Routes map URLs to views. See [[Views]].")
    auth.logout()
    editor.get("/wiki/nowhere")  # shows "You are signed out." and is done with it
    return "/wiki/routing"


def revalidate(client, url, response, **headers):
    return client.get(url, headers={"If-None-Match": response.headers["ETag"], **headers})


def test_page_views_carry_validators_and_private_revalidation(client, page):
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["ETag"].startswith('W/"')
    assert response.headers["Last-Modified"].endswith("GMT")
    assert set(response.headers["Cache-Control"].split(", ")) == {"private", "no-cache"}
    assert "Cookie" in response.headers["Vary"]


def test_a_matching_etag_gets_304_without_a_body(client, page):
    first = client.get(page)
    again = revalidate(client, page, first)
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_if_modified_since_alone_gets_304(client, page):
    first = client.get(page)
    again = client.get(page, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304
    older = client.get(page, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert older.status_code == 200


def test_a_stale_etag_gets_the_page(client, page):
    assert client.get(page, headers={"If-None-Match": 'W/"something-else"'}).status_code == 200


def test_an_edit_changes_the_etag(client, auth, page):
    first = client.get(page)
    auth.login("editor")
    save_page(client, "routing", "Routing", "Routes map URLs to view functions.")
    auth.logout()
    changed = revalidate(client, page, first)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert "view functions" in changed.get_data(as_text=True)


def test_a_red_link_turning_blue_changes_the_etag(client, auth, page):
    """Creating the linked page re-renders this one in place, with no new revision."""
    first = client.get(page)
    assert "wikilink-missing" in first.get_data(as_text=True)
    auth.login("editor")
    save_page(client, "views", "Views", "Functions that answer requests.")
    auth.logout()
    changed = revalidate(client, page, first)
    assert changed.status_code == 200
    assert "wikilink-missing" not in changed.get_data(as_text=True)


def test_a_new_backlink_changes_the_etag(client, auth, page):
    first = client.get(page)
    auth.login("editor")
    save_page(client, "urls", "URLs", "Handled by [[Routing]].")
    auth.logout()
    assert revalidate(client, page, first).status_code == 200


def test_an_old_revision_has_its_own_etag(client, auth, page):
    auth.login("editor")
    save_page(client, "routing", "Routing", "Second version.")
    auth.logout()
    current, old = client.get(page), client.get(page + "?rev=1")
    assert old.headers["ETag"] != current.headers["ETag"]
    assert revalidate(client, page + "?rev=1", old).status_code == 304


def test_signing_in_changes_the_etag(client, auth, page):
    """A signed-in reader sees other links and their name: the anonymous copy won't do."""
    anonymous = client.get(page)
    auth.login("reader")
    signed_in = revalidate(client, page, anonymous)
    assert signed_in.status_code == 200
    assert "Sign out" in signed_in.get_data(as_text=True)
    assert revalidate(client, page, signed_in).status_code == 304


def test_each_user_gets_their_own_etag(client, auth, page):
    auth.login("reader")
    reader = client.get(page)
    auth.logout()
    auth.login("editor")
    assert revalidate(client, page, reader).status_code == 200


def test_a_flash_after_saving_is_shown_even_with_a_matching_etag(client, auth, page):
    auth.login("editor")
    first = client.get(page)
    save_page(client, "routing", "Routing", "Routes map URLs to views. See [[Views]].")
    shown = revalidate(client, page, first)  # the redirect after "No changes to save."
    assert shown.status_code == 200
    assert "No changes to save." in shown.get_data(as_text=True)
    assert revalidate(client, page, first).status_code == 304  # the message is gone now


def test_missing_pages_are_not_conditional(client, page):
    response = client.get("/wiki/nowhere")
    assert response.status_code == 404
    assert "ETag" not in response.headers


# --- rendered pages kept for anonymous readers ------------------------------------------------


def queries(response) -> int:
    """Statements the request ran, from its Server-Timing header."""
    return int(re.search(r'db;dur=[\d.]+;desc="(\d+) quer', response.headers["Server-Timing"])[1])


@contextmanager
def templates_rendered(app) -> Iterator[list[str]]:
    """The templates *app* renders inside the block: none when a kept page is sent."""
    names: list[str] = []

    def record(_app, template, **_extra) -> None:
        names.append(template.name)

    with template_rendered.connected_to(record, app):
        yield names


@pytest.fixture
def visitor(app, page):
    """A browser that has never been to the wiki: no cookies at all."""
    return app.test_client(use_cookies=False)


def test_an_anonymous_page_view_is_sent_again_with_one_lookup(app, visitor, page):
    with templates_rendered(app) as rendered:
        first = visitor.get(page)
        rendered_first = len(rendered)
        again = visitor.get(page)
    assert again.data == first.data
    assert {name: again.headers[name] for name in ("ETag", "Content-Security-Policy", "Vary")} \
        == {name: first.headers[name] for name in ("ETag", "Content-Security-Policy", "Vary")}
    # The change counter alone, read outside any transaction (so no BEGIN on SQLite); the
    # first view ran the page's statements (one on PostgreSQL: as many as a kept page).
    assert queries(again) == 1 <= queries(first)
    assert rendered_first > 0 and len(rendered) == rendered_first  # sent as it was kept


def test_a_kept_page_answers_conditional_requests_and_head(visitor, page):
    first = visitor.get(page)
    unchanged = visitor.get(page, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert queries(unchanged) == 1
    head = visitor.head(page)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(first.data))


def test_a_head_request_keeps_nothing(visitor, page):
    assert visitor.head(page).data == b""
    assert visitor.get(page).data.startswith(b"<!doctype html>")


@pytest.mark.sqlite_only  # drops a table: on PostgreSQL the database outlives the test
def test_a_wiki_not_yet_migrated_is_not_kept_but_answered(app, visitor, page):
    with app.app_context():
        db.session.execute(text("DROP TABLE wiki_state"))
        db.session.commit()
    assert visitor.get(page).status_code == visitor.get(page).status_code == 200
    assert len(app.extensions["page_cache"]) == 0


def test_any_save_refreshes_the_kept_pages(app, visitor, auth, page):
    visitor.get(page)
    auth.login("editor")
    save_page(auth.client, "views", "Views", "Functions that answer requests.")  # another page
    with templates_rendered(app) as rendered:
        fresh = visitor.get(page)
    assert rendered
    assert "wikilink-missing" not in fresh.get_data(as_text=True)  # [[Views]] is blue now


def test_readers_with_a_session_are_never_sent_kept_pages(app, visitor, client, auth, page):
    visitor.get(page)
    auth.login("reader")
    with templates_rendered(app) as rendered:
        view = client.get(page)
    assert rendered and "Sign out" in view.get_data(as_text=True)
    auth.logout()  # signed out, the browser still has a session cookie (and maybe a flash)
    with templates_rendered(app) as rendered:
        client.get(page)
    assert rendered


def test_kept_pages_expire(app, visitor, page):
    app.extensions["page_cache"].max_age = 0
    visitor.get(page)
    with templates_rendered(app) as rendered:
        visitor.get(page)
    assert rendered


def test_only_successful_page_views_are_kept(app, visitor, page):
    for _ in range(2):
        assert visitor.get("/wiki/nowhere").status_code == 404
        assert visitor.get(page + "?rev=99").status_code == 404
    with templates_rendered(app) as rendered:
        visitor.get("/wiki/nowhere")
    assert rendered
    assert queries(visitor.get("/wiki/nowhere")) > 1
    with templates_rendered(app) as rendered:
        visitor.get(page + "?rev=99")
    assert rendered


def test_the_views_kept_are_those_marked_at_the_view(app):
    assert caching.kept_endpoints(app) == {"pages.home", "pages.view", "attachments.file"}


@pytest.fixture
def renders(app):
    """Two routes answering with validators, one of them marked ``keeps_page``; each render
    is numbered, so a kept answer shows an old number."""
    made = count(1)

    def numbered(name: str):
        validators = Validators(name, datetime(2026, 1, 1, tzinfo=UTC))
        return respond(validators, lambda: f"{name} rendered {next(made)}")

    @caching.keeps_page
    def note(name: str):
        return numbered(name)

    def draft(name: str):
        return numbered(name)

    app.add_url_rule("/notes/<name>", view_func=note)
    app.add_url_rule("/drafts/<name>", view_func=draft)
    return made


def test_a_route_whose_view_keeps_pages_is_answered_from_the_cache(app, renders):
    """Wherever its route is: the middleware reads the URL map, not a list of paths."""
    visitor = app.test_client(use_cookies=False)
    first = visitor.get("/notes/routing")
    again = visitor.get("/notes/routing")
    assert again.get_data(as_text=True) == first.get_data(as_text=True) == "routing rendered 1"
    assert queries(again) == 1
    assert visitor.get("/notes/views").get_data(as_text=True) == "views rendered 2"
    assert visitor.get("/drafts/routing").get_data(as_text=True) == "routing rendered 3"
    assert visitor.get("/drafts/routing").get_data(as_text=True) == "routing rendered 4"


def test_the_cache_drops_the_least_recently_used_beyond_its_size():
    validators = Validators("tag", datetime(2026, 1, 1, tzinfo=UTC))

    def page(body: bytes) -> CachedPage:
        return CachedPage(1, validators, (), body)

    cache = PageCache(max_size=400, max_age=60)
    for key in "abcd":
        cache.put(key, page(key.encode() * 100))
    cache.get("a", 1)  # used: b is now the least recent
    cache.put("e", page(b"e" * 100))
    assert [key for key in "abcde" if cache.get(key, 1)] == ["a", "c", "d", "e"]
    assert cache.size == 400
    assert cache.get("a", 2) is None and len(cache) == 3  # another version: out of date
    cache.put("huge", page(b"x" * 101))  # over a quarter: not kept
    assert cache.get("huge", 1) is None


@pytest.fixture
def proxied(make_app, page):
    """The wiki behind one trusted proxy, and the anonymous visitors it passes on."""
    return make_app("proxied", PROXY_FIX=1).test_client(use_cookies=False)


@pytest.mark.parametrize("forwarded", [
    {"X-Forwarded-Prefix": "//evil.example"},
    {"X-Forwarded-Host": "evil.example"},
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
    {"Host": "evil.example"},
])
def test_forwarded_headers_of_one_request_do_not_make_every_readers_page(
        proxied, page, forwarded):
    """The attacker asks first, so the page their headers made is the one kept."""
    for _ in range(2):
        proxied.get(page, headers=forwarded)
    honest = proxied.get(page)
    assert b"evil.example" not in honest.data
    assert not any("evil.example" in value for value in honest.headers.values())
    assert queries(proxied.get(page)) == 1  # the honest page is kept in turn


def test_a_prefix_of_its_own_gets_pages_linking_under_it(proxied, page):
    proxied.get(page)
    prefixed = proxied.get(page, headers={"X-Forwarded-Prefix": "/notes"})
    assert b'href="/notes/help/shortcuts"' in prefixed.data
    assert b'href="/notes/' not in proxied.get(page).data

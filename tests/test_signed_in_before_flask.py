"""Signed-in page views answered before Flask (wiki.web.signed_in): only when Flask would
answer the same, byte for byte, and through Flask whenever anything it checks differs."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import request_started

from tests.helpers import PASSWORD, csrf_token, save_page, submit

ACCOUNT_LINK = re.compile(r'<a href="/account">([^<]*)</a>')
PER_RESPONSE = {"Server-Timing", "Date"}


def signed_in(app, username: str):
    client = app.test_client()
    assert submit(client, "/login", {"username": username, "password": PASSWORD}
                  ).status_code == 303
    return client


@contextmanager
def flask_requests(app):
    """The requests inside the block that reached Flask."""
    reached: list[str] = []

    def record(_app, **_extra):
        from flask import request

        reached.append(request.path)

    with request_started.connected_to(record, app):
        yield reached


@pytest.fixture
def page(app, users):
    save_page(signed_in(app, "editor"), "routing", "Routing", "Routes lead to [[Views]].")
    return "/wiki/routing"


def kept_for(client, page: str):
    """View *page* until its layout is kept for the client (the first view after signing in
    may still carry the sign-in's message) and the middleware has the client's answer."""
    for _ in range(2):
        assert client.get(page).status_code == 200


def headers_of(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in PER_RESPONSE}


def test_a_kept_signed_in_view_is_answered_before_flask_as_flask_answered_it(app, page):
    reader = signed_in(app, "reader")
    kept_for(reader, page)
    by_flask = reader.get(page + "?first")  # a new address: Flask answers, and it is kept
    with flask_requests(app) as reached:
        before = reader.get(page + "?first")
        again = reader.get(page)
    assert reached == []
    assert before.status_code == by_flask.status_code == 200
    assert before.get_data() == by_flask.get_data()
    assert headers_of(before) == headers_of(by_flask)
    assert ACCOUNT_LINK.findall(again.get_data(as_text=True)) == ["Reader"]
    assert before.headers["Server-Timing"].startswith('db;dur=')
    # The token in it is the reader's own, good for the forms it shows.
    token = csrf_token(again.get_data(as_text=True))
    assert reader.post("/logout", data={"csrf_token": token}).status_code == 303
    with flask_requests(app) as reached:
        html = reader.get(page).get_data(as_text=True)
    assert reached == [page] and not ACCOUNT_LINK.search(html)


def test_readers_of_one_role_each_get_their_own_page_before_flask(app, users, page):
    assert submit(signed_in(app, "admin"), "/admin/users",
                  {"username": "<Grace & co>", "role": "reader", "password": PASSWORD}
                  ).status_code == 303
    reader, grace = signed_in(app, "reader"), signed_in(app, "<Grace & co>")
    kept_for(reader, page)
    kept_for(grace, page)
    with flask_requests(app) as reached:
        readers = reader.get(page).get_data(as_text=True)
        graces = grace.get(page).get_data(as_text=True)
    assert reached == []
    assert ACCOUNT_LINK.findall(readers) == ["Reader"]
    assert ACCOUNT_LINK.findall(graces) == ["&lt;Grace &amp; co&gt;"] and "<Grace" not in graces
    assert csrf_token(readers) != csrf_token(graces)


def test_the_same_cookie_from_another_browser_goes_to_flask(app, page):
    reader = signed_in(app, "reader")
    kept_for(reader, page)
    with flask_requests(app) as reached:
        elsewhere = reader.get(page, headers={"User-Agent": "another browser"})
    # Flask-Login's session protection sees another browser: the session is no longer
    # fresh, and the cookie saying so is set. Only Flask does that.
    assert reached == [page]
    assert elsewhere.headers.getlist("Set-Cookie")


def test_a_conditional_view_and_a_head_are_answered_before_flask(app, page):
    reader = signed_in(app, "reader")
    kept_for(reader, page)
    full = reader.get(page)
    with flask_requests(app) as reached:
        unchanged = reader.get(page, headers={"If-None-Match": full.headers["ETag"]})
        head = reader.head(page)
    assert reached == []
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == full.headers["ETag"]
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == full.headers["Content-Length"]


def test_a_change_anywhere_sends_the_next_view_to_flask(make_app, users):
    one, other = make_app("one"), make_app("other")
    editor = signed_in(one, "editor")
    save_page(editor, "routing", "Routing", "Routes, first.")
    reader = signed_in(other, "reader")
    kept_for(reader, "/wiki/routing")
    with flask_requests(other) as reached:
        assert "Routes, first." in reader.get("/wiki/routing").get_data(as_text=True)
    assert reached == []
    save_page(editor, "routing", "Routing", "Routes, changed on the other host.")
    shown = reader.get("/wiki/routing").get_data(as_text=True)
    assert "Routes, changed on the other host." in shown


def test_an_expired_session_is_not_answered_before_flask(app, page):
    reader = signed_in(app, "reader")
    kept_for(reader, page)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=-1)  # every cookie too old
    with flask_requests(app) as reached:
        html = reader.get(page).get_data(as_text=True)
    assert reached == [page] and not ACCOUNT_LINK.search(html)


def test_a_csrf_token_no_longer_reused_is_signed_by_flask(app, page):
    reader = signed_in(app, "reader")
    app.config["WTF_CSRF_TIME_LIMIT"] = 0.001  # a token is reused for 17 ns at most
    kept_for(reader, page)
    with flask_requests(app) as reached:
        reader.get(page)
    assert reached == [page]


def test_an_account_changed_by_an_admin_is_not_answered_before_flask(app, users, page):
    reader, admin = signed_in(app, "reader"), signed_in(app, "admin")
    assert submit(admin, "/admin/users",
                  {"username": "Grace", "role": "reader", "password": PASSWORD}
                  ).status_code == 303
    kept_for(reader, page)
    account = f"/admin/users/{users['reader'].id}"
    assert submit(admin, account + "/deactivate", {}, form_url=account).status_code == 303
    kept_for(signed_in(app, "Grace"), page)  # the page kept again, for readers
    with flask_requests(app) as reached:
        html = reader.get(page).get_data(as_text=True)
    assert reached == [page] and not ACCOUNT_LINK.search(html)

"""Hardening: every route against the policy, CSRF on every POST, headers, escaping, errors.

The route table below must name every endpoint of the app: a new route fails
``test_every_route_has_an_expectation`` until it gets its one line in ``EXPECTED``.
"""

from __future__ import annotations

import re
import stat
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest
from flask import request
from flask_migrate import upgrade
from sqlalchemy import func, select
from werkzeug.middleware.proxy_fix import ProxyFix

from tests.helpers import PASSWORD, csrf_token, save_page, submit, textarea
from wiki import create_app
from wiki.extensions import db
from wiki.models import Card, ReviewLog, Role, User
from wiki.permissions import Action, can
from wiki.services import access, accounts, attachments, pages

CSRF_NOTICE = "Your session expired before this form was sent"

# What the answer to a request means.
OK = "200 page"
FORM_AGAIN = "form shown again with the CSRF notice"
LOGIN = "redirect to sign in"
HOME = "redirect home"
UNAUTHORIZED = "401"
BAD_REQUEST = "400"
FORBIDDEN = "403"
ABSENT = "404"
NOT_ALLOWED = "405"

SIGNED_OUT = ("anonymous", "deactivated")
SIGNED_IN = ("reader", "editor", "admin")
VISITORS = SIGNED_OUT + SIGNED_IN

# The policy as the issue states it: who may do what.
WRITE = {Action.CREATE, Action.EDIT, Action.RENAME, Action.REVERT, Action.DELETE}
MAY_WHEN_SIGNED_IN: dict[str, set[Action]] = {
    "reader": {Action.READ, Action.READ_HISTORY, Action.REVIEW},  # reviewing cards is not editing
    "editor": {Action.READ, Action.READ_HISTORY, Action.REVIEW, *WRITE},
    "admin": set(Action),
}


def may(visitor: str, anonymous_read: bool) -> set[Action]:
    if visitor in SIGNED_OUT:
        return {Action.READ, Action.READ_HISTORY} if anonymous_read else set()
    return MAY_WHEN_SIGNED_IN[visitor]


@dataclass(frozen=True)
class Needs:
    """A route guarded by the policy's *action*. POSTs carry no CSRF token, so an allowed
    visitor gets the form back with the notice (a JSON 400 under /api/) and nothing changes."""

    action: Action
    url: str

    def outcome(self, visitor: str, method: str, anonymous_read: bool) -> str:
        api = self.url.startswith("/api/")
        if self.action in may(visitor, anonymous_read):
            return OK if method == "GET" else BAD_REQUEST if api else FORM_AGAIN
        if visitor in SIGNED_IN:
            return FORBIDDEN
        return UNAUTHORIZED if api else LOGIN


@dataclass(frozen=True)
class ReadThenEdit:
    """A page's list that anyone who may read it sees (GET) and editors add to (POST)."""

    url: str

    def outcome(self, visitor: str, method: str, anonymous_read: bool) -> str:
        action = Action.READ if method == "GET" else Action.EDIT
        return Needs(action, self.url).outcome(visitor, method, anonymous_read)


@dataclass(frozen=True)
class Fixed:
    """An account route: the same for every role. Outcomes are (GET, POST)."""

    url: str
    signed_out: tuple[str, str]
    signed_in: tuple[str, str]

    def outcome(self, visitor: str, method: str, anonymous_read: bool) -> str:
        get, post = self.signed_in if visitor in SIGNED_IN else self.signed_out
        return get if method == "GET" else post


def public(url: str) -> Fixed:
    """Open to everyone, whatever ANONYMOUS_READ says (help and health, not wiki content)."""
    return Fixed(url, signed_out=(OK, OK), signed_in=(OK, OK))


# One line per endpoint. "{user}" is the reader's account id; "sample" has revisions 1 and 2,
# the second with the review card "{card}"; "{rule}" is the id of an access rule (for the page
# "elsewhere", which does not exist).
EXPECTED: dict[str, Needs | ReadThenEdit | Fixed] = {
    "pages.home": Needs(Action.READ, "/"),
    "pages.view": Needs(Action.READ, "/wiki/sample"),
    "pages.index": Needs(Action.READ, "/pages"),
    "pages.new": Needs(Action.CREATE, "/new"),
    "pages.edit": Needs(Action.EDIT, "/edit/sample"),
    "pages.delete": Needs(Action.DELETE, "/delete/sample"),
    "pages.rename": Needs(Action.RENAME, "/rename/sample"),
    "pages.shortcuts": public("/help/shortcuts"),
    "pages.writing": public("/help/writing"),
    "health.healthz": public("/healthz"),
    "site.favicon": public("/favicon.ico"),
    "history.history": Needs(Action.READ_HISTORY, "/history/sample"),
    "history.diff": Needs(Action.READ_HISTORY, "/diff/sample?from=1&to=2"),
    "history.revert": Needs(Action.REVERT, "/revert/sample?rev=1"),
    "history.recent": Needs(Action.READ, "/recent"),
    "history.feed": Needs(Action.READ, "/recent.atom"),
    "history.deleted": Needs(Action.RESTORE, "/deleted"),
    "search.results": Needs(Action.READ, "/search?q=sample"),
    "search.titles": Needs(Action.READ, "/api/v1/titles?q=sam"),
    "links.backlinks": Needs(Action.READ, "/backlinks/sample"),
    "links.tags": Needs(Action.READ, "/tags"),
    "links.tag": Needs(Action.READ, "/tags/demo"),
    "api.preview": Needs(Action.EDIT, "/api/v1/preview"),
    "api_v1.page_list": Needs(Action.READ, "/api/v1/pages"),
    "api_v1.page": Needs(Action.READ, "/api/v1/pages/sample"),  # PUT, DELETE: test_api.py
    "api_v1.history": Needs(Action.READ, "/api/v1/pages/sample/history"),
    "api_v1.revision": Needs(Action.READ, "/api/v1/pages/sample/revisions/1"),
    "api_v1.diff": Needs(Action.READ, "/api/v1/pages/sample/diff?from=1&to=2"),
    "api_v1.backlinks": Needs(Action.READ, "/api/v1/pages/sample/backlinks"),
    "api_v1.search": Needs(Action.READ, "/api/v1/search?q=sample"),
    "api_v1.openapi_document": public("/api/v1/openapi.json"),
    "api_v1.reference": public("/help/api"),
    "attachments.listing": ReadThenEdit("/attachments/sample"),
    "attachments.delete": Needs(Action.EDIT, "/attachments/sample/delete"),
    "attachments.restore": Needs(Action.RESTORE, "/attachments/sample/restore"),
    "attachments.file": Needs(Action.READ, "/files/sample/notes.pdf"),
    "account.login": Fixed("/login", signed_out=(OK, FORM_AGAIN), signed_in=(HOME, FORM_AGAIN)),
    "account.logout": Fixed("/logout", signed_out=(HOME, HOME), signed_in=(OK, FORM_AGAIN)),
    "account.register": Fixed("/register", signed_out=(ABSENT, ABSENT),  # closed by default
                              signed_in=(ABSENT, ABSENT)),
    "account.account": Fixed("/account", signed_out=(LOGIN, LOGIN), signed_in=(OK, FORM_AGAIN)),
    "tokens.tokens_page": Fixed("/account/tokens", signed_out=(LOGIN, LOGIN),
                                signed_in=(OK, FORM_AGAIN)),
    # The form's token is checked before the API token is looked up: the same for everyone.
    "tokens.revoke": Fixed("/account/tokens/1/revoke", signed_out=(NOT_ALLOWED, LOGIN),
                           signed_in=(NOT_ALLOWED, FORM_AGAIN)),
    # Only while the wiki has no account (tests/test_accounts.py): here it has some.
    "account.first_account": Fixed("/setup/any-token", signed_out=(ABSENT, ABSENT),
                                   signed_in=(ABSENT, ABSENT)),
    "admin.users": Needs(Action.MANAGE_USERS, "/admin/users"),
    "admin.user": Needs(Action.MANAGE_USERS, "/admin/users/{user}"),
    "admin.change_role": Needs(Action.MANAGE_USERS, "/admin/users/{user}/role"),
    "admin.set_password": Needs(Action.MANAGE_USERS, "/admin/users/{user}/password"),
    "admin.deactivate": Needs(Action.MANAGE_USERS, "/admin/users/{user}/deactivate"),
    "admin.reactivate": Needs(Action.MANAGE_USERS, "/admin/users/{user}/reactivate"),
    "exports.archive": Needs(Action.EXPORT, "/export.zip"),
    "access.rules": Needs(Action.MANAGE_USERS, "/admin/access"),
    "access.change": Needs(Action.MANAGE_USERS, "/admin/access/{rule}"),
    "access.delete": Needs(Action.MANAGE_USERS, "/admin/access/{rule}/delete"),
    "review.next_due": Needs(Action.REVIEW, "/review"),
    "review.card": Needs(Action.REVIEW, "/review/{card}?show=1"),
    "review.grade": Needs(Action.REVIEW, "/review/{card}"),
    "review.stats": Needs(Action.REVIEW, "/review/stats"),
}

# POST-only routes whose URL, read with GET, is the file list of a page that is not there:
# GET /attachments/sample/delete lists the files of a page "sample/delete".
GET_LISTS_ANOTHER_PAGE = {"attachments.delete", "attachments.restore"}
# POST-only routes whose URL, read with GET, is another route's: GET /review/1 shows card 1.
GET_IS_ANOTHER_ROUTE = {"review.grade": "review.card"}


def get_of_a_post_route(endpoint: str, url: str, visitor: str, anonymous_read: bool) -> str:
    if endpoint in GET_IS_ANOTHER_ROUTE:
        return EXPECTED[GET_IS_ANOTHER_ROUTE[endpoint]].outcome(visitor, "GET", anonymous_read)
    if endpoint not in GET_LISTS_ANOTHER_PAGE:
        return NOT_ALLOWED
    if Action.READ in may(visitor, anonymous_read):
        return ABSENT
    return Needs(Action.READ, url).outcome(visitor, "GET", anonymous_read)


@pytest.fixture
def sample(app, users):
    """The home page, and the page "sample" with two revisions by the editor."""
    with app.app_context():
        editor = db.session.get(User, users["editor"].id)
        pages.save(pages.PageEdit(None, "Home", "Start at [[Sample]]."), editor)
        pages.save(pages.PageEdit(None, "Sample", "First text.", tags="demo"), editor)
        pages.save(pages.PageEdit("sample", "Sample", "Second text.\n\nSample question :: answer",
                                  summary="second"), editor)
        attachments.upload(pages.get_page("sample"),
                           [attachments.Upload("notes.pdf", b"%PDF-1.4 notes")], editor)
        admin = db.session.get(User, users["admin"].id)
        access.add_rule("elsewhere", "reader", "editor", admin)
    return "sample"


def sample_card(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Card.id))


def visitor_client(app, users, visitor: str):
    """A client for *visitor*; "deactivated" holds the session cookie of an account that
    was deactivated after signing in."""
    client = app.test_client()
    if visitor == "deactivated":
        with client.session_transaction() as session:
            session["_user_id"] = users["gone"].get_id()
            session["_fresh"] = True
    elif visitor != "anonymous":
        signed_in = submit(client, "/login", {"username": visitor, "password": PASSWORD})
        assert signed_in.status_code == 303
    return client


def classify(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (302, 303) and location.startswith("/login"):
        return LOGIN
    if response.status_code in (302, 303) and location == "/":
        return HOME
    if response.status_code in (200, 422) and CSRF_NOTICE.encode() in response.get_data():
        return FORM_AGAIN
    named = {200: OK, 400: BAD_REQUEST, 401: UNAUTHORIZED, 403: FORBIDDEN, 404: ABSENT,
             405: NOT_ALLOWED}
    return named.get(response.status_code, f"{response.status_code} {location}")


def rule_id(app) -> int:
    """The id of the access rule the sample wiki has."""
    with app.app_context():
        return access.load_rules(db.session).rules[0].id


def routes(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_every_route_has_an_expectation(app):
    assert {rule.endpoint for rule in routes(app)} == set(EXPECTED)


def test_the_policy_matches_the_table(app, users):
    with app.test_request_context():
        for name, allowed in MAY_WHEN_SIGNED_IN.items():
            user = users[name]
            assert {action for action in Action if can(user, action)} == allowed, name
        assert not any(can(users["gone"], action) for action in Action
                       if action not in (Action.READ, Action.READ_HISTORY))  # what visitors get


@pytest.mark.parametrize("anonymous_read", [True, False], ids=["anonymous-read", "login-to-read"])
@pytest.mark.parametrize("visitor", VISITORS)
def test_every_route_answers_as_the_policy_says(app, users, sample, visitor, anonymous_read):
    app.config["ANONYMOUS_READ"] = anonymous_read
    client = visitor_client(app, users, visitor)
    mismatches = []
    for rule in routes(app):
        expected = EXPECTED.get(rule.endpoint)
        if expected is None:
            mismatches.append(f"{rule.rule}: no line for {rule.endpoint!r} in EXPECTED")
            continue
        url = expected.url.format(user=users["reader"].id, rule=rule_id(app),
                                  card=sample_card(app))
        for method in sorted(rule.methods & {"GET", "POST"}):
            want = expected.outcome(visitor, method, anonymous_read)
            got = classify(client.open(url, method=method))
            if got != want:
                mismatches.append(f"{method} {url}: {got}, expected {want}")
        if "GET" not in rule.methods:
            got = classify(client.get(url))
            want = get_of_a_post_route(rule.endpoint, url, visitor, anonymous_read)
            if got != want:
                mismatches.append(f"GET {url}: {got}, expected {want}")
    assert mismatches == []


# --- CSRF: a missing or expired token shows the form again, with the user's text ---------

# Every POST endpoint: (who posts, url, what they typed, text that must come back).
# Passwords are never sent back to the browser, so those forms keep nothing but the notice.
POSTED: dict[str, tuple[str, str, dict[str, str], list[str]]] = {
    "pages.new": ("admin", "/new", {"title": "Fresh title", "body": "Fresh body",
                                    "summary": "fresh summary", "tags": "fresh-tag"},
                  ['value="Fresh title"', 'value="fresh summary"', 'value="fresh-tag"']),
    "pages.edit": ("admin", "/edit/sample",
                   {"title": "Sample", "body": "My careful rewrite", "summary": "my summary",
                    "tags": "one, two", "base_revision": "2"},
                   ['value="Sample"', 'value="my summary"', 'value="one, two"']),
    "pages.delete": ("admin", "/delete/sample", {}, []),
    "pages.rename": ("admin", "/rename/sample", {"title": "Better name"}, ['value="Better name"']),
    "history.revert": ("admin", "/revert/sample?rev=1", {}, []),
    "attachments.listing": ("admin", "/attachments/sample", {}, []),
    "attachments.delete": ("admin", "/attachments/sample/delete", {"name": "notes.pdf"}, []),
    "attachments.restore": ("admin", "/attachments/sample/restore", {"name": "notes.pdf"}, []),
    "account.login": ("anonymous", "/login", {"username": "Typed name", "password": "x" * 9},
                      ['value="Typed name"']),
    "account.register": ("anonymous", "/register",
                         {"username": "Newcomer", "password": PASSWORD, "confirm": PASSWORD},
                         ['value="Newcomer"']),
    "account.logout": ("admin", "/logout", {}, []),
    "account.account": ("admin", "/account", {"current": PASSWORD, "password": PASSWORD + "!",
                                              "confirm": PASSWORD + "!"}, []),
    "tokens.tokens_page": ("admin", "/account/tokens",
                           {"name": "Typed token name", "scope": "write", "expires": "30"},
                           ['value="Typed token name"', '<option selected value="write">']),
    "tokens.revoke": ("admin", "/account/tokens/1/revoke", {}, []),
    "admin.users": ("admin", "/admin/users",
                    {"username": "Invited", "role": "reader", "password": PASSWORD},
                    ['value="Invited"', '<option selected value="reader">']),
    "admin.change_role": ("admin", "/admin/users/{user}/role", {"role": "admin"},
                          ['<option selected value="admin">']),
    "admin.set_password": ("admin", "/admin/users/{user}/password", {"password": PASSWORD + "?"},
                           []),
    "admin.deactivate": ("admin", "/admin/users/{user}/deactivate", {}, []),
    "admin.reactivate": ("admin", "/admin/users/{user}/reactivate", {}, []),
    "access.rules": ("admin", "/admin/access",
                     {"pattern": "typed/**", "read_role": "editor", "edit_role": "admin"},
                     ['value="typed/**"', '<option selected value="editor">']),
    "access.change": ("admin", "/admin/access/{rule}", {"read_role": "admin",
                                                         "edit_role": "admin"}, []),
    "access.delete": ("admin", "/admin/access/{rule}/delete", {}, []),
    "review.grade": ("admin", "/review/{card}", {"rating": "3"}, ['value="3"']),
}


def test_every_post_route_is_in_the_csrf_table(app):
    """HTML forms are in POSTED; JSON endpoints answer a bad token with a JSON 400 instead."""
    posting = {rule.endpoint for rule in routes(app) if "POST" in rule.methods}
    json_endpoints = {rule.endpoint for rule in routes(app) if rule.rule.startswith("/api/")}
    needs_an_empty_wiki = {"account.first_account"}  # its CSRF test is in test_accounts.py
    assert posting - json_endpoints - needs_an_empty_wiki == set(POSTED)


def test_only_views_that_check_the_token_themselves_skip_the_check_before_every_post(app):
    csrf = app.extensions["csrf"]
    exempt = {endpoint for endpoint, view in app.view_functions.items()
              if f"{view.__module__}.{view.__name__}" in csrf._exempt_views}
    # The API's page resource checks X-CSRFToken itself, for session calls only (test_api.py).
    assert exempt == set(POSTED) | {"api.preview", "account.first_account", "api_v1.page"}
    assert not csrf._exempt_blueprints


def test_a_new_post_view_without_a_form_is_checked_for_its_token(app, users):
    done = []

    def poke():
        done.append(True)
        return "poked"

    app.add_url_rule("/poke", "poke", poke, methods=["POST"])
    client = visitor_client(app, users, "editor")
    response = client.post("/poke", data={"anything": "1"})
    assert response.status_code == 400 and done == []
    assert "CSRF token is missing" in response.get_data(as_text=True)
    token = csrf_token(client.get("/account").get_data(as_text=True))
    assert client.post("/poke", data={"csrf_token": token}).status_code == 200 and done


def test_json_endpoints_answer_a_missing_token_with_a_json_400(editor):
    response = editor.post("/api/v1/preview", data={"body": "*hi*"})
    assert response.status_code == 400 and response.is_json
    assert "CSRF token is missing" in response.json["detail"]


def wait_until_tokens_expire(issued_after: float, time_limit: int) -> None:
    """Sleep until tokens made before *issued_after* are older than *time_limit* seconds.

    itsdangerous counts whole seconds and refuses a token only when its age exceeds the limit.
    """
    expired_at = int(issued_after) + time_limit + 1
    time.sleep(max(0.0, expired_at - time.time()) + 0.05)


@pytest.mark.parametrize("token", ["missing", "expired"])
def test_a_bad_csrf_token_shows_the_form_again_with_the_text_kept(app, users, sample, token):
    app.config.update(REGISTRATION="open", WTF_CSRF_TIME_LIMIT=1)
    clients = {"admin": visitor_client(app, users, "admin"), "anonymous": app.test_client()}
    tokens = {who: csrf_token(client.get("/login" if who == "anonymous" else "/account")
                              .get_data(as_text=True)) for who, client in clients.items()}
    if token == "expired":
        wait_until_tokens_expire(time.time(), time_limit=1)
    else:
        tokens = dict.fromkeys(tokens, "")

    for endpoint, (who, url, typed, kept) in POSTED.items():
        url = url.format(user=users["reader"].id, rule=rule_id(app), card=sample_card(app))
        response = clients[who].post(url, data={"csrf_token": tokens[who], **typed})
        html = response.get_data(as_text=True)
        assert response.status_code == 422, endpoint
        assert CSRF_NOTICE in html, endpoint
        for text in kept:
            assert text in html, (endpoint, text)
        if endpoint in ("pages.new", "pages.edit"):
            assert textarea(html) == typed["body"]

    with app.app_context():  # nothing happened
        assert pages.get_page("sample").revision_number == 2
        assert attachments.get_file(pages.get_page("sample"), "notes.pdf") is not None
        assert pages.get_page("fresh-title") is None
        assert accounts.find_user("Invited") is None and accounts.find_user("Newcomer") is None
        reader = accounts.find_user("reader")
        assert reader.role == Role.READER and reader.active
        assert access.load_rules(db.session).fingerprint() == (("elsewhere", "reader", "editor"),)
        assert db.session.scalar(select(func.count()).select_from(ReviewLog)) == 0
    unchanged = submit(app.test_client(), "/login", {"username": "reader", "password": PASSWORD})
    assert unchanged.status_code == 303


def test_a_good_token_still_works_after_the_notice(admin, sample):
    stale = admin.post("/edit/sample", data={"title": "Sample", "body": "Kept text",
                                             "base_revision": "2"})
    html = stale.get_data(as_text=True)
    again = admin.post("/edit/sample", data={"csrf_token": csrf_token(html), "title": "Sample",
                                             "body": textarea(html), "base_revision": "2"})
    assert again.status_code == 303
    assert "Kept text" in admin.get("/wiki/sample").get_data(as_text=True)


# --- Headers ---------------------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def assert_security_headers(response) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    script_src = re.search(r"script-src ([^;]*)", headers["Content-Security-Policy"]).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers


def test_images_from_other_sites_are_a_setting_off_by_default(make_app):
    """No third-party image tells another site who reads a page, unless the wiki allows it."""
    for setting, img_src in ((None, "img-src 'self';"), (True, "img-src 'self' https:;")):
        app = make_app("images", **({} if setting is None else {"EXTERNAL_IMAGES": setting}))
        policy = app.test_client().get("/").headers["Content-Security-Policy"]
        assert img_src in policy, policy


def test_security_headers_on_every_kind_of_response(app, client, users, sample):
    answers = {
        "html": client.get("/wiki/sample"),
        "json": client.get("/api/v1/titles?q=sam"),
        "json error": client.get("/api/v1/nothing"),
        "static": client.get("/static/css/wiki.css"),
        "redirect": client.get("/new"),
        "not found": client.get("/wiki/nothing-here"),
        "method not allowed": client.get("/admin/users/1/role"),
        "feed": client.get("/recent.atom"),
    }
    expected_status = {"html": 200, "json": 200, "json error": 404, "static": 200,
                       "redirect": 302, "not found": 404, "method not allowed": 405, "feed": 200}
    for kind, response in answers.items():
        response.close()
        assert response.status_code == expected_status[kind], kind
        assert_security_headers(response)
    assert answers["json"].is_json and answers["json error"].is_json
    assert answers["method not allowed"].headers["Allow"]


def test_hsts_only_when_configured(make_app, monkeypatch):
    monkeypatch.setenv("WIKI_HSTS", "true")
    https_app = make_app("own-instance")  # settings read once, at start-up
    with https_app.test_client().get("/static/css/wiki.css") as response:
        assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_proxy_fix_only_when_the_number_of_proxies_is_given(make_app):
    def whoami():
        return f"{request.remote_addr} {request.scheme}"

    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    direct = make_app("direct")
    proxied = make_app("proxied", PROXY_FIX=1)
    for app in (direct, proxied):
        app.add_url_rule("/whoami", view_func=whoami)
    assert not isinstance(direct.wsgi_app, ProxyFix)
    assert direct.test_client().get("/whoami", headers=forwarded).text == "127.0.0.1 http"
    assert proxied.test_client().get("/whoami", headers=forwarded).text == "203.0.113.9 https"


# --- Cookies -----------------------------------------------------------------------------

def set_cookie_headers(response) -> dict[str, str]:
    return {value.split("=", 1)[0]: value for value in response.headers.getlist("Set-Cookie")}


def sign_in_remembered(client, base_url="http://localhost"):
    form = client.get("/login", base_url=base_url)
    return client.post("/login", base_url=base_url, data={
        "csrf_token": csrf_token(form.get_data(as_text=True)),
        "username": "editor", "password": PASSWORD, "remember": "y"})


def test_cookies_are_httponly_and_samesite_lax(client, users):
    cookies = set_cookie_headers(sign_in_remembered(client))
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
        assert "Secure" not in cookies[name]


def remembered_for_days(response) -> float:
    expires = re.search(r"Expires=([^;]+)", set_cookie_headers(response)["remember_token"])
    return (parsedate_to_datetime(expires.group(1)) - datetime.now(UTC)).total_seconds() / 86400


def test_keep_me_signed_in_lasts_30_days_unless_configured(app, client, users):
    assert 29.9 < remembered_for_days(sign_in_remembered(client)) <= 30
    app.config["REMEMBER_COOKIE_DURATION"] = 7 * 24 * 3600
    assert 6.9 < remembered_for_days(sign_in_remembered(app.test_client())) <= 7


def test_cookies_are_secure_when_configured(make_app, monkeypatch):
    monkeypatch.setenv("WIKI_SESSION_COOKIE_SECURE", "true")
    https_app = make_app("own-instance")
    with https_app.app_context():
        accounts.create_user("editor", PASSWORD, Role.EDITOR)
    response = sign_in_remembered(https_app.test_client(), base_url="https://localhost")
    assert response.status_code == 303
    cookies = set_cookie_headers(response)
    for name in ("session", "remember_token"):
        assert "Secure" in cookies[name] and "HttpOnly" in cookies[name]


def test_a_new_sqlite_database_and_its_wal_are_readable_by_their_owner_only(tmp_path):
    instance = tmp_path / "fresh"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()  # writes, so the -wal and -shm files are there while the engine is open
        files = sorted(instance.glob("wiki.sqlite*"))
        modes = {file.name: stat.S_IMODE(file.stat().st_mode) for file in files}
        db.engine.dispose()
    assert modes == {"wiki.sqlite": 0o600, "wiki.sqlite-shm": 0o600, "wiki.sqlite-wal": 0o600}


# --- Errors ------------------------------------------------------------------------------

def test_no_debug_mode_unless_asked_for(app):
    assert app.debug is False and not app.config.get("DEBUG")


def test_the_500_page_is_generic_and_the_error_is_logged(app, caplog):
    def explode():
        raise RuntimeError("database password is hunter2")

    app.add_url_rule("/explode", view_func=explode)
    app.add_url_rule("/api/v1/explode", endpoint="api_explode", view_func=explode)
    client = app.test_client()

    page = client.get("/explode")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "Something went wrong on our side" in html
    assert "hunter2" not in html and "Traceback" not in html and "RuntimeError" not in html
    assert_security_headers(page)

    api = client.get("/api/v1/explode")
    assert api.status_code == 500 and api.json["title"] == "Internal Server Error"
    assert "hunter2" not in api.get_data(as_text=True)

    logged = [record for record in caplog.records if "Unhandled error" in record.getMessage()]
    assert [record.getMessage() for record in logged] == [
        "Unhandled error on GET /explode", "Unhandled error on GET /api/v1/explode"]
    assert all(record.exc_info and "hunter2" in str(record.exc_info[1]) for record in logged)


# --- Escaping ----------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{SCRIPT} {IMAGE}"
RAW_MARKERS = ["<script>alert", "<img src=x", "<img-src=x", "onerror=alert(1)>"]
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def assert_escaped(html: str, where: str, *, shown: bool = True) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, f"{where}: {marker!r} reached the page unescaped"
    if shown:
        assert ESCAPED_SCRIPT in html, f"{where}: the hostile text is not shown at all"


@pytest.fixture
def hostile(app, users):
    """A user named like a script, who wrote a page with hostile title, summary and tags."""
    with app.app_context():
        accounts.create_user(SCRIPT, PASSWORD, Role.EDITOR)
        accounts.create_user(IMAGE, PASSWORD, Role.EDITOR)
    client = app.test_client()
    submit(client, "/login", {"username": SCRIPT, "password": PASSWORD})
    created = submit(client, "/new", {"title": HOSTILE, "body": f"Body {HOSTILE}",
                                      "summary": f"first {HOSTILE}", "tags": f"{SCRIPT}, {IMAGE}"})
    assert created.status_code == 303
    slug = created.headers["Location"].removeprefix("/wiki/")
    assert save_page(client, slug, HOSTILE, f"Body {HOSTILE} again\n\n{HOSTILE} :: {HOSTILE}",
                     summary=f"second {HOSTILE}", tags=f"{SCRIPT}, {IMAGE}").status_code == 303
    return client, slug


def test_hostile_text_is_escaped_everywhere_it_is_shown(app, users, hostile):
    author, slug = hostile
    admin = visitor_client(app, users, "admin")
    shown = {
        "page view": author.get(f"/wiki/{slug}"),
        "old revision": author.get(f"/wiki/{slug}?rev=1"),
        "all pages": author.get("/pages"),
        "missing page": author.get("/wiki/no-such-page", query_string={"title": HOSTILE}),
        "edit form": author.get(f"/edit/{slug}"),
        "history": author.get(f"/history/{slug}"),
        "diff": author.get(f"/diff/{slug}?from=1&to=2"),
        "revert": admin.get(f"/revert/{slug}?rev=1"),
        "delete": admin.get(f"/delete/{slug}"),
        "recent": author.get("/recent"),
        "recent by user": author.get("/recent", query_string={"user": SCRIPT}),
        "feed": author.get("/recent.atom"),
        "search": author.get("/search", query_string={"q": "alert"}),
        "search echo": author.get("/search", query_string={"q": HOSTILE}),
        "admin users": admin.get("/admin/users"),
        "tags": author.get("/tags"),
        "tagged": author.get("/tags/" + quote(pages.normalise_tags(IMAGE)[0], safe="")),
        "backlinks": author.get(f"/backlinks/{slug}"),
    }
    with app.app_context():
        hostile_user = accounts.find_user(SCRIPT)
    shown["admin user"] = admin.get(f"/admin/users/{hostile_user.id}")
    shown["review card"] = author.get("/review")
    shown["review answer"] = author.get(f"/review/{sample_card(app)}?show=1")
    shown["review this page"] = author.get(f"/review?under={quote(slug)}")
    for where, response in shown.items():
        assert response.status_code in (200, 404), where
        assert_escaped(response.get_data(as_text=True), where)


def test_hostile_text_in_forms_sent_back_and_flash_messages_is_escaped(app, users, hostile):
    author, slug = hostile
    refused = author.post("/new", data={"title": HOSTILE, "body": "x",
                                        "summary": HOSTILE, "tags": HOSTILE})
    assert_escaped(refused.get_data(as_text=True), "edit form sent back")

    admin = visitor_client(app, users, "admin")
    created = submit(admin, "/admin/users", {"username": IMAGE + "2", "role": "reader",
                                              "password": PASSWORD}, follow_redirects=True)
    assert_escaped(created.get_data(as_text=True), "flash after creating an account",
                   shown=False)
    assert "created as reader" in created.get_data(as_text=True)
    deleted = submit(admin, f"/delete/{slug}", follow_redirects=True)
    html = deleted.get_data(as_text=True)
    assert "was deleted" in html
    assert_escaped(html, "flash after deleting the page")


# --- NUL characters ----------------------------------------------------------------------
# SQLite stores them; PostgreSQL's text cannot hold one (the driver writes U+FFFD instead).


@pytest.mark.parametrize("field", ["title", "body", "summary", "tags"])
def test_a_nul_character_in_a_form_is_no_server_error(editor, field):
    form = {"title": "Nul", "body": "text", "summary": "", "tags": "", field: "a\x00b"}
    response = save_page(editor, "nul", **form)
    assert response.status_code in (303, 422), response.status_code


@pytest.mark.parametrize("url", ["/wiki/a\x00b", "/history/a\x00b", "/backlinks/a\x00b",
                                 "/tags/a\x00b", "/recent?user=a\x00b", "/search?q=a\x00b",
                                 "/api/v1/titles?q=a\x00b", "/pages?from=a\x00b"])
def test_a_nul_character_in_an_address_is_no_server_error(editor, url):
    assert editor.get(url).status_code in (200, 301, 404)


def test_a_nul_character_in_a_login_is_a_failed_login(auth):
    response = auth.login("edi\x00tor", "pass\x00word")
    assert response.status_code == 422
    assert "Unknown username or wrong password." in response.get_data(as_text=True)

"""The token API obeys the access rules exactly as the pages do, for the token's user: a
hidden page answers as a missing one on every route and method, lists and search leave it
out, links to it show as missing, history needs READ_HISTORY, and a read-only page refuses
a write with 403. Every call is made over HTTP with a Bearer token, as a script would."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, submit
from wiki.extensions import db
from wiki.models import User
from wiki.services import access, pages, tokens

HIDDEN = "private/xyzzytitle-plans"  # read and edited by admins only
MISSING = "private/nothing-here"  # under the same rule, no page: what HIDDEN must look like
READ_ONLY = "handbook"  # read by anyone, edited by admins only
OPEN = "garden"
TITLE_MARKER = "XyzzyTitle"  # its address holds it in lower case only
TEXT_MARKER = "plugh"  # in its text and a tag, in no address


@pytest.fixture
def wiki(app, users):
    with app.app_context():
        editor = db.session.get(User, users["editor"].id)
        admin = db.session.get(User, users["admin"].id)
        access.add_rule("private/**", "admin", "admin", admin)
        access.add_rule(READ_ONLY, "anyone", "admin", admin)
        for title, first, second, tags in (
                ("Private/XyzzyTitle Plans", "plughbody secretword", "plughbody secretword two",
                 "shared, plughtag"),
                ("Handbook", "Read this first.", "Read this first, twice.", "shared"),
                ("Garden", f"See [[{HIDDEN}]] and [[{MISSING}]].",
                 f"See [[{HIDDEN}]] and [[{MISSING}]] again.", "shared")):
            slug = pages.save(pages.PageEdit(None, title, first, tags=tags), editor).page.slug
            pages.save(pages.PageEdit(slug, title, second, tags=tags, base_revision=1), editor)
    return app


@pytest.fixture
def token_of(wiki, users):
    """A read-and-write token of each role's account."""
    with wiki.app_context():
        return {role: tokens.create_token(db.session.get(User, users[role].id), role,
                                          tokens.Scope.WRITE, 30).plaintext
                for role in ("reader", "editor", "admin")}


def call(client, token: str, method: str, url: str, json=None, echoed: str = ""):
    """The answer, which shows neither marker (bar *echoed*, the words asked for)."""
    response = client.open(url, method=method, json=json,
                           headers={"Authorization": f"Bearer {token}"})
    text = response.get_data(as_text=True).replace(f'"{echoed}"', "")
    assert TITLE_MARKER not in text and TEXT_MARKER not in text.lower(), (url, text)
    return response


def same_answer(hidden, missing) -> None:
    """The two answers are the same but for the address each names."""
    assert hidden.status_code == missing.status_code
    assert hidden.mimetype == missing.mimetype
    assert hidden.get_data(as_text=True).replace(HIDDEN, MISSING) == \
        missing.get_data(as_text=True)


PAGE_ROUTES = [("GET", "/api/v1/pages/{}"), ("GET", "/api/v1/pages/{}/history"),
               ("GET", "/api/v1/pages/{}/revisions/1"), ("GET", "/api/v1/pages/{}/diff"),
               ("GET", "/api/v1/pages/{}/diff?from=1&to=2"),
               ("GET", "/api/v1/pages/{}/backlinks"), ("DELETE", "/api/v1/pages/{}"),
               ("PUT", "/api/v1/pages/{}")]


@pytest.mark.parametrize("role", ["reader", "editor"])
@pytest.mark.parametrize(("method", "route"), PAGE_ROUTES)
def test_a_hidden_page_answers_as_a_missing_one(wiki, token_of, role, method, route):
    client = wiki.test_client()
    document = {"title": "Taken over", "body": "Overwritten", "base_revision": 2}
    hidden = call(client, token_of[role], method, route.format(HIDDEN), document)
    missing = call(client, token_of[role], method, route.format(MISSING), document)
    same_answer(hidden, missing)
    if "backlinks" not in route:
        assert hidden.status_code in (403, 404)
    with wiki.app_context():
        page = pages.get_page(HIDDEN)
        assert page is not None and page.revision_number == 2


def test_the_tokens_user_decides_not_the_sessions(wiki, token_of):
    client = wiki.test_client()
    assert submit(client, "/login", {"username": "admin", "password": PASSWORD}) \
        .status_code == 303
    assert client.get(f"/api/v1/pages/{HIDDEN}").status_code == 200  # the admin's session
    assert call(client, token_of["editor"], "GET", f"/api/v1/pages/{HIDDEN}").status_code == 404


@pytest.mark.parametrize("role", ["reader", "editor"])
def test_lists_and_search_leave_a_hidden_page_out(wiki, token_of, role):
    client = wiki.test_client()
    listed = call(client, token_of[role], "GET", "/api/v1/pages").get_json()
    assert [page["slug"] for page in listed["pages"]] == [OPEN, READ_ONLY]
    for url in ("/api/v1/pages?prefix=private", "/api/v1/pages?tag=plughtag",
                "/api/v1/pages?tag=shared&per_page=1&page=3"):
        assert call(client, token_of[role], "GET", url).get_json()["pages"] == []
    for words in ("secretword", "plughbody", "tag:plughtag"):
        found = call(client, token_of[role], "GET", f"/api/v1/search?q={words}",
                     echoed=words).get_json()
        assert found["total"] == 0 and found["results"] == []
    backlinks = call(client, token_of[role], "GET", f"/api/v1/pages/{OPEN}/backlinks")
    assert backlinks.get_json()["pages"] == []


def test_an_administrator_finds_the_hidden_page_everywhere(wiki, token_of):
    client = wiki.test_client()
    headers = {"Authorization": f"Bearer {token_of['admin']}"}
    assert "XyzzyTitle" in client.get(f"/api/v1/pages/{HIDDEN}", headers=headers).get_json()[
        "title"]
    assert client.get("/api/v1/search?q=secretword", headers=headers).get_json()["total"] == 1
    slugs = [page["slug"] for page in client.get("/api/v1/pages", headers=headers)
             .get_json()["pages"]]
    assert HIDDEN in slugs
    html = client.get(f"/api/v1/pages/{OPEN}", headers=headers).get_json()["html"]
    assert f'href="/wiki/{HIDDEN}"' in html


@pytest.mark.parametrize("route", [f"/api/v1/pages/{OPEN}",
                                   f"/api/v1/pages/{OPEN}/revisions/2"])
def test_links_to_a_hidden_page_show_as_missing(wiki, token_of, route):
    html = call(wiki.test_client(), token_of["reader"], "GET", route).get_json()["html"]
    assert f'href="/wiki/{HIDDEN}"' not in html
    hidden_link = html.split(HIDDEN)[0].rsplit("<a", 1)[1]
    missing_link = html.split(MISSING)[0].rsplit("<a", 1)[1]
    assert "wikilink-missing" in hidden_link and hidden_link.replace(
        "edit/", "") == missing_link.replace("edit/", "")


@pytest.mark.parametrize("route", ["/api/v1/pages/{}/history", "/api/v1/pages/{}/revisions/1",
                                   "/api/v1/pages/{}/diff"])
def test_history_needs_the_role_history_is_shown_to(wiki, token_of, route):
    wiki.config["HISTORY_VISIBLE_TO"] = "editor"
    client = wiki.test_client()
    refused = call(client, token_of["reader"], "GET", route.format(OPEN))
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    same_answer(call(client, token_of["reader"], "GET", route.format(HIDDEN)),
                call(client, token_of["reader"], "GET", route.format(MISSING)))
    assert call(client, token_of["editor"], "GET", route.format(OPEN)).status_code == 200


def test_a_read_only_page_refuses_a_write_from_those_who_may_read_it(wiki, token_of):
    client = wiki.test_client()
    read = call(client, token_of["editor"], "GET", f"/api/v1/pages/{READ_ONLY}")
    assert read.status_code == 200
    put = call(client, token_of["editor"], "PUT", f"/api/v1/pages/{READ_ONLY}",
               {"body": "Changed", "base_revision": 2})
    deleted = call(client, token_of["editor"], "DELETE", f"/api/v1/pages/{READ_ONLY}")
    assert put.status_code == 403 and deleted.status_code == 403
    assert put.mimetype == "application/problem+json"
    with wiki.app_context():
        assert pages.get_page(READ_ONLY).revision_number == 2
    admin = call(client, token_of["admin"], "PUT", f"/api/v1/pages/{READ_ONLY}",
                 {"body": "Changed", "base_revision": 2})
    assert admin.status_code == 200

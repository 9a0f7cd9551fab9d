"""The token API: personal tokens made and revoked through their page, and /api/v1 called
with them over HTTP, as a script would."""

from __future__ import annotations

import html as html_module
import re
from datetime import timedelta

import pytest
from sqlalchemy import String, Text, event, select, update

from tests.helpers import PASSWORD, csrf_token, submit
from wiki.extensions import db, limiter
from wiki.models import ApiToken, WikiState, utcnow
from wiki.services import pages, tokens
from wiki.web import openapi

NEW_TOKEN = re.compile(r'id="new-token"[^>]*value="([^"]+)"')


def sign_in(app, username: str):
    client = app.test_client()
    assert submit(client, "/login", {"username": username, "password": PASSWORD}) \
        .status_code == 303
    return client


def make_token(client, name: str = "script", scope: str = "write", expires: str = "30") -> str:
    """Create a token on /account/tokens, as a person would, and read it off the page."""
    response = submit(client, "/account/tokens",
                      {"name": name, "scope": scope, "expires": expires})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return html_module.unescape(NEW_TOKEN.search(response.get_data(as_text=True)).group(1))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def wiki(app, users):
    """Pages "home", "flask" (tagged web, two revisions, linking to routing) and
    "flask/routing" (tagged web, docs), by the editor."""
    with app.app_context():
        editor = db.session.get(type(users["editor"]), users["editor"].id)
        pages.save(pages.PageEdit(None, "Home", "Start at [[Flask]]."), editor)
        pages.save(pages.PageEdit(None, "Flask", "one\ntwo\nthree\n", tags="web"), editor)
        pages.save(pages.PageEdit("flask", "Flask", "one\ntwo\nthree\nfour\n",
                                  summary="more", tags="web", base_revision=1), editor)
        pages.save(pages.PageEdit(None, "Flask/Routing", "See [[Flask]] and the `route` decorator.",
                                  tags="web, docs"), editor)
    return app


@pytest.fixture
def tokens_of(wiki):
    """A write token of each role's account, and a read-only one of the editor."""
    made = {role: make_token(sign_in(wiki, role), f"{role} script")
            for role in ("admin", "editor", "reader")}
    made["editor-read"] = make_token(sign_in(wiki, "editor"), "read only", scope="read")
    return made


@pytest.fixture
def api(wiki):
    return wiki.test_client()


def assert_problem(response, status: int, detail: str = ""):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    document = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(document)
    assert document["status"] == status
    assert detail in document["detail"]
    return document


# --- The tokens page -------------------------------------------------------------------


def test_a_token_is_shown_once_listed_and_stored_only_as_a_keyed_hash(wiki, users):
    client = sign_in(wiki, "editor")
    plaintext = make_token(client, "backup script", "read", "7")
    assert plaintext.startswith("wiki_") and len(plaintext) > 40

    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "backup script" in listing and "Never" in listing  # not used yet
    assert plaintext not in listing  # shown once only
    with wiki.app_context():
        token = db.session.scalar(select(ApiToken))
        assert token.token_hash == tokens.token_hash(plaintext) != plaintext
        assert token.scope == "read" and token.user_id == users["editor"].id
        assert timedelta(days=6) < token.expires_at - token.created_at <= timedelta(days=7)


def test_the_plaintext_of_a_token_is_nowhere_in_the_database(wiki, tokens_of, api):
    assert api.get("/api/v1/pages", headers=bearer(tokens_of["editor"])).status_code == 200
    with wiki.app_context():
        found = []
        for table in db.metadata.sorted_tables:
            columns = [column for column in table.columns
                       if isinstance(column.type, String | Text)]
            for row in db.session.execute(select(*columns)) if columns else ():
                for value in row:
                    for plaintext in tokens_of.values():
                        if value and (plaintext in value or plaintext[5:] in value):
                            found.append(table.name)
        assert found == []
        assert db.session.scalar(select(ApiToken.last_used_at)
                                 .where(ApiToken.name == "editor script")) is not None


def test_the_token_form_refuses_what_it_cannot_use_and_keeps_the_text(wiki):
    client = sign_in(wiki, "editor")
    for data, message in (({"name": "", "scope": "read", "expires": "30"}, "Name the token"),
                          ({"name": "x", "scope": "admin", "expires": "30"}, "Not a valid choice"),
                          ({"name": "kept name", "scope": "read", "expires": "9999"},
                           "Not a valid choice")):
        response = submit(client, "/account/tokens", data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and message in page
        assert 'id="new-token"' not in page
        if data["name"]:
            assert f'value="{data["name"]}"' in page
    with wiki.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_revoking_a_token_makes_it_answer_401(wiki, api):
    client = sign_in(wiki, "editor")
    plaintext = make_token(client)
    assert api.get("/api/v1/pages/flask", headers=bearer(plaintext)).status_code == 200
    with wiki.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    no_csrf = client.post(f"/account/tokens/{token_id}/revoke")
    assert no_csrf.status_code == 422 and "nothing was revoked" in no_csrf.get_data(as_text=True)
    assert api.get("/api/v1/pages/flask", headers=bearer(plaintext)).status_code == 200

    revoked = submit(client, f"/account/tokens/{token_id}/revoke", form_url="/account/tokens")
    assert revoked.status_code == 303 and revoked.headers["Location"] == "/account/tokens"
    assert "is revoked" in client.get("/account/tokens").get_data(as_text=True)
    response = api.get("/api/v1/pages/flask", headers=bearer(plaintext))
    assert_problem(response, 401, "revoked")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_others_cannot_revoke_a_token_but_an_administrator_sees_and_revokes_it(wiki, api):
    plaintext = make_token(sign_in(wiki, "editor"), "editor's own")
    with wiki.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    reader = sign_in(wiki, "reader")
    assert "editor&#39;s own" not in reader.get("/account/tokens").get_data(as_text=True)
    refused = submit(reader, f"/account/tokens/{token_id}/revoke", form_url="/account/tokens")
    assert refused.status_code == 404
    assert api.get("/api/v1/pages", headers=bearer(plaintext)).status_code == 200

    admin = sign_in(wiki, "admin")
    page = admin.get("/account/tokens").get_data(as_text=True)
    assert "Everyone's tokens" in page and "editor&#39;s own" in page and "Editor" in page
    done = submit(admin, f"/account/tokens/{token_id}/revoke", form_url="/account/tokens")
    assert done.status_code == 303
    assert_problem(api.get("/api/v1/pages", headers=bearer(plaintext)), 401)


def test_the_tokens_page_needs_a_signed_in_user(wiki):
    response = wiki.test_client().get("/account/tokens")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- The tokens service ----------------------------------------------------------------


def test_the_service_recognises_only_live_tokens(app, users):
    with app.app_context():
        editor = db.session.get(type(users["editor"]), users["editor"].id)
        made = tokens.create_token(editor, "  spaced   name ", tokens.Scope.READ, 30)
        assert made.token.name == "spaced name"
        assert tokens.authenticate(made.plaintext).id == made.token.id
        assert tokens.authenticate(made.plaintext + "x") is None
        assert tokens.authenticate(made.plaintext[5:]) is None  # without its prefix
        tokens.revoke(made.token.id)
        assert tokens.authenticate(made.plaintext) is None
        assert tokens.get_token(made.token.id) is None and tokens.list_tokens() == []
        for name, scope, days in (("", "read", 30), ("x" * 101, "read", 30),
                                  ("x", "admin", 30), ("x", "read", 3)):
            with pytest.raises(tokens.TokenError):
                tokens.create_token(editor, name, scope, days)


def test_a_tokens_use_is_written_at_most_once_a_minute(app, users):
    with app.app_context():
        editor = db.session.get(type(users["editor"]), users["editor"].id)
        made = tokens.create_token(editor, "busy script", tokens.Scope.READ, 30)
        writes = []

        def count_writes(conn, cursor, statement, *args):
            if statement.startswith("UPDATE api_token"):
                writes.append(statement)

        version = db.session.scalar(select(WikiState.version))
        event.listen(db.engine, "before_cursor_execute", count_writes)
        try:
            for _ in range(5):
                assert tokens.authenticate(made.plaintext) is not None
        finally:
            event.remove(db.engine, "before_cursor_execute", count_writes)
        assert len(writes) == 1
        assert db.session.get(ApiToken, made.token.id).last_used_at is not None
        # No page shows it, so the page caches are not told to start again.
        assert db.session.scalar(select(WikiState.version)) == version


# --- Authentication --------------------------------------------------------------------


def test_an_expired_token_answers_401(wiki, tokens_of, api):
    with wiki.app_context():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = api.get("/api/v1/pages", headers=bearer(tokens_of["editor"]))
    assert_problem(response, 401, "expired")
    assert "Bearer" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("header", ["Bearer wiki_made-up", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "Bearer " + "x" * 5000])
def test_a_bad_token_answers_401(api, header):
    response = api.get("/api/v1/pages", headers={"Authorization": header})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="wiki"')


def test_a_deactivated_users_token_answers_401(wiki, tokens_of, api, users):
    admin = sign_in(wiki, "admin")
    submit(admin, f"/admin/users/{users['editor'].id}/deactivate",
           form_url=f"/admin/users/{users['editor'].id}")
    assert_problem(api.get("/api/v1/pages", headers=bearer(tokens_of["editor"])), 401)


def test_without_a_token_a_call_is_the_sessions(wiki, api):
    assert api.get("/api/v1/pages/flask").status_code == 200  # anonymous readers may read
    response = api.put("/api/v1/pages/flask", json={"body": "x", "base_revision": 2})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="wiki"'
    wiki.config["ANONYMOUS_READ"] = False
    assert_problem(api.get("/api/v1/pages/flask"), 401)


def test_a_session_write_needs_the_csrf_header_and_a_token_write_does_not(wiki, tokens_of):
    editor = sign_in(wiki, "editor")
    document = {"title": "Flask", "body": "new\n", "base_revision": 2}
    assert_problem(editor.put("/api/v1/pages/flask", json=document), 400, "CSRF")
    token = csrf_token(editor.get("/account").get_data(as_text=True))
    saved = editor.put("/api/v1/pages/flask", json=document, headers={"X-CSRFToken": token})
    assert saved.status_code == 200 and saved.json["revision"] == 3
    by_token = wiki.test_client().put("/api/v1/pages/flask", headers=bearer(tokens_of["editor"]),
                                      json={**document, "body": "newer\n", "base_revision": 3})
    assert by_token.status_code == 200 and by_token.json["revision"] == 4
    assert "Set-Cookie" not in by_token.headers  # a token call starts no session


def test_a_token_wins_over_a_session_cookie(wiki, tokens_of):
    """A reader's browser session does not lend its cookie's rights to a token, nor the
    other way round: the token alone says who calls."""
    admin = sign_in(wiki, "admin")
    response = admin.delete("/api/v1/pages/flask/routing", headers=bearer(tokens_of["reader"]))
    assert_problem(response, 403)


def test_a_read_scope_token_cannot_write(api, tokens_of):
    read_only = bearer(tokens_of["editor-read"])
    assert api.get("/api/v1/pages/flask", headers=read_only).status_code == 200
    assert_problem(api.put("/api/v1/pages/flask", headers=read_only,
                           json={"body": "x", "base_revision": 2}), 403, "only read")
    assert_problem(api.put("/api/v1/pages/new-page", headers=read_only,
                           json={"title": "New page", "body": "x"}), 403, "only read")
    assert_problem(api.delete("/api/v1/pages/flask", headers=read_only), 403)
    assert api.get("/api/v1/pages/flask", headers=read_only).json["revision"] == 2


def test_a_readers_token_never_writes(api, tokens_of):
    """A token with the write scope does what its user's role allows, no more."""
    readers = bearer(tokens_of["reader"])
    assert_problem(api.put("/api/v1/pages/flask", headers=readers,
                           json={"body": "x", "base_revision": 2}), 403, "reader")
    assert_problem(api.delete("/api/v1/pages/flask", headers=readers), 403)
    assert api.get("/api/v1/pages/flask", headers=readers).json["body"] == "one\ntwo\nthree\nfour\n"


def test_each_token_has_its_own_rate_limit(wiki, tokens_of, api):
    limiter.reset()
    wiki.config["API_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert api.get("/api/v1/pages", headers=bearer(tokens_of["editor"])).status_code == 200
    refused = api.get("/api/v1/pages", headers=bearer(tokens_of["editor"]))
    assert_problem(refused, 429, "Too many requests")
    assert int(refused.headers["Retry-After"]) > 0
    assert api.get("/api/v1/pages", headers=bearer(tokens_of["admin"])).status_code == 200
    limiter.reset()


# --- Reading ---------------------------------------------------------------------------


def test_list_pages_with_filters_and_pagination(api, tokens_of):
    auth = bearer(tokens_of["reader"])
    everything = api.get("/api/v1/pages", headers=auth).json
    assert [page["slug"] for page in everything["pages"]] == ["flask", "flask/routing", "home"]
    assert everything["next"] is None
    flask = everything["pages"][0]
    assert flask["title"] == "Flask" and flask["revision"] == 2 and flask["tags"] == ["web"]

    tagged = api.get("/api/v1/pages?tag=docs", headers=auth).json
    assert [page["slug"] for page in tagged["pages"]] == ["flask/routing"]
    under = api.get("/api/v1/pages?prefix=flask/", headers=auth).json
    assert [page["slug"] for page in under["pages"]] == ["flask/routing"]
    assert api.get("/api/v1/pages?prefix=%25", headers=auth).json["pages"] == []  # no wildcard

    first = api.get("/api/v1/pages?per_page=2", headers=auth).json
    assert len(first["pages"]) == 2 and first["next"]
    second = api.get(first["next"], headers=auth).json
    assert [page["slug"] for page in second["pages"]] == ["home"] and second["next"] is None


def test_read_a_page(api, tokens_of):
    page = api.get("/api/v1/pages/flask/routing", headers=bearer(tokens_of["reader"]))
    assert page.status_code == 200 and page.mimetype == "application/json"
    assert page.headers["Cache-Control"] == "no-store"
    document = page.json
    assert document["title"] == "Flask/Routing" and document["revision"] == 1
    assert document["body"] == "See [[Flask]] and the `route` decorator."
    assert 'href="/wiki/flask"' in document["html"]
    assert "<code>route</code>" in document["html"]
    assert document["tags"] == ["docs", "web"]
    assert document["created"] and document["updated"]
    assert_problem(api.get("/api/v1/pages/nothing-here", headers=bearer(tokens_of["reader"])),
                   404, "nothing-here")


def test_history_revision_and_diff(api, tokens_of):
    auth = bearer(tokens_of["reader"])
    history = api.get("/api/v1/pages/flask/history", headers=auth).json
    assert [(r["revision"], r["summary"], r["author"]) for r in history["revisions"]] == [
        (2, "more", "Editor"), (1, "Created", "Editor")]
    first = api.get("/api/v1/pages/flask/revisions/1", headers=auth).json
    assert first["body"] == "one\ntwo\nthree\n" and first["revision"] == 1
    assert first["current_revision"] == 2
    assert_problem(api.get("/api/v1/pages/flask/revisions/7", headers=auth), 404)

    diff = api.get("/api/v1/pages/flask/diff", headers=auth).json
    assert diff["from"] == 1 and diff["to"] == 2 and "+four" in diff["unified"]
    whole = api.get("/api/v1/pages/flask/diff?from=0&to=1", headers=auth).json
    assert "+one" in whole["unified"]
    assert_problem(api.get("/api/v1/pages/flask/diff?from=x", headers=auth), 400)
    assert_problem(api.get("/api/v1/pages/flask/diff?from=1&to=9", headers=auth), 404)
    assert_problem(api.get("/api/v1/pages/nothing/history", headers=auth), 404)


def test_search_and_backlinks(api, tokens_of):
    auth = bearer(tokens_of["reader"])
    found = api.get("/api/v1/search?q=decorator", headers=auth).json
    assert [hit["slug"] for hit in found["results"]] == ["flask/routing"]
    assert "<mark>" in found["results"][0]["snippet"] and found["total"] == 1
    assert_problem(api.get("/api/v1/search?q=", headers=auth), 400)
    linking = api.get("/api/v1/pages/flask/backlinks", headers=auth).json
    assert [page["slug"] for page in linking["pages"]] == ["flask/routing", "home"]


# --- Writing ---------------------------------------------------------------------------


def test_create_update_and_delete_a_page(api, tokens_of, wiki):
    auth = bearer(tokens_of["editor"])
    created = api.put("/api/v1/pages/blueprints", headers=auth,
                      json={"title": "Blueprints", "body": "Group [[Flask]] views.",
                            "tags": ["Web", "structure"], "summary": "start"})
    assert created.status_code == 201 and created.json["outcome"] == "created"
    assert created.headers["Location"] == "/api/v1/pages/blueprints"
    assert created.json["tags"] == ["structure", "web"] and created.json["revision"] == 1

    no_base = api.put("/api/v1/pages/blueprints", headers=auth, json={"body": "Changed."})
    assert assert_problem(no_base, 422, "base_revision")["field"] == "base_revision"

    updated = api.put("/api/v1/pages/blueprints", headers=auth,
                      json={"body": "Group views.", "base_revision": 1})
    assert updated.status_code == 200 and updated.json["outcome"] == "saved"
    assert updated.json["revision"] == 2 and updated.json["title"] == "Blueprints"
    assert updated.json["tags"] == ["structure", "web"]  # left out: kept

    retagged = api.put("/api/v1/pages/blueprints", headers=auth,
                       json={"body": "Group views.", "base_revision": 2, "tags": []})
    assert retagged.json["outcome"] == "retagged" and retagged.json["tags"] == []

    assert api.delete("/api/v1/pages/blueprints", headers=auth).status_code == 204
    assert_problem(api.get("/api/v1/pages/blueprints", headers=auth), 404)
    assert_problem(api.delete("/api/v1/pages/blueprints", headers=auth), 404)
    again = api.put("/api/v1/pages/blueprints", headers=auth,
                    json={"title": "Blueprints", "body": "Back."})
    assert_problem(again, 409, "deleted")
    with wiki.app_context():
        assert pages.get_any_page("blueprints").revision_number == 2


def test_a_stale_base_is_merged_when_the_changes_do_not_overlap(api, tokens_of):
    auth = bearer(tokens_of["editor"])
    # Revision 1 was "one two three"; revision 2 added "four". This edit started from 1.
    merged = api.put("/api/v1/pages/flask", headers=auth,
                     json={"body": "ONE\ntwo\nthree\n", "base_revision": 1})
    assert merged.status_code == 200
    assert merged.json["outcome"] == "merged" and merged.json["merged_with"] == 2
    assert merged.json["body"] == "ONE\ntwo\nthree\nfour\n"


def test_a_stale_base_that_conflicts_answers_409_with_both_texts(api, tokens_of):
    auth = bearer(tokens_of["editor"])
    first = api.put("/api/v1/pages/flask", headers=auth,
                    json={"body": "one\ntwo\nTHEIRS\nfour\n", "base_revision": 2})
    assert first.status_code == 200
    stale = api.put("/api/v1/pages/flask", headers=auth,
                    json={"body": "one\ntwo\nMINE\nfour\n", "base_revision": 2})
    conflict = assert_problem(stale, 409, "base_revision 3")
    assert conflict["type"] == "/help/api#edit-conflict" and conflict["title"] == "Edit conflict"
    assert conflict["current_revision"] == 3
    assert conflict["theirs"] == "one\ntwo\nTHEIRS\nfour\n"
    assert conflict["yours"] == "one\ntwo\nMINE\nfour\n"
    assert "<<<<<<<" in conflict["merged"] and "MINE" in conflict["merged"] \
        and "THEIRS" in conflict["merged"]
    assert api.get("/api/v1/pages/flask", headers=auth).json["revision"] == 3
    ahead = api.put("/api/v1/pages/flask", headers=auth, json={"body": "x", "base_revision": 9})
    assert assert_problem(ahead, 409, "revision 9")["current_revision"] == 3


@pytest.mark.parametrize(("document", "field", "message"), [
    ({"title": "Fresh"}, "body", "body is required"),
    ({"body": 5}, "body", "must be a string"),
    ({"body": "x", "tags": "a, b"}, "tags", "must be a list"),
    ({"body": "x", "tags": [1]}, "tags", "list of strings"),
    ({"body": "x", "base_revision": "1"}, "base_revision", "whole number"),
    ({"body": "x", "base_revision": True}, "base_revision", "whole number"),
    ({"body": "x", "base_revision": -1}, "base_revision", "0 or more"),
    ({"title": "Another name", "body": "x"}, "title", "lives at “another-name”"),
    ({"title": "Fresh\u202e", "body": "x"}, "title", "control"),
    ({"body": "x", "tags": ["..", "fine"]}, "tags", "cannot be tags"),
])
def test_a_refused_document_answers_422_naming_the_field(api, tokens_of, document, field,
                                                         message):
    response = api.put("/api/v1/pages/fresh", headers=bearer(tokens_of["editor"]), json=document)
    assert assert_problem(response, 422, message)["field"] == field
    assert_problem(api.get("/api/v1/pages/fresh", headers=bearer(tokens_of["editor"])), 404)


def test_bodies_that_are_not_a_json_object_are_refused(api, tokens_of):
    auth = bearer(tokens_of["editor"])
    assert_problem(api.put("/api/v1/pages/fresh", headers=auth, data="body=x"), 415)
    assert_problem(api.put("/api/v1/pages/fresh", headers=auth, data="{broken",
                           content_type="application/json"), 400)
    assert_problem(api.put("/api/v1/pages/fresh", headers=auth, json=["body"]), 422,
                   "JSON object")
    huge = api.put("/api/v1/pages/fresh", headers=auth,
                   json={"body": "x" * (9 * 1024 * 1024)})
    assert_problem(huge, 413)


def test_the_home_page_cannot_be_deleted(api, tokens_of):
    assert_problem(api.delete("/api/v1/pages/home", headers=bearer(tokens_of["admin"])), 403,
                   "home page cannot be deleted")


def test_an_anonymous_write_is_refused_before_its_body_is_read(api):
    assert_problem(api.put("/api/v1/pages/fresh", data="{broken",
                           content_type="application/json"), 401)


# --- Errors everywhere under /api/v1 ----------------------------------------------------


def test_every_error_under_the_api_is_a_problem_document(app, users):
    def explode():
        raise RuntimeError("secret detail")

    app.add_url_rule("/api/v1/boom", "boom", explode)
    api = app.test_client()
    auth = bearer(make_token(sign_in(app, "editor")))
    assert_problem(api.get("/api/v1/no-such-thing", headers=auth), 404)
    not_allowed = api.post("/api/v1/pages/flask", headers=auth)
    assert_problem(not_allowed, 405)
    assert "PUT" in not_allowed.headers["Allow"]
    boom = api.get("/api/v1/boom", headers=auth)
    assert_problem(boom, 500)
    assert "secret detail" not in boom.get_data(as_text=True)


# --- The OpenAPI document and the reference page ----------------------------------------


def documented_operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, methods in openapi.document()["paths"].items()
            for method in methods}


def routed_operations(app) -> set[tuple[str, str]]:
    """Every method and path the app answers under /api/v1, in OpenAPI's spelling."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            path = re.sub(r"\{(\w+)\(.*?\):(\w+)\}", r"{\2}", path)
            found |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_openapi_document_describes_exactly_the_routes(app, client):
    assert routed_operations(app) == documented_operations()
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.json["openapi"] == "3.1.0"
    assert {(m.upper(), p) for p, ms in served.json["paths"].items() for m in ms} \
        == documented_operations()


def test_the_check_notices_an_undocumented_route(app):
    app.add_url_rule("/api/v1/pages/<path:slug>/secret", "secret", lambda slug: "")
    assert ("GET", "/api/v1/pages/{slug}/secret") in routed_operations(app) \
        - documented_operations()


def test_every_reference_in_the_document_resolves(client):
    document = client.get("/api/v1/openapi.json").json
    references = set(re.findall(r'"\$ref": ?"#/components/schemas/(\w+)"',
                                client.get("/api/v1/openapi.json").get_data(as_text=True)))
    assert references and references <= set(document["components"]["schemas"])


def test_the_api_reference_page_shows_every_call(app, client):
    response = client.get("/help/api")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for method, path in documented_operations():
        assert f"<code>{method} {path}</code>" in page
    assert "Edit conflicts" in page and 'href="/api/v1/openapi.json"' in page

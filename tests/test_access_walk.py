"""Private pages stay private on every path: every route of the app, walked by each role, on a
wiki with a hidden page, a read-only page and an open page.

The hidden page carries two markers, one in its title (``XyzzyTitle``, matched with its case:
its address holds it only in lower case) and one in its text, tags and file (``plugh``, in no
address the walk asks for). No answer to anyone the rules hide it from may hold either, and
every answer about the hidden page must be the one a missing page at an address under the
same rule gets (no 403 against 404, no red against blue).

The walk finds the routes in ``app.url_map``: a route added later is walked as well, and one
whose arguments the walk cannot fill fails :func:`test_every_route_can_be_walked` until its
argument gets a value in ``ARGUMENTS`` (or its POST a line in ``POSTS_WALKED_ELSEWHERE``).
A review card's routes are walked like a page's, with a card of each page (the hidden page's
answers ``plugh``) and the id of no card for the missing page.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD, csrf_token, submit
from wiki.extensions import db
from wiki.models import ApiToken, Card, Page, User
from wiki.services import access, attachments, pages, tokens

TITLE_MARKER = "XyzzyTitle"
TEXT_MARKER = re.compile("plugh", re.IGNORECASE)
HIDDEN = "private/xyzzytitle-plans"  # read and edited by admins only: `private/**`
MISSING = "private/nothing-here"  # no page, under the same rule: what HIDDEN must look like
READ_ONLY = "handbook"  # read by anyone, edited by admins only
OPEN = "garden"  # no rule
ROLES = ("anonymous", "reader", "editor", "admin")
PER_PAGE_ARGUMENTS = {"slug", "card_id"}  # walked for each page above
HIDDEN_FROM = ("anonymous", "reader", "editor")

# A value for each argument a route may take; {slug} routes are walked for every page above.
ARGUMENTS = {"name": "notes.pdf", "tag": "shared", "token": "any-token", "number": 1}
# Query strings tried on every GET without a slug (lists, search, feeds, JSON), then the few
# that pages take. None names the hidden page's markers: only words that find it.
LIST_QUERIES = ["", "?q=secretword", "?q=xyzzytitle", f"?q={HIDDEN}", "?q=tag:shared",
                "?q=pla", "?show=wanted", "?show=orphans", "?tag=template",
                f"?page={HIDDEN}&template={HIDDEN}&under={HIDDEN}", "?after=garden",
                "?before=zzz", "?before=2999-01-01T00:00:00,1", "?page=2"]
PAGE_QUERIES = ["", "?rev=1", "?from=1&to=2", "?before=3", "?after=a",
                "?page={slug}&tag=shared&template={slug}&under={slug}"]
# POST routes without a page in their address: sign-in and accounts (tests/test_security.py),
# administration, a new page's address and the live preview (tests/test_access.py), one's
# own API tokens (tests/test_security.py, tests/test_api.py).
POSTS_WALKED_ELSEWHERE = {
    "tokens.tokens_page", "tokens.revoke",
    "pages.new",
    "account.login", "account.logout", "account.register", "account.account",
    "account.first_account", "admin.users", "admin.change_role", "admin.set_password",
    "admin.deactivate", "admin.reactivate", "access.rules", "access.change", "access.delete",
    "api.preview",
}


@pytest.fixture
def walked_wiki(app, users):
    """Three pages and their surroundings: each linked, tagged, with two revisions, a
    file and a review card, the hidden one (also a page template) under an open parent."""
    with app.app_context():
        editor = db.session.get(User, users["editor"].id)
        admin = db.session.get(User, users["admin"].id)
        access.add_rule("private/**", "admin", "admin", admin)
        access.add_rule(READ_ONLY, "anyone", "admin", admin)

        def page(title, first, second, tags="shared", card="What is read here :: the text"):
            created = pages.save(pages.PageEdit(None, title, first, tags=tags), editor).page
            pages.save(pages.PageEdit(created.slug, title, f"{second}\n\n{card}\n",
                                      summary="second", tags=tags, base_revision=1), editor)
            attachments.upload(pages.get_page(created.slug),
                               [attachments.Upload("notes.pdf", f"%PDF-1.4 {title}".encode())],
                               editor)

        pages.save(pages.PageEdit(None, "Home", "Start at [[Garden]], [[Handbook]], "
                                                "[[Private]]."), editor)
        pages.save(pages.PageEdit(None, "Private", "The private area's door."), editor)
        page(f"Private/{TITLE_MARKER} Plans", "plughbody secretword plughbody. See [[Garden]] "
             "and [[Plughwanted]].", "plughbody secretword plughbody two. See [[Garden]].",
             tags="shared, plughtag, template", card="Plughquestion :: plughanswer")
        page("Handbook", "Read this first.", "Read this first, twice.")
        page("Garden", f"Open text, see [[{HIDDEN}|the other page]].",
             f"Open text again, see [[{HIDDEN}|the other page]].")
        tokens.create_token(editor, "Walking", tokens.Scope.WRITE, 30)
    return app


def client_of(app, role: str):
    client = app.test_client()
    if role != "anonymous":
        assert submit(client, "/login", {"username": role, "password": PASSWORD}).status_code == 303
    return client


def routes(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def fill(rule, slug: str, ids: dict[str, int]) -> str | None:
    """The rule's path with its arguments filled, or None when one has no value."""
    values = {}
    for argument in rule.arguments:
        if argument == "slug":
            value = slug
        elif argument == "card_id":
            value = ids["cards"].get(slug)
        else:
            value = ARGUMENTS.get(argument, ids.get(argument))
        if value is None:
            return None
        values[argument] = value
    path = rule.rule
    for argument, value in values.items():
        path = re.sub(rf"<(?:[^:<>]+:)?{argument}(?:\([^)]*\))?>", str(value), path)
    return path


def argument_ids(app, users) -> dict:
    with app.app_context():
        cards = dict(db.session.execute(select(Page.slug, Card.id).join(Card.page)).all())
        return {"user_id": users["reader"].id,
                "rule_id": access.load_rules(db.session).rules[0].id,
                "token_id": db.session.scalar(select(ApiToken.id)),
                "cards": cards | {MISSING: max(cards.values()) + 1000}}


def test_every_route_can_be_walked(walked_wiki, users):
    ids = argument_ids(walked_wiki, users)
    unwalkable = [rule.rule for rule in routes(walked_wiki) if fill(rule, OPEN, ids) is None]
    assert unwalkable == [], "give these routes' arguments a value in ARGUMENTS"
    unposted = [rule.endpoint for rule in routes(walked_wiki)
                if "POST" in rule.methods and not PER_PAGE_ARGUMENTS & rule.arguments
                and rule.endpoint not in POSTS_WALKED_ELSEWHERE]
    assert unposted == [], "walk these POST routes here, or say where in POSTS_WALKED_ELSEWHERE"


def leaks(text: str) -> list[str]:
    return [marker for marker in (TITLE_MARKER, "plugh")
            if (marker in text if marker == TITLE_MARKER else TEXT_MARKER.search(text))]


def answer(client, method: str, url: str, token: str):
    data = {"csrf_token": token, "title": "Taken over", "body": "Overwritten",
            "base_revision": "2", "name": "notes.pdf", "summary": "", "tags": ""}
    response = client.open(url, method=method, data=data if method == "POST" else None)
    text = response.get_data().decode(errors="replace")
    return response.status_code, text + str(response.headers)


@pytest.mark.parametrize("role", ROLES)
def test_no_answer_shows_a_hidden_page_to_those_it_is_hidden_from(walked_wiki, users, role):
    app = walked_wiki
    client = client_of(app, role)
    token = csrf_token(client.get("/account" if role != "anonymous" else "/login").get_data(
        as_text=True))
    ids = argument_ids(app, users)
    problems = []
    seen: dict[tuple[str, str, str], int] = {}  # (method, route, query) → status, per page
    for rule in routes(app):
        slugs = ([HIDDEN, MISSING, READ_ONLY, OPEN] if PER_PAGE_ARGUMENTS & rule.arguments
                 else [None])
        for slug in slugs:
            path = fill(rule, slug or OPEN, ids)
            assert path is not None, f"{rule.rule}: see test_every_route_can_be_walked"
            queries = PAGE_QUERIES if slug else LIST_QUERIES
            for method in sorted(rule.methods & {"GET", "POST"}):
                # A POST changes what it is allowed to: only refusals are walked here.
                if method == "POST" and (slug in (None, OPEN) or role == "admin"):
                    continue
                for query in queries if method == "GET" else [""]:
                    url = path + query.format(slug=slug or OPEN)
                    status, text = answer(client, method, url, token)
                    if status >= 500:
                        problems.append(f"{method} {url}: {status}")
                    if role in HIDDEN_FROM and (found := leaks(text)):
                        problems.append(f"{method} {url} shows {found}")
                    seen[(method, rule.rule, query, slug)] = status
    if role in HIDDEN_FROM:
        for (method, route, query, slug), status in seen.items():
            if slug == HIDDEN and status != seen[(method, route, query, MISSING)]:
                problems.append(f"{method} {route}{query}: {status} for the hidden page, "
                                f"{seen[(method, route, query, MISSING)]} for a missing one")
    assert problems == []
    if role == "admin":  # the markers are there to be found by those who may
        shown = client.get(f"/wiki/{HIDDEN}").get_data(as_text=True)
        assert TITLE_MARKER in shown and "plughbody" in shown


@pytest.mark.parametrize("role", ROLES)
def test_a_read_only_page_is_read_by_all_and_changed_by_admins_only(walked_wiki, role):
    client = client_of(walked_wiki, role)
    assert client.get(f"/wiki/{READ_ONLY}").status_code == 200
    editing = client.get(f"/edit/{READ_ONLY}")
    token = csrf_token(client.get("/account" if role != "anonymous" else "/login").get_data(
        as_text=True))
    changes = [client.post(url, data={"csrf_token": token, "title": "Handbook", "body": "New",
                                      "base_revision": "2", "name": "notes.pdf"})
               for url in (f"/edit/{READ_ONLY}", f"/rename/{READ_ONLY}",
                           f"/delete/{READ_ONLY}", f"/revert/{READ_ONLY}?rev=1",
                           f"/attachments/{READ_ONLY}/delete")]
    if role == "admin":
        assert editing.status_code == 200
        assert changes[0].status_code == 303
    elif role == "anonymous":
        assert editing.status_code == 302
        assert {response.status_code for response in changes} == {302}
    else:
        assert editing.status_code == 403
        assert {response.status_code for response in changes} == {403}
        with walked_wiki.app_context():
            assert pages.get_page(READ_ONLY).revision_number == 2


def test_the_open_page_is_as_it_always_was(walked_wiki):
    client = client_of(walked_wiki, "editor")
    assert client.get(f"/wiki/{OPEN}").status_code == 200
    assert client.get(f"/edit/{OPEN}").status_code == 200
    assert client.get(f"/history/{OPEN}").status_code == 200


@pytest.mark.parametrize("role", HIDDEN_FROM)
def test_feeds_of_a_hidden_page_or_tag_answer_as_missing_ones(walked_wiki, role):
    client = client_of(walked_wiki, role)
    hidden = client.get(f"/recent.atom?page={HIDDEN}")
    missing = client.get(f"/recent.atom?page={MISSING}")
    assert hidden.status_code == missing.status_code
    signed = re.compile(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}")  # CSRF tokens: timestamped
    assert signed.sub("", hidden.get_data(as_text=True).replace(HIDDEN, MISSING)) == \
        signed.sub("", missing.get_data(as_text=True))
    assert not leaks(hidden.get_data(as_text=True) + str(hidden.headers))
    tagged, untagged = client.get("/recent.atom?tag=plughtag"), client.get("/recent.atom?tag=zz")
    assert tagged.status_code == untagged.status_code
    if role != "anonymous":  # visitors may read nothing here: both send them to sign in
        assert tagged.status_code == 200
        strip = re.compile(r"<(updated|id)>[^<]*</\1>")
        assert strip.sub("", tagged.get_data(as_text=True)).replace("plughtag", "zz") == \
            strip.sub("", untagged.get_data(as_text=True))
    shared = client.get("/recent.atom?tag=shared").get_data(as_text=True)
    assert not leaks(shared) and "garden" in shared


@pytest.mark.parametrize("role", ROLES)
def test_only_administrators_export_and_they_get_every_page(walked_wiki, role):
    """The archive is every page, so only those who see every page may take it."""
    client = client_of(walked_wiki, role)
    response = client.get("/export.zip")
    if role == "admin":
        assert response.status_code == 200
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
            assert any("xyzzytitle-plans" in name for name in archive.namelist())
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert not leaks(response.get_data(as_text=True))

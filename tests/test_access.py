"""Access rules: their patterns and order, their administration at /admin/access, and what
they change for readers (history, new pages, renames, preview, search). Every route against
a hidden page: tests/test_access_walk.py."""

from __future__ import annotations

import re

import pytest

from tests.helpers import PASSWORD, csrf_token, submit
from wiki.extensions import db
from wiki.models import User
from wiki.services import access, pages, paging, search
from wiki.services.access import AccessRuleError, Rule, Rules, Visibility


def rules(*specs: tuple[str, str, str]) -> Rules:
    return Rules.of(Rule(*spec) for spec in specs)


# --- patterns ------------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "slug", "matches"), [
    ("private/**", "private/plans", True),
    ("private/**", "private/plans/2026", True),
    ("private/**", "private", False),  # the page itself needs its own rule
    ("private/**", "privateer", False),
    ("private", "private", True),
    ("private", "private/plans", False),
    ("*/drafts/**", "flask/drafts/routing", True),
    ("*/drafts/**", "flask/drafts", False),
    ("*/drafts/**", "flask/routing/drafts/x", False),  # * is one part of the address
    ("draft-*", "draft-one", True),
    ("draft-*", "draft-one/two", False),
])
def test_a_pattern_matches_the_addresses_it_says(pattern, slug, matches):
    assert Rule(pattern, "admin", "admin").matches(slug) is matches


def test_the_most_specific_rule_applies():
    ordered = rules(("private/**", "admin", "admin"), ("private/shared/**", "reader", "editor"),
                    ("private/shared/secret", "editor", "admin"), ("*/drafts/**", "editor",
                                                                     "editor"))
    assert [rule.pattern for rule in ordered.rules] == [
        "private/shared/secret", "private/shared/**", "private/**", "*/drafts/**"]  # a tie:
    # as many literal characters, and the stricter rule first
    assert ordered.rule_for("private/shared/secret").read_role == "editor"  # exact address
    assert ordered.rule_for("private/shared/notes").read_role == "reader"  # more literal
    assert ordered.rule_for("private/plans").read_role == "admin"
    assert ordered.rule_for("garden") is None


def test_rules_only_narrow_and_editing_needs_reading(app, users):
    from wiki.permissions import can
    with app.test_request_context():
        db.session.info["wiki.access_rules"] = rules(("open", "anyone", "anyone"),
                                                     ("closed", "editor", "reader"))
        reader = db.session.get(User, users["reader"].id)
        editor = db.session.get(User, users["editor"].id)
        assert can(reader, "read", "open") and not can(reader, "edit", "open")  # never more
        assert not can(reader, "read", "closed")
        assert can(editor, "edit", "closed")  # the edit role is at least the read role


@pytest.mark.parametrize(("typed", "problem"), [
    ("", "Give a page address"), ("private**", "“**” stands for a whole part"),
    ("a//b", "no empty part"), ("notes?", "cannot be part of a page address"),
])
def test_a_pattern_that_cannot_be_an_address_is_refused(typed, problem):
    with pytest.raises(AccessRuleError, match=re.escape(problem)):
        access.normalise_pattern(typed)


def test_patterns_are_written_as_addresses_are():
    assert access.normalise_pattern(" /Private/** ") == "private/**"


SLUGS = ["private", "private/plans", "private/shared/notes", "private/shared/secret",
         "flask", "flask/drafts/routing", "flask/drafts", "a/b/drafts/c", "privateer",
         "draft-one", "draft-one/two", "a-b/c"]


@pytest.mark.parametrize("rank", [0, 1, 2, 3])
def test_lists_filter_in_sql_exactly_as_the_policy_decides(app, users, rank):
    """The SQL conditions (equality, ranges, LIKE, a regular expression) keep the pages
    :meth:`Visibility.shows` shows, on SQLite and PostgreSQL alike."""
    ordered = rules(("private/**", "admin", "admin"), ("private/shared/**", "anyone", "editor"),
                    ("private/shared/secret", "editor", "admin"), ("*/drafts/**", "reader",
                                                                     "editor"),
                    ("draft-*", "editor", "editor"), ("a-b/c", "reader", "admin"))
    with app.app_context():
        editor = db.session.get(User, users["editor"].id)
        for slug in SLUGS:
            pages.save(pages.PageEdit(None, slug, "Text."), editor)
        visible = Visibility(ordered, rank)
        listed = [page.slug for page in pages.page_list(paging.START, 100, visible).items]
        assert listed == sorted(slug for slug in SLUGS if visible.shows(slug))
        if rank < 3:
            assert len(listed) < len(SLUGS)


# --- administration ------------------------------------------------------------------------


def add(client, pattern: str, read: str, edit: str):
    return submit(client, "/admin/access",
                  {"pattern": pattern, "read_role": read, "edit_role": edit})


def test_admins_add_change_and_delete_rules_and_each_change_is_logged(admin):
    assert add(admin, "private/**", "admin", "admin").status_code == 303
    assert add(admin, "private/shared/**", "reader", "editor").status_code == 303
    listing = admin.get("/admin/access").get_data(as_text=True)
    assert (listing.index("<td><code>private/shared/**</code>")
            < listing.index("<td><code>private/**</code>"))

    refused = add(admin, "Private/**", "reader", "reader")
    assert refused.status_code == 422
    assert "has a rule already" in refused.get_data(as_text=True)
    assert 'value="Private/**"' in refused.get_data(as_text=True)  # what was typed is kept
    backwards = add(admin, "notes/**", "editor", "reader")
    assert backwards.status_code == 422 and "must be able to read" in backwards.get_data(
        as_text=True)

    with admin.application.app_context():
        rule = access.load_rules(db.session).rule_for("private/plans")
    token = csrf_token(listing)
    changed = admin.post(f"/admin/access/{rule.id}", data={
        "csrf_token": token, "read_role": "editor", "edit_role": "admin"})
    assert changed.status_code == 303
    assert admin.post(f"/admin/access/{rule.id}/delete",
                      data={"csrf_token": token}).status_code == 303
    log = admin.get("/admin/access").get_data(as_text=True)
    assert "Admin added the rule private/**: read admin, edit admin" in log
    assert "Admin changed the rule private/**: read admin → editor, edit admin → admin" in log
    assert "Admin deleted the rule private/**" in log
    with admin.application.app_context():
        assert access.load_rules(db.session).fingerprint() == (
            ("private/shared/**", "reader", "editor"),)


@pytest.mark.parametrize("role", ["reader", "editor"])
def test_only_admins_see_the_rules(auth, role):
    auth.login(role)
    assert auth.client.get("/admin/access").status_code == 403


def test_admins_see_who_can_see_each_page(app, admin, editor_client_factory):
    add(admin, "private/**", "editor", "admin")
    save = pages.PageEdit(None, "Private/Plans", "Plans.")
    with app.app_context():
        pages.save(save, db.session.get(User, 1))
    line = admin.get("/wiki/private/plans").get_data(as_text=True)
    assert ("Who can see this page: editors and admins; who can edit it: admins only "
            "(access rule private/**).") in line
    assert "Who can see this page" not in editor_client_factory().get(
        "/wiki/private/plans").get_data(as_text=True)


@pytest.fixture
def editor_client_factory(app, users):
    def make():
        client = app.test_client()
        submit(client, "/login", {"username": "editor", "password": PASSWORD})
        return client
    return make


def test_a_new_rule_applies_at_once_to_every_worker_and_host(make_app, users):
    """Two apps on one database (two hosts): a rule added on one hides the page on the other,
    from its next request, even from a page it keeps for anonymous readers."""
    one, other = make_app("one"), make_app("other")
    with one.app_context():
        pages.save(pages.PageEdit(None, "Secret", "Hush."), db.session.get(User, 1))
    reader = other.test_client()
    assert reader.get("/wiki/secret").status_code == 200
    assert reader.get("/wiki/secret").status_code == 200  # kept by the page cache
    admin = one.test_client()
    submit(admin, "/login", {"username": "admin", "password": PASSWORD})
    assert add(admin, "secret", "editor", "editor").status_code == 303
    assert reader.get("/wiki/secret").status_code == 404


# --- what readers meet ---------------------------------------------------------------------


@pytest.fixture
def private_wiki(app, users):
    with app.app_context():
        admin = db.session.get(User, users["admin"].id)
        editor = db.session.get(User, users["editor"].id)
        access.add_rule("private/**", "admin", "admin", admin)
        pages.save(pages.PageEdit(None, "Private/Plans", "secretword here."), editor)
        pages.save(pages.PageEdit(None, "Garden", "See [[private/plans|this]]; secretword."),
                   editor)
    return app


def test_search_counts_only_what_the_reader_may_see(private_wiki, users):
    from wiki.permissions import visibility
    with private_wiki.test_request_context():
        reader = db.session.get(User, users["reader"].id)
        admin = db.session.get(User, users["admin"].id)
        assert search.search("secretword", visible=visibility(reader)).total == 1
        assert search.search("secretword", visible=visibility(admin)).total == 2
        assert search.titles("plans", visible=visibility(reader)) == []


def test_a_link_to_a_hidden_page_is_red_to_those_it_is_hidden_from(private_wiki, auth):
    auth.login("editor")
    garden = auth.client.get("/wiki/garden").get_data(as_text=True)
    assert 'class="wikilink wikilink-missing" href="/edit/private/plans' in garden
    token = csrf_token(auth.client.get("/account").get_data(as_text=True))
    preview = auth.client.post("/api/v1/preview?page=private/plans", data={
        "body": "[[private/plans|a]] [[garden|b]]"}, headers={"X-CSRFToken": token})
    assert 'wikilink-missing" href="/edit/private/plans' in preview.json["html"]
    assert 'class="wikilink" href="/wiki/garden"' in preview.json["html"]
    auth.logout()
    auth.login("admin")
    assert 'class="wikilink" href="/wiki/private/plans"' in auth.client.get(
        "/wiki/garden").get_data(as_text=True)


@pytest.mark.parametrize("title", ["Private/Plans", "Private/Nothing here"])
def test_no_one_makes_a_page_where_a_rule_keeps_them_out(private_wiki, auth, title):
    """Existing (hidden) or not, the address answers the same: the rule decides."""
    auth.login("editor")
    refused = submit(auth.client, "/new", {"title": title, "body": "Mine", "base_revision": "0"})
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert "You may not create pages at this address" in html and "Mine" in html
    moved = submit(auth.client, "/rename/garden", {"title": title})
    assert moved.status_code == 422
    assert "You may not move pages to this address" in moved.get_data(as_text=True)


def test_a_deleted_or_renamed_hidden_page_looks_missing(private_wiki, auth, users):
    with private_wiki.app_context():
        editor = db.session.get(User, users["editor"].id)
        pages.save(pages.PageEdit(None, "Outline", "Draft."), editor)
        pages.rename("outline", "Private/Outline", editor, rewrite_links=True)
        pages.save(pages.PageEdit(None, "Private/Old", "Gone."), editor)
        pages.delete("private/old")
    auth.login("editor")
    assert auth.client.get("/wiki/outline").status_code == 404  # no redirect into private/
    old = auth.client.get("/wiki/private/old")
    missing = auth.client.get("/wiki/private/never")
    assert old.status_code == missing.status_code == 404
    assert "was deleted" not in old.get_data(as_text=True)


def test_history_can_be_kept_from_readers(make_app, users):
    app = make_app(HISTORY_VISIBLE_TO="editor")
    with app.app_context():
        editor = db.session.get(User, users["editor"].id)
        pages.save(pages.PageEdit(None, "Notes", "One."), editor)
        pages.save(pages.PageEdit("notes", "Notes", "Two.", base_revision=1), editor)
    reader = app.test_client()
    submit(reader, "/login", {"username": "reader", "password": PASSWORD})
    for url in ("/history/notes", "/diff/notes?from=1&to=2", "/wiki/notes?rev=1"):
        assert reader.get(url).status_code == 403, url
    assert ">History</a>" not in reader.get("/wiki/notes").get_data(as_text=True)
    feed = reader.get("/recent.atom").get_data(as_text=True)
    assert "<content" not in feed and "<title>Notes (revision 2)</title>" in feed
    assert reader.get("/wiki/notes?rev=2").status_code == 200  # the current text is no history
    editor_client = app.test_client()
    submit(editor_client, "/login", {"username": "editor", "password": PASSWORD})
    assert editor_client.get("/history/notes").status_code == 200
    assert "<content" in editor_client.get("/recent.atom").get_data(as_text=True)


def test_an_unknown_history_setting_is_refused_at_start(make_app):
    with pytest.raises(ValueError, match="WIKI_HISTORY_VISIBLE_TO"):
        make_app(HISTORY_VISIBLE_TO="editors")

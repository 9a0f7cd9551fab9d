"""Page views for signed-in readers: few statements, the article kept per role while the wiki
is unchanged, and still right: red links, access rules and the reader's own CSRF token."""

from __future__ import annotations

import re

import pytest
from flask import template_rendered

from tests.helpers import PASSWORD, csrf_token, save_page, sql_statements, submit

SIGN_OUT_FORM = re.compile(r'<form method="post" action="/logout".*?</form>', re.S)


def signed_in(app, username: str):
    client = app.test_client()
    assert submit(client, "/login", {"username": username, "password": PASSWORD}
                  ).status_code == 303
    return client


def add_rule(admin, pattern: str, read: str, edit: str):
    return submit(admin, "/admin/access", {"pattern": pattern, "read_role": read,
                                           "edit_role": edit})


@pytest.fixture
def page(app, editor):
    save_page(editor, "routing", "Routing", "## Rules\n\nRoutes lead to [[Views]].\n\n"
                                            "## Order\n\nFirst match wins.")
    return "/wiki/routing"


def test_a_signed_in_page_view_runs_few_statements(app, editor, page):
    with sql_statements(app) as first:
        assert editor.get(page).status_code == 200
    with sql_statements(app) as again:
        assert editor.get(page).status_code == 200
    # The account, the page with its revision and author, the rules, the two counts, the
    # sub-pages and the tags (and BEGIN); then, the article kept, only the account.
    assert len(first) <= 7, first
    assert len(again) <= 2, again


def test_the_kept_article_is_per_role(app, users, page):
    editor, reader = signed_in(app, "editor"), signed_in(app, "reader")
    assert ">Edit</a>" in editor.get(page).get_data(as_text=True)
    shown = reader.get(page).get_data(as_text=True)
    assert ">Edit</a>" not in shown and 'class="section-edit"' not in shown
    assert ">Edit</a>" in editor.get(page).get_data(as_text=True)


def test_a_red_link_turns_blue_when_its_page_is_made(app, users, page):
    reader, editor = signed_in(app, "reader"), signed_in(app, "editor")
    for _ in range(2):  # the second answered from the kept article
        assert "wikilink-missing" in reader.get(page).get_data(as_text=True)
    save_page(editor, "views", "Views", "Functions that answer requests.")
    assert "wikilink-missing" not in reader.get(page).get_data(as_text=True)


def test_an_edit_shows_at_once(app, editor, page):
    editor.get(page)
    save_page(editor, "routing", "Routing", "Routes, changed.")
    assert "Routes, changed." in editor.get(page).get_data(as_text=True)


def test_a_page_a_new_rule_hides_is_missing_at_once_on_every_host(make_app, users):
    one, other = make_app("one"), make_app("other")
    save_page(signed_in(one, "editor"), "secret", "Secret", "Hush.")
    reader = signed_in(other, "reader")
    for _ in range(2):  # the second answered from the article the other host keeps
        assert reader.get("/wiki/secret").status_code == 200
    assert add_rule(signed_in(one, "admin"), "secret", "editor", "editor").status_code == 303
    assert reader.get("/wiki/secret").status_code == 404


def test_a_reader_who_lost_their_role_sees_what_it_allows(app, users, page):
    admin, reader = signed_in(app, "admin"), signed_in(app, "reader")
    assert add_rule(admin, "routing", "editor", "editor").status_code == 303
    assert reader.get(page).status_code == 404
    assert admin.get(page).status_code == 200


def test_each_reader_gets_their_own_csrf_token_and_name(app, users, page):
    first, second = signed_in(app, "editor"), signed_in(app, "editor")  # two browsers
    first.get(page)
    shown = second.get(page).get_data(as_text=True)  # the article the first one left
    assert "Editor</a>" in shown
    token = csrf_token(SIGN_OUT_FORM.search(shown).group(0))
    firsts = csrf_token(SIGN_OUT_FORM.search(first.get(page).get_data(as_text=True)).group(0))
    assert second.post("/logout", data={"csrf_token": firsts}).status_code == 422
    assert second.post("/logout", data={"csrf_token": token}).status_code == 303
    assert second.get("/account").status_code == 302  # signed out: sent to sign in


def test_a_session_ended_elsewhere_is_not_shown_the_page(app, users, page):
    reader, elsewhere = signed_in(app, "reader"), signed_in(app, "reader")
    reader.get(page)
    assert submit(elsewhere, "/logout").status_code == 303  # signs out every session
    assert "Sign out" not in reader.get(page).get_data(as_text=True)


def test_a_kept_article_is_shown_without_a_statement(app, editor, page):
    editor.get(page)
    with sql_statements(app) as again:
        assert editor.get(page).status_code == 200
    # The change counter (read on a connection of its own) keeps both the article and the
    # account: the database sees no other statement.
    assert again == []


ACCOUNT_LINK = re.compile(r'<a href="/account">([^<]*)</a>')


@pytest.mark.parametrize("change", [("/role", {"role": "editor"}), ("/deactivate", {})])
def test_an_account_an_admin_changes_is_signed_out_at_its_next_page_view(app, users, page,
                                                                         change):
    reader, admin = signed_in(app, "reader"), signed_in(app, "admin")
    for _ in range(2):  # the second with the account kept
        assert ACCOUNT_LINK.findall(reader.get(page).get_data(as_text=True)) == ["Reader"]
    account = f"/admin/users/{users['reader'].id}"
    action, data = change
    assert submit(admin, account + action, data, form_url=account).status_code == 303
    shown = reader.get(page)
    assert shown.status_code == 200 and not ACCOUNT_LINK.search(shown.get_data(as_text=True))


def test_a_kept_page_view_renders_no_template(app, editor, page):
    for _ in range(2):  # the first shows the message of the save, so it keeps no layout
        editor.get(page)
    rendered = []

    def record(_app, template, **_extra):
        rendered.append(template.name)

    with template_rendered.connected_to(record, app):
        assert editor.get(page).status_code == 200
    # The layout around the kept article is kept too, for the role: the reader's own name
    # and token are put in, not rendered.
    assert rendered == []


def test_readers_of_one_role_each_see_their_own_name_id_and_token(app, users, page):
    new_account = {"username": "<Grace & co>", "role": "editor", "password": PASSWORD}
    assert submit(signed_in(app, "admin"), "/admin/users", new_account).status_code == 303
    editor, grace = signed_in(app, "editor"), signed_in(app, "<Grace & co>")
    ids, tokens = {}, {}
    for _ in range(2):  # the second time from the kept layout
        for client, name in ((editor, "Editor"), (grace, "&lt;Grace &amp; co&gt;")):
            html = client.get(page).get_data(as_text=True)
            assert ACCOUNT_LINK.findall(html) == [name]
            assert "<Grace" not in html
            ids.setdefault(name, set()).add(re.search(r'data-user="(\d+)"', html).group(1))
            tokens.setdefault(name, set()).add(csrf_token(html))
    assert all(len(seen) == 1 for seen in ids.values()) and len(set.union(*ids.values())) == 2
    editor_token, grace_token = tokens["Editor"].pop(), tokens["&lt;Grace &amp; co&gt;"].pop()
    assert editor_token != grace_token
    assert grace.post("/logout", data={"csrf_token": editor_token}).status_code != 303
    assert grace.post("/logout", data={"csrf_token": grace_token}).status_code == 303


def test_a_message_shows_once_on_a_kept_page(app, editor, page):
    editor.get(page)
    saved = save_page(editor, "routing", "Routing", "Routes, changed.")
    assert saved.status_code == 303
    editor.get(page)  # kept again, for the next view
    save_page(editor, "routing", "Routing", "Routes, changed.")  # "No changes to save."
    assert "No changes to save." in editor.get(page).get_data(as_text=True)
    assert "No changes to save." not in editor.get(page).get_data(as_text=True)


def test_a_reader_who_signed_out_gets_the_layout_of_a_visitor(app, users, page):
    reader = signed_in(app, "reader")
    for _ in range(2):
        assert ACCOUNT_LINK.search(reader.get(page).get_data(as_text=True))
    assert submit(reader, "/logout").status_code == 303
    html = reader.get(page).get_data(as_text=True)
    assert not ACCOUNT_LINK.search(html) and ">Sign in</a>" in html


def test_a_tampered_session_cookie_is_refused_though_the_real_one_is_kept(app, users, page):
    reader = signed_in(app, "reader")
    for _ in range(2):  # the cookie's contents kept by now
        assert ACCOUNT_LINK.search(reader.get(page).get_data(as_text=True))
    cookie = reader.get_cookie("session").value
    payload, _, signature = cookie.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    reader.set_cookie("session", forged)
    assert not ACCOUNT_LINK.search(reader.get(page).get_data(as_text=True))
    reader.set_cookie("session", cookie)
    assert ACCOUNT_LINK.findall(reader.get(page).get_data(as_text=True)) == ["Reader"]


def test_the_session_signing_in_made_is_not_changed_by_page_views(app, users, page):
    reader = signed_in(app, "reader")
    for _ in range(2):
        response = reader.get(page)
        assert response.status_code == 200 and csrf_token(response.get_data(as_text=True))
        assert response.headers.getlist("Set-Cookie") == []

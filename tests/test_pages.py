"""Creating, editing, viewing and deleting pages through the forms, as people do."""

import re
import sqlite3

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import selectinload

from tests.helpers import PASSWORD, csrf_token, save_page, sql_statements, submit, textarea
from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services import pages


def revisions(app, slug: str) -> list[Revision]:
    with app.app_context():
        return list(db.session.scalars(
            select(Revision).options(selectinload(Revision.author))
            .join(Page, Page.id == Revision.page_id)
            .where(Page.slug == slug).order_by(Revision.number)
        ))


def test_create_from_new_page_action(editor, app):
    form = editor.get("/new")
    assert form.status_code == 200
    response = submit(editor, "/new", {"title": "Blueprints in Flask", "body": "# Hi\n\nText.",
                                       "summary": "first", "tags": "Flask, Structure"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/wiki/blueprints-in-flask"
    page = editor.get("/wiki/blueprints-in-flask").get_data(as_text=True)
    assert "<h1>Blueprints in Flask</h1>" in page
    assert "Text." in page
    assert 'href="/tags/flask">flask</a>' in page and 'href="/tags/structure">structure</a>' in page


def test_a_first_page_view_asks_for_the_page_and_all_around_it_at_once(app, editor):
    save_page(editor, "flask", "Flask", "A framework.", tags="web, python")
    save_page(editor, "flask/views", "Flask/Views", "Functions of [[Flask]].")
    save_page(editor, "flask/routing", "Flask/Routing", "Part of [[Flask]].")
    save_page(editor, "flask/routing/rules", "Flask/Routing/Rules", "Two levels down.")
    visitor = app.test_client(use_cookies=False)
    with sql_statements(app) as seen:
        html = visitor.get("/wiki/flask").get_data(as_text=True)
    # BEGIN, then one statement: the page, its revision and author, its backlink and card
    # counts, its tags, its sub-pages and the access rules.
    assert len(seen) <= 2, seen
    assert re.findall(r'<li><a href="/wiki/([^"]+)">', html) == ["flask/routing", "flask/views"]
    assert "2 pages link here" in html and "by Editor" in html
    assert 'href="/tags/python">python</a> <a class="tag" href="/tags/web">web</a>' in html
    with sql_statements(app) as seen:
        html = visitor.get("/wiki/flask/routing/rules").get_data(as_text=True)
    assert len(seen) <= 2, seen  # its parents' titles too
    assert re.findall(r'<li><a href="/wiki/([^"]+)">([^<]*)</a>', html)[:2] == [
        ("flask", "Flask"), ("flask/routing", "Flask/Routing")]


def test_a_first_page_view_reads_the_access_rules_as_they_are_now(app, users, editor):
    """The page's statement is built with the rules the worker read last; the rules it
    reads with the page decide, and when they differ it is run again with them."""
    save_page(editor, "plans", "Plans", "Secret [[Ideas]].")
    save_page(editor, "ideas", "Ideas", "Back to [[Plans]].")
    visitor = app.test_client(use_cookies=False)
    assert visitor.get("/wiki/ideas").status_code == 200  # the worker reads: no rules
    admin = app.test_client()
    submit(admin, "/login", {"username": "admin", "password": PASSWORD})
    submit(admin, "/admin/access", {"pattern": "plans", "read_role": "reader",
                                    "edit_role": "editor"})
    with sql_statements(app) as seen:
        hidden = visitor.get("/wiki/plans")
        ideas = visitor.get("/wiki/ideas").get_data(as_text=True)
    assert hidden.status_code == 404 and "Secret" not in hidden.get_data(as_text=True)
    assert "0 pages link here" in ideas and "wikilink-missing" in ideas
    assert len([statement for statement in seen if "access_rule" in statement]) <= 3, seen


def test_create_from_a_missing_page(editor, app):
    missing = editor.get("/wiki/application-factory")
    assert missing.status_code == 404
    html = missing.get_data(as_text=True)
    assert 'href="/edit/application-factory?title=Application+factory"' in html
    editor_form = editor.get("/edit/application-factory?title=Application+Factory")
    assert 'value="Application Factory"' in editor_form.get_data(as_text=True)
    response = save_page(editor, "application-factory", "Application Factory", "create_app()")
    assert response.status_code == 303
    assert response.headers["Location"] == "/wiki/application-factory"


@pytest.mark.parametrize(("title", "slug"), [
    ("Flask vs Web Server", "flask-vs-web-server"),
    ("Request–Response Flow", "request-response-flow"),
    ("Café", "cafe"),
    ("Flask/Routing", "flask/routing"),
    ("日本語", "日本語"),
])
def test_pages_live_at_the_slug_of_their_title(editor, title, slug):
    response = submit(editor, "/new", {"title": title, "body": "x"})
    assert response.status_code == 303
    assert editor.get(response.headers["Location"]).status_code == 200
    assert editor.get(f"/wiki/{slug}").status_code == 200


def test_edit_saves_a_new_revision_and_redirects_with_303(editor, app):
    save_page(editor, "notes", "Notes", "one")
    response = save_page(editor, "notes", "Notes", "two", summary="second thoughts")
    assert response.status_code == 303
    assert response.headers["Location"] == "/wiki/notes"
    history = revisions(app, "notes")
    assert [r.number for r in history] == [1, 2]
    assert history[-1].body == "two" and history[-1].summary == "second thoughts"
    assert history[-1].author.username == "Editor"


def test_identical_save_makes_no_revision(editor, app):
    save_page(editor, "notes", "Notes", "same text\n")
    response = save_page(editor, "notes", "Notes", "same text\r\n")
    assert response.status_code == 303
    assert len(revisions(app, "notes")) == 1
    assert "No changes to save." in editor.get("/wiki/notes").get_data(as_text=True)


def test_title_that_would_move_the_page_points_to_rename(editor):
    save_page(editor, "notes", "Notes", "x")
    response = save_page(editor, "notes", "Other name", "x")
    assert response.status_code == 422
    assert "use Rename" in response.get_data(as_text=True)
    case_only = save_page(editor, "notes", "NOTES!", "x")
    assert case_only.status_code == 303


def test_creating_a_page_whose_title_exists_is_refused_with_text_kept(editor):
    save_page(editor, "notes", "Notes", "x")
    response = submit(editor, "/new", {"title": "notes", "body": "my precious text"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "already exists" in html and "my precious text" in html


def test_body_up_to_one_megabyte_is_accepted(editor, app):
    body = "a" * 1_000_000
    assert save_page(editor, "big", "Big", body).status_code == 303
    assert revisions(app, "big")[-1].size == 1_000_000


def test_body_over_one_megabyte_gets_a_form_error_and_keeps_the_text(editor, app):
    body = "b" * 1_000_001
    response = save_page(editor, "big", "Big", body)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "too long" in html
    assert body in html
    assert revisions(app, "big") == []


def test_delete_after_confirmation_keeps_history(editor, app):
    save_page(editor, "doomed", "Doomed", "bye")
    confirm = editor.get("/delete/doomed")
    assert confirm.status_code == 200 and "Delete “Doomed”?" in confirm.get_data(as_text=True)
    response = submit(editor, "/delete/doomed")
    assert response.status_code == 303
    assert editor.get("/wiki/doomed").status_code == 404
    assert len(revisions(app, "doomed")) == 1
    with app.app_context():
        assert db.session.scalar(select(Page.deleted).where(Page.slug == "doomed")) is True


def test_an_editor_cannot_bring_a_deleted_page_back_by_saving(editor, app):
    """Restoring is an administrator's revert: a save at the address would bring the
    deleted history back with it (readable through /diff) for anyone."""
    save_page(editor, "phoenix", "Phoenix", "secret words")
    submit(editor, "/delete/phoenix")
    fresh = submit(editor, "/edit/phoenix", {"title": "Phoenix", "body": "again",
                                             "base_revision": "0"}, form_url="/new")
    assert fresh.status_code == 409
    html = fresh.get_data(as_text=True)
    assert "was deleted" in html and "again</textarea>" in html
    from_new = submit(editor, "/new", {"title": "Phoenix", "body": "from new"})
    assert from_new.status_code == 409 and "from new</textarea>" in from_new.get_data(as_text=True)
    assert [r.body for r in revisions(app, "phoenix")] == ["secret words"]
    assert editor.get("/wiki/phoenix").status_code == 404
    assert editor.get("/diff/phoenix?from=0&to=1").status_code == 404


def test_a_form_opened_before_the_delete_is_told_and_keeps_its_text(app, editor, users):
    save_page(editor, "doomed", "Doomed", "first")
    html = editor.get("/edit/doomed").get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "title": "Doomed", "body": "my long edit",
            "base_revision": "1", "summary": "", "tags": ""}
    admin = app.test_client()
    submit(admin, "/login", {"username": "admin", "password": PASSWORD})
    submit(admin, "/delete/doomed")
    response = editor.post("/edit/doomed", data=form)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "was deleted while you were editing" in html and "Saved." not in html
    assert textarea(html) == "my long edit"
    assert [r.body for r in revisions(app, "doomed")] == ["first"]
    assert editor.get("/wiki/doomed").status_code == 404


def test_a_deleted_pages_address_says_so(app, auth, client):
    auth.login("editor")
    save_page(client, "gone", "Gone", "x")
    submit(client, "/delete/gone")
    html = client.get("/wiki/gone").get_data(as_text=True)
    assert "This page was deleted" in html and "There is no page" not in html
    assert "/revert/gone" not in html and "Create it" not in html
    assert "was deleted" in client.get("/edit/gone").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    html = client.get("/wiki/gone").get_data(as_text=True)
    assert "“Gone” was deleted" in html and 'href="/revert/gone?rev=1"' in html


def test_the_home_page_cannot_be_deleted(app, admin):
    save_page(admin, "home", "Home", "welcome")
    assert "/delete/home" not in admin.get("/").get_data(as_text=True)
    refused = admin.get("/delete/home")
    assert refused.status_code == 403 and "cannot be deleted" in refused.get_data(as_text=True)
    token = csrf_token(admin.get("/wiki/home").get_data(as_text=True))
    assert admin.post("/delete/home", data={"csrf_token": token}).status_code == 403
    assert admin.get("/").status_code == 200
    with app.app_context(), pytest.raises(pages.PageError, match="home page"):
        pages.delete("home")


def test_a_missing_home_page_does_not_link_home_to_itself(client):
    html = client.get("/").get_data(as_text=True)
    assert client.get("/").status_code == 404 and 'go <a href="/">home' not in html


HIDDEN = ["\u202e", "\x00", "\x1b", "\x07", "\u2066", "\x85", "\t", "\n"]


@pytest.mark.parametrize("char", HIDDEN)
@pytest.mark.parametrize("field", ["title", "summary", "tags"])
def test_one_line_fields_refuse_control_and_bidi_characters(editor, app, field, char):
    data = {"title": "Invoice", "body": "the text", "summary": "fixed", "tags": "money"}
    data[field] = {"title": f"Invoice{char}fdp.exe", "summary": f"ok{char}ko",
                   "tags": f"money, a{char}b"}[field]
    response = submit(editor, "/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "control or text-direction character" in html and "the text</textarea>" in html
    assert revisions(app, "invoice") == [] and revisions(app, "invoice-fdp-exe") == []


def test_the_rename_title_refuses_control_and_bidi_characters(editor, app):
    save_page(editor, "plain", "Plain", "x")
    response = submit(editor, "/rename/plain", {"title": "Pla\u202ein"})
    assert "control or text-direction character" in response.get_data(as_text=True)
    assert editor.get("/wiki/plain").status_code == 200


def test_bodies_keep_tabs_and_newlines_and_lose_other_control_characters(editor, app):
    body = "a\tb\r\nc\x00d\x1b[31me\x0c\u202e"
    assert submit(editor, "/new", {"title": "Raw", "body": body}).status_code == 303
    assert [r.body for r in revisions(app, "raw")] == ["a\tb\ncd[31me\u202e"]


@pytest.mark.parametrize("tag", [".", ".."])
def test_dot_tags_are_refused(editor, app, tag):
    response = submit(editor, "/new", {"title": "Dots", "body": "x", "tags": f"fine, {tag}"})
    assert response.status_code == 422 and "cannot be tags" in response.get_data(as_text=True)
    assert revisions(app, "dots") == []


def test_a_title_whose_address_is_too_long_is_refused_the_same_on_every_database(editor, app):
    title = "ß" * 200  # 200 characters, but its address folds to 400
    response = submit(editor, "/new", {"title": title, "body": "kept text"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "address longer than 255 characters" in html and "kept text</textarea>" in html
    assert submit(editor, "/new", {"title": "ß" * 127, "body": "x"}).status_code == 303


def test_a_wiki_link_too_long_for_any_address_saves_as_a_red_link(editor, app):
    target = "a" * 300
    response = submit(editor, "/new", {"title": "Long link", "body": f"see [[{target}]]"})
    assert response.status_code == 303
    html = editor.get("/wiki/long-link").get_data(as_text=True)
    assert "wikilink-missing" in html
    assert editor.get("/pages?show=wanted").status_code == 200


def test_wanted_pages_show_the_title_the_link_wrote_not_an_address(editor):
    save_page(editor, "a", "A", "[[Flask: Routing & URLs]]")
    html = editor.get("/pages?show=wanted").get_data(as_text=True)
    assert ">Flask: Routing &amp; URLs</a>" in html and ">flask-routing-urls</a>" not in html
    assert 'href="/edit/flask-routing-urls?title=Flask:+Routing+%26+URLs"' in html


@pytest.mark.parametrize("number", ["99999999999999999999", "2147483648", "-1", "1.5", "x"])
def test_revision_numbers_out_of_range_are_not_found(editor, number):
    save_page(editor, "n", "N", "x")
    assert editor.get(f"/wiki/n?rev={number}").status_code == 404


@pytest.mark.parametrize("base", ["99999999999999999999", "2147483648", "-1", "abc", "7"])
def test_a_base_revision_that_is_no_revision_is_refused_with_the_text_kept(editor, app, base):
    save_page(editor, "b", "B", "original")
    html = editor.get("/edit/b").get_data(as_text=True)
    response = editor.post("/edit/b", data={"csrf_token": csrf_token(html), "title": "B",
                                            "body": "my edit", "base_revision": base})
    assert response.status_code in (409, 422)
    html = response.get_data(as_text=True)
    assert textarea(html) == "my edit" and "nothing was saved" in html or "does not have" in html
    assert [r.body for r in revisions(app, "b")] == ["original"]
    again = editor.post("/edit/b", data={"csrf_token": csrf_token(html), "title": "B",
                                         "body": "my edit",
                                         "base_revision": base_revision(html)})
    assert again.status_code == 303
    assert [r.body for r in revisions(app, "b")] == ["original", "my edit"]


def base_revision(html: str) -> str:
    return re.search(r'name="base_revision" type="hidden" value="([^"]*)"', html).group(1)


def test_anonymous_sees_no_edit_actions_and_is_sent_to_login(client, notes):
    html = client.get("/wiki/what-is-flask").get_data(as_text=True)
    assert "/edit/" not in html and "/delete/" not in html and "New page" not in html
    for url in ["/edit/what-is-flask", "/new", "/delete/what-is-flask", "/edit/brand-new"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
        post = client.post(url, data={"title": "x", "body": "vandalism"})
        assert post.status_code == 302, url
    assert "vandalism" not in client.get("/wiki/what-is-flask").get_data(as_text=True)


def test_reader_cannot_edit_or_delete(auth, client, notes):
    auth.login("reader")
    html = client.get("/wiki/what-is-flask").get_data(as_text=True)
    assert "/edit/" not in html and "/delete/" not in html
    for url in ["/edit/what-is-flask", "/new", "/delete/what-is-flask"]:
        assert client.get(url).status_code == 403
        assert client.post(url, data={"title": "x", "body": "y"}).status_code == 403


def test_missing_page_offers_creation_to_editors_only(auth, client):
    anonymous = client.get("/wiki/nothing-here").get_data(as_text=True)
    assert "Create it" not in anonymous and "Sign in</a> to create it" in anonymous
    auth.login("reader")
    assert "Create it" not in client.get("/wiki/nothing-here").get_data(as_text=True)
    auth.logout()
    auth.login("editor")
    assert "Create it" in client.get("/wiki/nothing-here").get_data(as_text=True)


def test_red_link_turns_blue_when_its_target_is_created(editor, app):
    save_page(editor, "start", "Start", "See [[Next Step]] and [[Start|myself]].")
    html = editor.get("/wiki/start").get_data(as_text=True)
    assert 'class="wikilink wikilink-missing"' in html and 'title="create this page"' in html
    save_page(editor, "next-step", "Next Step", "here")
    with app.app_context():
        stored = db.session.scalar(
            select(Revision.html).join(Page, Page.current_revision_id == Revision.id)
            .where(Page.slug == "start")
        )
    assert "wikilink-missing" not in stored
    assert 'href="/wiki/next-step"' in stored
    submit(editor, "/delete/next-step")
    assert "wikilink-missing" in editor.get("/wiki/start").get_data(as_text=True)


def test_all_pages_lists_titles_a_to_z(editor, notes):
    html = editor.get("/pages").get_data(as_text=True)
    positions = [html.index(title) for title in ("features", "Flask – Notes", "What is Flask?")]
    assert positions == sorted(positions)


def test_sloppy_addresses_redirect_to_the_canonical_slug(client, notes):
    response = client.get("/wiki/What%20is%20Flask")
    assert response.status_code == 301
    assert response.headers["Location"] == "/wiki/what-is-flask"


def test_preview_renders_without_saving(editor, app):
    page = editor.get("/new")
    response = editor.post("/new", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "title": "Draft", "body": "**bold** idea", "preview": "Preview",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>bold</strong> idea" in html
    assert "**bold** idea</textarea>" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Page.id))) == 0


@pytest.mark.sqlite_only
def test_markdown_is_parsed_while_other_writers_can_still_write(app, admin, monkeypatch):
    """Saving, renaming (with the links to the page rewritten) and reverting parse Markdown
    before taking the writer lock: a large page never makes everyone else's saves wait."""
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    could_write = []
    parse = MarkdownIt.parse

    def parse_while_probing(self, src, env=None):
        other_writer = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other_writer.execute("BEGIN IMMEDIATE")
            other_writer.execute("ROLLBACK")
            could_write.append(True)
        except sqlite3.OperationalError:  # database is locked: a writer holds it
            could_write.append(False)
        finally:
            other_writer.close()
        return parse(self, src, env)

    monkeypatch.setattr(MarkdownIt, "parse", parse_while_probing)
    assert save_page(admin, "target", "Target", "Links to [[Linking]].").status_code == 303
    assert save_page(admin, "linking", "Linking", "See [[Target]].").status_code == 303
    assert submit(admin, "/rename/target", {"title": "Renamed", "rewrite_links": "y"}
                  ).status_code == 303
    assert submit(admin, "/revert/renamed?rev=1").status_code == 303
    assert "[[Renamed]]" in revisions(app, "linking")[-1].body
    assert could_write and all(could_write), could_write

"""Creating, editing, viewing and deleting pages through the forms, as people do."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tests.helpers import csrf_token, save_page, submit
from wiki.extensions import db
from wiki.models import Page, Revision


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


def test_recreating_a_deleted_page_continues_its_history(editor, app):
    save_page(editor, "phoenix", "Phoenix", "one")
    submit(editor, "/delete/phoenix")
    assert save_page(editor, "phoenix", "Phoenix", "again").status_code == 303
    assert [r.body for r in revisions(app, "phoenix")] == ["one", "again"]
    assert editor.get("/wiki/phoenix").status_code == 200


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

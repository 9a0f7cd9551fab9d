"""Conflict-safe editing: no save is ever lost, however edits interleave."""

import re
import threading
import time

from sqlalchemy import event, select

from tests.helpers import PASSWORD, csrf_token, save_page, submit, textarea
from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services import pages

BASE_TEXT = "intro\n\nmiddle\n\nend\n"


def open_editor(client, slug):
    html = client.get(f"/edit/{slug}").get_data(as_text=True)
    base = re.search(r'name="base_revision" type="hidden" value="(\d+)"', html).group(1)
    return {"csrf_token": csrf_token(html), "base_revision": base, "title": slug.capitalize(),
            "summary": "", "tags": ""}


def second_editor(app, auth_name="admin"):
    other = app.test_client()
    submit(other, "/login", {"username": auth_name, "password": PASSWORD})
    return other


def revision_bodies(app, slug):
    with app.app_context():
        return list(db.session.scalars(
            select(Revision.body).join(Page, Page.id == Revision.page_id)
            .where(Page.slug == slug).order_by(Revision.number)))


def test_the_edit_form_carries_the_base_revision(editor):
    save_page(editor, "notes", "Notes", BASE_TEXT)
    save_page(editor, "notes", "Notes", BASE_TEXT + "more\n")
    assert open_editor(editor, "notes")["base_revision"] == "2"


def test_non_overlapping_edits_are_merged(app, editor):
    save_page(editor, "notes", "Notes", BASE_TEXT)
    other = second_editor(app)
    mine, theirs = open_editor(editor, "notes"), open_editor(other, "notes")
    first = other.post("/edit/notes", data={**theirs, "body": "INTRO by them\n\nmiddle\n\nend\n"})
    assert first.status_code == 303
    second = editor.post("/edit/notes", data={**mine, "body": "intro\n\nmiddle\n\nEND by me\n"})
    assert second.status_code == 303
    assert revision_bodies(app, "notes")[-1] == "INTRO by them\n\nmiddle\n\nEND by me\n"
    page = editor.get("/wiki/notes").get_data(as_text=True)
    assert "merged" in page and "revision 2" in page


def test_overlapping_edits_show_a_conflict_and_save_nothing(app, editor):
    save_page(editor, "notes", "Notes", BASE_TEXT)
    other = second_editor(app)
    mine, theirs = open_editor(editor, "notes"), open_editor(other, "notes")
    other.post("/edit/notes", data={**theirs, "body": "intro\n\nTHEIR middle\n\nend\n"})
    my_text = "intro\n\nMY middle, carefully written\n\nend\n"
    response = editor.post("/edit/notes", data={**mine, "body": my_text, "summary": "mine"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else changed this page" in html
    assert textarea(html) == my_text
    assert "<ins>THEIR </ins>" in html  # the other edit, as a diff
    assert 'name="base_revision" type="hidden" value="2"' in html
    assert len(revision_bodies(app, "notes")) == 2
    # Saving again from the conflict page goes through: the user has seen the other edit.
    again = editor.post("/edit/notes", data={**mine, "base_revision": "2", "body": my_text,
                                             "csrf_token": csrf_token(html)})
    assert again.status_code == 303
    assert revision_bodies(app, "notes")[-1] == my_text


def test_resubmitting_the_same_text_is_not_a_conflict(app, editor):
    save_page(editor, "notes", "Notes", BASE_TEXT)
    form = {**open_editor(editor, "notes"), "body": BASE_TEXT + "addition\n"}
    assert editor.post("/edit/notes", data=form).status_code == 303
    retry = editor.post("/edit/notes", data=form)  # double-click: same base, same text
    assert retry.status_code == 303
    assert len(revision_bodies(app, "notes")) == 2


def test_expired_csrf_token_keeps_a_long_edit(make_app):
    slow = make_app("slow", WTF_CSRF_TIME_LIMIT=1)
    client = slow.test_client()
    with slow.app_context():
        from wiki.services import accounts

        accounts.create_user("writer", PASSWORD, "editor")
    submit(client, "/login", {"username": "writer", "password": PASSWORD})
    form = open_editor(client, "essay")
    time.sleep(2.1)  # itsdangerous counts whole seconds
    text = "A long essay that took all afternoon.\n" * 50
    response = client.post("/edit/essay", data={**form, "title": "Essay", "body": text,
                                                "summary": "my summary", "tags": "long, essay"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Your session expired" in html
    assert textarea(html) == text and 'value="my summary"' in html and 'value="long, essay"' in html
    assert revision_bodies(slow, "essay") == []


def test_concurrent_writers_on_two_engines_lose_nothing(make_app):
    """Eight threads, split over two apps (two engines) on one database, each editing its
    own line of the same page, retrying on conflict, as people would."""
    apps = [make_app("shared") for _ in range(2)]
    writers, rounds = 8, 4
    slots = "\n~\n".join(f"slot {i}: empty" for i in range(writers)) + "\n"
    with apps[0].app_context():
        pages.save(pages.PageEdit("race", "Race", slots), None)

    saved: list[tuple[int, int, int]] = []  # (writer, round, revision number)
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def write(worker: int) -> None:
        app = apps[worker % 2]
        try:
            start.wait()
            for round_ in range(1, rounds + 1):
                while True:
                    with app.app_context():
                        page = pages.get_page("race")
                        base, body = page.revision_number, page.current_revision.body
                        new = body.replace(f"slot {worker}: {_value(body, worker)}",
                                           f"slot {worker}: w{worker}r{round_}")
                        try:
                            edit = pages.PageEdit("race", "Race", new, base_revision=base)
                            result = pages.save(edit, None)
                        except pages.EditConflict:
                            continue
                        with lock:
                            saved.append((worker, round_, result.revision.number))
                        break
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(saved) == writers * rounds

    final = revision_bodies(apps[0], "race")
    assert len(final) == 1 + writers * rounds  # one revision per reported save, none lost
    with apps[0].app_context():
        numbers = list(db.session.scalars(
            select(Revision.number).join(Page, Page.id == Revision.page_id)
            .where(Page.slug == "race").order_by(Revision.number)))
        assert numbers == list(range(1, writers * rounds + 2))  # no gaps, no duplicates
        for worker in range(writers):
            assert f"slot {worker}: w{worker}r{rounds}\n" in final[-1]
        for worker, round_, number in saved:
            assert f"slot {worker}: w{worker}r{round_}" in final[number - 1]


def _value(body: str, worker: int) -> str:
    return re.search(rf"^slot {worker}: (.*)$", body, re.MULTILINE).group(1)


def race(apps, *saves):
    """Run each of *saves* (a function of no arguments) in its own thread, on its own app
    (engine), all released at once; return what each returned or raised."""
    outcomes: list[object] = [None] * len(saves)
    start = threading.Barrier(len(saves))

    def run(index: int) -> None:
        with apps[index % len(apps)].app_context():
            start.wait()
            try:
                outcomes[index] = saves[index]()
            except Exception as error:  # noqa: BLE001 - the outcome to look at
                outcomes[index] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(saves))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_new_pages_with_one_title_at_once_make_one_page(make_app):
    """On PostgreSQL both saves see no page and insert one: the second insert meets the
    first's unique slug, and its save runs again, finding the page there."""
    apps = [make_app("shared") for _ in range(2)]
    for attempt in range(5):
        title = f"Same {attempt}"
        outcomes = race(apps, *[
            (lambda text=text, title=title: pages.save(pages.PageEdit(None, title, text), None))
            for text in ("one", "two")
        ])
        created = [o for o in outcomes if isinstance(o, pages.SaveResult)]
        refused = [o for o in outcomes if isinstance(o, pages.PageError)]
        assert len(created) == 1 and created[0].outcome is pages.Outcome.CREATED, outcomes
        assert len(refused) == 1 and "already exists" in refused[0].message, outcomes
        assert revision_bodies(apps[0], f"same-{attempt}") in (["one"], ["two"])


def test_two_pages_with_one_new_tag_at_once_share_it(make_app):
    apps = [make_app("shared") for _ in range(2)]
    outcomes = race(apps, *[
        (lambda title=title: pages.save(pages.PageEdit(None, title, "text", tags="brand-new"),
                                        None))
        for title in ("First", "Second")
    ])
    assert [o.outcome for o in outcomes] == [pages.Outcome.CREATED] * 2, outcomes
    with apps[0].app_context():
        tagged = db.session.scalars(
            select(Page.slug).where(Page.tags.any(name="brand-new")).order_by(Page.slug))
        assert tagged.all() == ["first", "second"]


def test_a_rename_and_a_new_page_racing_for_one_address_leave_one_page(make_app):
    apps = [make_app("shared") for _ in range(2)]
    with apps[0].app_context():
        pages.save(pages.PageEdit(None, "Draft", "to be renamed"), None)
    outcomes = race(apps, lambda: pages.rename("draft", "Final", None, rewrite_links=False),
                    lambda: pages.save(pages.PageEdit(None, "Final", "written anew"), None))
    failed = [o for o in outcomes if isinstance(o, pages.PageError)]
    assert len(failed) == 1 and "already exists" in failed[0].message, outcomes
    with apps[0].app_context():
        final = db.session.scalar(select(Page).where(Page.slug == "final"))
        draft = db.session.scalar(select(Page).where(Page.slug == "draft"))
        assert final is not None and (draft is None) == (not isinstance(outcomes[0], Exception))


# --- accounts: checks of other rows, which PostgreSQL's READ COMMITTED would let interleave --


def test_two_first_accounts_at_once_make_one_administrator(make_app):
    from wiki.services import accounts

    apps = [make_app("shared") for _ in range(2)]
    outcomes = race(apps, *[
        (lambda name=name: accounts.create_user(name, PASSWORD, "admin", only_if_first=True))
        for name in ("ada", "grace")
    ])
    refused = [o for o in outcomes if isinstance(o, accounts.AccountError)]
    assert len(refused) == 1 and "already has an account" in str(refused[0]), outcomes
    with apps[0].app_context():
        assert accounts.count_users() == 1


def test_one_name_taken_twice_at_once_makes_one_account(make_app):
    from wiki.services import accounts

    apps = [make_app("shared") for _ in range(2)]
    outcomes = race(apps, *[(lambda: accounts.create_user("Ada", PASSWORD)) for _ in range(2)])
    refused = [o for o in outcomes if isinstance(o, accounts.AccountError)]
    assert len(refused) == 1 and "taken" in str(refused[0]), outcomes


def test_two_administrators_demoting_each_other_at_once_leave_one(make_app, users):
    from wiki.models import Role
    from wiki.services import accounts

    apps = [make_app("shared") for _ in range(2)]
    with apps[0].app_context():
        ids = (users["admin"].id, accounts.create_user("other-admin", PASSWORD, Role.ADMIN).id)
    outcomes = race(apps, *[(lambda uid=uid: accounts.set_role(uid, Role.EDITOR)) for uid in ids])
    refused = [o for o in outcomes if isinstance(o, accounts.AccountError)]
    assert len(refused) == 1 and "last administrator" in str(refused[0]), outcomes


# --- a rename or a revert racing an edit --------------------------------------------------


def test_an_edit_posted_to_the_address_before_a_rename_is_saved_not_dropped(app, editor):
    save_page(editor, "draft", "Draft", BASE_TEXT)
    mine = open_editor(editor, "draft")
    mine["title"] = "Draft"
    renamer = second_editor(app)
    submit(renamer, "/rename/draft", {"title": "Final", "rewrite_links": "y"})
    my_text = "intro\n\nmiddle\n\nEND, written meanwhile\n"
    response = editor.post("/edit/draft", data={**mine, "body": my_text})
    assert response.status_code == 303 and response.headers["Location"] == "/wiki/final"
    assert revision_bodies(app, "final")[-1] == my_text
    assert "<h1>Final</h1>" in editor.get("/wiki/final").get_data(as_text=True)


def test_an_overlapping_edit_posted_before_a_rename_shows_the_text_back(app, editor):
    save_page(editor, "draft", "Draft", BASE_TEXT)
    mine = open_editor(editor, "draft")
    other = second_editor(app)
    save_page(other, "draft", "Draft", "intro\n\nTHEIR middle\n\nend\n")
    submit(other, "/rename/draft", {"title": "Final"})
    my_text = "intro\n\nMY middle\n\nend\n"
    response = editor.post("/edit/draft", data={**mine, "title": "Draft", "body": my_text})
    assert response.status_code == 409
    assert textarea(response.get_data(as_text=True)) == my_text


def save_meanwhile(app, other_app, slug: str, body: str) -> None:
    """When *app* next starts a write transaction, first save *body* to *slug* on
    *other_app* (another engine on the same database), as a second worker would."""
    with app.app_context():
        engine = db.engine

    done: list[bool] = []

    def before_write(connection, *_statement) -> None:
        if done or not connection.get_execution_options().get("wiki_write"):
            return
        done.append(True)
        saver = threading.Thread(target=save, daemon=True)
        saver.start()
        saver.join(timeout=30)

    def save() -> None:
        with other_app.app_context():
            page = pages.get_page(slug)
            pages.save(pages.PageEdit(slug, page.title, body,
                                      base_revision=page.revision_number), None)

    # Before the write's first statement (SQLite's BEGIN IMMEDIATE), so nothing is locked yet.
    event.listen(engine, "before_cursor_execute", before_write)


def test_a_revert_racing_an_edit_answers_like_an_edit_conflict(make_app, users):
    """A save lands between the revert's reading the page and its writing: the revert
    answers a conflict to confirm again, never a 500, and the save is kept."""
    app, other_app = make_app("shared"), make_app("shared")
    client = app.test_client()
    submit(client, "/login", {"username": "editor", "password": PASSWORD})
    save_page(client, "notes", "Notes", "intro\n\nfirst middle\n\nend\n")
    save_page(client, "notes", "Notes", "intro\n\nsecond middle\n\nend\n")
    confirm = client.get("/revert/notes?rev=1").get_data(as_text=True)
    save_meanwhile(app, other_app, "notes", "intro\n\nTHEIR middle\n\nend\n")
    response = client.post("/revert/notes?rev=1", data={
        "csrf_token": csrf_token(confirm), "base_revision": "2"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Revision 3 was saved meanwhile" in html and "<del>THEIR</del>" in html
    assert revision_bodies(app, "notes")[-1] == "intro\n\nTHEIR middle\n\nend\n"
    again = client.post("/revert/notes?rev=1", data={"csrf_token": csrf_token(html),
                                                     "base_revision": "3"})
    assert again.status_code == 303
    assert revision_bodies(app, "notes")[-1] == "intro\n\nfirst middle\n\nend\n"


def test_a_revert_after_a_non_overlapping_edit_keeps_both(app, editor):
    save_page(editor, "notes", "Notes", "intro\n\nmiddle\n\nend\n")
    save_page(editor, "notes", "Notes", "intro\n\nmiddle\n\nend, changed\n")
    confirm = editor.get("/revert/notes?rev=1").get_data(as_text=True)
    save_page(second_editor(app), "notes", "Notes", "INTRO\n\nmiddle\n\nend, changed\n")
    response = editor.post("/revert/notes?rev=1", data={"csrf_token": csrf_token(confirm),
                                                          "base_revision": "2"})
    assert response.status_code == 303
    assert revision_bodies(app, "notes")[-1] == "INTRO\n\nmiddle\n\nend\n"

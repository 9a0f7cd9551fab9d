"""``flask cards export-apkg``: the review cards as an Anki package, read back here the way
Anki reads it (a zip holding an SQLite collection, ``collection.anki2``)."""

import json
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from wiki.extensions import db
from wiki.models import Card, User
from wiki.services import access, pages

FIELD_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Note:
    guid: str
    model: str
    fields: list[str]
    tags: list[str]


@dataclass(frozen=True)
class Package:
    notes: list[Note]
    decks: list[str]

    def by_first_field(self) -> dict[str, Note]:
        return {note.fields[0]: note for note in self.notes}


def read_apkg(path: Path, tmp_path: Path) -> Package:
    with zipfile.ZipFile(path) as archive:
        assert set(archive.namelist()) == {"collection.anki2", "media"}
        archive.extract("collection.anki2", tmp_path / "unpacked")
    connection = sqlite3.connect(tmp_path / "unpacked" / "collection.anki2")
    try:
        models_json, decks_json = connection.execute("SELECT models, decks FROM col").fetchone()
        models = {int(key): model["name"] for key, model in json.loads(models_json).items()}
        decks = [deck["name"] for deck in json.loads(decks_json).values()
                 if deck["name"] != "Default"]
        notes = [Note(guid, models[model_id], fields.split(FIELD_SEPARATOR), tags.split())
                 for guid, model_id, fields, tags in connection.execute(
                     "SELECT guid, mid, flds, tags FROM notes ORDER BY id")]
    finally:
        connection.close()
    return Package(notes, decks)


@pytest.fixture
def carded(app, users):
    """Pages with cards: basic, cloze (two blanks on one line), retired, on a sub-page, on
    a deleted page, and on a page only admins may read."""
    with app.app_context():
        editor = db.session.get(User, users["editor"].id)
        admin = db.session.get(User, users["admin"].id)
        access.add_rule("private/**", "admin", "admin", admin)

        def save(title, body, tags=""):
            pages.save(pages.PageEdit(None, title, body, tags=tags), editor)

        save("Flask", "What is Flask? :: A <micro> framework & more\n\n"
                      "Flask is built on ==Werkzeug== and ==Jinja== #card\n"
                      "Old question :: goes away\n", tags="web")
        pages.save(pages.PageEdit("flask", "Flask", "What is Flask? :: A <micro> framework & more"
                                  "\n\nFlask is built on ==Werkzeug== and ==Jinja== #card\n",
                                  tags="web", base_revision=1), editor)
        save("Flask/Routing", "What maps URLs? :: `app.route`\n\n"
                              "C++ has ==std::vector}}== too #card\n")
        save("Python", "Who made Python? :: Guido\n", tags="language")
        save("Doomed", "Gone :: with its page\n")
        pages.delete("doomed")
        save("Private/Plans", "Secret question :: secret answer\n")
        save("Plain", "No cards here.\n", tags="empty")
    return app


def export(runner, path: Path, *options: str):
    return runner.invoke(args=["cards", "export-apkg", str(path), *options])


def test_everything_exports_basic_and_cloze_notes(carded, runner, tmp_path):
    path = tmp_path / "all.apkg"
    result = export(runner, path)
    assert result.exit_code == 0, result.output
    assert "Wrote 4 basic notes and 3 cloze notes" in result.output
    package = read_apkg(path, tmp_path)
    assert package.decks == ["Notebook"]
    notes = package.by_first_field()
    assert notes["What is Flask?"].model == "Notebook wiki: basic"
    assert notes["What is Flask?"].fields == ["What is Flask?",
                                             "A &lt;micro&gt; framework &amp; more", "Flask"]
    assert notes["What is Flask?"].tags == ["flask"]
    clozes = sorted(note.fields[0] for note in package.notes if note.model.endswith("cloze"))
    assert clozes == [
        "C++ has {{c1::std&#58;&#58;vector&#125;&#125;}} too",  # no hint, no early end
        "Flask is built on Werkzeug and {{c1::Jinja}}",
        "Flask is built on {{c1::Werkzeug}} and Jinja",
    ]
    routing = notes["What maps URLs?"]
    assert routing.fields == ["What maps URLs?", "`app.route`", "Flask/Routing"]
    assert routing.tags == ["flask::routing"]
    texts = " ".join(FIELD_SEPARATOR.join(note.fields) for note in package.notes)
    assert "Old question" not in texts  # retired: its line is gone
    assert "Gone" not in texts  # its page is deleted
    assert "Secret question" in texts  # the command line sees everything unless told --as


def test_guids_come_from_the_cards_so_a_second_export_updates(carded, runner, tmp_path):
    first, second = tmp_path / "1.apkg", tmp_path / "2.apkg"
    assert export(runner, first).exit_code == 0
    with carded.app_context():  # an edited answer keeps its card, and so its note
        pages.save(pages.PageEdit("python", "Python", "Who made Python? :: Guido van Rossum\n",
                                  tags="language", base_revision=1), None)
    assert export(runner, second).exit_code == 0
    before = {note.guid: note for note in read_apkg(first, tmp_path / "a").notes}
    after = {note.guid: note for note in read_apkg(second, tmp_path / "b").notes}
    assert before.keys() == after.keys() and len(after) == 7
    changed = [guid for guid in after if before[guid].fields != after[guid].fields]
    assert [after[guid].fields[1] for guid in changed] == ["Guido van Rossum"]
    with carded.app_context():
        assert len(db.session.scalars(select(Card.id)).all()) >= 7


def test_a_page_exports_it_and_its_sub_pages_in_a_deck_of_its_own(carded, runner, tmp_path):
    path = tmp_path / "flask.apkg"
    result = export(runner, path, "--page", "flask")
    assert result.exit_code == 0, result.output
    package = read_apkg(path, tmp_path)
    assert package.decks == ["Notebook::flask"]
    assert {note.tags[0] for note in package.notes} == {"flask", "flask::routing"}
    assert len(package.notes) == 5


def test_a_tag_exports_the_cards_of_its_pages(carded, runner, tmp_path):
    path = tmp_path / "language.apkg"
    assert export(runner, path, "--tag", "Language").exit_code == 0
    package = read_apkg(path, tmp_path)
    assert package.decks == ["Notebook::#language"]
    assert [note.fields[:2] for note in package.notes] == [["Who made Python?", "Guido"]]


def test_as_a_user_leaves_out_the_pages_hidden_from_them(carded, runner, tmp_path):
    path = tmp_path / "reader.apkg"
    assert export(runner, path, "--as", "reader").exit_code == 0
    texts = [note.fields[0] for note in read_apkg(path, tmp_path).notes]
    assert len(texts) == 6 and "Secret question" not in texts
    hidden = export(runner, tmp_path / "hidden.apkg", "--page", "private/plans", "--as", "reader")
    assert hidden.exit_code != 0 and "There is no page at “private/plans”" in hidden.output
    assert not (tmp_path / "hidden.apkg").exists()


@pytest.mark.parametrize(("options", "message"), [
    (["--page", "nowhere"], "There is no page at “nowhere”."),
    (["--page", "doomed"], "There is no page at “doomed”."),
    (["--page", "plain"], "“Plain” and its sub-pages have no cards."),
    (["--tag", "nothing"], "No page is tagged “nothing”."),
    (["--tag", "empty"], "The pages tagged “empty” have no cards."),
    (["--tag", "!!!"], "No page is tagged “!!!”."),
    (["--page", "flask", "--tag", "web"], "Give --page or --tag, not both."),
    (["--as", "nobody"], "No account called 'nobody'."),
])
def test_a_bad_selection_says_why_and_writes_nothing(carded, runner, tmp_path, options, message):
    folder = tmp_path / "out"
    folder.mkdir()
    result = export(runner, folder / "out.apkg", *options)
    assert result.exit_code != 0
    assert message in result.output
    assert list(folder.iterdir()) == []


def test_a_wiki_without_cards_writes_nothing(app, runner, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    result = export(runner, folder / "none.apkg")
    assert result.exit_code != 0 and "There are no cards to export." in result.output
    assert list(folder.iterdir()) == []

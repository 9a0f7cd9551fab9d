"""``flask pages import`` of many pages: written a batch per transaction, with everything a
save maintains (links, red links, tags, cards, search, recent changes) right at the end."""

from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from wiki.extensions import db
from wiki.models import Card, Page
from wiki.services import links, pages, paging, rendering, search, tags

BATCH = 10
NOTES = 30


def write_notes(folder: Path, count: int) -> Path:
    """*count* notes: each links to the next one (made later in the import, in another
    batch), to the one before, and to one of two pages nobody writes; each has a tag and a
    card, and one in five says "quokka"."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        later, earlier = (number + 1) % count, (number - 1) % count
        word = " A quokka was here." if number % 5 == 0 else ""
        (folder / f"note-{number:03d}.md").write_text(
            f"---\ntitle: Note {number}\ntags: [shelf-{number % 3}]\n---\n"
            f"See [[Note {later}]], [[Note {earlier}]] and [[Never written {number % 2}]].{word}"
            f"\n\nCapital of {number} :: City {number}\n"
        )
    return folder


@pytest.fixture
def batched_app(make_app):
    return make_app(IMPORT_BATCH_PAGES=BATCH)


def test_an_import_leaves_links_tags_cards_search_and_recent_changes_right(
        batched_app, tmp_path):
    app = batched_app
    result = app.test_cli_runner().invoke(
        args=["pages", "import", str(write_notes(tmp_path / "notes", NOTES))])
    assert result.exit_code == 0, result.output
    assert f"{NOTES} pages created, 0 already there." in result.output
    with app.app_context():
        for number in range(NOTES):
            page = pages.get_page(f"note-{number}")
            blue = {f"note-{(number + 1) % NOTES}", f"note-{(number - 1) % NOTES}"}
            # A link to a page made later in the import is blue; one to a page never made, red.
            assert rendering.linked_pages(page.current_revision.html) == blue, number
            assert f"never-written-{number % 2}" in page.current_revision.html
        backlinks = links.backlinks("note-5", paging.START, 50).items
        assert [page.slug for page in backlinks] == ["note-4", "note-6"]
        assert {(slug, wants) for slug, _, wants in links.wanted(1, 50).items} == {
            ("never-written-0", NOTES // 2), ("never-written-1", NOTES // 2)}
        assert tags.tag_counts() == [("shelf-0", 10), ("shelf-1", 10), ("shelf-2", 10)]
        assert [page.slug for page in tags.tagged_pages("shelf-1", paging.START, 50).items][:2] == [
            "note-1", "note-10"]
        questions = db.session.execute(
            select(Page.slug, Card.question, Card.answer).join(Card, Card.page_id == Page.id)
            .where(Card.retired.is_(False))).all()
        assert len(questions) == NOTES
        assert ("note-7", "Capital of 7", "City 7") in questions
        found = search.search("quokka")
        assert found.total == NOTES // 5
        assert {hit.slug for hit in found.hits} == {f"note-{n}" for n in range(0, NOTES, 5)}
        assert search.search("tag:shelf-2").total == 10
        assert [match.slug for match in search.titles("Note 29")] == ["note-29"]
    recent = app.test_client().get("/recent")
    assert recent.status_code == 200
    assert "Note 29" in recent.text and "Imported" in recent.text


def import_work(app, folder: Path, *options: str) -> tuple[int, int]:
    """Import *folder* into *app* (with *options*): (SQL statements run, transactions
    committed)."""
    with app.app_context():
        engine = db.engine
    statements, commits = [], []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def committed(conn):
        commits.append(conn)

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "commit", committed)
    try:
        result = app.test_cli_runner().invoke(args=["pages", "import", str(folder), *options])
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "commit", committed)
    assert result.exit_code == 0, result.output
    return len(statements), len(commits)


def test_an_import_runs_a_few_statements_per_batch_not_dozens_per_page(
        make_app, other_database_url, tmp_path):
    small_count, large_count = 2 * BATCH, 8 * BATCH
    small = import_work(make_app("small", IMPORT_BATCH_PAGES=BATCH),
                        write_notes(tmp_path / "small", small_count))
    large = import_work(make_app("large", DATABASE_URL=other_database_url,
                                 IMPORT_BATCH_PAGES=BATCH),
                        write_notes(tmp_path / "large", large_count))
    # A transaction per batch, not per page.
    assert small[1] == small_count // BATCH
    assert large[1] == large_count // BATCH
    # Four times the pages, four times the work: the same statements per batch (give or
    # take the one that turns other pages' red links blue, when there are any).
    assert large[0] <= 4 * small[0] + large[1]
    # Each page costs a few statements' worth of its batch's, not a save's two dozen.
    assert large[0] < 3 * large_count


def test_readers_see_each_batch_as_it_is_written_and_are_never_held_up(batched_app, tmp_path):
    """At each batch's write, another connection reads the pages: it is answered at once
    (a reader does not wait for the writer) and sees the batches written before."""
    with batched_app.app_context():
        engine = db.engine
    seen = []

    def read_while_writing(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO revision"):
            with engine.connect() as reader:
                seen.append(reader.scalar(select(func.count()).select_from(Page)))

    event.listen(engine, "before_cursor_execute", read_while_writing)
    try:
        result = batched_app.test_cli_runner().invoke(
            args=["pages", "import", str(write_notes(tmp_path / "notes", NOTES))])
    finally:
        event.remove(engine, "before_cursor_execute", read_while_writing)
    assert result.exit_code == 0, result.output
    assert seen == list(range(0, NOTES, BATCH))


def test_a_batch_skips_what_is_there_and_reports_what_it_refuses(batched_app, tmp_path):
    app = batched_app
    with app.app_context():
        pages.save(pages.PageEdit(None, "Kept", "Mine.\n"), None)
        pages.save(pages.PageEdit(None, "Gone", "Was here.\n"), None)
        pages.delete("gone")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# Kept\n\nTheirs.\n")
    (folder / "b.md").write_text("# Gone\n\nBack?\n")
    (folder / "c.md").write_text("# !!!\n\nNo letters in the title.\n")
    (folder / "d.md").write_text("# Fresh\n\nNew.\n")
    (folder / "e.md").write_text("---\ntitle: fresh\n---\nThe same address again.\n")
    result = app.test_cli_runner().invoke(args=["pages", "import", str(folder)])
    assert result.exit_code == 1
    assert "1 page created, 2 already there." in result.output
    assert "Skipped " in result.output and "“Gone”: The page at this address was deleted" \
        in result.output
    assert "“!!!”: The title needs at least one letter or digit." in result.output
    with app.app_context():
        assert pages.get_page("kept").current_revision.body == "Mine.\n"
        assert pages.get_page("fresh").current_revision.body == "New.\n"
        assert pages.get_page("gone") is None


def current_pages(app) -> dict[str, tuple]:
    """Each live page's title, text, rendered HTML, tags and date (to the second, as exported)."""
    with app.app_context():
        return {page.slug: (page.title, page.current_revision.body, page.current_revision.html,
                            [tag.name for tag in page.tags],
                            page.updated_at.replace(microsecond=0))
                for page in db.session.scalars(select(Page).where(Page.deleted.is_(False)))}


def test_batches_import_an_export_as_saves_made_it_and_export_it_back_the_same(
        app, make_app, other_database_url, tmp_path):
    with app.app_context():
        pages.save(pages.PageEdit(pages.HOME, "Notebook", "Start at [[Zebra]] or [[Apple]].\n"),
                   None)
        for title in ("Apple", "Mango", "Zebra", "Guides/Intro", "Yak: notes"):
            pages.save(pages.PageEdit(None, title, f"About {title}: see [[Mango]], [[Zebra]] "
                                                   "and [[Nowhere]].\n\nWhy :: Because\n",
                                      tags=["shelf", title[0].lower()]), None)
    first, second = tmp_path / "first", tmp_path / "second"
    assert app.test_cli_runner().invoke(args=["pages", "export", str(first)]).exit_code == 0
    other = make_app("other", DATABASE_URL=other_database_url, IMPORT_BATCH_PAGES=2)
    imported = other.test_cli_runner().invoke(args=["pages", "import", str(first)])
    assert imported.exit_code == 0, imported.output
    assert "6 pages created" in imported.output
    # The same titles, texts, tags and dates, and the same HTML: links blue or red alike.
    assert current_pages(other) == current_pages(app)
    assert other.test_cli_runner().invoke(args=["pages", "export", str(second)]).exit_code == 0
    assert {path.relative_to(second): path.read_bytes() for path in second.rglob("*.md")} == \
        {path.relative_to(first): path.read_bytes() for path in first.rglob("*.md")}


def test_imported_titles_and_tags_rank_first_past_the_search_count(make_app, tmp_path):
    """Past SEARCH_COUNTED matches, a search ranks pages with the word in their title or tags
    from a small index of its own: the batches must fill it as a save does."""
    app = make_app(IMPORT_BATCH_PAGES=BATCH, SEARCH_COUNTED=10, SEARCH_CANDIDATES=4)
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "quokka-facts.md").write_text("---\ntitle: Quokka facts\n---\nSmall.\n")
    (folder / "tagged.md").write_text("---\ntitle: Tagged\ntags: [quokka]\n---\nSmall.\n")
    for number in range(20):
        (folder / f"zz-{number:02d}.md").write_text("quokka quokka quokka, and more words.\n")
    result = app.test_cli_runner().invoke(args=["pages", "import", str(folder)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        found = search.search("quokka")
    assert found.more
    assert {hit.slug for hit in found.hits[:2]} == {"quokka-facts", "tagged"}


def pages_as_read(app) -> dict[str, tuple]:
    """:func:`current_pages` less the dates, and what a search and the backlinks find."""
    with app.app_context():
        found = search.search("quokka")
        return {**{slug: page[:4] for slug, page in current_pages(app).items()},
                "search": (found.total, sorted(hit.slug for hit in found.hits)),
                "backlinks": [page.slug for page in
                              links.backlinks("note-5", paging.START, 50).items]}


def test_pages_rendered_in_other_processes_are_written_as_pages_rendered_here(
        make_app, other_database_url, tmp_path):
    """With --jobs, a batch is rendered in other processes while the one before is written:
    the same pages, links (to pages of the batch before, and after), cards and search
    entries, with the same statements, as rendering each batch in the writing process."""
    folder = write_notes(tmp_path / "notes", NOTES)
    here = make_app("here", IMPORT_BATCH_PAGES=BATCH)
    elsewhere = make_app("elsewhere", DATABASE_URL=other_database_url, IMPORT_BATCH_PAGES=BATCH)
    work_here = import_work(here, folder, "--jobs", "0")
    work_elsewhere = import_work(elsewhere, folder, "--jobs", "2")
    assert work_elsewhere == work_here
    assert pages_as_read(elsewhere) == pages_as_read(here)
    assert pages_as_read(here)["backlinks"] == ["note-4", "note-6"]


@pytest.mark.parametrize("jobs", ["0", "1"])
def test_a_page_read_again_in_the_next_batch_is_already_there(batched_app, tmp_path, jobs):
    """The next batch is checked before the one before is written: its own copy of a page
    of that batch is still found there, when written, and skipped; the first one read wins."""
    folder = tmp_path / "notes"
    folder.mkdir()
    for number in range(BATCH - 1):
        (folder / f"a-{number:02d}.md").write_text(f"# Filler {number}\n\nText.\n")
    (folder / "b-first.md").write_text("# Twice\n\nThe first one read.\n")
    (folder / "c-second.md").write_text("# Twice\n\nThe second one read, a batch later.\n")
    result = batched_app.test_cli_runner().invoke(
        args=["pages", "import", str(folder), "--jobs", jobs])
    assert result.exit_code == 0, result.output
    assert f"{BATCH} pages created, 1 already there." in result.output
    with batched_app.app_context():
        assert pages.get_page("twice").current_revision.body == "The first one read.\n"


def test_jobs_must_be_a_count(batched_app, tmp_path):
    result = batched_app.test_cli_runner().invoke(
        args=["pages", "import", str(write_notes(tmp_path / "notes", 2)), "--jobs", "-1"])
    assert result.exit_code == 2
    assert "-1 is not in the range x>=0" in result.output

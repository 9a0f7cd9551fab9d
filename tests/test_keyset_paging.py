"""Long lists are walked by key (``?before=`` / ``?after=`` the last row's key): a page deep in
a list costs what the first one does, rows written between two page loads neither repeat nor
go missing, old ``?page=N`` bookmarks still open, and a key that is no key answers 400."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import event, insert, select, text

from tests import databases
from tests.helpers import PASSWORD, submit
from wiki import create_app
from wiki.extensions import db
from wiki.models import Link, Page, Revision, Tag, User, page_tags
from wiki.services import access, pages, tags
from wiki.services.paging import START as START_OF_LIST

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
NEXT_LINK = re.compile(r'<a rel="next" href="([^"]+)"')
PREV_LINK = re.compile(r'<a rel="prev" href="([^"]+)"')


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def link(pattern: re.Pattern, html: str) -> str | None:
    match = pattern.search(html)
    return unescape(match[1]) if match else None


def changes_listed(html: str) -> list[tuple[str, int]]:
    """(page, revision) of each row of /recent, by its diff link."""
    return [(slug, int(to)) for slug, to in
            re.findall(r'href="/diff/([^"?]+)\?from=\d+&amp;to=(\d+)"', html)]


def pages_listed(html: str) -> list[str]:
    block = html.split('<table class="listing listing--pages">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'href="/wiki/([^"]+)"', block)


def add_pages(app, slugs) -> None:
    """Pages written straight into the tables, for lists long enough to walk."""
    with app.app_context():
        db.session.execute(insert(Page), [{"slug": slug, "title": slug.title()}
                                          for slug in slugs])
        db.session.commit()


def add_revisions(app, slug: str, count: int) -> None:
    """*count* revisions of one page, a minute apart, written straight into the table."""
    with app.app_context():
        page = pages.save(pages.PageEdit(None, slug.title(), "first"), None).page
        db.session.execute(insert(Revision), [
            {"page_id": page.id, "number": number, "title": page.title, "body": "b", "html": "",
             "created_at": START + timedelta(minutes=number)}
            for number in range(2, count + 1)])
        db.session.commit()


def edit(app, slug: str, text: str) -> None:
    with app.app_context():
        pages.save(pages.PageEdit(slug, slug.title(), text, summary=text), None)


# --- rows neither repeat nor go missing ---------------------------------------------------


def test_recent_changes_walked_while_pages_are_edited_show_each_change_once(app, editor):
    for number in range(1, 121):
        edit(app, "log", f"entry {number}")
    before = set(changes_listed(get(editor, "/recent")))
    seen, url = [], "/recent"
    while url:
        html = get(editor, url)
        seen += changes_listed(html)
        edit(app, "log", f"written while reading page {len(seen)}")  # shifts every offset
        edit(app, "other", f"and elsewhere {len(seen)}")
        url = link(NEXT_LINK, html)
    assert len(seen) == len(set(seen)), "a change was listed twice"
    assert [number for slug, number in seen if slug == "log"] == list(range(120, 0, -1))
    assert before <= set(seen)


def test_the_page_list_walked_while_pages_are_added_and_deleted_skips_none(app, editor):
    names = [f"note-{number:03}" for number in range(250)]
    add_pages(app, names)
    seen, url, added = [], "/pages", 0
    while url:
        html = get(editor, url)
        seen += pages_listed(html)
        added += 1
        add_pages(app, [f"aaa-new-{added}", f"aab-new-{added}"])  # before every row shown
        with app.app_context():
            pages.delete(seen[added - 1])  # and one shown already goes
        url = link(NEXT_LINK, html)
    assert seen == names


def test_older_then_newer_comes_back_to_the_same_rows(app, editor):
    add_revisions(app, "journal", 130)
    first = get(editor, "/history/journal")
    second = get(editor, link(NEXT_LINK, first))
    assert 'href="/history/journal">« First</a>' in second
    back = get(editor, link(PREV_LINK, second))
    numbers = re.compile(r'href="/wiki/journal\?rev=(\d+)"')
    assert numbers.findall(back) == numbers.findall(first) == [str(n) for n in range(130, 80, -1)]
    assert numbers.findall(second) == [str(n) for n in range(80, 30, -1)]
    assert "Older →" in first and "← Newer" in second


def test_an_old_numbered_bookmark_still_opens_and_links_on_by_key(app, editor):
    add_revisions(app, "journal", 130)
    third = get(editor, "/history/journal?page=3")
    assert re.findall(r'href="/wiki/journal\?rev=(\d+)"', third) == [
        str(n) for n in range(30, 0, -1)]
    assert link(PREV_LINK, third) == "/history/journal?after=30"
    recent = get(editor, "/recent?page=2")
    assert [number for _, number in changes_listed(recent)] == list(range(81, 31, -1))


# --- keys that are no keys ----------------------------------------------------------------

BAD_KEYS = ["junk", "2026-13-40T00:00:00,1", ",", "\x00", "2026-01-05T08:00:00,x",
            "2026-01-05T08:00:00,99999999999999999999", "-1", "1.5", "x" * 300, "a\x00b",
            "2026-01-05T08:00:00"]


@pytest.mark.parametrize("path", ["/recent", "/history/journal", "/pages", "/tags/web",
                                  "/backlinks/journal", "/deleted"])
@pytest.mark.parametrize("key", BAD_KEYS)
def test_a_key_that_is_no_key_of_the_list_answers_400_saying_so(app, admin, path, key):
    add_revisions(app, "journal", 3)
    for side in ("before", "after"):
        response = admin.get(path, query_string={side: key})
        if path in ("/pages", "/tags/web", "/backlinks/journal") and len(key) <= 255 \
                and key.isprintable():
            assert response.status_code == 200  # any text is a place among addresses
            continue
        assert response.status_code == 400, (path, side, key)
        assert "Start again from the first page" in response.get_data(as_text=True)


def test_both_sides_at_once_answers_400(editor, app):
    add_revisions(app, "journal", 3)
    assert editor.get("/history/journal?before=2&after=1").status_code == 400


def test_a_time_with_a_zone_is_read_in_utc(app, editor):
    add_revisions(app, "journal", 3)
    html = get(editor, "/recent?before=2026-01-05T10:02:30%2B02:00,999999")
    assert [number for _, number in changes_listed(html)] == [2]


# --- the work does not grow with the depth ------------------------------------------------


def steps_to_answer(app, client, url: str) -> int:
    """SQLite virtual-machine steps (in tens) run by every query answering *url*."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    def count_steps(connection, cursor, statement, parameters, context, executemany):
        connection.connection.driver_connection.set_progress_handler(count, 10)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count_steps)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count_steps)
    return steps[0]


def walk(client, url: str, pages_on: int) -> str:
    """The address of the page *pages_on* pages after *url*, reached by its links."""
    for _ in range(pages_on):
        url = link(NEXT_LINK, get(client, url))
    return url


@pytest.mark.sqlite_only
@pytest.mark.parametrize("start", ["/recent", "/history/journal"])
def test_a_page_deep_in_a_revision_list_costs_what_a_shallow_one_does(app, editor, start):
    add_revisions(app, "journal", 1_000)
    shallow, deep = walk(editor, start, 2), walk(editor, start, 16)
    work = [steps_to_answer(app, editor, url) for url in (shallow, deep)]
    assert work[1] < work[0] * 1.2, work  # an offset would skip 700 rows more


@pytest.mark.sqlite_only
def test_a_page_deep_in_the_page_list_costs_what_a_shallow_one_does(app, editor):
    add_pages(app, [f"note-{number:04}" for number in range(1_700)])
    shallow, deep = walk(editor, "/pages", 1), walk(editor, "/pages", 16)
    work = [steps_to_answer(app, editor, url) for url in (shallow, deep)]
    assert work[1] < work[0] * 1.2, work


def tag_and_link(app, tag: str, target: str, slugs: list[str]) -> None:
    """Tag the pages at *slugs* with *tag* and make each link to *target*, straight into
    the tables (as a bulk import writes them)."""
    with app.app_context():
        ids = dict(db.session.execute(select(Page.slug, Page.id).where(Page.slug.in_(slugs))).all())
        tag_id = db.session.scalar(insert(Tag).values(name=tag).returning(Tag.id))
        db.session.execute(insert(page_tags), [
            {"page_id": ids[slug], "tag_id": tag_id, "page_slug": slug} for slug in slugs])
        db.session.execute(insert(Link), [
            {"from_page_id": ids[slug], "from_slug": slug, "target_slug": target}
            for slug in slugs])
        db.session.commit()


@pytest.fixture
def big_and_small_lists(app):
    """A tag on 1,600 pages and one on 400 of them; as many links to two pages."""
    names = [f"note-{number:04}" for number in range(1_600)]
    add_pages(app, names)
    tag_and_link(app, "many", "popular", names)
    tag_and_link(app, "few", "known", names[::4])


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("small", "big"), [("/tags/few", "/tags/many"),
                                            ("/backlinks/known", "/backlinks/popular")])
def test_the_first_page_of_a_tag_or_of_backlinks_costs_the_same_at_four_times_the_rows(
        app, editor, big_and_small_lists, small, big):
    """One window of rows is read from the list's index, however many pages the tag has
    (or link to the page): not every one joined and sorted first."""
    work = [steps_to_answer(app, editor, url) for url in (small, big)]
    assert work[1] < work[0] * 1.2, work


@pytest.mark.sqlite_only
@pytest.mark.parametrize("start", ["/tags/many", "/backlinks/popular"])
def test_a_page_deep_in_a_tag_or_in_backlinks_costs_what_a_shallow_one_does(
        app, editor, big_and_small_lists, start):
    shallow, deep = walk(editor, start, 1), walk(editor, start, 14)
    work = [steps_to_answer(app, editor, url) for url in (shallow, deep)]
    assert work[1] < work[0] * 1.2, work


@pytest.mark.parametrize("start", ["/tags/many", "/backlinks/popular"])
def test_a_tag_s_pages_and_backlinks_walked_by_key_list_each_page_once_in_order(
        app, editor, big_and_small_lists, start):
    seen, url = [], start
    while url:
        html = get(editor, url)
        seen += re.findall(r'<li><a href="/wiki/([^"]+)"', html)
        url = link(NEXT_LINK, html)
    assert seen == [f"note-{number:04}" for number in range(1_600)]


def test_the_access_rules_still_filter_a_page_walked_by_key(app, users):
    with app.app_context():
        access.add_rule("private/**", "admin", "admin", db.session.get(User, users["admin"].id))
    add_pages(app, ["garden", "private/secret", "zoo"])
    reader = app.test_client()
    assert submit(reader, "/login", {"username": "reader", "password": PASSWORD}).status_code == 303
    assert pages_listed(get(reader, "/pages?after=garden")) == ["zoo"]
    # Back at the start of the list: its first page, whole
    assert pages_listed(get(reader, "/pages?before=zoo")) == ["garden", "zoo"]


# --- numbered pages: found by the key at their offset -------------------------------------


@pytest.mark.parametrize("start", ["/pages", "/tags/many", "/backlinks/popular"])
def test_a_numbered_page_shows_the_rows_its_page_walked_by_key_shows(
        app, editor, big_and_small_lists, start):
    """``?page=N`` (an old bookmark) starts where the N-th page reached by links starts,
    rows in the same order, and links on by key from its own last row."""
    walked = get(editor, walk(editor, start, 5))
    numbered = get(editor, f"{start}?page=6")
    rows = pages_listed if start == "/pages" else re.compile(r'<li><a href="/wiki/([^"]+)"').findall
    assert rows(numbered) == rows(walked) != []
    assert link(NEXT_LINK, numbered) == link(NEXT_LINK, walked)


@pytest.mark.parametrize("start", ["/pages", "/tags/many", "/recent"])
def test_a_numbered_page_past_the_end_is_empty_with_the_way_back(app, editor,
                                                                big_and_small_lists, start):
    html = get(editor, f"{start}?page=900")
    assert "/wiki/note-" not in html
    assert NEXT_LINK.search(html) is None and PREV_LINK.search(html) is not None


@pytest.fixture
def app_on_its_own_database(other_database_url, tmp_path):
    """An app on a database of its own, for a test that runs ANALYZE: statistics outlive
    the rows the shared test database is emptied of, and would change other tests' plans."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "analyzed"),
                      "DATABASE_URL": other_database_url})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.skipif(not databases.on_postgresql(), reason="PostgreSQL's planner")
def test_the_first_page_of_a_big_tag_is_read_along_its_index_with_statistics(
        app_on_its_own_database):
    """Where the planner knows how many pages each tag has (ANALYZE, as autovacuum runs it),
    the first page of a tag on nearly every page is read in order from the tag's index,
    not every tagged page joined and sorted (the tag given as a subquery was planned for
    an average tag: at 100,000 pages its first page took 94 ms)."""
    app = app_on_its_own_database
    names = [f"note-{number:04}" for number in range(1_600)]
    add_pages(app, names)
    tag_and_link(app, "many", "popular", names)
    with app.app_context():  # and 300 small tags: the average tag has a dozen pages
        ids = db.session.scalars(select(Page.id).order_by(Page.id).limit(600)).all()
        for number in range(300):
            tag_id = db.session.scalar(insert(Tag).values(name=f"small-{number}")
                                       .returning(Tag.id))
            db.session.execute(insert(page_tags), [
                {"page_id": page_id, "tag_id": tag_id, "page_slug": f"s-{page_id}"}
                for page_id in ids[number * 2:number * 2 + 2]])
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        engine = db.engine
    statements = []

    def keep(connection, cursor, statement, parameters, context, executemany):
        if "FROM page JOIN page_tag" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with app.app_context():
            listed = tags.tagged_pages("many", START_OF_LIST, 100)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert [page.slug for page in listed.items] == names[:100]
    (statement, parameters), = statements
    with app.app_context():
        cursor = db.session.connection().connection.driver_connection.cursor()
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using ix_page_tag_tag_id_page_slug" in plan, plan
    assert "Sort" not in plan, plan

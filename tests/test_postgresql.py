"""What only PostgreSQL has: its search index and text search configurations, the slug
collation, the session time zone, and a database where ``unaccent`` cannot be installed.

These run in the PostgreSQL pass (``WIKI_TEST_DATABASE_URL``); the rest of the suite runs
there too, with the same expectations as on SQLite.
"""

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests import databases
from tests.conftest import Auth, migrate
from tests.helpers import save_page
from wiki import create_app
from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services import links, pages, search, tags
from wiki.services.search import postgresql as postgres_search

pytestmark = pytest.mark.skipif(not databases.on_postgresql(),
                                reason="PostgreSQL only: set WIKI_TEST_DATABASE_URL")

TAG_ID = 7  # a tag's id, as tags.tagged_pages asks for its pages (the plan is the same)


def plan(app, make_statement) -> str:
    """PostgreSQL's plan for the statement *make_statement* builds, were the tables big
    enough for an index to pay."""
    with app.app_context():
        statement = make_statement()
        connection = db.session.connection()
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        compiled = statement.compile(dialect=db.engine.dialect,
                                     compile_kwargs={"literal_binds": True})
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}").scalars().all()
        db.session.rollback()
    return "\n".join(rows)


def test_search_is_answered_by_the_gin_index(app):
    """The query's text search configuration is the index's, so the index can answer."""
    query = search.parse_query("rout* url -django")
    matching = postgres_search._pg_matching(query, postgres_search._pg_wanted(query))
    statement = select(postgres_search._pg_index.c.page_id).where(*matching)
    assert "ix_page_search_document" in plan(app, lambda: statement)


def test_search_vectors_are_kept_in_their_rows(app, editor):
    """A common word's matches are checked row by row: a tsvector the toaster moved out of
    its row costs a TOAST lookup each (migration 0016). The text goes out before it does."""
    save_page(editor, "long", "Long", " ".join(f"word{number}" for number in range(400)))
    with app.app_context():
        options, storage = db.session.execute(text(
            "SELECT reloptions, attstorage FROM pg_class "
            "JOIN pg_attribute ON attrelid = pg_class.oid "
            "WHERE relname = 'page_search' AND attname = 'document'")).one()
        clustered = db.session.scalar(text(
            "SELECT indisclustered FROM pg_index WHERE indexrelid = 'pk_page_search'::regclass"))
        found = [hit.slug for hit in search.search("word399").hits]
    assert "toast_tuple_target=4080" in options
    assert (storage, clustered, found) == ("m", True, ["long"])


@pytest.mark.parametrize("typed", [" flask rou", "lask", " fl"])
def test_quick_jump_lookups_can_use_the_trigram_index(app, typed):
    """The condition quick-jump puts on title keys is one the GIN index answers. (Which of
    that and a walk of the newest pages serves the whole query is the planner's choice,
    made on the wiki's numbers; an empty test table says nothing about it.)"""
    def lookup():
        return search.backend().titles_containing(typed).order_by(None)

    assert "ix_page_search_title_key" in plan(app, lookup)


@pytest.mark.parametrize("typed", ["rout", "flask rou", "lask"])
def test_quick_jump_looks_up_its_candidates_not_every_page(other_database_url, tmp_path, typed):
    """The titles quick-jump offers are read by the ids its index lookups found: an OR of
    one IN per kind of match read every page (78 ms a keystroke at 100,000 pages). On a
    database of its own: ANALYZE's statistics would outlive the rows in the shared one."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": other_database_url})
    with app.app_context():  # enough pages, and the planner told so, for the choice to show
        db.session.execute(insert(Page), [{"slug": f"note-{number}", "title": f"Note {number}"}
                                          for number in range(3_000)])
        db.session.commit()
        db.session.execute(text("ANALYZE page"))
        db.session.commit()
    found = plan(app, lambda: search.titles_query(typed))
    dispose(app)
    assert "Seq Scan on page " not in found, found
    assert "Index Scan using pk_page on page" in found, found


def test_slugs_compare_by_code_point(app):
    with app.app_context():
        collations = db.session.execute(text(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE (table_name, column_name) IN "
            "(('page', 'slug'), ('link', 'target_slug'), ('redirect', 'old_slug')) "
            "ORDER BY table_name")).all()
    assert collations == [("link", "target_slug", "C"), ("page", "slug", "C"),
                          ("redirect", "old_slug", "C")]


def test_the_copies_of_slugs_that_lists_sort_by_compare_by_code_point_too(app):
    """A tag's pages and a page's backlinks are sorted and walked by these copies: in the
    order of the page list, and with the indexes in that order."""
    with app.app_context():
        collations = db.session.execute(text(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE (table_name, column_name) IN (('page_tag', 'page_slug'), ('link', 'from_slug'))"
            " ORDER BY table_name")).all()
    assert collations == [("link", "from_slug", "C"), ("page_tag", "page_slug", "C")]


@pytest.mark.parametrize(("list_query", "index"), [
    (lambda: tags.tagged_pages_query(TAG_ID), "ix_page_tag_tag_id_page_slug"),
    (lambda: links.backlinks_query("flask"), "ix_link_target_slug_from_slug"),
    (lambda: tags.tagged_pages_query(TAG_ID).where(tags.BY_TAGGED_ADDRESS.beyond(
        ("flask",), greater=True)), "ix_page_tag_tag_id_page_slug"),
    (lambda: links.backlinks_query("flask").where(links.BY_LINKING_ADDRESS.beyond(
        ("flask",), greater=True)), "ix_link_target_slug_from_slug"),
], ids=["tag pages", "backlinks", "tag pages further", "backlinks further"])
def test_a_tag_s_pages_and_backlinks_are_read_in_index_order_not_sorted(app, list_query,
                                                                       index):
    found = plan(app, lambda: list_query().limit(101))
    assert f"Index Scan using {index}" in found, found
    assert "Sort" not in found, found


def test_search_folds_accents_with_unaccent(app):
    with app.app_context():
        pages.save(pages.PageEdit(None, "Crème brûlée", "Dessert."), None)
        assert [hit.slug for hit in search.search("creme brulee").hits] == ["creme-brulee"]
        (hit,) = search.search("brulee").hits
    assert str(hit.title_html) == "Crème <mark>brûlée</mark>"


@pytest.fixture
def database_in_new_york(test_database, tmp_path):
    """A wiki database whose server-side default time zone is not UTC."""
    with databases.throwaway_database(test_database.url, "zone") as url:
        with databases._admin(url) as connection:
            name = make_url(url).database
            connection.execute(text(f'ALTER DATABASE "{name}" SET timezone = '
                                    "'America/New_York'"))
        migrate(url, tmp_path)
        yield url


def test_timestamps_are_stored_in_utc_whatever_the_server_zone(database_in_new_york, tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": database_in_new_york})
    with app.app_context():
        pages.save(pages.PageEdit(None, "Now", "text"), None)
        stored = db.session.scalar(select(Revision.created_at))
    dispose(app)
    assert abs(stored.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.fixture
def limited_database(test_database, tmp_path):
    """A database owned by someone else, where the wiki's role may create tables but not
    install extensions: ``unaccent`` cannot be had."""
    role = f"wiki_test_limited_{make_url(test_database.url).database[-12:]}"
    with databases.throwaway_database(test_database.url, "limited") as url:
        with databases._admin(test_database.url) as server:
            server.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        try:
            owner = create_engine(url, poolclass=NullPool)
            with owner.begin() as connection:
                connection.execute(text(f'REVOKE CREATE ON DATABASE "{make_url(url).database}" '
                                        "FROM PUBLIC"))
                connection.execute(text(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"'))
            owner.dispose()
            limited = make_url(url).set(username=role).render_as_string(hide_password=False)
            migrate(limited, tmp_path)
            yield limited
        finally:
            with databases._admin(test_database.url) as server:
                server.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" '
                                    "WITH (FORCE)"))
                server.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def test_without_unaccent_search_works_and_accents_must_be_typed(limited_database, tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": limited_database})
    with app.app_context():
        assert not db.session.scalar(text(
            "SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'"))
        pages.save(pages.PageEdit(None, "Résumé", "My curriculum vitae.", tags="cv"), None)
        assert [hit.slug for hit in search.search("résumé").hits] == ["resume"]
        assert [hit.slug for hit in search.search("RÉSUMÉ curriculum").hits] == ["resume"]
        assert search.search("resume").hits == []  # accents are not folded
        assert [match.slug for match in search.titles("résu")] == ["resume"]
        assert [match.slug for match in search.titles("resu")] == ["resume"]  # by address
        # Nor can pg_trgm: quick-jump reads the table, and folds accents as anywhere.
        assert not db.session.scalar(text(
            "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"))
        assert [match.slug for match in search.titles("ESUM")] == ["resume"]
    dispose(app)


def dispose(app) -> None:
    """Close the app's connections (its session gave its own back as the context ended)."""
    with app.app_context():
        db.engine.dispose()


# --- the change counter, read on every page view a worker may answer from its cache ---------


@contextmanager
def exchanges(app) -> Iterator[Callable[[], tuple[int, int]]]:
    """Count, inside the block, *app*'s round trips to PostgreSQL and the connections its
    pool lends; the counter returned gives both so far. libpq writes each connection's
    messages to a file of its own (tracing starts when the pool lends it), and every
    exchange ends with the server's ReadyForQuery."""
    with app.app_context():
        engine = db.engine
    traces: list[tuple[object, int, str]] = []  # connection, file descriptor, path
    lent = 0

    def trace(dbapi_connection, _record, _proxy) -> None:
        nonlocal lent
        lent += 1
        if all(connection is not dbapi_connection for connection, *_ in traces):
            descriptor, path = tempfile.mkstemp(suffix=".trace")
            dbapi_connection.pgconn.trace(descriptor)
            traces.append((dbapi_connection, descriptor, path))

    def flush(*, again: bool) -> None:
        for connection, descriptor, _path in traces:
            if not connection.closed:
                connection.pgconn.untrace()  # which flushes what it wrote
                if again:
                    connection.pgconn.trace(descriptor)

    def counts() -> tuple[int, int]:
        flush(again=True)
        return sum(Path(path).read_bytes().count(b"ReadyForQuery")
                   for *_, path in traces), lent

    event.listen(engine, "checkout", trace)
    try:
        yield counts
    finally:
        event.remove(engine, "checkout", trace)
        flush(again=False)
        for _connection, descriptor, path in traces:
            os.close(descriptor)
            Path(path).unlink()


@pytest.fixture
def kept_page(app, editor):
    """A page saved by the editor on a first host (*app*), and its address."""
    save_page(editor, "routing", "Routing", "Routes map URLs to views.")
    return app, "/wiki/routing"


def test_a_kept_page_view_costs_one_round_trip_and_no_pooled_connection(kept_page):
    """The change counter is read on a connection of the worker's own, in autocommit: no
    BEGIN and ROLLBACK around it, no checkout from the pool."""
    host, page = kept_page
    visitor = host.test_client(use_cookies=False)
    with exchanges(host) as counts:
        first = visitor.get(page)
        before = counts()
        again = visitor.get(page)
        after = counts()
    assert first.status_code == again.status_code == 200 and again.data == first.data
    assert (after[0] - before[0], after[1] - before[1]) == (1, 0)


def test_a_save_on_another_host_is_seen_after_the_connections_were_cut(kept_page, make_app):
    """As after a restart of PostgreSQL: every backend ended, the first host's counter
    connection and pooled ones with them. The next page view there reads the counter on a
    new connection, sees the other host's save and renders the page on a fresh one: the
    pool was emptied when the counter's connection was found cut."""
    host, page = kept_page
    visitor = host.test_client(use_cookies=False)
    assert "Routes map" in visitor.get(page).get_data(as_text=True)  # kept by the first host
    other = make_app("host-b").test_client()
    Auth(other).login("editor")
    save_page(other, "routing", "Routing", "Routes now lead elsewhere.")
    assert "Routes now lead" in visitor.get(page).get_data(as_text=True)  # seen at once

    save_page(other, "routing", "Routing", "Routes, after the restart.")
    with host.app_context():
        engine = db.engine
    with engine.connect(), engine.connect(), engine.connect():
        pass  # the pool keeps a few now, as a server's with threads would
    end_every_other_backend(host)
    after = visitor.get(page)
    assert after.status_code == 200 and "Routes, after the restart." in after.get_data(
        as_text=True)
    assert "Routes, after the restart." in visitor.get(page).get_data(as_text=True)


def end_every_other_backend(app) -> None:
    with app.app_context():
        url = db.engine.url
    killer = create_engine(url, poolclass=NullPool)
    with killer.connect() as connection:
        ended = connection.scalars(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all()
    killer.dispose()
    assert ended and all(ended)

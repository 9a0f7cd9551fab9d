"""Full-text search: the query language, ranking, snippets, the index kept in step with every
save, and quick-jump titles. Through HTTP as people use it, and the service underneath."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, select, text

from tests import databases
from tests.helpers import PASSWORD, save_page, submit
from wiki import create_app
from wiki.extensions import db
from wiki.models import Page, Role, User
from wiki.services import access, api, pages, search
from wiki.services.search.query import MAX_TERMS


def found(app, query: str, **kwargs) -> list[str]:
    """Slugs of the hits for *query*, best first."""
    with app.app_context():
        return [hit.slug for hit in search.search(query, **kwargs).hits]


def html(response) -> str:
    return response.get_data(as_text=True)


LIBRARY = [  # title, text, tags: the pages the query-language tests search in
    ("Routing", "URL rules map to view functions.", "flask, web"),
    ("Application Factory", "The app factory pattern: create_app builds the application.",
     "flask"),
    ("Blueprints", "Blueprints group routes. A blueprint is registered on the app.", "structure"),
    ("Django Notes", "Django has its own routing and views.", "django, web"),
    ("Résumé", "My curriculum vitae.", ""),
]


@pytest.fixture(scope="module")
def library_wiki(tmp_path_factory, test_database):
    """An app for the LIBRARY pages, and the database generation they were saved in."""
    instance = tmp_path_factory.mktemp("library")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance),
                      "DATABASE_URL": test_database.new(instance)})
    filled = {"generation": None}
    yield app, filled
    with app.app_context():
        db.engine.dispose()
    test_database.release()


@pytest.fixture
def library_app(library_wiki, test_database):
    """A wiki of the LIBRARY pages, shared by the tests that only read it. On SQLite it
    has a file of its own; on PostgreSQL other tests empty the one database between these,
    and the pages are saved again when they did."""
    app, filled = library_wiki
    if filled["generation"] != test_database.generation:
        with app.app_context():
            for title, body, tags in LIBRARY:
                pages.save(pages.PageEdit(None, title, body, tags=tags), None)
        filled["generation"] = test_database.generation
    test_database.used()
    return app


@pytest.fixture
def library(library_app):
    """An anonymous visitor of the library (anonymous reading is on by default)."""
    return library_app.test_client()


# --- the page and its form ------------------------------------------------------------------


def test_header_has_a_plain_search_form(client, notes):
    page = html(client.get("/"))
    assert '<form class="site-search" role="search" method="get" action="/search">' in page
    assert '<label class="visually-hidden" for="site-search">' in page
    assert 'type="search" id="site-search" name="q"' in page
    assert 'autocomplete="off"' in page and 'data-titles-url="/api/v1/titles"' in page


@pytest.mark.parametrize("url", ["/search", "/search?q=", "/search?q=+++"])
def test_empty_query_shows_the_form(client, url):
    response = client.get(url)
    assert response.status_code == 200
    page = html(response)
    assert 'id="search-query" name="q"' in page
    assert "result" not in page and "No pages match" not in page


def test_results_show_title_link_tags_snippet_and_count(library):
    page = html(library.get("/search?q=factory"))
    assert "1 result for “factory”" in page
    assert '<a href="/wiki/application-factory">Application <mark>Factory</mark></a>' in page
    assert '<span class="tag">flask</span>' in page
    assert "The app <mark>factory</mark> pattern" in page


def test_no_results_is_a_friendly_message(library):
    response = library.get("/search?q=xylophone")
    assert response.status_code == 200
    page = html(response)
    assert "No pages match “xylophone”." in page
    assert "Create a page" not in page  # anonymous visitors cannot


def test_no_results_offers_editors_to_create_the_page(editor):
    page = html(editor.get("/search?q=Flask+signals"))
    assert '<a href="/new?title=Flask+signals">Create a page called “Flask signals”</a>' in page


def test_go_to_page_when_the_query_is_a_title(library):
    page = html(library.get("/search?q=application factory"))
    assert '<a class="button" href="/wiki/application-factory">Go to page “Application Factory”' \
        in page
    assert "Go to page" not in html(library.get("/search?q=application"))


def test_go_to_page_folds_accents_through_the_address(library):
    assert 'href="/wiki/resume">Go to page “Résumé”' in html(library.get("/search?q=resume"))


# --- ranking, operators, language -------------------------------------------------------------


def test_a_title_match_ranks_first(editor, app):
    save_page(editor, "session-notes", "Session notes",
              "Templates, templates, templates: every view renders templates.")
    save_page(editor, "templates", "Templates", "Jinja.")
    save_page(editor, "misc", "Misc", "Somewhere a template is mentioned.")
    assert found(app, "templates") == ["templates", "session-notes", "misc"]


@pytest.mark.parametrize(("query", "slugs"), [
    ("routes", {"routing", "blueprints", "django-notes"}),  # stemming: routes ~ routing
    ("app factory", {"application-factory"}),  # every word must match
    ('"app factory"', {"application-factory"}),  # phrase
    ('"factory app"', set()),  # a phrase keeps its order
    ("blueprint", {"blueprints"}),
    ("regist*", {"blueprints"}),  # prefix
    ("rout* -django", {"routing", "blueprints"}),  # exclusion
    ("rout* NOT django", {"routing", "blueprints"}),  # NOT works like -
    ("tag:flask", {"routing", "application-factory"}),
    ("tag:Flask", {"routing", "application-factory"}),  # tags are lower case
    ("tag:fla*", {"routing", "application-factory"}),
    ("tag:web -tag:django", {"routing"}),
    ("tag:flas", set()),  # a tag matches whole, not a piece of it
    ("views", {"routing", "django-notes"}),
    ("title:routing", {"routing"}),  # Django Notes only mentions routing in its text
    ("title:blue*", {"blueprints"}),
    ("-title:routing rout*", {"blueprints", "django-notes"}),
    ("resume", {"resume"}),  # accents fold
    ("RÉSUMÉ", {"resume"}),  # and case
    # A ligature is its own letter to SQLite; PostgreSQL's unaccent spells it out (æ → ae).
    ("curriculum vitæ", {"resume"} if databases.on_postgresql() else set()),
    ("ROUTING", {"routing", "blueprints", "django-notes"}),
    ("routing AND views", {"routing", "django-notes"}),  # AND is what words do anyway
    ("-django", set()),  # only excluding finds nothing
    ("-tag:web", set()),
])
def test_query_language(library_app, query, slugs):
    assert set(found(library_app, query)) == slugs


def test_snippets_escape_the_page_and_mark_the_matches(editor):
    save_page(editor, "xss", "Unsafe", "Flask shows `<script>alert('x')</script>` as text.\n\n"
                                       "<script>alert(2)</script> & <b>bold</b>")
    page = html(editor.get("/search?q=alert"))
    assert "&lt;script&gt;<mark>alert</mark>(" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "&amp;" in page
    assert "<script>alert" not in page and "<b>" not in page


def test_snippet_markers_in_a_page_cannot_forge_marks(editor, app):
    save_page(editor, "markers", "Markers", "before \x02inside\x03 after")
    with app.app_context():
        (hit,) = search.search("inside").hits
    assert str(hit.snippet).count("<mark>") == 1 == str(hit.snippet).count("</mark>")


def test_results_are_paginated(editor):
    for number in range(25):
        save_page(editor, f"note-{number:02}", f"Note {number:02}", "pagination sample")
    first = html(editor.get("/search?q=pagination"))
    assert "25 results for “pagination”, page 1 of 2." in first
    assert first.count('class="search-result"') == 20
    assert 'href="/search?page=2&amp;q=pagination"' in first
    second = html(editor.get("/search?q=pagination&page=2"))
    assert second.count('class="search-result"') == 5
    assert '<ol class="search-results" start="21">' in second
    assert 'rel="prev" href="/search?page=1&amp;q=pagination"' in second
    beyond = editor.get("/search?q=pagination&page=9")
    assert beyond.status_code == 200 and "No more results here" in html(beyond)
    assert "25 results for “pagination”." in html(beyond)  # not "page 9 of 2"


def test_service_pages_never_overlap(editor, app):
    for number in range(7):
        save_page(editor, f"item-{number}", f"Item {number}", "paged")
    with app.app_context():
        chunks = [search.search("paged", page=n, per_page=3) for n in (1, 2, 3)]
    slugs = [hit.slug for chunk in chunks for hit in chunk.hits]
    assert len(slugs) == 7 == len(set(slugs)) == chunks[0].total
    assert [chunk.pages for chunk in chunks] == [3, 3, 3]
    assert not chunks[2].has_next and chunks[2].has_prev


# --- a common word: the work is bounded ---------------------------------------------------------

BOUNDED = {"SEARCH_COUNTED": 10, "SEARCH_CANDIDATES": 4}  # the 1,000 and 500 of a real wiki


def save_entries(app, count: int, body: str, start: int = 0) -> None:
    with app.app_context():
        for number in range(start, start + count):
            pages.save(pages.PageEdit(None, f"Entry {number:03}", body), None)


def ranking_work(app, query: str) -> int:
    """How much ranking one search does: on SQLite, the virtual machine instructions it
    runs (every row read from the index, counted, sorted or ranked takes some); on
    PostgreSQL, the rows that reach a sort by ``ts_rank`` (each re-read and ranked)."""
    with app.app_context():
        if databases.on_postgresql():
            return _rows_ranked_on_postgresql(query)
        steps = [0]

        def count_step() -> int:
            steps[0] += 1
            return 0

        connection = db.session.connection().connection.driver_connection
        connection.set_progress_handler(count_step, 1)
        try:
            search.search(query)
        finally:
            connection.set_progress_handler(None, 1)
        return steps[0]


def _rows_ranked_on_postgresql(query: str) -> int:
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "ts_rank" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        search.search(query)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    ranked = 0
    connection = db.session.connection().connection.driver_connection
    for statement, parameters in statements:
        (plan,) = connection.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement,
                                     parameters).fetchone()[0]
        ranked += _sorted_by_rank(plan["Plan"])
    return ranked


def _sorted_by_rank(node: dict) -> int:
    rows = 0
    if node["Node Type"] in ("Sort", "Incremental Sort") and any(
            "ts_rank" in key for key in node.get("Sort Key", ())):
        rows += sum(child["Actual Rows"] * child["Actual Loops"] for child in node["Plans"])
    return rows + sum(_sorted_by_rank(child) for child in node.get("Plans", ()))


def test_a_common_word_ranks_a_bounded_number_of_matches(make_app):
    """Ranking every match made a common word slow: from n matches to 4n, past the count,
    the work must not grow with the matches added (it grew by several steps a match)."""
    app = make_app(**BOUNDED)
    save_entries(app, 30, "A common word, and another common word.")
    before = ranking_work(app, "common")
    save_entries(app, 90, "A common word, and another common word.", start=30)
    after = ranking_work(app, "common")
    assert after - before < 90


def test_past_the_count_the_results_say_more(make_app):
    app = make_app(**BOUNDED)
    save_entries(app, 10, "common")
    assert "10 results for “common”." in html(app.test_client().get("/search?q=common"))
    save_entries(app, 1, "common", start=10)
    page = html(app.test_client().get("/search?q=common"))
    assert "More than 10 results for “common”." in page
    assert page.count('class="search-result"') == 10
    with app.app_context():
        results = search.search("common", per_page=4)
        assert (results.total, results.more, results.pages) == (10, True, 3)
        chunks = [search.search("common", page=n, per_page=4).hits for n in (1, 2, 3, 4)]
    slugs = [hit.slug for chunk in chunks for hit in chunk]
    assert len(slugs) == 10 == len(set(slugs)) and chunks[3] == []


def test_past_the_count_a_word_on_a_few_old_pages_still_counts_and_lists_them_all(make_app):
    """A word on one page in eight, the newest of them older than the newest pages: its
    matches are found all the same (on PostgreSQL, looked for everywhere once the newest
    ids hold too few), newest first past the ranked ones, each once."""
    app = make_app(**BOUNDED)
    with app.app_context():
        for number in range(120):
            body = "a sparse word" if number % 8 == 0 and number < 100 else "filler text"
            pages.save(pages.PageEdit(None, f"Entry {number:03}", body), None)
        results = search.search("sparse", per_page=4)
        assert (results.total, results.more) == (10, True)
        chunks = [search.search("sparse", page=n, per_page=4).hits for n in (1, 2, 3)]
    slugs = [hit.slug for chunk in chunks for hit in chunk]
    assert len(slugs) == 10 == len(set(slugs))
    assert set(slugs) == {f"entry-{number:03}" for number in range(24, 100, 8)}


def test_past_the_count_the_api_says_more(make_app):
    app = make_app(**BOUNDED)
    save_entries(app, 11, "common")
    with app.app_context():
        found = api.search_results("common", 1, 20)
    assert (found["total"], found["more"], len(found["results"])) == (10, True, 10)


def test_past_the_count_an_old_title_match_still_ranks_first(make_app):
    """Candidates are the newest matches, but a page with the word in its title or tags is
    one however old it is, and ranks before those that only mention it."""
    app = make_app(**BOUNDED)
    with app.app_context():
        pages.save(pages.PageEdit(None, "Common ground", "Where notes meet."), None)
        pages.save(pages.PageEdit(None, "Tagged", "Notes.", tags="common"), None)
    save_entries(app, 20, "common common common, then something else entirely")
    found_slugs = found(app, "common")
    assert found_slugs[:2] == ["common-ground", "tagged"]
    assert found_slugs[2:6] == ["entry-016", "entry-017", "entry-018", "entry-019"]


def test_past_the_count_candidates_rank_by_relevance(make_app):
    """Among the newest candidates, bm25 / ts_rank still decides: the page saying the word
    most often, in the shortest text, comes first."""
    app = make_app(**BOUNDED)
    save_entries(app, 12, "common, once, among many other words of a longer text")
    with app.app_context():
        pages.save(pages.PageEdit(None, "Dense", "common common common"), None)
        pages.save(pages.PageEdit(None, "Last", "common, once, among many other words "
                                                "of a longer text"), None)
    assert found(app, "common")[0] == "dense"


def test_past_the_count_hidden_pages_stay_hidden(make_app):
    app = make_app(**BOUNDED)
    save_entries(app, 12, "common")
    hiding = access.Visibility(access.Rules.of([access.Rule("secret/**", "admin", "admin")]),
                               access.ROLE_RANKS["reader"])
    with app.app_context():
        pages.save(pages.PageEdit(None, "Secret", "common"), None)
        pages.save(pages.PageEdit(None, "Secret/Common", "common"), None)
        results = search.search("common", per_page=20, visible=hiding)
        everything = search.search("common", per_page=20)
    assert results.more and "secret/common" not in {hit.slug for hit in results.hits}
    assert "secret/common" in {hit.slug for hit in everything.hits}


# --- any input at all -------------------------------------------------------------------------

HOSTILE_QUERIES = [
    '"', '""', '"""', '"unbalanced', 'unbalanced"', 'a"b"c"',
    "-", "--", "*", "**", "-*", "+", "^", ":", "::",
    "AND", "OR", "NOT", "NEAR", "AND OR NOT", "NOT NOT", "flask NOT", "NEAR(flask routing)",
    "NEAR(a b, 2)", "a OR", "OR a", "(", ")", "((flask)", "{title}: flask", "{title body}:",
    "title:", "tag:", "title:*", "tag:*", '-tag:"', 'title:"', "-title:", "^flask", "flask^",
    "col:flask", "body:flask", "rowid:1", "page_search:x", "flask +routing",
    "'; DROP TABLE page; --", "' OR 1=1 --", "%", "_", "%_%", "\\", "\\\"",
    "x" * 2000, "flask " * 400, '"' * 2000, "-" * 2000, "a*" * 1000,
    "🎉", "🎉 flask 🚀", "👩‍💻*", "日本語", "Ñandú", "ﬁle", "\u0301", "\u200b", "\ufeff",
    "\x00", "flask\x00routing", "\x02\x03", "\x01\x1f\x7f", "\t\n\r",
    "!!!", "?!.,;", "<script>alert(1)</script>", "&lt;", "%00", "%s %d",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_any_query_gives_a_page_not_an_error(library, query):
    response = library.get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert "<script>alert" not in html(response)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999999", "1.5", ""])
def test_any_page_number_gives_a_page(library, page):
    assert library.get(f"/search?q=flask&page={page}").status_code == 200


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_service_never_raises(library_app, query):
    with library_app.app_context():
        results = search.search(query)
        assert results.total >= len(results.hits) >= 0
        assert isinstance(search.titles(query), list)


# --- the parser -------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expression"), [
    ("flask", '"flask"'),
    ('flask "app factory" rout* -django title:blueprint',
     '("flask" AND "app factory" AND "rout"* AND title : "blueprint") NOT ("django")'),
    ('"prefix phrase"*', '"prefix phrase"*'),
    ("tag:Web -tag:draft", 'tags : "web"'),  # excluded tags are matched exactly, in SQL
    ('say "hi', '"say" AND "hi"'),  # an unbalanced quote runs to the end
    ('AND OR NEAR x', '"x"'),
    ("a NOT b", '("a") NOT ("b")'),
    ('x:"y', '"x:" AND "y"'),
    ("c++ -", '"c++"'),
    ("-- x", '"x"'),
    ("only -excluded", '("only") NOT ("excluded")'),
    ("-excluded", None),
    ("!!! 🎉", None),
    ("", None),
])
def test_queries_become_quoted_fts5_strings(query, expression):
    assert search.SQLiteSearch.match_expression(search.parse_query(query)) == expression


def test_parser_caps_the_terms_it_uses():
    assert len(search.parse_query("word " * 500).terms) == MAX_TERMS


# --- the index stays true -----------------------------------------------------------------------


def test_index_follows_edit_delete_and_recreate(editor, app):
    save_page(editor, "phoenix", "Phoenix", "ashes")
    assert found(app, "ashes") == ["phoenix"]
    save_page(editor, "phoenix", "Phoenix", "flames")
    assert found(app, "ashes") == [] and found(app, "flames") == ["phoenix"]
    submit(editor, "/delete/phoenix")
    assert found(app, "flames") == [] and found(app, "phoenix") == []
    with app.app_context():
        pages.revert("phoenix", 2, None)  # restored, as an administrator does
    assert found(app, "flames") == ["phoenix"]
    save_page(editor, "phoenix", "Phoenix", "reborn")
    assert found(app, "reborn") == ["phoenix"] and found(app, "flames") == []


def test_index_follows_a_title_change_and_tags(editor, app):
    save_page(editor, "notes", "Notes", "text", tags="draft")
    save_page(editor, "notes", "NOTES!", "text", tags="draft")
    with app.app_context():
        (hit,) = search.search("title:notes").hits
    assert str(hit.title_html) == "<mark>NOTES</mark>!" and hit.tags == ("draft",)
    response = save_page(editor, "notes", "NOTES!", "text", tags="final")  # only the tags change
    assert response.status_code == 303
    assert found(app, "tag:final") == ["notes"] and found(app, "tag:draft") == []


def _editor_user() -> User:
    return db.session.scalar(select(User).where(User.username_key == "editor"))


def test_index_follows_revert(editor, app):
    save_page(editor, "story", "Story", "once upon a time")
    save_page(editor, "story", "Story", "the end")
    with app.app_context():
        pages.revert("story", 1, _editor_user())
    assert found(app, "upon") == ["story"] and found(app, "end") == []
    submit(editor, "/delete/story")
    with app.app_context():
        pages.revert("story", 2, _editor_user())  # restores the deleted page
    assert found(app, "end") == ["story"] and found(app, "upon") == []


def test_index_follows_rename(editor, app):
    save_page(editor, "old-name", "Old name", "contents")
    with app.app_context():
        pages.rename("old-name", "New name", _editor_user(), rewrite_links=False)
        (hit,) = search.search("contents").hits
    assert (hit.slug, hit.title) == ("new-name", "New name")
    assert found(app, "title:old") == []
    assert jumps(app, "ew nam") == ["new-name"] and jumps(app, "ld nam") == []


def jumps(app, text: str) -> list[str]:
    """Slugs quick-jump offers for *text*, best first."""
    with app.app_context():
        return [match.slug for match in search.titles(text)]


def test_quick_jump_follows_rename_delete_and_restore(editor, app):
    save_page(editor, "phoenix", "Phoenix", "x")
    assert jumps(app, "oeni") == ["phoenix"]
    with app.app_context():
        pages.rename("phoenix", "Firebird", _editor_user(), rewrite_links=False)
    assert jumps(app, "ebir") == ["firebird"] and jumps(app, "oeni") == []
    submit(editor, "/delete/firebird")
    assert jumps(app, "ebir") == []
    with app.app_context():
        pages.revert("firebird", 1, _editor_user())  # restores the deleted page
    assert jumps(app, "ebir") == ["firebird"]


def test_a_failed_save_leaves_the_index_alone(editor, app):
    save_page(editor, "kept", "Kept", "original words")
    response = save_page(editor, "kept", "Kept", "x" * 1_000_001)
    assert response.status_code == 422
    assert found(app, "original") == ["kept"]


# Each backend's index table names its page id column its own way.
INDEX_KEY = {"sqlite": "rowid", "postgresql": "page_id"}


def index_rows(app) -> list[tuple[int, str]]:
    with app.app_context():
        key = INDEX_KEY[db.engine.dialect.name]
        return db.session.execute(
            text(f"SELECT {key}, title FROM page_search ORDER BY {key}")).all()


def test_reindex_rebuilds_an_emptied_index(app, runner, notes):
    before = index_rows(app)
    assert before
    with app.app_context():
        key = INDEX_KEY[db.engine.dialect.name]
        db.session.execute(text("DELETE FROM page_search"))
        stale = db.session.scalar(select(Page).where(Page.slug == "what-is-flask"))
        stale.deleted = True
        db.session.execute(text(f"INSERT INTO page_search ({key}, title, tags, body) "
                                "VALUES (9999, 'ghost', '', 'boo')"))
        db.session.commit()
    assert found(app, "wsgi") == []
    result = runner.invoke(args=["pages", "reindex"])
    assert result.exit_code == 0, result.output
    assert f"Reindexed {len(before) - 1} pages." in result.output
    assert "Reindexing" in result.output  # the progress bar's label, as shown off a terminal
    assert index_rows(app) == [row for row in before if row[1] != "What is Flask?"]
    assert found(app, "wsgi") and found(app, "boo") == []


def test_reindex_restores_links(app, runner, editor):
    save_page(editor, "a", "A", "See [[B]].")
    with app.app_context():
        db.session.execute(text("DELETE FROM link"))
        db.session.commit()
    runner.invoke(args=["pages", "reindex"])
    with app.app_context():
        assert db.session.execute(text("SELECT target_slug FROM link")).scalars().all() == ["b"]


def test_upgrading_indexes_the_pages_already_there(app, editor):
    save_page(editor, "old-page", "Old page", "Some **bold** words", tags="legacy")
    with app.app_context():
        downgrade(revision="0001")
        upgrade()
    assert found(app, "bold") == ["old-page"] and found(app, "tag:legacy") == ["old-page"]
    assert jumps(app, "ld pa") == ["old-page"]


# Where the title words of migrations 0003 (SQLite) and 0005 (PostgreSQL) were kept.
TITLE_WORDS = {"sqlite": "SELECT rowid FROM page_search_titles WHERE title MATCH 'rout*'",
               "postgresql": "SELECT page_id FROM page_search "
                             "WHERE title_words @@ to_tsquery('wiki_titles', 'rout:*')"}


def test_the_trigram_migration_goes_down_and_up_again(app, editor):
    save_page(editor, "flask-routing", "Flask: Routing", "x")
    with app.app_context():
        downgrade(revision="0005")
        page_id = db.session.scalar(select(Page.id).where(Page.slug == "flask-routing"))
        query = TITLE_WORDS[db.engine.dialect.name]
        assert db.session.execute(text(query)).scalars().all() == [page_id]
        db.session.rollback()
        upgrade()
    assert jumps(app, "lask: rout") == ["flask-routing"]


def test_autogenerate_leaves_the_index_tables_alone(runner):
    """``flask db check`` (autogenerate, through migrations/env.py) finds nothing to do."""
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert result.exception is None


# --- quick jump -------------------------------------------------------------------------------


def titles(client, query: str):
    response = client.get("/api/v1/titles", query_string={"q": query})
    assert response.status_code == 200
    assert response.content_type == "application/json"
    return response.get_json()


def test_titles_are_json_with_title_slug_and_url(library):
    assert titles(library, "rout") == [
        {"title": "Routing", "slug": "routing", "url": "/wiki/routing"},
    ]


def test_titles_put_prefix_matches_before_substring_matches(editor):
    for title in ["Flask templates", "Why Flask", "Flask", "Async in flask", "Other"]:
        save_page(editor, title.lower().replace(" ", "-"), title, "x")
    assert [row["title"] for row in titles(editor, "flask")] == [
        "Flask", "Flask templates", "Async in flask", "Why Flask",
    ]


def test_titles_match_any_piece_of_a_title(editor):
    for title in ["Flask", "Bottle", "Flask: Routing & Views"]:
        save_page(editor, title.lower().replace(" ", "-"), title, "x")
    assert [row["title"] for row in titles(editor, "lask")] == [
        "Flask", "Flask: Routing & Views",
    ]
    assert [row["title"] for row in titles(editor, "ottl")] == ["Bottle"]
    # Punctuation and case fold, and a piece may run across words.
    assert [row["title"] for row in titles(editor, "LASK ROUT")] == ["Flask: Routing & Views"]
    assert [row["title"] for row in titles(editor, "routing views")] == [
        "Flask: Routing & Views",
    ]


def test_titles_rank_start_then_word_start_then_anywhere(editor):
    for title in ["Reroute", "Flask routing", "Routing", "Autorouter", "Routes", "Tours"]:
        save_page(editor, title.lower().replace(" ", "-"), title, "x")
    assert [row["title"] for row in titles(editor, "rout")] == [
        "Routes", "Routing", "Flask routing", "Autorouter", "Reroute",
    ]


def test_titles_among_many_matches_rank_the_newest_pages(app):
    """Past so many matches of one kind, the newest pages are the ones ranked: a page just
    made is offered however many older titles share its words."""
    with app.app_context():
        for number in range(search.QUICK_JUMP_CANDIDATES + 1):
            pages.save(pages.PageEdit(None, f"Zulu guide {number:03}", "x"), None)
        pages.save(pages.PageEdit(None, "Alpha guide", "x"), None)
        pages.save(pages.PageEdit(None, "Guidebook", "x"), None)
    offered = jumps(app, "guide")  # its start, then a word's start: A–Z
    assert offered[:2] == ["guidebook", "alpha-guide"] and len(offered) == 10
    offered = jumps(app, "uide")  # inside words: A–Z
    assert offered[:2] == ["alpha-guide", "guidebook"] and len(offered) == 10


def test_titles_of_two_letters_match_the_start_of_any_word(editor):
    for title in ["Flask routing", "Errors", "Rocket"]:
        save_page(editor, title.lower().replace(" ", "-"), title, "x")
    assert [row["title"] for row in titles(editor, "ro")] == ["Rocket", "Flask routing"]
    assert [row["title"] for row in titles(editor, "r")] == ["Rocket"]  # by address alone


def test_titles_fold_accents_through_the_address(library):
    assert [row["slug"] for row in titles(library, "resu")] == ["resume"]


def test_titles_fold_accents_anywhere_in_a_title(library):
    assert [row["slug"] for row in titles(library, "ÉSUM")] == ["resume"]
    assert [row["slug"] for row in titles(library, "sume")] == ["resume"]


def test_titles_are_at_most_ten_and_skip_deleted_pages(editor):
    for number in range(12):
        save_page(editor, f"topic-{number:02}", f"Topic {number:02}", "x")
    submit(editor, "/delete/topic-00")
    rows = titles(editor, "topic")
    assert len(rows) == 10 and rows[0]["slug"] == "topic-01"
    rows = titles(editor, "opic")  # a piece of the titles, not their start
    assert [row["slug"] for row in rows] == [f"topic-{number:02}" for number in range(1, 11)]


@pytest.mark.parametrize("query", ["", "   ", "%", "_", "%_", "\x00", '"', "zzz"])
def test_titles_without_a_match_are_an_empty_list(library, query):
    assert titles(library, query) == []


# --- permissions ------------------------------------------------------------------------------


def test_anonymous_readers_can_search_when_reading_is_open(client, notes):
    assert "WSGI" in html(client.get("/search?q=wsgi"))
    assert titles(client, "what")


@pytest.fixture
def closed_app(make_app):
    """A wiki that anonymous visitors cannot read."""
    return make_app("closed", ANONYMOUS_READ=False)


def test_search_needs_login_when_anonymous_read_is_off(closed_app):
    client = closed_app.test_client()
    response = client.get("/search?q=flask")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    api = client.get("/api/v1/titles?q=flask")
    assert api.status_code == 401 and api.content_type == "application/problem+json"
    assert 'role="search"' not in html(client.get("/login"))


def test_signed_in_readers_can_search_when_anonymous_read_is_off(closed_app, password_hash):
    with closed_app.app_context():
        db.session.add(User(username="Reader", username_key="reader", username_skeleton="reader",
                            password_hash=password_hash, role=Role.READER))
        db.session.commit()
    client = closed_app.test_client()
    submit(client, "/login", {"username": "reader", "password": PASSWORD})
    assert client.get("/search?q=flask").status_code == 200
    assert titles(client, "flask") == []

"""The hot paths use indexes: SQLite's EXPLAIN QUERY PLAN for each main query, built by the
same functions the views call, never reads the page or revision table from end to end.

A plan line ``SEARCH page USING INDEX ...`` looks rows up; ``SCAN page`` reads them all, and
so does a SEARCH on ``deleted=?`` alone (nearly every page is live). Lists over the whole
wiki (all pages A–Z, recent changes) have nothing to look up: they may walk an index *in the
order asked for* (``SCAN revision USING INDEX ix_revision_created_at``) and stop after one
window, provided nothing is sorted afterwards (no temporary B-tree).
The plans do not depend on the data: the wiki runs without ``ANALYZE`` statistics.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from wiki.extensions import db
from wiki.models import Page, User
from wiki.services import access, hierarchy, history, links, pages, reading, search, tags
from wiki.services.cards import Scope, reviewing

pytestmark = pytest.mark.sqlite_only  # SQLite's EXPLAIN QUERY PLAN

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
WINDOW = 51  # what wiki.services.paging.window asks for: one page of rows, and one more
TAG_ID = 7  # a tag's id, as tags.tagged_pages asks for its pages (the plan is the same)
HOT_TABLES = re.compile(r"^(?P<how>SCAN|SEARCH) (?P<table>page|revision)(?:_\d+)?(?P<rest> .*|$)")


@dataclass(frozen=True)
class Plan:
    lines: list[str]

    def full_scans(self, may_walk_in_order: bool) -> list[str]:
        """Plan lines that read a hot table from end to end."""
        sorted_after = any("TEMP B-TREE FOR ORDER BY" in line for line in self.lines)
        bad = []
        for line in self.lines:
            access = HOT_TABLES.match(line)
            if not access or _looks_up(access):
                continue
            ordered_walk = access["rest"].startswith((" USING INDEX", " USING COVERING INDEX"))
            if not (may_walk_in_order and ordered_walk and not sorted_after):
                bad.append(line)
        return bad


def _looks_up(access: re.Match) -> bool:
    """A SEARCH on something narrower than ``deleted`` (which nearly every page shares: an
    index on it alone walks the whole table)."""
    constraint = re.search(r"\((.*)\)", access["rest"])
    return access["how"] == "SEARCH" and bool(constraint) and constraint[1] != "deleted=?"


def explain(statement) -> Plan:
    compiled = statement.compile(
        dialect=db.engine.dialect,
        compile_kwargs={"literal_binds": True, "render_postcompile": True},
    )
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return Plan([row[3] for row in rows])


@pytest.fixture
def context(app):
    with app.app_context():
        page = Page(id=1, slug="flask", title="Flask")  # the queries only read its id and slug
        yield page


def hot_queries(page: Page) -> dict[str, tuple[object, bool]]:
    """name → (statement as the view runs it, whether it may walk an index in order)."""
    return {
        "page by slug": (pages.live_page_query("flask"), False),
        "page view: the page and all around it": (
            reading.page_view_statement(access.EVERYTHING, False, 2).params(
                slug="flask/routing/rules", parent_0="flask", parent_1="flask/routing",
                **hierarchy.sub_page_range("flask/routing/rules")), False),
        "page view: an old revision and all around it": (
            reading.page_view_statement(access.EVERYTHING, True).params(
                slug="flask", number=2, **hierarchy.sub_page_range("flask")), False),
        "page view: backlink count": (links.backlink_count_query(page), False),
        "page view: sub-pages": (hierarchy.children_query(page).limit(reading.CHILDREN_SHOWN),
                                 False),
        "history of a page": (history.history_query(page).limit(WINDOW).offset(WINDOW), False),
        "recent changes": (history.recent_changes_query().limit(WINDOW), True),
        "recent changes, minor hidden": (
            history.recent_changes_query(hide_minor=True).limit(WINDOW), True),
        "recent changes by one user": (
            history.recent_changes_query("editor").limit(WINDOW), False),
        "page list": (pages.page_list_query().limit(WINDOW).offset(WINDOW), True),
        "backlinks": (links.backlinks_query("flask").limit(WINDOW), False),
        "tag pages": (tags.tagged_pages_query(TAG_ID).limit(WINDOW), False),
        "quick-jump titles": (search.titles_query("rout"), False),
        "quick-jump titles, two words": (search.titles_query("flask rou"), False),
        "quick-jump titles, inside a word": (search.titles_query("lask"), False),
        "quick-jump titles, two letters": (search.titles_query("fl"), False),
        "search: the page a query names": (search.exact_title_query("Flask"), False),
        "recent changes, a page further": (further(history.recent_changes_query(),
                                                   history.NEWEST_CHANGE_FIRST, (NOW, 500)), True),
        "history of a page, a page further": (further(history.history_query(page),
                                                      history.NEWEST_REVISION_FIRST, (40,)),
                                              False),
        "page list, a page further": (further(pages.page_list_query(), pages.BY_ADDRESS,
                                              ("flask",)), True),
        "tag pages, a page further": (further(tags.tagged_pages_query(TAG_ID),
                                              tags.BY_TAGGED_ADDRESS, ("flask",)), False),
        "backlinks, a page further": (further(links.backlinks_query("flask"),
                                              links.BY_LINKING_ADDRESS, ("flask",)), False),
    }


def further(statement, ordering, key):
    """*statement*'s next page after the row with *key*, as ``paging.keyset`` asks for it."""
    return statement.where(ordering.beyond(key, greater=not ordering.descending)).limit(WINDOW)


HOT_QUERIES = [
    "page by slug", "page view: the page and all around it",
    "page view: an old revision and all around it", "page view: backlink count",
    "page view: sub-pages", "history of a page",
    "recent changes", "recent changes, minor hidden", "recent changes by one user",
    "page list", "backlinks", "tag pages", "quick-jump titles", "quick-jump titles, two words",
    "quick-jump titles, inside a word", "quick-jump titles, two letters",
    "search: the page a query names", "recent changes, a page further",
    "history of a page, a page further", "page list, a page further", "tag pages, a page further",
    "backlinks, a page further",
]


@pytest.mark.parametrize("name", ["recent changes, a page further",
                                  "history of a page, a page further", "page list, a page further"])
def test_a_page_further_starts_at_its_key_in_the_index(context, name):
    """Keyset pagination: the index is entered at the last row's key, no rows skipped."""
    statement = hot_queries(context)[name][0]
    plan = explain(statement)
    assert len(plan.lines) == 1 and plan.lines[0].startswith("SEARCH "), plan.lines
    assert re.search(r"[( ](created_at|number|slug)[<>]", plan.lines[0]), plan.lines


def test_every_hot_query_is_checked(context):
    assert sorted(hot_queries(context)) == sorted(HOT_QUERIES)


@pytest.mark.parametrize("name", HOT_QUERIES)
def test_hot_queries_use_indexes(context, name):
    statement, may_walk = hot_queries(context)[name]
    plan = explain(statement)
    assert plan.full_scans(may_walk) == [], "\n".join(plan.lines)


def test_the_lists_walk_their_index_without_sorting(context):
    for name in ("recent changes", "page list"):
        plan = explain(hot_queries(context)[name][0])
        assert not any("TEMP B-TREE" in line for line in plan.lines), (name, plan.lines)


# A tag's pages and a page's backlinks: thousands of pages may carry the tag or link there.
TAG_INDEX = "SEARCH page_tag USING INDEX ix_page_tag_tag_id_page_slug"
LINK_INDEX = "SEARCH link USING INDEX ix_link_target_slug_from_slug"


@pytest.mark.parametrize(("name", "first_line"), [
    ("tag pages", f"{TAG_INDEX} (tag_id=?)"),
    ("tag pages, a page further", f"{TAG_INDEX} (tag_id=? AND page_slug>?)"),
    ("backlinks", f"{LINK_INDEX} (target_slug=?)"),
    ("backlinks, a page further", f"{LINK_INDEX} (target_slug=? AND from_slug>?)"),
])
def test_a_tag_s_pages_and_a_page_s_backlinks_walk_their_index_in_order(context, name,
                                                                         first_line):
    """The rows carry the listed pages' slugs, indexed after the tag (the link target): a
    window of the list starts at its key in that index and reads one window of rows, each
    with its page, instead of joining and sorting every page the tag or link has."""
    plan = explain(hot_queries(context)[name][0])
    assert plan.lines[0] == first_line, plan.lines
    assert not any("TEMP B-TREE" in line for line in plan.lines), plan.lines
    assert "SEARCH page USING INTEGER PRIMARY KEY (rowid=?)" in plan.lines, plan.lines


@pytest.mark.parametrize("name", ["tag pages", "backlinks"])
def test_a_reader_s_tag_pages_and_backlinks_walk_the_same_index(context, name):
    plan = explain(hidden_from_a_reader(context)[name][0])
    assert plan.lines[0].startswith((TAG_INDEX, LINK_INDEX)), plan.lines
    assert not any("TEMP B-TREE" in line for line in plan.lines), plan.lines


@pytest.mark.parametrize("name", ["recent changes", "history of a page"])
def test_revision_lists_read_one_index_and_join_nothing(context, name):
    """So a window deep in the list skips index entries, not a page and an author for each
    revision skipped (pages and authors come by a second query, for one window only)."""
    plan = explain(hot_queries(context)[name][0])
    assert len(plan.lines) == 1 and plan.lines[0].startswith(("SCAN revision USING",
                                                              "SEARCH revision USING")), plan.lines


def test_recent_changes_find_the_deleted_pages_in_their_own_index(context):
    """Recent changes leave the deleted pages out by id, asked for on every page of the list:
    from an index of the deleted pages alone, not by reading every page."""
    plan = explain(history.deleted_page_ids_query())
    assert len(plan.lines) == 1 and plan.lines[0].endswith(" INDEX ix_page_deleted_id"), plan.lines


def test_the_page_list_walks_the_index_of_live_pages(context):
    """So a window deep in the list skips index entries, not the rows of deleted pages."""
    plan = explain(hot_queries(context)["page list"][0])
    assert plan.lines == ["SCAN page USING INDEX ix_page_live_slug"]


def test_the_check_catches_a_full_scan(context):
    """Reading every title for a substring, as quick-jump once did, is caught."""
    substring = select(Page.slug).where(func.lower(Page.title).contains("rout")).limit(10)
    assert explain(substring).full_scans(may_walk_in_order=True) == ["SCAN page"]


def test_the_check_catches_a_walk_that_sorts(context):
    """Walking the slug index and then sorting by title reads every page too."""
    by_title = select(Page).where(Page.deleted.is_(False)).order_by(Page.title).limit(10)
    assert explain(by_title).full_scans(may_walk_in_order=True)


# Access rules hiding pages from a reader: the lists keep their indexes. Where the hidden pages'
# ids are needed (recent changes), they are read once, from the slug index alone: a range for a
# rule with a literal prefix (private/**), a walk of the index for one without (*/drafts/**).
HIDING = access.Visibility(access.Rules.of([access.Rule("private/**", "admin", "admin"),
                                            access.Rule("*/drafts/**", "editor", "editor")]),
                           rank=1)


def hidden_from_a_reader(page: Page) -> dict[str, tuple[object, bool]]:
    return {
        "page list": (pages.page_list_query(HIDING).limit(WINDOW).offset(WINDOW), True),
        "recent changes": (history.recent_changes_query(visible=HIDING).limit(WINDOW), True),
        "backlinks": (links.backlinks_query("flask", HIDING).limit(WINDOW), False),
        "tag pages": (tags.tagged_pages_query(TAG_ID, HIDING).limit(WINDOW), False),
        "quick-jump titles": (search.titles_query("rout", visible=HIDING), False),
        "page view: sub-pages": (hierarchy.children_query(page, HIDING).limit(10), False),
    }


@pytest.mark.parametrize("name", ["page list", "recent changes", "backlinks", "tag pages",
                                  "quick-jump titles", "page view: sub-pages"])
def test_lists_filtered_by_access_rules_still_use_indexes(context, name):
    statement, may_walk = hidden_from_a_reader(context)[name]
    plan = explain(statement)
    assert plan.full_scans(may_walk) == [], "\n".join(plan.lines)


DELETED_PAGES = "SCAN page USING INDEX ix_page_deleted_id"
HIDDEN_PAGES = "SCAN page USING COVERING INDEX sqlite_autoindex_page_1"  # */drafts/**: a walk


@pytest.mark.parametrize(("visible", "pages_read"), [
    (access.EVERYTHING, [DELETED_PAGES]), (HIDING, [DELETED_PAGES, HIDDEN_PAGES])],
    ids=["all", "a reader"])
def test_tag_counts_read_the_tag_index_not_the_pages(context, visible, pages_read):
    """Every tag's count is its stretch of the tag index, less the rows of the pages left
    out, found by id (the deleted ones in their own index, the hidden ones in the slug
    index, as recent changes finds them): no page is read for the rest."""
    plan = explain(tags.tag_counts_query(visible))
    assert "SCAN page_tag USING COVERING INDEX ix_page_tag_tag_id_page_slug" in plan.lines, \
        plan.lines
    assert [line for line in plan.lines if HOT_TABLES.match(line)] == pages_read, plan.lines


# --- review cards: the next due card walks (user, due) -------------------------------------

@pytest.mark.parametrize("scope", [Scope(), Scope(tag="web"), Scope(under="flask")],
                         ids=["all", "tag", "under"])
def test_the_next_due_card_walks_the_user_due_index(context, scope):
    reviewer = User(id=1, new_cards_per_day=20)
    plan = explain(reviewing.due_query(reviewer, scope, NOW).limit(1))
    schedule = [line for line in plan.lines if "card_schedule" in line]
    assert schedule == [
        "SEARCH card_schedule USING INDEX ix_card_schedule_user_id_due (user_id=? AND due<?)"], \
        plan.lines
    assert not any("TEMP B-TREE" in line for line in plan.lines), plan.lines
    assert [line for line in plan.lines if line.startswith("SCAN card")] == [], plan.lines


def test_new_cards_today_are_counted_from_the_users_log_index(context):
    reviewer = User(id=1, new_cards_per_day=20)
    statement = reviewing.new_today_query(reviewer, NOW)
    assert explain(statement).lines == [
        "SEARCH review_log USING INDEX ix_review_log_user_id_reviewed_at "
        "(user_id=? AND reviewed_at>?)"]

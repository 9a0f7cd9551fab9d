"""What a reader is shown of a page: the revision asked for and where the page sits among
the others (who links to it, its parents and its sub-pages).

A first view of a page asks for all of it in one statement of plain columns (no ORM
objects): each round trip and each loaded entity cost more than SQLite takes to answer."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import JSON, and_, bindparam, null, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from wiki.extensions import db
from wiki.models import Page, Revision, User
from wiki.services import access, cards, hierarchy, links, tags
from wiki.services.access import Visibility

CHILDREN_SHOWN = 100


class Current(enum.Enum):
    REVISION = "current"


CURRENT = Current.REVISION  # page_view's revision: the page's current one


@dataclass(frozen=True)
class ShownPage:
    """The page's own facts a page view shows (its address, title, how many revisions)."""

    id: int
    slug: str
    title: str
    revision_number: int
    updated_at: datetime


@dataclass(frozen=True)
class Author:
    username: str


@dataclass(frozen=True)
class ShownRevision:
    id: int
    number: int
    title: str
    html: str  # as stored: its links to hidden pages not yet red (PageView.html is)
    created_at: datetime
    author: Author | None  # None: imported with the notes shipped with the wiki


@dataclass(frozen=True, order=True)  # A–Z by address
class Child:
    slug: str
    title: str


@dataclass(frozen=True)
class PageView:
    page: ShownPage
    revision: ShownRevision
    backlinks: int  # how many live pages link here
    breadcrumbs: list[tuple[str, str]]  # (slug, title) of each parent, outermost first
    children: list[Child]  # the first CHILDREN_SHOWN sub-pages, A–Z
    html: str  # the revision's HTML, its links to pages the reader may not see red
    cards: int  # how many review cards its current text has
    tags: list[str]  # the page's tags, A–Z


@dataclass(frozen=True)
class NoSuchRevision(Exception):
    """The page has no revision of the number asked for."""

    page: ShownPage
    number: int | None


def page_view(slug: str, number: int | None | Current = CURRENT,
              rank: int = access.ADMIN_RANK) -> PageView | None:
    """The live page at *slug* as shown with its revision *number* (None: a number no
    revision has) to a reader of role rank *rank*, by the access rules (other pages hidden
    from them look missing); None if there is no such page or it is hidden from them.

    One statement reads the page, all around it and the access rules; it is built with the
    rules this worker read last, and run again in the rare request that reads others.

    :raises NoSuchRevision: the page has no revision *number*.
    """
    parents = hierarchy.parents(slug)
    parameters = {"slug": slug, "number": None if number is CURRENT else number,
                  **hierarchy.parent_values(parents),
                  **hierarchy.sub_page_range(slug)}
    form = (number is not CURRENT, len(parents))
    rules = access.rules_to_check()
    row = _page_row(Visibility(rules, rank), form, parameters)
    if row is not None and (read := access.keep_rules_read(_rules_in(row))) != rules:
        rules = read
        row = _page_row(Visibility(rules, rank), form, parameters)
    visible = Visibility(rules, rank)
    if row is None or not visible.shows(slug):
        return None
    page = ShownPage(row.id, slug, row.title, row.revision_number, row.updated_at)
    if row.revision_id is None:
        raise NoSuchRevision(page, number if isinstance(number, int) else None)
    revision = ShownRevision(row.revision_id, row.number, row.revision_title, row.html,
                             row.created_at, Author(row.username) if row.username else None)
    return PageView(
        page=page, revision=revision, backlinks=row.backlinks,
        breadcrumbs=hierarchy.breadcrumbs(parents, dict(row.parents or ())),
        children=sorted(Child(*pair) for pair in row.children or ()),
        html=links.as_seen(revision.html, visible), cards=row.cards,
        tags=tags.split_tag_names(row.tags),
    )


def _page_row(visible: Visibility, form: tuple[bool, int], parameters: dict):
    # On the session's connection, as Core: the ORM's handling of a statement (for objects
    # this one does not load) would cost as much again as SQLite's answer.
    return db.session.connection().execute(
        page_view_statement(visible, *form), parameters).one_or_none()


def _rules_in(row) -> access.Rules:
    return access.Rules.of(access.Rule(*values) for values in row.rules or ())


class json_rows(FunctionElement):  # noqa: N801 (an SQL function, named as one)
    """SQL aggregate: the rows' values as a JSON array of arrays (``[[a, b], ...]``)."""

    type = JSON()
    inherit_cache = True


@compiles(json_rows, "sqlite")
def _json_rows_on_sqlite(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_rows_on_postgresql(element, compiler, **kw):
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


@lru_cache(maxsize=128)
def page_view_statement(visible: Visibility, old_revision: bool, depth: int = 0):
    """The page at ``slug`` with its current revision (or revision ``number`` if
    *old_revision*), its author, backlink and card counts, tags, first sub-pages, the
    titles of its *depth* parents (``parent_0``… outermost first) and the access rules (to
    check those *visible* was made with), for readers who see what *visible* shows: built
    once (building costs more than SQLite takes to answer it). The sub-pages' range
    (``below``, ``after``, ``deeper``) is a parameter too."""
    shown = aliased(Page, name="shown")
    revision = aliased(Revision, name="shown_revision")
    this_page = SimpleNamespace(id=shown.id, slug=shown.slug)
    sub_pages = (hierarchy.children_statement(visible, CHILDREN_SHOWN)
                 .with_only_columns(Page.slug, Page.title).subquery())
    parents = hierarchy.parent_titles_statement(visible, depth).subquery()
    rules = access.STORED_RULES.subquery()
    which_revision = (and_(revision.page_id == shown.id, revision.number == bindparam("number"))
                      if old_revision else revision.id == shown.current_revision_id)
    return (
        select(
            shown.id, shown.title, shown.revision_number, shown.updated_at,
            revision.id.label("revision_id"), revision.number,
            revision.title.label("revision_title"), revision.html, revision.created_at,
            User.username,
            links.backlink_count_query(this_page, visible).scalar_subquery().label("backlinks"),
            cards.count_on_page_query(this_page).scalar_subquery().label("cards"),
            tags.tag_names_query(this_page).scalar_subquery().label("tags"),
            select(json_rows(sub_pages.c.slug, sub_pages.c.title)).scalar_subquery()
            .label("children"),
            (select(json_rows(parents.c.slug, parents.c.title)).scalar_subquery()
             if depth else null()).label("parents"),
            select(json_rows(*rules.c)).scalar_subquery().label("rules"),
        )
        .select_from(shown)
        .outerjoin(revision, which_revision)
        .outerjoin(User, User.id == revision.author_id)
        .where(shown.slug == bindparam("slug"), shown.deleted.is_(False))
    )

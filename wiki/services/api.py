"""What the JSON API (``/api/v1``) reads and writes: pages, revisions, diffs, search hits and
backlinks as plain dicts, and a page written from a JSON document through the pages service
(the same checks and 3-way merge as the editor).

Nothing here knows HTTP: the blueprint (``wiki/views/api_v1.py``) turns the refusals below
into status codes and problem documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from wiki.extensions import db
from wiki.models import Page, Revision, Tag, User, as_utc, page_tags
from wiki.services import diffing, links, pages, search
from wiki.services import history as page_history
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.paging import Window, window
from wiki.services.slugs import HOME, slugify

MAX_PER_PAGE = 100


class InvalidDocument(ValueError):
    """A JSON document the API cannot use: a field missing or of the wrong type."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BaseRevisionNeeded(InvalidDocument):
    """An update of an existing page that does not say which revision it started from."""


@dataclass(frozen=True)
class Conflict:
    """An edit that overlaps a change saved since its base revision: nothing was saved."""

    current_revision: int
    merged: str  # the attempt, the clashing regions between markers; not to be saved
    theirs: str  # the current text
    yours: str


class EditConflicts(Exception):
    def __init__(self, conflict: Conflict) -> None:
        super().__init__("the edit overlaps a change saved since its base revision")
        self.conflict = conflict


def timestamp(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None


# --- reading --------------------------------------------------------------------------


def page_list_query(tag: str = "", prefix: str = "", visible: Visibility = EVERYTHING):
    """Live pages A–Z (that *visible* shows), those tagged *tag* and whose address starts
    with *prefix* only."""
    query = (select(Page).options(selectinload(Page.tags))
             .where(Page.deleted.is_(False), visible.slug_condition()).order_by(Page.slug))
    if tag:
        query = query.where(Page.id.in_(
            select(page_tags.c.page_id).join(Tag, Tag.id == page_tags.c.tag_id)
            .where(Tag.name == tag)))
    if prefix:
        query = query.where(Page.slug.startswith(prefix, autoescape=True))
    return query


def page_list(number: int, per_page: int, *, tag: str = "", prefix: str = "",
              visible: Visibility = EVERYTHING) -> Window:
    return window(page_list_query(tag, prefix, visible), number,
                  min(max(per_page, 1), MAX_PER_PAGE))


def page_summary(page: Page) -> dict[str, Any]:
    return {"slug": page.slug, "title": page.title, "revision": page.revision_number,
            "tags": [tag.name for tag in page.tags], "updated": timestamp(page.updated_at)}


def page_document(page: Page, revision: Revision | None = None) -> dict[str, Any]:
    """*page* as the API shows it, at *revision* (its current one if None). The HTML is the
    stored rendering, its site links from the root (``/wiki/<slug>``)."""
    revision = revision or page.current_revision
    created = db.session.scalar(select(func.min(Revision.created_at))
                                .where(Revision.page_id == page.id))
    return {
        "slug": page.slug, "title": revision.title, "body": revision.body,
        "html": revision.html, "tags": [tag.name for tag in page.tags],
        "revision": revision.number, "current_revision": page.revision_number,
        "created": timestamp(created), "updated": timestamp(revision.created_at),
    }


def revision_summary(revision: Revision) -> dict[str, Any]:
    return {"revision": revision.number, "title": revision.title, "summary": revision.summary,
            "minor": revision.minor, "size": revision.size,
            "author": revision.author.username if revision.author else None,
            "created": timestamp(revision.created_at)}


def history(page: Page, number: int, per_page: int) -> Window:
    return window(page_history.history_query(page), number, min(max(per_page, 1), MAX_PER_PAGE))


def diff(old: Revision | None, new: Revision) -> dict[str, Any]:
    """The change from *old* (None: the empty page before revision 1) to *new*, as a
    unified diff."""
    old_number = old.number if old else 0
    return {"from": old_number, "to": new.number,
            "unified": diffing.unified(old.body if old else "", new.body,
                                       f"revision {old_number}", f"revision {new.number}")}


def search_results(query: str, number: int, per_page: int,
                   visible: Visibility = EVERYTHING) -> dict[str, Any]:
    """Ranked hits for *query* among the pages *visible* shows; snippets are safe HTML,
    matches in ``<mark>``."""
    results = search.search(query, number, min(max(per_page, 1), MAX_PER_PAGE), visible)
    return {"query": query, "total": results.total, "more": results.more,
            "page": results.page, "has_next": results.has_next,
            "results": [{"slug": hit.slug, "title": hit.title, "tags": list(hit.tags),
                         "snippet": str(hit.snippet)} for hit in results.hits]}


def backlinks(slug: str, number: int, per_page: int,
              visible: Visibility = EVERYTHING) -> Window:
    return window(links.backlinks_query(slug, visible), number,
                  min(max(per_page, 1), MAX_PER_PAGE))


# --- writing ----------------------------------------------------------------------------


def page_edit(slug: str, page: Page | None, document: Mapping[str, Any]) -> pages.PageEdit:
    """The edit a ``PUT /api/v1/pages/<slug>`` document asks for, of *page* (None: a new page
    at *slug*). Left out, ``title`` stays (a new page's comes from its address) and ``tags``
    stay; ``body`` is required.

    :raises InvalidDocument: a field is missing or of the wrong type, or the title would put
        a new page at another address.
    :raises BaseRevisionNeeded: *page* exists and the document has no ``base_revision``.
    """
    if not isinstance(document, Mapping):
        raise InvalidDocument("Send a JSON object with the fields title, body, summary, tags "
                              "and base_revision.")
    body = _field(document, "body", str, required=True)
    title = _field(document, "title", str) or (page.title if page else None)
    summary = _field(document, "summary", str) or ""
    tags = _field(document, "tags", list)
    base = _field(document, "base_revision", int)
    if tags is not None and not all(isinstance(tag, str) for tag in tags):
        raise InvalidDocument("tags must be a list of strings.", "tags")
    if base is not None and base < 0:
        raise InvalidDocument("base_revision must be a revision number (0 or more).",
                              "base_revision")
    if page is None:
        title = title or pages.title_from_slug(slug)
        if slug != HOME and slugify(title) != slug:
            raise InvalidDocument(f"A page titled “{title}” lives at “{slugify(title)}”, not at "
                                  f"“{slug}”: send it there, or choose a title that fits.",
                                  "title")
    elif base is None:
        raise BaseRevisionNeeded("Updating a page needs base_revision: the revision your text "
                                 "started from (read the page for it).", "base_revision")
    if tags is None:
        tags = [tag.name for tag in page.tags] if page else []
    return pages.PageEdit(slug if page else None, title, body, summary=summary, tags=tags,
                          base_revision=base)


def _field(document: Mapping[str, Any], name: str, kind: type, *, required: bool = False):
    value = document.get(name)
    if value is None:
        if required:
            raise InvalidDocument(f"The field {name} is required.", name)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        wanted = {str: "a string", list: "a list", int: "a whole number"}[kind]
        raise InvalidDocument(f"The field {name} must be {wanted}.", name)
    return value


def save_page(slug: str, document: Mapping[str, Any], author: User) -> pages.SaveResult:
    """Create or update the page at *slug* from a JSON *document* (see :func:`page_edit`).

    :raises InvalidDocument: as :func:`page_edit` says.
    :raises pages.PageError: the pages service refuses the edit (its message says why).
    :raises EditConflicts: the page changed since the base revision, on the same lines.
    """
    page = pages.get_page(slug)
    edit = page_edit(slug, page, document)
    try:
        return pages.save(edit, author)
    except pages.EditConflict as conflict:
        attempt = diffing.merge(conflict.base_body, pages.normalise_body(edit.body),
                                conflict.current.body)
        raise EditConflicts(Conflict(conflict.current.number, attempt.text,
                                     conflict.current.body, edit.body)) from None

"""Pagination that never counts the whole table: fetch one row more than a page to know
whether there is a next page. Lists over all revisions stay fast however big the wiki is."""

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select

from wiki.arguments import whole_number
from wiki.extensions import db

MAX_PAGE = 10_000


class PageNumbers:
    """The previous/next arithmetic of a numbered page of results, as the pager macro
    (``templates/_macros/pagination.html``) uses it. Subclasses provide ``page`` and
    ``has_next``."""

    page: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


@dataclass(frozen=True)
class Window(PageNumbers):
    items: list[Any]
    page: int
    has_next: bool


def requested_page() -> int:
    """The ``?page=`` argument, clamped to a sane range (junk counts as page 1)."""
    page = whole_number(request.args.get("page")) or 1
    return min(max(page, 1), MAX_PAGE)


def window(statement: Select, per_page: int, page: int | None = None,
           *, scalars: bool = True) -> Window:
    page = page or requested_page()
    limited = statement.limit(per_page + 1).offset((page - 1) * per_page)
    result = db.session.scalars(limited) if scalars else db.session.execute(limited)
    rows = list(result)
    return Window(rows[:per_page], page, len(rows) > per_page)

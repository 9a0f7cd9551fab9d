"""Pagination that never counts the whole table: fetch one row more than a page to know
whether there is a next page. Lists over all revisions stay fast however big the wiki is."""

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select

from wiki.extensions import db
from wiki.services.paging import PageNumbers
from wiki.web.arguments import whole_number

MAX_PAGE = 10_000


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

"""Numbered pages of results, as the pager macro (``templates/_macros/pagination.html``)
shows them: services return them, views pass them on."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from wiki.extensions import db


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
    """One numbered page of a list, found without counting the whole list: one row more than
    a page is fetched to know whether there is a next page."""

    items: list[Any]
    page: int
    has_next: bool


def window(statement: Select, page: int, per_page: int, *, scalars: bool = True) -> Window:
    """Page number *page* (from 1) of *statement*'s rows, *per_page* to a page."""
    limited = statement.limit(per_page + 1).offset((page - 1) * per_page)
    result = db.session.scalars(limited) if scalars else db.session.execute(limited)
    rows = list(result)
    return Window(rows[:per_page], page, len(rows) > per_page)

"""Pages of results, as the pager macro (``templates/_macros/pagination.html``) shows them:
services return them, views pass them on.

Long lists are walked by their sort key (keyset pagination): the link to the next page
carries the last row's key, ``?before=<key>`` or ``?after=<key>``, and the next page starts
right after it, found in the list's index. A page deep in the list costs what the first one
does, and rows written between two page loads neither repeat nor go missing. Numbered pages
(``?page=N``, an offset) remain for short lists and old bookmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_

from wiki.extensions import db

DATABASE_INT_MAX = 2**31 - 1  # PostgreSQL's integer
MAX_KEY_TEXT = 255  # the longest slug


class BadCursor(ValueError):
    """A ``?before=`` / ``?after=`` value that is no key of the list; the message says why."""


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

    @property
    def prev_args(self) -> dict[str, Any]:
        return {"page": self.prev_num}

    @property
    def next_args(self) -> dict[str, Any]:
        return {"page": self.next_num}


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


# --- keyset pagination --------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where in a list a request asks to be: after the row with key *after* (the text of
    ``?after=``), before the row with key *before*, at numbered page *page*, or at the start."""

    before: str | None = None
    after: str | None = None
    page: int | None = None


START = Position()


@dataclass(frozen=True)
class Ordering:
    """How a list is sorted: by *columns* (whose values together are unique per row, so a
    key names one place in the list), all ascending or all descending.

    A key reads as its values joined by commas: ``2026-03-02T09:30:00.123456,1234`` (a time
    and an id), ``flask/routing`` (a slug). ``before=K`` means the rows whose key is less
    than K, ``after=K`` those greater, whichever way the list runs.
    """

    columns: tuple[Any, ...]
    descending: bool = False
    # The attributes of a row that hold its key, if not named as the columns are: a list
    # of pages sorted by a copy of their slug kept in another table reads ``slug``.
    attributes: tuple[str, ...] | None = None

    def key_of(self, row) -> tuple:
        names = self.attributes or tuple(column.key for column in self.columns)
        return tuple(getattr(row, name) for name in names)

    def format(self, key: tuple) -> str:
        return ",".join(_format_value(value) for value in key)

    def parse(self, text: str) -> tuple:
        """The key written as *text*.

        :raises BadCursor: when it is not a key of this list (wrong number or kind of values).
        """
        values = text.split(",", len(self.columns) - 1)
        if len(values) != len(self.columns):
            raise BadCursor(f"“{text}” is not a place in this list.")
        return tuple(_parse_value(column, value) for column, value in zip(self.columns, values,
                                                                          strict=True))

    def beyond(self, key: tuple, *, greater: bool):
        """The SQL condition "the row's key is greater (or less) than *key*", written so that
        an index on the first column answers it: ``a >= x AND (a > x OR b > y)``."""
        first, *rest = self.columns
        if not rest:
            return first > key[0] if greater else first < key[0]
        tail = Ordering(tuple(rest), self.descending).beyond(key[1:], greater=greater)
        if greater:
            return and_(first >= key[0], or_(first > key[0], tail))
        return and_(first <= key[0], or_(first < key[0], tail))

    def order(self, *, reverse: bool = False) -> list:
        descending = self.descending != reverse
        return [column.desc() if descending else column.asc() for column in self.columns]


def _format_value(value: Any) -> str:
    if isinstance(value, datetime):
        return _naive_utc(value).isoformat()
    return str(value)


def _naive_utc(moment: datetime) -> datetime:
    """Times are stored in UTC without a zone (SQLite hands them back naive)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _parse_value(column, text: str) -> Any:
    kind = column.type.python_type
    if kind is datetime:
        try:
            return _naive_utc(datetime.fromisoformat(text))
        except ValueError:
            raise BadCursor(f"“{text}” is not a time.") from None
    if kind is int:
        if not (text.isascii() and text.isdigit()) or int(text) > DATABASE_INT_MAX:
            raise BadCursor(f"“{text}” is not a number this list holds.")
        return int(text)
    if len(text) > MAX_KEY_TEXT or not text.isprintable():
        raise BadCursor("That is not a place in this list.")
    return text


@dataclass(frozen=True)
class Slice:
    """One page of a list walked by its key: its rows and the query arguments of the pages
    before and after it (None at either end)."""

    items: list[Any]
    prev_args: dict[str, str | int] | None
    next_args: dict[str, str | int] | None
    descending: bool = False  # newest first: the pager says "Newer" and "Older"

    @property
    def has_prev(self) -> bool:
        return self.prev_args is not None

    @property
    def has_next(self) -> bool:
        return self.next_args is not None


def keyset(statement: Select, ordering: Ordering, position: Position, per_page: int) -> Slice:
    """The page of *statement*'s rows (sorted by *ordering*) at *position*, *per_page* rows.

    One query of ``per_page + 1`` rows starting at the key in the index; a numbered page
    (an old bookmark) is still found by its offset, and links on by keys from there.

    :raises BadCursor: for a key that is not one of this list's (the view answers 400).
    """
    if position.before is not None and position.after is not None:
        raise BadCursor("Give ?before= or ?after=, not both.")
    forward_arg, back_arg = ("before", "after") if ordering.descending else ("after", "before")
    statement = statement.order_by(None)
    if position.before is None and position.after is None:
        return _numbered(statement, ordering, position.page or 1, per_page, forward_arg, back_arg)
    forward = (position.before is not None) == ordering.descending  # the way the list runs
    key = ordering.parse(position.before if position.before is not None else position.after)
    greater = position.after is not None
    rows = list(db.session.scalars(statement.where(ordering.beyond(key, greater=greater))
                                   .order_by(*ordering.order(reverse=not forward))
                                   .limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    if forward:
        return _slice(ordering, rows, has_prev=True, has_next=more, forward_arg=forward_arg,
                      back_arg=back_arg)
    if not more:  # back at the start of the list: show its first page whole
        return _numbered(statement, ordering, 1, per_page, forward_arg, back_arg)
    return _slice(ordering, rows[::-1], has_prev=True, has_next=True, forward_arg=forward_arg,
                  back_arg=back_arg)


def _numbered(statement: Select, ordering: Ordering, page: int, per_page: int,
              forward_arg: str, back_arg: str) -> Slice:
    """Numbered page *page*: the rows after the key of the row just before it, which is
    found by its offset reading the sort key alone (from the index, on PostgreSQL without
    visiting the table), not by skipping whole rows."""
    ordered = statement.order_by(*ordering.order())
    if page > 1:
        before_page = db.session.execute(
            ordered.with_only_columns(*ordering.columns, maintain_column_froms=True)
            .offset((page - 1) * per_page - 1).limit(1)).first()
        if before_page is None:  # past the end of the list
            return _slice(ordering, [], has_prev=True, has_next=False,
                          forward_arg=forward_arg, back_arg=back_arg)
        ordered = ordered.where(ordering.beyond(tuple(before_page),
                                                greater=not ordering.descending))
    found = window(ordered, 1, per_page)  # the page's rows start right after that key
    return _slice(ordering, found.items, has_prev=page > 1, has_next=found.has_next,
                  forward_arg=forward_arg, back_arg=back_arg)


def _slice(ordering: Ordering, rows: list, *, has_prev: bool, has_next: bool,
           forward_arg: str, back_arg: str) -> Slice:
    if not rows:  # past the end (a key beyond the last row): nothing, and the way back
        return Slice([], {} if has_prev else None, None, ordering.descending)
    prev_args = {back_arg: ordering.format(ordering.key_of(rows[0]))} if has_prev else None
    next_args = {forward_arg: ordering.format(ordering.key_of(rows[-1]))} if has_next else None
    return Slice(rows, prev_args, next_args, ordering.descending)

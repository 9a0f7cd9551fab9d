"""Where in a list a request asks to be: ``?before=`` / ``?after=`` a row's key (lists walked
by their key, :func:`wiki.services.paging.keyset`) or a numbered ``?page=`` (short lists,
search results, and old bookmarks of the long ones)."""

from flask import request

from wiki.services.paging import Position
from wiki.web.arguments import whole_number

MAX_PAGE = 10_000


def requested_page() -> int:
    """The ``?page=`` argument, clamped to a sane range (junk counts as page 1)."""
    page = whole_number(request.args.get("page")) or 1
    return min(max(page, 1), MAX_PAGE)


def requested_position() -> Position:
    """The ``?before=``, ``?after=`` and ``?page=`` arguments; the service checks the keys."""
    return Position(before=request.args.get("before"), after=request.args.get("after"),
                    page=requested_page())

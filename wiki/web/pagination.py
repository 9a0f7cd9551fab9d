"""The page number a list was asked for. Services return the numbered pages of results
(:class:`wiki.services.paging.Window`), fetching one row more than a page to know whether
there is a next page: lists over all revisions stay fast however big the wiki is."""

from flask import request

from wiki.web.arguments import whole_number

MAX_PAGE = 10_000


def requested_page() -> int:
    """The ``?page=`` argument, clamped to a sane range (junk counts as page 1)."""
    page = whole_number(request.args.get("page")) or 1
    return min(max(page, 1), MAX_PAGE)

"""What every search backend shares: the results it returns, the snippet markers, the
``SearchBackend`` it implements, the index tables' names and the title key quick-jump compares."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from wiki.models import Page, Tag, page_tags
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.search.query import Query, Term, clean_text
from wiki.services.slugs import fold

INDEX_TABLE = "page_search"
TITLES_TABLE = "page_search_titles"  # its name starts like INDEX_TABLE's: see migrations/env.py
HEADINGS_TABLE = "page_search_headings"  # SQLite: titles and tags alone (migration 0013)
SNIPPET_TOKENS = 32  # words of a snippet
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Bounds:
    """How much of the matches of a common word a search reads (docs/architecture.md,
    "Search"): matches are counted up to *counted*; past it, the candidates ranked are the
    newest *candidates* pages with a word of the query in their title or tags, then the
    newest *candidates* of the others. Settings ``SEARCH_COUNTED``, ``SEARCH_CANDIDATES``."""

    counted: int = 1_000
    candidates: int = 500


DEFAULT_BOUNDS = Bounds()


@dataclass(frozen=True)
class IndexEntry:
    """What the index holds of one page: its title, tags and text (its Markdown as words)."""

    page_id: int
    title: str
    text: str
    tags: list[str]


@dataclass(frozen=True)
class TitleMatch:
    slug: str
    title: str


@dataclass(frozen=True)
class SearchHit:
    slug: str
    title: str
    title_html: Markup  # the title, escaped, matched words in <mark>
    tags: tuple[str, ...]
    snippet: Markup  # a piece of the text around the matches, escaped, matches in <mark>


# Snippets come back from the index with matches between these two characters, which no
# indexed text contains (clean_text removes them); escaping the text and then turning them
# into <mark> tags is what makes a snippet safe HTML.
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"


_MARK_START, _MARK_END = Markup("<mark>"), Markup("</mark>")


def marked_html(raw: str) -> Markup:
    """*raw* escaped, with its marked matches wrapped in ``<mark>``."""
    return escape(raw).replace(MARK_OPEN, _MARK_START).replace(MARK_CLOSE, _MARK_END)


class SearchBackend(ABC):
    """What a database needs to offer full-text search. Every method runs in the caller's
    transaction: indexing commits or rolls back with the save that asked for it."""

    @abstractmethod
    def index_page(self, session: Session, page_id: int, title: str, text: str,
                   tags: list[str]) -> None:
        """Add the page to the index, or replace what the index has of it."""

    def index_pages(self, session: Session, entries: list[IndexEntry]) -> None:
        """Index many pages at once (a bulk import): a backend may do it in fewer statements."""
        for entry in entries:
            self.index_page(session, entry.page_id, entry.title, entry.text, entry.tags)

    @abstractmethod
    def remove_page(self, session: Session, page_id: int) -> None: ...

    @abstractmethod
    def prune(self, session: Session) -> None:
        """Remove every page that is no longer live (deleted, or gone) from the index."""

    @abstractmethod
    def find(self, session: Session, query: Query, offset: int, limit: int,
             visible: Visibility = EVERYTHING, bounds: Bounds = DEFAULT_BOUNDS
             ) -> tuple[list[SearchHit], int]:
        """The hits from *offset* to *offset + limit*, best first, and how many there are,
        among the pages *visible* shows (a condition of the query, so counts are right).

        Matches are counted up to ``bounds.counted + 1``: a larger count means "more than
        ``bounds.counted``", and the hits are then the best of the candidates."""

    def titles_containing(self, key: str):
        """The ids of the live pages whose :func:`title_key` contains *key* (of three
        characters or more), newest page first, as a ``select`` answered from an index;
        None without one."""
        return None


def listed(ids: list[int]):
    """*ids* (a list in order) as a tier of :func:`slice_of_tiers`."""
    return len(ids), lambda offset, limit: ids[offset:offset + limit]


def slice_of_tiers(tiers, offset: int, limit: int) -> list[int]:
    """The page ids from *offset* to *offset + limit* of *tiers* laid end to end, each tier
    a pair (how many ids it has, a function of (offset, limit) giving a slice of them)."""
    ids: list[int] = []
    for size, ranked in tiers:
        if offset < size and len(ids) < limit:
            ids += ranked(offset, min(limit - len(ids), size - offset))
        offset = max(offset - size, 0)
    return ids


def tag_filter(term: Term, page_id=Page.id):
    """Exactly the pages tagged *term* (or, for an excluded term, not tagged it); *page_id*
    is the column holding the page's id in the query it goes into."""
    if term.prefix:
        name_matches = Tag.name.startswith(term.text, autoescape=True)
    else:
        name_matches = Tag.name == term.text
    tagged = (
        select(page_tags.c.page_id)
        .join(Tag, Tag.id == page_tags.c.tag_id)
        .where(page_tags.c.page_id == page_id, name_matches)
        .exists()
    )
    return ~tagged if term.excluded else tagged


class UnindexedSearch(SearchBackend):
    """For a database without a backend: pages save as usual and search finds nothing
    (quick-jump still finds pages by address)."""

    def index_page(self, session, page_id, title, text, tags) -> None:
        pass

    def remove_page(self, session, page_id) -> None:
        pass

    def prune(self, session) -> None:
        pass

    def find(self, session, query, offset, limit, visible=EVERYTHING, bounds=DEFAULT_BOUNDS):
        return [], 0


def title_key(title: str) -> str:
    """How quick-jump compares titles: folded (:func:`fold`), punctuation dropped, and each
    word after a space, so that ``" rou"`` means "a word starting with rou".

    ``"Flask: Routing & Views"`` → ``" flask routing views"``.
    """
    return "".join(" " + word for word in _WORD.findall(fold(clean_text(title))))


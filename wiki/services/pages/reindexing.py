"""Rebuilding what the pages service derives from each page's text: its rendered HTML, its
links and its search index entry. Part of the pages service, which alone writes pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from wiki.database import write_transaction
from wiki.extensions import db
from wiki.models import Page
from wiki.services import cards, links, search

REINDEX_BATCH = 100  # pages per write transaction, so saves are never held up for long


@dataclass
class Reindexing:
    """A rebuild of the index and the links: iterate to run it (yields each page's slug as
    it is done); ``len()`` is the number of pages, for a progress bar.

    Pages are re-indexed in place, a batch per transaction, so search keeps working and
    saves are never held up for long while it runs.
    """

    page_ids: list[int]

    def __len__(self) -> int:
        return len(self.page_ids)

    def __iter__(self) -> Iterator[str]:
        with write_transaction() as session:
            search.backend().prune(session)
        for start in range(0, len(self.page_ids), REINDEX_BATCH):
            yield from _reindex_batch(self.page_ids[start:start + REINDEX_BATCH])


def reindex() -> Reindexing:
    """Rebuild the search index, and each page's links and rendered HTML, for every live page."""
    ids = db.session.scalars(select(Page.id).where(Page.deleted.is_(False)).order_by(Page.id))
    return Reindexing(list(ids))


def _reindex_batch(page_ids: list[int]) -> list[str]:
    with write_transaction() as session:
        batch = session.scalars(
            select(Page)
            .where(Page.id.in_(page_ids), Page.deleted.is_(False))
            .options(joinedload(Page.current_revision), selectinload(Page.tags))
        ).all()
        for page in batch:
            _reindex_page(session, page)
        return [page.slug for page in batch]


def _reindex_page(session: Session, page: Page) -> None:
    revision = page.current_revision
    if revision is None:
        return
    rendered = links.render_with_links(session, revision.body, also_existing={page.slug},
                                       page_slug=page.slug)
    revision.html = rendered.html  # links to pages made or deleted since turn blue or red
    links.set_links(session, page, rendered.link_titles)
    cards.sync(session, page, revision.body)  # finds the cards of pages saved before cards
    search.index_page(session, page, rendered.text, [tag.name for tag in page.tags])

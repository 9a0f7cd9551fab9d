"""Creating many new pages at once (``flask pages import``): a batch per transaction, each
page written as :func:`saving.save` would create it, with a few statements per batch
instead of a few dozen per page. Part of the pages service, which alone writes pages."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from wiki.extensions import db
from wiki.models import Card, Link, Page, Redirect, Revision, Tag, User, page_tags, utcnow
from wiki.services import cards, links, rendering, search
from wiki.services.pages.rules import (
    PageError,
    check_content,
    check_one_line_fields,
    normalise_body,
    normalise_tags,
)
from wiki.services.pages.saving import write
from wiki.services.slugs import HOME, slugify

FIRST_SUMMARY = "Created"  # as saving.save names a page's first revision without a summary
RENDER_CHUNK = 25  # pages a process of the pool renders at a time: a few tens of ms


@dataclass(frozen=True)
class NewPage:
    """A page to create, as an import read it."""

    slug: str  # where the document wants it: the slug of its title, or HOME
    title: str
    body: str
    summary: str = ""
    tags: Sequence[str] = ()
    when: datetime | None = None  # None: now
    author: User | None = None


@dataclass
class Created:
    """What :func:`create_pages` did with each page it was given."""

    created: list[str] = field(default_factory=list)  # slugs, in the order given
    existing: list[str] = field(default_factory=list)  # a page or a renamed page's address
    refused: list[tuple[NewPage, PageError]] = field(default_factory=list)
    deleted: list[NewPage] = field(default_factory=list)  # at a deleted page's address


@dataclass(frozen=True)
class _Ready:
    """A page checked and rendered, before the write transaction."""

    slug: str
    title: str
    body: str
    summary: str
    tags: list[str]
    when: datetime
    author_id: int | None
    rendered: rendering.Rendered
    assumed: frozenset[str]  # the link targets it was rendered as existing
    cards: list[cards.Found]


@dataclass
class PreparedPages:
    """A batch of :func:`prepare_pages`: checked, its new pages being rendered, not written."""

    outcome: Created
    fresh: dict[str, tuple[NewPage, NewPage]]  # by slug: the page normalised, and as given
    renders: list[Future]  # of :func:`render_new_pages`, a chunk of *fresh* each; [] inline


def create_pages(new_pages: Sequence[NewPage]) -> Created:
    """Create the pages of *new_pages* that are not there yet, in one transaction, each
    as :func:`saving.save` creates a page: its first revision, rendered HTML, links, tags,
    cards and search entry, and the red links to it in other pages turned blue.

    A page at an address taken by a page or a renamed page's redirect, or taken earlier in
    *new_pages*, is left out (``existing``), as is one at a deleted page's (``deleted``: the
    caller's ``save`` says why not). A page the page rules refuse is in ``refused``.
    The Markdown is rendered before the transaction, so the writer lock is held to write.
    """
    return write_prepared(prepare_pages(new_pages))


def prepare_pages(new_pages: Sequence[NewPage], renderer: Executor | None = None
                  ) -> PreparedPages:
    """The first half of :func:`create_pages`: check *new_pages* and find which are new.
    With *renderer* (a process pool), their Markdown is rendered there, meanwhile, while
    this process goes on (writing the batch before, say); without, at :func:`write_prepared`.
    Whatever is written meanwhile, :func:`write_prepared` checks the addresses again."""
    outcome = Created()
    wanted = _checked(new_pages, outcome)
    taken = _taken(db.session, {page.slug for page, _ in wanted})
    db.session.rollback()  # a read: no snapshot held open while the pages render
    fresh: dict[str, tuple[NewPage, NewPage]] = {}
    for page, given in wanted:
        if page.slug in taken.deleted:
            outcome.deleted.append(given)
        elif page.slug in taken.live or page.slug in fresh:
            outcome.existing.append(page.slug)
        else:
            fresh[page.slug] = page, given
    renders = []
    if renderer is not None and fresh:
        batch = frozenset(fresh)
        texts = [(page.slug, page.body) for page, _ in fresh.values()]
        renders = [renderer.submit(render_new_pages, texts[start:start + RENDER_CHUNK], batch)
                   for start in range(0, len(texts), RENDER_CHUNK)]
    return PreparedPages(outcome, fresh, renders)


def write_prepared(prepared: PreparedPages) -> Created:
    """The second half of :func:`create_pages`: write the batch *prepared*, in one
    transaction, once its pages are rendered."""
    outcome, fresh = prepared.outcome, prepared.fresh
    if not fresh:
        return outcome
    if prepared.renders:
        rendered = [each for chunk in prepared.renders for each in chunk.result()]
    else:
        rendered = render_new_pages([(page.slug, page.body) for page, _ in fresh.values()],
                                    frozenset(fresh))
    ready = [_ready(page, *each) for (page, _), each in zip(fresh.values(), rendered, strict=True)]
    written = write(lambda session: _write(session, ready), "import pages")
    outcome.existing += [slug for slug in fresh if slug in written.existing]
    outcome.deleted += [fresh[slug][1] for slug in fresh if slug in written.deleted]
    outcome.created += written.created
    return outcome


def _checked(new_pages: Sequence[NewPage], outcome: Created) -> list[tuple[NewPage, NewPage]]:
    """*new_pages* normalised as ``save`` normalises an edit, each with the page as given;
    those the page rules refuse go to *outcome*."""
    checked = []
    for page in new_pages:
        try:
            check_one_line_fields(page.title, page.summary, page.tags)
            title = page.title.strip()
            body, tags = normalise_body(page.body), normalise_tags(list(page.tags))
            check_content(title, body, tags)
        except PageError as error:
            outcome.refused.append((page, error))
            continue
        slug = HOME if page.slug == HOME else slugify(title)
        normalised = NewPage(slug, title, body, page.summary.strip() or FIRST_SUMMARY,
                             sorted(tags), page.when or utcnow(), page.author)
        checked.append((normalised, page))
    return checked


@dataclass(frozen=True)
class _Taken:
    live: set[str]  # a live page, or a renamed page's old address
    deleted: set[str]


def _taken(session: Session, slugs: set[str]) -> _Taken:
    """Which of *slugs* are a page's address (live or deleted) or a redirect's."""
    live: set[str] = set()
    deleted: set[str] = set()
    if slugs:
        for slug, is_deleted in session.execute(
                select(Page.slug, Page.deleted).where(Page.slug.in_(slugs))):
            (deleted if is_deleted else live).add(slug)
        live |= set(session.scalars(select(Redirect.old_slug)
                                    .where(Redirect.old_slug.in_(slugs))))
    return _Taken(live, deleted)


def render_new_pages(texts: Sequence[tuple[str, str]], batch: frozenset[str]
                     ) -> list[tuple[rendering.Rendered, frozenset[str], list[cards.Found]]]:
    """Each of *texts* (slug, Markdown) rendered as a new page of the batch whose addresses
    are *batch*: its links to those blue, all others red for now (:func:`_settle` corrects
    them in the transaction), with the link targets it took as existing. A new page has no
    files yet. With each, the cards it holds. No database, no app: a process of a pool may
    run it."""
    return [_render(slug, body, batch) for slug, body in texts]


def _render(slug: str, body: str, batch: frozenset[str]
            ) -> tuple[rendering.Rendered, frozenset[str], list[cards.Found]]:
    assumed: set[str] = set()

    def existing(slugs: set[str]) -> set[str]:
        assumed.update(slugs & batch)
        return assumed

    rendered = rendering.render(body, existing,
                                lambda names: rendering.PageFiles(slug, frozenset()))
    return rendered, frozenset(assumed), cards.extract(body)


def _ready(page: NewPage, rendered: rendering.Rendered, assumed: frozenset[str],
           found: list[cards.Found]) -> _Ready:
    return _Ready(page.slug, page.title, page.body, page.summary, list(page.tags), page.when,
                  page.author.id if page.author else None, rendered, assumed, found)


@dataclass(frozen=True)
class _Written:
    created: list[str]
    existing: set[str]
    deleted: set[str]


def _write(session: Session, ready: list[_Ready]) -> _Written:
    taken = _taken(session, {page.slug for page in ready})  # again: someone may have been first
    ready = [page for page in ready
             if page.slug not in taken.live and page.slug not in taken.deleted]
    if not ready:
        return _Written([], taken.live, taken.deleted)
    created = {page.slug for page in ready}
    page_ids = _insert_pages(session, ready)
    html = _settle(session, ready, created)
    # Matched by page, not by order: SQLite's RETURNING keeps no order, and asking for one
    # would have each row inserted on its own.
    revision_ids = dict(session.execute(
        insert(Revision).returning(Revision.page_id, Revision.id),
        [{"page_id": page_id, "number": 1, "title": page.title, "body": page.body,
          "html": html[page.slug], "summary": page.summary[:255], "minor": False,
          "size": len(page.body), "author_id": page.author_id, "created_at": page.when}
         for page, page_id in zip(ready, page_ids, strict=True)],
    ).all())
    session.execute(update(Page), [{"id": page_id, "current_revision_id": revision_ids[page_id]}
                                   for page_id in page_ids])
    _insert_tags(session, ready, page_ids)
    _insert_links(session, ready, page_ids)
    _insert_cards(session, ready, page_ids)
    search.index_pages(session, [
        search.IndexEntry(page_id, page.title, page.rendered.text, page.tags)
        for page, page_id in zip(ready, page_ids, strict=True)])
    links.relink_all_linking_to(session, created, exclude_page_ids=set(page_ids))
    return _Written([page.slug for page in ready], taken.live, taken.deleted)


def _insert_pages(session: Session, ready: list[_Ready]) -> list[int]:
    """Insert the pages of *ready*; their ids, in the same order."""
    ids = dict(session.execute(
        insert(Page).returning(Page.slug, Page.id),
        [{"slug": page.slug, "title": page.title, "revision_number": 1, "deleted": False,
          "updated_at": page.when} for page in ready],
    ).all())
    return [ids[page.slug] for page in ready]


def _settle(session: Session, ready: list[_Ready], created: set[str]) -> dict[str, str]:
    """Each page's HTML with its links blue or red as they are now: one query for all the
    link targets outside the batch (see :func:`links.settle`)."""
    targets = set().union(*(page.rendered.links for page in ready)) - created
    elsewhere = links.existing_slugs(session, targets)
    html = {}
    for page in ready:
        now = (page.rendered.links & created) | (page.rendered.links & elsewhere)
        changed = now ^ page.assumed
        html[page.slug] = (rendering.relink(page.rendered.html, changed, now) if changed
                           else page.rendered.html)
    return html


def _insert_tags(session: Session, ready: list[_Ready], page_ids: list[int]) -> None:
    names = set().union(*(page.tags for page in ready))
    if not names:
        return
    ids = dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).all())
    missing = sorted(names - set(ids))
    if missing:
        ids.update(session.execute(insert(Tag).returning(Tag.name, Tag.id),
                                   [{"name": name} for name in missing]).all())
    session.execute(insert(page_tags), [{"page_id": page_id, "tag_id": ids[name],
                                         "page_slug": page.slug}
                                        for page, page_id in zip(ready, page_ids, strict=True)
                                        for name in page.tags])


def _insert_links(session: Session, ready: list[_Ready], page_ids: list[int]) -> None:
    rows = [row for page, page_id in zip(ready, page_ids, strict=True)
            for row in links.link_rows(page_id, page.slug, page.rendered.link_titles)]
    if rows:
        session.execute(insert(Link), rows)


def _insert_cards(session: Session, ready: list[_Ready], page_ids: list[int]) -> None:
    rows = [{"page_id": page_id, "position": position, "kind": card.kind,
             "question": card.question, "answer": card.answer, "retired": False}
            for page, page_id in zip(ready, page_ids, strict=True)
            for position, card in enumerate(page.cards)]
    if rows:
        session.execute(insert(Card), rows)

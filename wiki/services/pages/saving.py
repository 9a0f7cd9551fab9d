"""Saving, deleting and reverting pages, and the write machinery renaming shares: one
transaction each, run again when another writer got in the way."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum, auto
from typing import TypeVar

from sqlalchemy import delete as delete_rows
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from wiki.database import lost_to_another_writer, write_transaction
from wiki.extensions import db
from wiki.models import Page, Redirect, Revision, User, utcnow
from wiki.services import cards, diffing, links, rendering, search, tags
from wiki.services.pages.queries import get_any_page, get_revision
from wiki.services.pages.rules import (
    PageDeleted,
    PageError,
    Part,
    UnknownBase,
    check_content,
    check_one_line_fields,
    normalise_body,
    normalise_tags,
)
from wiki.services.slugs import HOME, slugify

SAVE_ATTEMPTS = 5

T = TypeVar("T")


class Outcome(Enum):
    """What a save did."""

    CREATED = auto()
    SAVED = auto()
    MERGED = auto()  # saved, merged with a revision saved since the editor was opened
    RETAGGED = auto()  # only the tags changed, and tags are not versioned: no new revision
    UNCHANGED = auto()


@dataclass(frozen=True)
class PageEdit:
    """One edit of a page, as its author sent it."""

    slug: str | None  # the page edited; None for a new page, at the slug of its title
    title: str
    body: str
    summary: str = ""
    tags: str | Sequence[str] | None = ()  # "a, b" as typed, or names; None: keep the page's
    base_revision: int | None = None  # the revision the editor started from
    minor: bool = False
    when: datetime | None = None  # None: now


class EditConflict(Exception):
    """The page changed since the editor was opened, and the two edits overlap."""

    def __init__(self, page: Page, base_body: str, current: Revision) -> None:
        super().__init__(f"{page.slug} changed since revision {current.number}")
        self.page = page
        self.base_body = base_body
        self.current = current


class LostRace(Exception):
    """Another transaction moved the page on between our read and our update."""


@dataclass(frozen=True)
class SaveResult:
    page: Page
    outcome: Outcome
    revision: Revision | None = None
    merged_with: int | None = None  # the revision our edit was merged with


@dataclass(frozen=True)
class Prepared:
    """Work done just before a write transaction, from what was read then, so that the
    transaction holds the writer lock to write and not to parse Markdown: bodies rendered
    (their links settled inside), links rewritten. What changed in between, or a merge's
    result, is done inside the transaction instead."""

    rendered: Mapping[str, links.Prerendered] = field(default_factory=dict)
    rewritten: Mapping[str, str] = field(default_factory=dict)  # a body → its links rewritten

    @classmethod
    def rendering(cls, *bodies: str, rewritten: Mapping[str, str] | None = None,
                  slug: str | None = None) -> Prepared:
        """*bodies* (of the page at *slug*, whose files they show) and the *rewritten* bodies
        of other pages, rendered."""
        rewritten = rewritten or {}
        return cls({**{body: links.prerender(db.session, body) for body in rewritten.values()},
                    **{body: links.prerender(db.session, body, slug) for body in bodies}},
                   rewritten)

    def render(self, session: Session, page: Page, body: str) -> rendering.Rendered:
        """*body* rendered for *page*, as of now."""
        ready = self.rendered.get(body)
        if ready is None:
            return links.render_with_links(session, body, also_existing={page.slug},
                                           page_slug=page.slug)
        return links.settle(session, ready, also_existing={page.slug}, page=page)


NOTHING_PREPARED = Prepared()


def save(edit: PageEdit, author: User | None) -> SaveResult:
    """Create or edit a page.

    ``edit.slug`` is the page being edited, or None for a new page, which lives at the slug
    of its title. If the page has moved on since ``edit.base_revision``, the edit is merged
    into the current text.

    :raises PageError: the title, summary, tags or body are refused (the message says why).
    :raises PageDeleted: the page (or the one at the new title's address) is deleted.
    :raises UnknownBase: the base revision is ahead of the page.
    :raises EditConflict: the page changed meanwhile and the changes overlap.
    """
    check_one_line_fields(edit.title, edit.summary, edit.tags or ())
    edit = replace(edit, title=edit.title.strip(), body=normalise_body(edit.body),
                   summary=edit.summary.strip(),
                   tags=None if edit.tags is None else normalise_tags(edit.tags),
                   when=edit.when or utcnow())
    check_content(edit.title, edit.body, edit.tags or ())
    prepared = Prepared.rendering(edit.body, slug=edit.slug or slugify(edit.title))
    return write(lambda session: _save(session, edit, author, prepared=prepared),
                 f"save {edit.slug or edit.title!r}")


def write(work: Callable[[Session], T], what: str) -> T:
    """Run *work* in one write transaction; run it again, from a fresh start, when another
    writer got in its way (a revision appended meanwhile, or on PostgreSQL a slug or tag
    created meanwhile, or a deadlock).

    :raises RuntimeError: the pages kept changing, *SAVE_ATTEMPTS* times in a row.
    """
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            with write_transaction() as session:
                return work(session)
        except LostRace:
            continue
        except DBAPIError as error:
            if attempt == SAVE_ATTEMPTS or not lost_to_another_writer(error):
                raise
    raise RuntimeError(f"could not {what}: the page kept changing")


def locked_page(session: Session, *conditions) -> Page | None:
    """The page matching *conditions*, which no other writer can change until this
    transaction ends: ``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL (other rows may still
    refer to it meanwhile). SQLite needs no row lock: a writer holds the whole database."""
    return session.scalar(select(Page).where(*conditions).with_for_update(key_share=True))


def _save(session: Session, edit: PageEdit, author: User | None, *, restore: bool = False,
          prepared: Prepared = NOTHING_PREPARED) -> SaveResult:
    """Save one edit, normalised; *restore* lets it bring back a deleted page (the
    administrators' revert)."""
    page, slug = _page_for_save(session, edit.slug, edit.title)
    if page is None:
        return _create(session, replace(edit, slug=slug), author, prepared)
    base = edit.base_revision
    if page.deleted and not restore:
        raise _deleted(page, while_editing=bool(base))
    if base is not None and base > page.revision_number:
        raise UnknownBase(f"This editor was opened on revision {base}, which “{page.title}” "
                          f"does not have (it is at revision {page.revision_number}). Your "
                          "text is below: check it against the page, then save again.",
                          page.revision_number)
    current = page.current_revision
    merged_with = None
    if base is not None and base != page.revision_number and not page.deleted:
        if edit.body == current.body and edit.title == page.title:
            return SaveResult(page, Outcome.UNCHANGED)  # a resubmission of what is saved
        base_body = _body_at(session, page, base)
        merge = diffing.merge(base_body, edit.body, current.body)
        if merge.conflicted:
            raise EditConflict(page, base_body, current)
        edit, merged_with = replace(edit, body=merge.text), page.revision_number
    retagged = edit.tags is not None and _set_tags(session, page, edit.tags)
    if not page.deleted and edit.body == current.body and edit.title == page.title:
        if not retagged:
            return SaveResult(page, Outcome.UNCHANGED)
        search.index_page(session, page, prepared.render(session, page, edit.body).text,
                          sorted(edit.tags or ()))
        return SaveResult(page, Outcome.RETAGGED)
    revision = add_revision(session, page, edit, author, prepared=prepared)
    if page.deleted:
        page.deleted = False
        links.relink_pages_linking_to(session, {page.slug}, exclude_page_id=page.id)
    return SaveResult(page, Outcome.MERGED if merged_with else Outcome.SAVED, revision,
                      merged_with)


def _page_for_save(session: Session, slug: str | None, title: str) -> tuple[Page | None, str]:
    """The page this save writes to (None to create one) and its slug. Enforces the slug rule."""
    new_slug = slugify(title)
    if slug is not None:
        page = locked_page(session, Page.slug == slug)
        if slug == HOME:  # the one page whose address does not follow its title
            return page, HOME
        if page is not None and page.deleted:
            return page, slug  # saving over it is refused, unless an administrator restores it
        if page is not None and page.revision_number:
            if new_slug != slug:
                raise PageError(
                    Part.TITLE, "This title would move the page to another address; use Rename.",
                    slug=slug,
                )
            return page, slug
    existing = locked_page(session, Page.slug == new_slug)
    if existing is not None and not existing.deleted and slug != new_slug:
        raise PageError(Part.TITLE, f"A page called “{existing.title}” already exists.",
                        slug=new_slug)
    return existing, new_slug


def _deleted(page: Page, *, while_editing: bool) -> PageDeleted:
    """The refusal to save over deleted *page*: its history would come back with it, and
    bringing that back is an administrator's decision."""
    # Whoever had the page open knew its title; others learn only that it was deleted.
    what = (f"“{page.title}” was deleted while you were editing" if while_editing
            else "The page at this address was deleted")
    return PageDeleted(Part.TITLE, f"{what}, so nothing was saved; your text is kept below. An "
                                "administrator can restore the page, or give yours another "
                                "title.", slug=None)


def _body_at(session: Session, page: Page, number: int) -> str:
    if number <= 0:
        return ""
    body = session.scalar(
        select(Revision.body).where(Revision.page_id == page.id, Revision.number == number)
    )
    return body if body is not None else page.current_revision.body


def _create(session: Session, edit: PageEdit, author: User | None,
            prepared: Prepared) -> SaveResult:
    page = Page(slug=edit.slug, title=edit.title, revision_number=0, updated_at=edit.when)
    # A page of its own now lives where a renamed page's redirect used to point from.
    session.execute(delete_rows(Redirect).where(Redirect.old_slug == edit.slug))
    session.add(page)
    session.flush()
    _set_tags(session, page, edit.tags or ())
    first = replace(edit, summary=edit.summary or "Created", minor=False)
    revision = add_revision(session, page, first, author, prepared=prepared)
    links.relink_pages_linking_to(session, {page.slug}, exclude_page_id=page.id)
    return SaveResult(page, Outcome.CREATED, revision)


def add_revision(session: Session, page: Page, edit: PageEdit, author: User | None,
                 *, prepared: Prepared = NOTHING_PREPARED) -> Revision:
    """Append *edit* as the next revision, provided no other save has appended one since
    we read (its tags are left to the caller)."""
    number = page.revision_number + 1
    when = edit.when or utcnow()
    moved = session.execute(
        update(Page)
        .where(Page.id == page.id, Page.revision_number == page.revision_number)
        .values(revision_number=number, title=edit.title, updated_at=when)
        .execution_options(synchronize_session="fetch")
    )
    if moved.rowcount != 1:
        raise LostRace
    rendered = prepared.render(session, page, edit.body)
    revision = Revision(
        page_id=page.id, number=number, title=edit.title, body=edit.body, html=rendered.html,
        summary=edit.summary[:255], minor=edit.minor, size=len(edit.body), author=author,
        created_at=when,
    )
    session.add(revision)
    session.flush()
    page.current_revision = revision
    links.set_links(session, page, rendered.link_titles)
    cards.sync(session, page, edit.body)
    search.index_page(session, page, rendered.text, [t.name for t in page.tags])
    return revision


def _set_tags(session: Session, page: Page, names: Sequence[str]) -> bool:
    """Give *page* exactly these tags; returns whether they changed."""
    if [tag.name for tag in page.tags] == sorted(names):
        return False
    tags.set_tags(session, page, names)
    return True


def delete(slug: str) -> None:
    """Delete a page, keeping its history so it can be restored.

    :raises PageError: there is no such page, or it is the home page (``/`` needs it).
    """
    write(lambda session: _delete(session, slug), f"delete {slug!r}")


def _delete(session: Session, slug: str) -> None:
    if slug == HOME:
        raise PageError(Part.PAGE, "The home page cannot be deleted; edit it instead.")
    page = locked_page(session, Page.slug == slug, Page.deleted.is_(False))
    if page is None:
        raise PageError(Part.PAGE, "There is no such page.")
    page.deleted = True
    page.updated_at = utcnow()
    links.set_links(session, page, {})
    cards.sync(session, page, "")  # retired; a restore brings them back
    search.remove_page(session, page.id)
    links.relink_pages_linking_to(session, {slug}, exclude_page_id=page.id)


def revert(slug: str, number: int, author: User | None, *,
           base_revision: int | None = None) -> SaveResult:
    """Save revision *number*'s text and title as a new revision; restores a deleted page.

    *base_revision* is the revision the user confirmed the revert on: a change saved since
    is merged with the revert as with an edit (None: revert whatever is current).

    :raises PageError: there is no such page or revision.
    :raises EditConflict: the page changed since *base_revision*, on the same lines.
    """
    page = get_any_page(slug)
    target = get_revision(page, number) if page else None
    prepared = Prepared.rendering(target.body, slug=slug) if target else NOTHING_PREPARED
    return write(lambda session: _revert(session, slug, number, author, base_revision, prepared),
                 f"revert {slug!r}")


def _revert(session: Session, slug: str, number: int, author: User | None,
            base: int | None, prepared: Prepared) -> SaveResult:
    # Read inside the write transaction: a save landing between a read and the write
    # would otherwise pass for a change the user had seen.
    page = locked_page(session, Page.slug == slug)
    target = get_revision(page, number) if page else None
    if target is None:
        raise PageError(Part.REVISION, f"Revision {number} of this page does not exist.")
    name = author.username if author else "the system"
    # A revision from before a rename has a title that no longer fits this address.
    title = target.title if slug == HOME or slugify(target.title) == slug else page.title
    edit = PageEdit(slug, title, target.body, summary=f"Reverted to revision {number} by {name}",
                    tags=[tag.name for tag in page.tags],
                    base_revision=page.revision_number if base is None else base, when=utcnow())
    return _save(session, edit, author, restore=True, prepared=prepared)

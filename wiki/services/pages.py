"""The only code that writes pages. Each public function is one transaction.

Saving a page writes, together or not at all: the new revision, its rendered HTML, its
outgoing links, its tags, and the re-rendered pages whose red links it turns blue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wiki.database import write_transaction
from wiki.extensions import db
from wiki.models import Page, Redirect, Revision, Tag, User, utcnow
from wiki.services import diffing, links
from wiki.services.slugs import slugify

HOME = "home"
MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_TITLE_LENGTH = 200
SAVE_ATTEMPTS = 5

Outcome = Literal["created", "saved", "merged", "unchanged"]


class PageError(ValueError):
    """A save the page rules refuse. ``field`` names the form field to show *message* on."""

    def __init__(self, field: str, message: str, slug: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.slug = slug  # the page the message is about, when there is one


class EditConflict(Exception):
    """The page changed since the editor was opened, and the two edits overlap."""

    def __init__(self, page: Page, base_body: str, current: Revision, mine: str) -> None:
        super().__init__(f"{page.slug} changed since revision {current.number}")
        self.page = page
        self.base_body = base_body
        self.current = current
        self.mine = mine


class _LostRace(Exception):
    """Another transaction moved the page on between our read and our update."""


@dataclass(frozen=True)
class SaveResult:
    page: Page
    outcome: Outcome
    revision: Revision | None = None
    merged_with: int | None = None  # the revision our edit was merged with


def get_page(slug: str) -> Page | None:
    """The live page at *slug*, or None (deleted pages count as missing)."""
    return db.session.scalar(select(Page).where(Page.slug == slug, Page.deleted.is_(False)))


def find_redirect(slug: str) -> Page | None:
    """The page that *slug* pointed to before a rename, if any."""
    return db.session.scalar(
        select(Page).join(Redirect, Redirect.page_id == Page.id).where(Redirect.old_slug == slug)
    )


def get_revision(page: Page, number: int) -> Revision | None:
    return db.session.scalar(
        select(Revision).where(Revision.page_id == page.id, Revision.number == number)
    )


def normalise_tags(raw: str | list[str]) -> list[str]:
    """``"Flask, web Dev,flask"`` → ``["flask", "web-dev"]``: lower case, unique, in order."""
    parts = raw.split(",") if isinstance(raw, str) else raw
    tags: list[str] = []
    for part in parts:
        tag = re.sub(r"\s+", "-", part.strip().lower())[:MAX_TAG_LENGTH].strip("-")
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def normalise_body(body: str) -> str:
    return body.replace("\r\n", "\n").replace("\r", "\n")


def save(
    slug: str | None,
    title: str,
    body: str,
    author: User | None,
    *,
    summary: str = "",
    tags: str | list[str] = (),
    base_revision: int | None = None,
    minor: bool = False,
    when: datetime | None = None,
) -> SaveResult:
    """Create or edit a page.

    *slug* is the page being edited, or None for a new page, which lives at the slug of
    its title. *base_revision* is the revision the editor started from: if the page has
    moved on since, the edit is merged into the current text.

    :raises PageError: the title or body is refused (the message says why).
    :raises EditConflict: the page changed meanwhile and the changes overlap.
    """
    title, body, tags = title.strip(), normalise_body(body), normalise_tags(tags)
    _check_content(title, body, tags)
    for _ in range(SAVE_ATTEMPTS):
        try:
            with write_transaction() as session:
                return _save(session, slug, title, body, author, summary.strip(), tags,
                             base_revision, minor, when or utcnow())
        except _LostRace:
            continue
    raise RuntimeError(f"could not save {slug!r}: the page kept changing")


def _check_content(title: str, body: str, tags: list[str]) -> None:
    if not title:
        raise PageError("title", "Give the page a title.")
    if len(title) > MAX_TITLE_LENGTH:
        raise PageError("title", f"Keep the title under {MAX_TITLE_LENGTH} characters.")
    if not slugify(title):
        raise PageError("title", "The title needs at least one letter or digit.")
    limit = current_app.config["MAX_PAGE_BYTES"]
    if len(body.encode()) > limit:
        raise PageError("body", f"The page is too long: at most {limit // 1_000_000} MB of text.")
    if len(tags) > MAX_TAGS:
        raise PageError("tags", f"Use at most {MAX_TAGS} tags.")


def _save(session: Session, slug, title, body, author, summary, tags, base, minor, when):
    page, slug = _page_for_save(session, slug, title)
    if page is None:
        return _create(session, slug, title, body, author, summary, tags, when)
    current = page.current_revision
    merged_with = None
    if base is not None and base != page.revision_number and not page.deleted:
        if body == current.body and title == page.title:
            return SaveResult(page, "unchanged")  # a resubmission of what is already saved
        base_body = _body_at(session, page, base)
        merge = diffing.merge(base_body, body, current.body)
        if merge.conflicted:
            raise EditConflict(page, base_body, current, body)
        body, merged_with = merge.text, page.revision_number
    _set_tags(session, page, tags)
    if not page.deleted and body == current.body and title == page.title:
        return SaveResult(page, "unchanged")
    revision = _add_revision(session, page, title, body, author, summary, minor, when)
    if page.deleted:
        page.deleted = False
        links.rerender_linking_pages(session, {page.slug}, exclude_page_id=page.id)
    return SaveResult(page, "merged" if merged_with else "saved", revision, merged_with)


def _page_for_save(session: Session, slug: str | None, title: str) -> tuple[Page | None, str]:
    """The page this save writes to (None to create one) and its slug. Enforces the slug rule."""
    new_slug = slugify(title)
    if slug is not None:
        page = session.scalar(select(Page).where(Page.slug == slug))
        if slug == HOME:  # the one page whose address does not follow its title
            return page, HOME
        if page is not None and page.revision_number:
            if new_slug != slug:
                raise PageError(
                    "title", "This title would move the page to another address; use Rename.",
                    slug=slug,
                )
            return page, slug
    existing = session.scalar(select(Page).where(Page.slug == new_slug))
    if existing is not None and not existing.deleted and slug != new_slug:
        raise PageError("title", f"A page called “{existing.title}” already exists.",
                        slug=new_slug)
    return existing, new_slug


def _body_at(session: Session, page: Page, number: int) -> str:
    if number <= 0:
        return ""
    body = session.scalar(
        select(Revision.body).where(Revision.page_id == page.id, Revision.number == number)
    )
    return body if body is not None else page.current_revision.body


def _create(session, slug, title, body, author, summary, tags, when) -> SaveResult:
    page = Page(slug=slug, title=title, revision_number=0, updated_at=when)
    session.add(page)
    session.flush()
    _set_tags(session, page, tags)
    revision = _add_revision(session, page, title, body, author, summary or "Created", False, when)
    links.rerender_linking_pages(session, {slug}, exclude_page_id=page.id)
    return SaveResult(page, "created", revision)


def _add_revision(session, page, title, body, author, summary, minor, when) -> Revision:
    """Append the next revision, provided no other save has appended one since we read."""
    number = page.revision_number + 1
    moved = session.execute(
        update(Page)
        .where(Page.id == page.id, Page.revision_number == page.revision_number)
        .values(revision_number=number, title=title, updated_at=when)
        .execution_options(synchronize_session="fetch")
    )
    if moved.rowcount != 1:
        raise _LostRace
    rendered = links.render(session, body, also_existing={page.slug})
    revision = Revision(
        page_id=page.id, number=number, title=title, body=body, html=rendered.html,
        summary=summary[:255], minor=minor, size=len(body), author=author, created_at=when,
    )
    session.add(revision)
    session.flush()
    page.current_revision = revision
    links.set_links(session, page, rendered.links)
    return revision


def _set_tags(session: Session, page: Page, names: list[str]) -> None:
    if [tag.name for tag in page.tags] == sorted(names):
        return
    known = {tag.name: tag for tag in session.scalars(select(Tag).where(Tag.name.in_(names)))}
    page.tags = [known.get(name) or Tag(name=name) for name in sorted(names)]


def delete(slug: str, author: User | None) -> Page:
    """Delete a page, keeping its history so it can be restored.

    :raises PageError: there is no such page.
    """
    with write_transaction() as session:
        page = session.scalar(select(Page).where(Page.slug == slug, Page.deleted.is_(False)))
        if page is None:
            raise PageError("slug", "There is no such page.")
        page.deleted = True
        page.updated_at = utcnow()
        links.set_links(session, page, ())
        links.rerender_linking_pages(session, {slug}, exclude_page_id=page.id)
    return page


def revert(slug: str, number: int, author: User | None) -> SaveResult:
    """Save revision *number*'s text and title as a new revision; restores a deleted page.

    :raises PageError: there is no such page or revision.
    """
    page = db.session.scalar(select(Page).where(Page.slug == slug))
    target = get_revision(page, number) if page else None
    if target is None:
        raise PageError("rev", f"Revision {number} of this page does not exist.")
    name = author.username if author else "the system"
    # A revision from before a rename has a title that no longer fits this address.
    title = target.title if slug == HOME or slugify(target.title) == slug else page.title
    return save(
        slug, title, target.body, author,
        summary=f"Reverted to revision {number} by {name}",
        tags=[tag.name for tag in page.tags], base_revision=page.revision_number,
    )


def get_any_page(slug: str) -> Page | None:
    """The page at *slug*, deleted or not."""
    return db.session.scalar(select(Page).where(Page.slug == slug))


def deleted_pages_query():
    return select(Page).where(Page.deleted.is_(True)).order_by(Page.updated_at.desc())

"""Renaming a page: a new address, a redirect from the old one, and (if asked) the links to
it rewritten."""

from __future__ import annotations

from sqlalchemy import delete as delete_rows
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from wiki.extensions import db
from wiki.models import Link, Page, Redirect, User
from wiki.services import links, rendering, tags
from wiki.services.pages.queries import get_page
from wiki.services.pages.rules import PageError, Part, check_content, check_one_line_fields
from wiki.services.pages.saving import (
    NOTHING_PREPARED,
    PageEdit,
    Prepared,
    add_revision,
    locked_page,
    write,
)
from wiki.services.slugs import HOME, slugify


def rename(slug: str, new_title: str, author: User | None, *, rewrite_links: bool) -> Page:
    """Move a page to the slug of *new_title*, keeping its history.

    The old address answers with a redirect from then on. With *rewrite_links*, every page
    linking to the old slug gets a new revision pointing its links at the new title.

    :raises PageError: no such page, an unusable title, or the new address is taken.
    """
    check_one_line_fields(new_title, "", [])
    new_title = new_title.strip()
    check_content(new_title, "", [])
    prepared = _prepare_rename(slug, new_title, rewrite_links)
    return write(
        lambda session: _rename(session, slug, new_title, author, rewrite_links, prepared),
        f"rename {slug!r}",
    )


def _prepare_rename(slug: str, new_title: str, rewrite_links: bool) -> Prepared:
    """The renamed page's text rendered, and the linking pages' texts rewritten and rendered,
    before the rename's transaction."""
    page = get_page(slug)
    if page is None:
        return NOTHING_PREPARED
    rewritten = {}
    if rewrite_links and slugify(new_title) != slug:
        for other in db.session.scalars(_linking_pages(page, slug)):
            body = other.current_revision.body
            if (new_body := rendering.rewrite_wikilinks(body, slug, new_title)) != body:
                rewritten[body] = new_body
    return Prepared.rendering(page.current_revision.body, rewritten=rewritten,
                              slug=slugify(new_title))


def _rename(session: Session, slug: str, new_title: str, author: User | None,
            rewrite_links: bool, prepared: Prepared) -> Page:
    new_slug = slugify(new_title)
    page = locked_page(session, Page.slug == slug, Page.deleted.is_(False))
    if page is None:
        raise PageError(Part.PAGE, "There is no such page.")
    if slug == HOME and new_slug != HOME:
        raise PageError(Part.TITLE, "The home page keeps its address; edit its title instead.")
    if new_title == page.title:
        raise PageError(Part.TITLE, "That is already the page's title.")
    if new_slug != slug:
        _move(session, page, new_slug)
    old_title = page.title
    summary = f"Renamed from “{old_title}” to “{new_title}”"
    renamed = PageEdit(new_slug, new_title, page.current_revision.body, summary=summary)
    add_revision(session, page, renamed, author, prepared=prepared)
    if rewrite_links and new_slug != slug:
        _rewrite_links_to(session, page, slug, new_title, author, prepared)
    links.relink_pages_linking_to(session, {new_slug}, exclude_page_id=page.id)
    return page


def _move(session: Session, page: Page, new_slug: str) -> None:
    """Give *page* the address *new_slug*, leaving a redirect at the old one.

    :raises PageError: a page (even a deleted one, whose history it keeps) has *new_slug*.
    """
    taken = session.scalar(select(Page).where(Page.slug == new_slug))
    if taken is not None and taken.deleted:
        raise PageError(Part.TITLE, "A deleted page has that address; an administrator can "
                                 "restore it, or choose another title.")
    if taken is not None:
        raise PageError(Part.TITLE, f"A page called “{taken.title}” already exists.",
                        slug=new_slug)
    session.execute(delete_rows(Redirect).where(Redirect.old_slug == new_slug))
    session.add(Redirect(old_slug=page.slug, page_id=page.id))
    page.slug = new_slug
    session.flush()
    tags.page_moved(session, page)  # the lists of a tag's pages and of backlinks go by them
    links.page_moved(session, page)


def _linking_pages(page: Page, slug: str):
    """Live pages other than *page* linking to *slug*, with their current revisions."""
    return (
        select(Page).options(joinedload(Page.current_revision))
        .join(Link, Link.from_page_id == Page.id)
        .where(Link.target_slug == slug, Page.deleted.is_(False), Page.id != page.id)
        .order_by(Page.id)  # every writer locks pages in one order: no deadlock between two
    )


def _rewrite_links_to(session: Session, page: Page, old_slug: str, new_title: str,
                      author: User | None, prepared: Prepared) -> None:
    summary = f"Updated links: “{old_slug}” was renamed to “{new_title}”"
    linking = session.scalars(
        _linking_pages(page, old_slug).with_for_update(key_share=True, of=Page)).unique().all()
    for other in linking:
        body = other.current_revision.body
        rewritten = prepared.rewritten.get(body)
        if rewritten is None:
            rewritten = rendering.rewrite_wikilinks(body, old_slug, new_title)
        if rewritten != body:
            relinked = PageEdit(other.slug, other.title, rewritten, summary=summary)
            add_revision(session, other, relinked, author, prepared=prepared)

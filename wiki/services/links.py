"""Wiki links between pages: which slugs exist, who links where, and red links kept true.

Tags are in :mod:`wiki.services.tags`, sub-pages in :mod:`wiki.services.hierarchy`."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from flask import current_app
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from wiki.database import one_writer_at_a_time
from wiki.extensions import db
from wiki.models import Attachment, Link, Page, Redirect, Revision
from wiki.services import rendering
from wiki.services.access import EVERYTHING, Visibility
from wiki.services.paging import Ordering, Position, Slice, Window, keyset, window
from wiki.services.slugs import HOME

# A page's backlinks A–Z by the copy of the linking pages' slugs in ``link``, which
# ix_link_target_slug_from_slug holds in order; the key is read off each page as its slug.
BY_LINKING_ADDRESS = Ordering((Link.from_slug,), attributes=("slug",))


def existing_slugs(session: Session, slugs: Iterable[str],
                   visible: Visibility = EVERYTHING) -> set[str]:
    """The subset of *slugs* that lead to a page: live pages and redirects left by renames
    (only to pages *visible* shows: to anyone else a hidden page is missing)."""
    wanted = set(slugs)
    if not wanted:
        return set()
    live = session.scalars(select(Page.slug).where(
        Page.slug.in_(wanted), Page.deleted.is_(False), visible.slug_condition()))
    moved = select(Redirect.old_slug).where(Redirect.old_slug.in_(wanted))
    if not visible.hides_nothing:
        moved = moved.join(Page, Page.id == Redirect.page_id).where(visible.slug_condition())
    return set(live) | set(session.scalars(moved))


def page_files(session: Session, slug: str, names: Iterable[str],
               also: Iterable[str] = (), without: Iterable[str] = ()) -> rendering.PageFiles:
    """Which of *names* are files of the live page at *slug* (with *also* and not *without*:
    an upload or deletion about to be written)."""
    names = set(names)
    stored = session.scalars(
        select(Attachment.name).distinct().join(Page, Page.id == Attachment.page_id)
        .where(Page.slug == slug, Page.deleted.is_(False), Attachment.deleted.is_(False),
               Attachment.name.in_(names))
    ) if names else ()
    return rendering.PageFiles(slug, frozenset(((set(stored) | set(also)) - set(without)) & names))


def render_with_links(session: Session, body: str, also_existing: Iterable[str] = (),
                      known: Iterable[str] = (), page_slug: str | None = None
                      ) -> rendering.Rendered:
    """Render *body*, asking the database (once) which of its link targets exist, besides
    *also_existing* (which do) and the rest of *known* (which do not); its bare file names
    are the files of the page at *page_slug*, if given."""
    extra, known = set(also_existing), set(known) | set(also_existing)

    def existing(slugs: set[str]) -> set[str]:
        return existing_slugs(session, slugs - known) | (slugs & extra)

    files = None if page_slug is None else lambda names: page_files(session, page_slug, names)
    return rendering.render(body, existing, files)


@dataclass(frozen=True)
class Prerendered:
    """A body rendered before its write transaction, the link targets that existed then, and
    the page files its bare file names were taken to mean (None: not the page's files)."""

    body: str
    rendered: rendering.Rendered
    existing: frozenset[str]
    files: rendering.PageFiles | None = None


def prerender(session: Session, body: str, page_slug: str | None = None,
              also_files: Iterable[str] = (), without_files: Iterable[str] = ()) -> Prerendered:
    """Render *body* before the write that stores it: parsing Markdown (up to a second for a
    large page) then holds no writer lock, and other people's saves do not wait for it.
    :func:`settle` brings its links up to date inside the transaction. Bare file names are
    the files of the page at *page_slug* (see :func:`page_files`)."""
    existed: set[str] = set()
    seen: list[rendering.PageFiles] = []

    def existing(slugs: set[str]) -> set[str]:
        existed.update(existing_slugs(session, slugs))
        return existed

    def files(names: set[str]) -> rendering.PageFiles:
        seen.append(page_files(session, page_slug, names, also_files, without_files))
        return seen[-1]

    rendered = rendering.render(body, existing, None if page_slug is None else files)
    return Prerendered(body, rendered, frozenset(existed), seen[0] if seen else None)


def settle(session: Session, prerendered: Prerendered,
           also_existing: Iterable[str] = (), page: Page | None = None) -> rendering.Rendered:
    """*prerendered* with its links red or blue as they are now, inside the write transaction:
    the links whose target appeared or vanished since are patched, in one linear pass. If its
    bare file names now mean other files (the page was renamed, or a file uploaded since),
    it is rendered again, here."""
    rendered = prerendered.rendered
    if page is not None and rendered.files:
        # Take turns with uploads to the page, so that neither stores a stale view of the other.
        one_writer_at_a_time(session, f"attachments:{page.id}")
        if prerendered.files != page_files(session, page.slug, rendered.files):
            return render_with_links(session, prerendered.body, also_existing,
                                     page_slug=page.slug)
    now = existing_slugs(session, rendered.links) | (set(also_existing) & rendered.links)
    changed = now ^ prerendered.existing
    if not changed:
        return rendered
    return replace(rendered, html=rendering.relink(rendered.html, changed, now))


class TooLongToPreview(ValueError):
    """The text is over the page size limit: it would not save, so it is not rendered."""

    def __init__(self, limit: int) -> None:
        self.message = f"The page is too long to preview: at most {limit / 1_000_000:g} MB of text."
        super().__init__(self.message)


def preview(body: str, page_slug: str | None = None, visible: Visibility = EVERYTHING) -> str:
    """*body* rendered as a reader will see it once saved (on the page at *page_slug*, whose
    files its bare file names show), its links to pages *visible* hides red, as if missing.

    :raises TooLongToPreview: *body* is over ``MAX_PAGE_BYTES``, the limit on saving it.
    """
    limit = current_app.config["MAX_PAGE_BYTES"]
    if len(body.encode()) > limit:
        raise TooLongToPreview(limit)
    if page_slug is not None and not visible.shows(page_slug):
        def files(names: set[str]) -> rendering.PageFiles:  # a hidden page has none to show
            return rendering.PageFiles(page_slug, frozenset())
    elif page_slug is not None:
        def files(names: set[str]) -> rendering.PageFiles:
            return page_files(db.session, page_slug, names)
    else:
        files = None
    return rendering.render(body, lambda slugs: existing_slugs(db.session, slugs, visible),
                            files).html


def as_seen(html: str, visible: Visibility) -> str:
    """A page's stored *html* as a reader sees it: its links to pages *visible* hides red,
    as links to missing pages are (one pass over the HTML, as :func:`rendering.relink`)."""
    if visible.hides_nothing:
        return html
    hidden = {slug for slug in rendering.linked_pages(html) if not visible.shows(slug)}
    return rendering.relink(html, hidden, set()) if hidden else html


def set_links(session: Session, page: Page, targets: Mapping[str, str]) -> None:
    """Record *page*'s links: *targets* maps each target's slug to its title as written."""
    session.execute(delete(Link).where(Link.from_page_id == page.id))
    session.add_all(Link(**row) for row in link_rows(page.id, page.slug, targets))


def link_rows(page_id: int, page_slug: str, targets: Mapping[str, str]) -> list[dict]:
    """The ``link`` rows of the page *page_id* (at *page_slug*) linking to *targets*
    (slug → title)."""
    # A target longer than any page's address can never exist (and would not fit the
    # column on PostgreSQL): it stays a red link in the text, and is not recorded.
    longest = Link.target_slug.type.length
    return [{"from_page_id": page_id, "from_slug": page_slug, "target_slug": slug,
             "target_title": title[:longest]}
            for slug, title in targets.items() if len(slug) <= longest]


def page_moved(session: Session, page: Page) -> None:
    """Bring the copies of *page*'s slug in its links' rows up to date, after a rename."""
    session.execute(update(Link).where(Link.from_page_id == page.id)
                    .values(from_slug=page.slug))


def relink_pages_linking_to(session: Session, slugs: Iterable[str], exclude_page_id: int) -> None:
    """Turn the links to *slugs* red or blue in the current revision of every page linking there.

    Called when those slugs start or stop existing, inside the save that made them so, which
    holds the writer lock. So the linking pages are not rendered again from their Markdown
    (a heavy page would stall everyone's saves): their stored HTML is patched, the wiki
    links being our own markup, in one linear pass each.
    """
    for revision_id, html in _relinked(session, set(slugs), Page.id != exclude_page_id):
        session.execute(update(Revision).where(Revision.id == revision_id).values(html=html))


def relink_all_linking_to(session: Session, slugs: set[str],
                          exclude_page_ids: set[int]) -> None:
    """:func:`relink_pages_linking_to` for many *slugs* at once (pages made in bulk, which
    *exclude_page_ids* are): one statement for all the revisions it patches, which the
    session holds no copy of (a bulk import loads none), so none goes stale."""
    rows = [{"revision_id": revision_id, "html": html}
            for revision_id, html in _relinked(session, slugs, Page.id.not_in(exclude_page_ids))]
    if rows:
        revisions = Revision.__table__
        session.execute(update(revisions).where(revisions.c.id == bindparam("revision_id"))
                        .values(html=bindparam("html")), rows)


def _relinked(session: Session, slugs: set[str], which) -> list[tuple[int, str]]:
    """The current revisions (of pages matching *which*) whose HTML changes when the links
    to *slugs* are made red or blue, with that HTML."""
    linking_pages = select(Link.from_page_id).where(Link.target_slug.in_(slugs))
    linking = session.execute(
        select(Revision.id, Revision.html)
        .join(Page, Page.current_revision_id == Revision.id)
        .where(Page.id.in_(linking_pages), which)
    ).all()
    existing = existing_slugs(session, slugs) if linking else set()
    changed = []
    for revision_id, html in linking:
        relinked = rendering.relink(html, slugs, existing)
        if relinked != html:
            changed.append((revision_id, relinked))
    return changed


def backlink_count(page: Page, visible: Visibility = EVERYTHING) -> int:
    return db.session.scalar(backlink_count_query(page, visible)) or 0


def backlink_count_query(page: Page, visible: Visibility = EVERYTHING):
    return (
        select(func.count()).select_from(Link).join(Page, Page.id == Link.from_page_id)
        .where(Link.target_slug == page.slug, Page.deleted.is_(False), Page.id != page.id,
               visible.slug_condition())
    )


def backlinks_query(slug: str, visible: Visibility = EVERYTHING):
    """Live pages linking to *slug* (a page's links to itself left out), A–Z: a walk along
    the target's stretch of ix_link_target_slug_from_slug, in order, one window at a time."""
    return (
        select(Page)
        .join(Link, Link.from_page_id == Page.id)
        .where(Link.target_slug == slug, Page.deleted.is_(False), Link.from_slug != slug,
               visible.slug_condition(Link.from_slug))
        .order_by(*BY_LINKING_ADDRESS.order())
    )


def backlinks(slug: str, position: Position, per_page: int,
              visible: Visibility = EVERYTHING) -> Slice:
    """The page at *position* of the live pages (that *visible* shows) linking to *slug*, A–Z.

    :raises paging.BadCursor: *position* is no address.
    """
    return keyset(backlinks_query(slug, visible), BY_LINKING_ADDRESS, position, per_page)


def wanted_query(visible: Visibility = EVERYTHING):
    """Slugs that pages link to but no page has, with a title a link gives each (None
    if only links recorded before titles were kept) and how many pages want each. To a
    reader *visible* narrows, a hidden page is missing, and only the pages shown want."""
    wants = func.count(Link.from_page_id).label("wants")
    live_slugs = select(Page.slug).where(Page.deleted.is_(False), visible.slug_condition())
    moved = select(Redirect.old_slug).join(Page, Page.id == Redirect.page_id)
    if not visible.hides_nothing:
        moved = moved.where(visible.slug_condition())
    return (
        select(Link.target_slug, func.min(Link.target_title), wants)
        .join(Page, Page.id == Link.from_page_id)
        .where(Page.deleted.is_(False), Link.target_slug.not_in(live_slugs),
               Link.target_slug.not_in(moved), visible.slug_condition())
        .group_by(Link.target_slug)
        .order_by(wants.desc(), Link.target_slug)
    )


def wanted(number: int, per_page: int, visible: Visibility = EVERYTHING) -> Window:
    """Page *number* of the wanted slugs, as ``(slug, title or None, wants)`` rows."""
    return window(wanted_query(visible), number, per_page, scalars=False)


def orphans_query(visible: Visibility = EVERYTHING):
    """Live pages nothing links to (the home page excepted); links from pages *visible*
    hides do not count, or they would give the hidden pages away."""
    linked = (
        select(Link.target_slug)
        .join(Page, Page.id == Link.from_page_id)
        .where(Page.deleted.is_(False), Page.slug != Link.target_slug,  # self-links don't count
               visible.slug_condition())
    )
    return (
        select(Page)
        .where(Page.deleted.is_(False), Page.slug != HOME, Page.slug.not_in(linked),
               visible.slug_condition())
        .order_by(Page.title)
    )


def orphans(number: int, per_page: int, visible: Visibility = EVERYTHING) -> Window:
    """Page *number* of the live pages nothing links to, by title."""
    return window(orphans_query(visible), number, per_page)

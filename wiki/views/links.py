"""How pages connect: backlinks and tags."""

from flask import Blueprint, render_template

from wiki.permissions import Action
from wiki.services import links, pages
from wiki.services import tags as tagging
from wiki.services.pages import normalise_tags
from wiki.web.access import require, shown, visible
from wiki.web.pagination import requested_position

bp = Blueprint("links", __name__)

PAGE_SIZE = 100


@bp.get("/backlinks/<path:slug>")
def backlinks(slug: str):
    """Pages linking to *slug*; works for a missing page too (who wants it?)."""
    require(Action.READ)
    page = pages.get_page(slug)
    if page is not None and not shown(page):
        page = None  # hidden from this reader: as if missing
    listing = links.backlinks(slug, requested_position(), PAGE_SIZE, visible())
    return render_template("links/backlinks.html", slug=slug, page=page, listing=listing)


@bp.get("/tags")
def tags():
    require(Action.READ)
    counts = tagging.tag_counts(visible())
    return render_template("links/tags.html", counts=counts)


@bp.get("/tags/<tag>")
def tag(tag: str):
    require(Action.READ)
    name = (normalise_tags(tag) or [""])[0]
    listing = tagging.tagged_pages(name, requested_position(), PAGE_SIZE, visible())
    return render_template("links/tag.html", tag=name, listing=listing)

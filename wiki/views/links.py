"""How pages connect: backlinks and tags."""

from flask import Blueprint, render_template

from wiki.extensions import db
from wiki.permissions import Action
from wiki.services import links, pages
from wiki.services.pages import normalise_tags
from wiki.services.tags import tag_counts_query, tagged_pages_query
from wiki.web.access import require
from wiki.web.pagination import window

bp = Blueprint("links", __name__)

PAGE_SIZE = 100


@bp.get("/backlinks/<path:slug>")
def backlinks(slug: str):
    """Pages linking to *slug*; works for a missing page too (who wants it?)."""
    require(Action.READ)
    page = pages.get_page(slug)
    listing = window(links.backlinks_query(slug), PAGE_SIZE)
    return render_template("links/backlinks.html", slug=slug, page=page, listing=listing)


@bp.get("/tags")
def tags():
    require(Action.READ)
    counts = db.session.execute(tag_counts_query()).all()
    return render_template("links/tags.html", counts=counts)


@bp.get("/tags/<tag>")
def tag(tag: str):
    require(Action.READ)
    name = (normalise_tags(tag) or [""])[0]
    listing = window(tagged_pages_query(name), PAGE_SIZE)
    return render_template("links/tag.html", tag=name, listing=listing)

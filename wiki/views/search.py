"""Full-text search results, and the titles behind the header's quick jump."""

from flask import Blueprint, jsonify, render_template, request, url_for

from wiki.permissions import Action
from wiki.services import search
from wiki.web.access import require, visible
from wiki.web.pagination import requested_page

bp = Blueprint("search", __name__)

RESULTS_PER_PAGE = 20
QUICK_JUMP_TITLES = 10


@bp.get("/search")
def results():
    require(Action.READ)
    query = request.args.get("q", "").strip()
    if not query:
        return render_template("search/results.html", query="", results=None)
    found = search.search(query, page=requested_page(), per_page=RESULTS_PER_PAGE,
                          visible=visible())
    return render_template("search/results.html", query=query, results=found)


@bp.get("/api/v1/titles")
def titles():
    require(Action.READ)
    matches = search.titles(request.args.get("q", ""), limit=QUICK_JUMP_TITLES,
                            visible=visible())
    return jsonify([
        {"title": match.title, "slug": match.slug,
         "url": url_for("pages.view", slug=match.slug)}
        for match in matches
    ])

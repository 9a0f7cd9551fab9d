"""The JSON API under ``/api/v1``: pages, their history, diffs, search and backlinks, for
scripts holding a personal token (``Authorization: Bearer <token>``) and for the browser
session.

Every answer is JSON, every error an RFC 9457 problem document (``wiki/errors.py``). A
token call needs no CSRF token; a session's writes do (``X-CSRFToken``), as forms do. The
routes and ``wiki/web/openapi.py`` describe each other: a test fails when they disagree.

The one policy holds here as on the pages, for the caller (the token's user): a page the
access rules hide reads as a missing one, lists and search are filtered in their queries, and
links to hidden pages show as links to missing ones.
"""

from flask import Blueprint, jsonify, render_template, request, url_for
from flask.views import MethodView
from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from wiki.errors import problem
from wiki.extensions import csrf, limiter
from wiki.forms import checks_its_own_csrf_token
from wiki.models import Page
from wiki.permissions import Action, can, visibility
from wiki.services import api, links, pages, rendering
from wiki.services.access import Visibility
from wiki.web import bearer, openapi
from wiki.web.arguments import DATABASE_INT_MAX, int_argument, whole_number
from wiki.web.pagination import requested_page

bp = Blueprint("api_v1", __name__)
API = "/api/v1"  # every route but the page describing them, /help/api
limiter.limit(bearer.rate_limit, key_func=bearer.rate_limit_key)(bp)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PER_PAGE = 50
REVISION = f"<int(max={DATABASE_INT_MAX}):number>"
CONFLICT_TYPE = "/help/api#edit-conflict"


@bp.before_request
def identify_the_caller() -> None:
    """Find the caller (a bad token answers 401 here), and hold a signed-in session's
    writes to the CSRF check that forms get. A browser never sends a token on its own, so a
    token call needs none."""
    if not request.path.startswith(f"{API}/"):
        return  # the reference page
    who = bearer.caller()
    if who.token is None and who.user.is_authenticated and request.method not in SAFE_METHODS:
        csrf.protect()  # an anonymous write is refused by the policy: 401, not 400


@bp.after_request
def never_kept(response):
    """API answers are for their caller only, and change with every save."""
    if request.path.startswith(f"{API}/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def per_page() -> int:
    return whole_number(request.args.get("per_page")) or PER_PAGE


def visible() -> Visibility:
    """What the caller (a token's user, else the session's) may see."""
    return visibility(bearer.caller().user)


def live_page_or_404(slug: str) -> Page:
    """:raises NotFound: no live page at *slug*, or one the access rules hide from the
    caller (the same answer: a hidden page is not told apart from a missing one)."""
    page = pages.get_page(slug)
    if page is None or not can(bearer.caller().user, Action.READ, page):
        raise NotFound(f"There is no page at “{slug}”.")
    return page


def revision_or_404(page: Page, number: int | None):
    """:raises NotFound: *page* has no revision *number*."""
    revision = pages.get_revision(page, number) if number is not None else None
    if revision is None:
        raise NotFound(f"“{page.title}” has revisions 1 to {page.revision_number}.")
    return revision


def listing(key: str, items: list, window, endpoint: str, **values):
    """A page of a list, with the address of the next page when there is one."""
    following = (url_for(endpoint, **values, **request.args.to_dict() | {"page": window.page + 1})
                 if window.has_next else None)
    return jsonify({key: items, "page": window.page, "next": following})


def shown(document: dict) -> dict:
    """*document* with its HTML as the caller sees it: links to pages hidden from them
    shown as missing, site links under the path the app is served from."""
    html = links.as_seen(document["html"], visible())
    return document | {"html": rendering.under_root(html, request.script_root)}


@bp.get(f"{API}/pages")
def page_list():
    bearer.require(Action.READ)
    window = api.page_list(requested_page(), per_page(), tag=request.args.get("tag", ""),
                           prefix=request.args.get("prefix", ""), visible=visible())
    return listing("pages", [api.page_summary(page) for page in window.items], window,
                   "api_v1.page_list")


class PageResource(MethodView):
    """One page: read it, create or update it, delete it."""

    def get(self, slug: str):
        bearer.require(Action.READ)
        return jsonify(shown(api.page_document(live_page_or_404(slug))))

    def put(self, slug: str):
        page = pages.get_page(slug)
        # Rules decide by address, so a hidden page and a missing one are refused alike.
        bearer.require(Action.EDIT if page else Action.CREATE, page or slug)
        document = request.get_json()  # 400 for broken JSON, 415 for another type
        try:
            result = api.save_page(slug, document, bearer.caller().user)
        except api.InvalidDocument as error:
            return problem(422, error.message, field=error.field)
        except pages.UnknownBase as error:
            return problem(409, error.message, current_revision=error.current)
        except pages.PageDeleted as error:
            return problem(409, error.message)
        except pages.PageError as error:
            return problem(422, error.message, field=error.part.name.lower())
        except api.EditConflicts as refused:
            conflict = refused.conflict
            return problem(409, "The page changed since your base revision, on the same "
                                "lines as your edit: nothing was saved. Merge by hand and send "
                                f"it again with base_revision {conflict.current_revision}.",
                           title="Edit conflict", type_uri=CONFLICT_TYPE,
                           current_revision=conflict.current_revision, merged=conflict.merged,
                           theirs=conflict.theirs, yours=conflict.yours)
        document = shown(api.page_document(result.page)) | {
            "outcome": result.outcome.name.lower(), "merged_with": result.merged_with}
        if result.outcome is pages.Outcome.CREATED:
            return jsonify(document), 201, {
                "Location": url_for("api_v1.page", slug=result.page.slug)}
        return jsonify(document)

    def delete(self, slug: str):
        page = live_page_or_404(slug)
        if page.slug == pages.HOME:  # which the policy forbids to all: say why
            raise Forbidden("The home page cannot be deleted; edit it instead.")
        bearer.require(Action.DELETE, page)
        pages.delete(page.slug)
        return "", 204


page_view = checks_its_own_csrf_token(PageResource.as_view("page"))
bp.add_url_rule(f"{API}/pages/<path:slug>", view_func=page_view)


@bp.get(f"{API}/pages/<path:slug>/history")
def history(slug: str):
    bearer.require(Action.READ_HISTORY)
    page = live_page_or_404(slug)
    window = api.history(page, requested_page(), per_page())
    return listing("revisions", [api.revision_summary(revision) for revision in window.items],
                   window, "api_v1.history", slug=page.slug)


@bp.get(f"{API}/pages/<path:slug>/revisions/{REVISION}")
def revision(slug: str, number: int):
    bearer.require(Action.READ_HISTORY)
    page = live_page_or_404(slug)
    return jsonify(shown(api.page_document(page, revision_or_404(page, number))))


@bp.get(f"{API}/pages/<path:slug>/diff")
def diff(slug: str):
    """``?from=A&to=B``: *to* defaults to the current revision, *from* to the one before."""
    bearer.require(Action.READ_HISTORY)
    page = live_page_or_404(slug)
    to_number = int_argument("to", page.revision_number)
    from_number = int_argument("from", (to_number or 1) - 1)
    if to_number is None or from_number is None:
        raise BadRequest("from and to must be revision numbers.")
    new = revision_or_404(page, to_number)
    old = revision_or_404(page, from_number) if from_number else None
    return jsonify(api.diff(old, new))


@bp.get(f"{API}/pages/<path:slug>/backlinks")
def backlinks(slug: str):
    """Works for a missing page too (who wants it?), and so for a hidden one, alike."""
    bearer.require(Action.READ)
    window = api.backlinks(slug, requested_page(), per_page(), visible())
    return listing("pages", [api.page_summary(page) for page in window.items], window,
                   "api_v1.backlinks", slug=slug)


@bp.get(f"{API}/search")
def search():
    bearer.require(Action.READ)
    query = request.args.get("q", "").strip()
    if not query:
        raise BadRequest("Say what to search for: ?q=words.")
    return jsonify(api.search_results(query, requested_page(), per_page(), visible()))


@bp.get(f"{API}/openapi.json")
@limiter.exempt
def openapi_document():
    return jsonify(openapi.document(request.script_root))


@bp.get("/help/api")
@limiter.exempt
def reference():
    """The API described for people: the OpenAPI document, rendered."""
    return render_template("api/reference.html", spec=openapi.document(request.script_root))

"""A page's history, diffs between revisions, reverts, recent changes and their feed."""

import html

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from wiki.forms import ConfirmForm, checks_its_own_csrf_token
from wiki.models import Page, Revision
from wiki.permissions import Action, can
from wiki.services import diffing, links, pages, rendering
from wiki.services import history as page_history
from wiki.services.access import Visibility
from wiki.services.text import xml_safe
from wiki.views import form_status
from wiki.web.access import require, shown, visible
from wiki.web.arguments import int_argument, whole_number
from wiki.web.loaders import get_page_with_history_or_404, get_revision_or_404, unless_hidden
from wiki.web.pagination import requested_position

bp = Blueprint("history", __name__)

HISTORY_PAGE_SIZE = 50
RECENT_PAGE_SIZE = 50
FEED_SIZE = 30
FEED_DIFF_CHARS = 4_000  # of each entry's diff; the entry links to the whole diff
FEED_PAGE_CHARS = 20_000  # of a revision's HTML shown in its entry; a longer one is linked


@bp.get("/history/<path:slug>")
def history(slug: str):
    require(Action.READ_HISTORY)
    page = get_page_with_history_or_404(slug)
    listing = page_history.revisions(page, requested_position(), HISTORY_PAGE_SIZE)
    return render_template("history/history.html", page=page, listing=listing,
                           size_changes=page_history.size_changes(page, listing.items))


@bp.get("/diff/<path:slug>")
def diff(slug: str):
    require(Action.READ_HISTORY)
    page = get_page_with_history_or_404(slug)
    to_number = int_argument("to", page.revision_number)
    new = get_revision_or_404(page, to_number)
    from_number = int_argument("from", new.number - 1)
    old = get_revision_or_404(page, from_number) if from_number != 0 else None
    layout = "split" if request.args.get("view") == "split" else "inline"
    changes = diffing.diff_texts(old.body if old else "", new.body)
    return render_template("history/diff.html", page=page, old=old, new=new, diff=changes,
                           layout=layout, from_number=from_number, to_number=to_number)


@bp.route("/revert/<path:slug>", methods=["GET", "POST"])
@checks_its_own_csrf_token
def revert(slug: str):
    page = get_page_with_history_or_404(slug)
    require(Action.RESTORE if page.deleted else Action.REVERT, page)
    target = get_revision_or_404(page, int_argument("rev"))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            result = pages.revert(slug, target.number, current_user,
                                  base_revision=whole_number(request.form.get("base_revision")))
        except pages.EditConflict as conflict:
            return revert_form(conflict.page, target, form, conflict)
        if result.outcome is pages.Outcome.UNCHANGED:
            flash(f"The page already has the text of revision {target.number}.", "info")
        else:
            flash(f"Reverted to revision {target.number}.", "success")
        return redirect(url_for("pages.view", slug=result.page.slug), 303)
    return revert_form(page, target, form)


def revert_form(page: Page, target: Revision, form: ConfirmForm,
                conflict: pages.EditConflict | None = None):
    """The confirmation of a revert, showing the change it makes to the current text (and,
    after *conflict*, why it must be confirmed again)."""
    current_body = "" if page.deleted else page.current_revision.body
    changes = diffing.diff_texts(current_body, target.body)
    return render_template("history/revert.html", page=page, target=target, diff=changes,
                           form=form, conflict=conflict), 409 if conflict else form_status(form)


@bp.get("/recent")
def recent():
    require(Action.READ)
    username = request.args.get("user", "").strip()
    hide_minor = request.args.get("hide_minor") == "1"
    listing = page_history.recent_changes(requested_position(), RECENT_PAGE_SIZE, username=username,
                                          hide_minor=hide_minor, visible=visible())
    return render_template("history/recent.html", listing=listing, username=username,
                           hide_minor=hide_minor)


@bp.get("/recent.atom")
def feed():
    """Recent changes as Atom; ``?page=<slug>`` watches one page, ``?tag=<tag>`` the pages
    carrying a tag.

    :raises: 404 for a page that is not there (a feed reader then tells its reader), 301 to
        the new feed of a renamed page (readers follow it and keep the subscription), 400
        for both at once. A tag no page carries yet is an empty feed: it may come.
    """
    require(Action.READ)
    slug, tag = request.args.get("page"), request.args.get("tag")
    watched_page = None
    if slug is not None and tag is not None:
        abort(400, "Watch one page or one tag: give ?page= or ?tag=, not both.")
    if slug is not None:
        watched_page = pages.get_page(slug)
        if watched_page is None:
            moved = pages.find_redirect(slug)
            if moved is not None and shown(moved):
                return redirect(url_for("history.feed", page=moved.slug), 301)
            abort(404)
        unless_hidden(watched_page)
        changes = page_history.page_changes(watched_page, FEED_SIZE)
    elif tag is not None:
        tag = (pages.normalise_tags(tag) or [""])[0]
        if not tag:
            abort(404)
        changes = page_history.tagged_changes(tag, FEED_SIZE, visible())
    else:
        changes = page_history.latest_changes(FEED_SIZE, visible())
    if can(current_user, Action.READ_HISTORY):
        previous = page_history.previous_bodies(changes)
        entries = [(revision, feed_diff(previous.get((revision.page_id, revision.number - 1), ""),
                                        revision) + feed_page(revision, visible()))
                   for revision in changes]
    else:  # diffs are history, which this reader may not see: the entries name the pages
        entries = [(revision, None) for revision in changes]
    body = render_template("history/recent.atom.xml", entries=entries, watched_page=watched_page,
                           watched_tag=tag, updated=changes[0].created_at if changes else None)
    # Old titles and texts may hold characters XML cannot carry; markup never does.
    return xml_safe(body), 200, {"Content-Type": "application/atom+xml; charset=utf-8"}


def feed_diff(previous_body: str, revision: Revision) -> str:
    """The change a revision made as HTML: a unified diff, escaped, in a ``<pre>``; cut to
    :data:`FEED_DIFF_CHARS`, with a link to the whole diff, so a feed of big pages stays small.

    The feed template escapes this HTML once more, as Atom's ``type="html"`` requires.
    """
    change = diffing.unified(previous_body, revision.body,
                             f"revision {revision.number - 1}", f"revision {revision.number}")
    if len(change) <= FEED_DIFF_CHARS:
        return f"<pre>{html.escape(change)}</pre>"
    whole = url_for("history.diff", slug=revision.page.slug, _external=True,
                    **{"from": revision.number - 1, "to": revision.number})
    return (f"<pre>{html.escape(change[:FEED_DIFF_CHARS])}\n…</pre>"
            f'<p><a href="{html.escape(whole)}">The whole change</a> is longer.</p>')


def feed_page(revision: Revision, visible: Visibility) -> str:
    """The page as *revision* reads, as HTML (math as MathML), after its change; a link to it
    instead when it is longer than :data:`FEED_PAGE_CHARS`."""
    if len(revision.html) > FEED_PAGE_CHARS:
        url = url_for("pages.view", slug=revision.page.slug, rev=revision.number, _external=True)
        return (f'<p><a href="{html.escape(url)}">The page at revision {revision.number}</a> '
                "is too long to show here.</p>")
    shown_html = links.as_seen(revision.html, visible)  # links to hidden pages look missing
    return f"<hr>{rendering.under_root(shown_html, request.script_root)}"


@bp.get("/deleted")
def deleted():
    require(Action.RESTORE)
    listing = page_history.deleted_pages(requested_position(), HISTORY_PAGE_SIZE)
    return render_template("history/deleted.html", listing=listing)

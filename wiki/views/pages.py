"""Reading, creating, editing and deleting pages."""

from dataclasses import replace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from wiki.extensions import db
from wiki.forms import ConfirmForm, PageForm, RenameForm, checks_its_own_csrf_token
from wiki.models import Page, Revision
from wiki.permissions import Action
from wiki.services import diffing, links, pages
from wiki.services.slugs import slugify
from wiki.views import form_status
from wiki.web import caching
from wiki.web.access import require
from wiki.web.arguments import whole_number
from wiki.web.pagination import window

bp = Blueprint("pages", __name__)

CHILDREN_SHOWN = 100
PAGE_LIST_SIZE = 100
LISTS = {"all", "wanted", "orphans"}


def live_page(slug: str):
    """A query for the live page at *slug*, its current revision and author loaded with it."""
    return (
        select(Page)
        .options(joinedload(Page.current_revision).joinedload(Revision.author))
        .where(Page.slug == slug, Page.deleted.is_(False))
    )


def get_page_or_404(slug: str) -> Page:
    """The live page at *slug*.

    :raises NotFound: there is no such page (a deleted page counts as missing).
    """
    return db.one_or_404(live_page(slug))


@bp.get("/")
@caching.keeps_page
def home():
    return view(pages.HOME)


@bp.get("/wiki/<path:slug>")
@caching.keeps_page
def view(slug: str):
    require(Action.READ)
    page = db.session.scalar(live_page(slug))
    if page is None:
        return missing_page(slug)
    revision = page.current_revision
    if "rev" in request.args:
        revision = get_revision_or_404(page, whole_number(request.args["rev"]))
    context = dict(
        page=page, revision=revision, backlinks=links.backlink_count(page),
        breadcrumbs=links.breadcrumbs(page.slug),
        children=db.session.scalars(links.children_query(page).limit(CHILDREN_SHOWN)).all(),
    )
    return caching.respond(caching.page_validators(**context),
                           lambda: render_template("pages/view.html", **context))


def get_revision_or_404(page: Page, number: int | None) -> Revision:
    """Revision *number* of *page*.

    :raises NotFound: with a message naming the revisions the page does have.
    """
    revision = pages.get_revision(page, number) if number is not None else None
    if revision is None:
        abort(404, f"“{page.title}” has no revision {number if number is not None else ''}. "
                   f"It has revisions 1 to {page.revision_number}.")
    return revision


def missing_page(slug: str):
    """A slug without a live page: say it was deleted, follow a rename, fix a sloppy address,
    or 404 offering to create it."""
    if deleted := pages.get_any_page(slug):
        return deleted_page(deleted)
    if moved := pages.find_redirect(slug):
        return redirect(url_for("pages.view", slug=moved.slug), 301)
    canonical = slugify(slug)
    if canonical and canonical != slug:
        return redirect(url_for("pages.view", slug=canonical), 301)
    return render_template("errors/404.html", missing_slug=slug,
                           missing_title=suggested_title(slug)), 404


def deleted_page(page: Page):
    """404 for a deleted page: it says so (administrators get a link to restore it)."""
    return render_template("errors/404.html", deleted_page=page), 404


def suggested_title(slug: str) -> str:
    """The title a new page at *slug* starts with: the one a red link passed, else the slug's."""
    return request.args.get("title") or pages.title_from_slug(slug)


@bp.route("/new", methods=["GET", "POST"])
@checks_its_own_csrf_token
def new():
    require(Action.CREATE)
    form = PageForm(title=request.args.get("title", ""))
    return edit_form(None, form)


@bp.route("/edit/<path:slug>", methods=["GET", "POST"])
@checks_its_own_csrf_token
def edit(slug: str):
    page = pages.get_page(slug)
    require(Action.EDIT if page else Action.CREATE, page)
    if page is None and (moved := pages.find_redirect(slug)):
        if request.method == "POST":
            return edit_renamed(slug, moved)
        return redirect(url_for("pages.edit", slug=moved.slug), 301)
    if page is None and request.method == "GET" and (deleted := pages.get_any_page(slug)):
        return deleted_page(deleted)
    if page is None:
        form = PageForm(title=suggested_title(slug), base_revision="0")
    else:
        revision = page.current_revision
        form = PageForm(
            title=page.title, body=revision.body, base_revision=str(page.revision_number),
            tags=", ".join(tag.name for tag in page.tags),
        )
    return edit_form(slug, form, page)


def edit_renamed(old_slug: str, page: Page):
    """A save posted to the address *page* had before a rename (the editor was opened before
    it): save to the page, through the usual check of the base revision. A redirect would
    make the browser fetch the editor again and drop the text."""
    require(Action.EDIT, page)
    form = PageForm()
    if slugify(form.title.data or "") == old_slug:
        form.title.data = page.title  # the title the editor showed: the rename's title wins
    return edit_form(page.slug, form, page)


def edit_form(slug: str | None, form: PageForm, page: Page | None = None):
    """Show the editor; on a valid POST, save and redirect to the page (303)."""
    if form.preview.data and form.is_submitted():
        try:
            preview = links.preview(db.session, pages.normalise_body(form.body.data or ""))
        except links.TooLongToPreview as error:
            form.body.errors = [error.message]
            return render_template("pages/edit.html", form=form, page=page, slug=slug), 422
        return render_template("pages/edit.html", form=form, page=page, slug=slug, preview=preview)
    if not form.validate_on_submit():
        return render_template("pages/edit.html", form=form, page=page, slug=slug), \
            form_status(form)
    base_revision = whole_number(form.base_revision.data)
    if base_revision is None and (form.base_revision.data or "").strip():
        return refuse_base_revision(slug, form, page)
    try:
        result = pages.save(
            slug, form.title.data, form.body.data or "", current_user,
            summary=form.summary.data or "", tags=form.tags.data or "",
            base_revision=base_revision, minor=form.minor.data,
        )
    except pages.PageError as error:
        getattr(form, error.field, form.title).errors.append(error.message)
        if isinstance(error, pages.UnknownBase):
            form.base_revision.data = str(error.current)
        status = 409 if isinstance(error, pages.PageDeleted | pages.UnknownBase) else 422
        return render_template("pages/edit.html", form=form, page=page, slug=slug,
                               error_slug=error.slug), status
    except pages.EditConflict as conflict:
        form.base_revision.data = str(conflict.current.number)
        their_change = diffing.diff_texts(conflict.base_body, conflict.current.body)
        return render_template("pages/edit.html", form=form, page=conflict.page, slug=slug,
                               conflict=conflict, their_change=their_change), 409
    flash_outcome(result)
    return redirect(url_for("pages.view", slug=result.page.slug), 303)


def flash_outcome(result: pages.SaveResult) -> None:
    if result.outcome == "merged":
        flash(f"Someone saved revision {result.merged_with} while you were editing; "
              "your changes were merged with theirs.", "info")
    elif result.outcome == "unchanged":
        flash("No changes to save.", "info")
    elif result.outcome == "retagged":
        flash("Tags saved. The text had not changed, so no new revision was made.", "success")
    elif result.outcome == "created":
        flash("Page created.", "success")
    else:
        flash("Saved.", "success")


def refuse_base_revision(slug: str | None, form: PageForm, page: Page | None):
    """422 for a base revision that is no revision number: a damaged form. The text is kept,
    and saving again starts from the current revision."""
    form.body.errors.append("This editor's revision number is damaged, so nothing was saved. "
                            "Your text is below: check it against the page, then save again.")
    form.base_revision.data = str(page.revision_number if page else 0)
    return render_template("pages/edit.html", form=form, page=page, slug=slug), 422


@bp.route("/delete/<path:slug>", methods=["GET", "POST"])
@checks_its_own_csrf_token
def delete(slug: str):
    page = get_page_or_404(slug)
    if page.slug == pages.HOME:  # which the policy forbids to all: say why
        return render_template("pages/delete.html", page=page, refused=True), 403
    require(Action.DELETE, page)
    form = ConfirmForm()
    if form.validate_on_submit():
        pages.delete(slug, current_user)
        flash(f"“{page.title}” was deleted. Its history is kept.", "success")
        return redirect(url_for("pages.home"), 303)
    return render_template("pages/delete.html", page=page, form=form), form_status(form)


@bp.route("/rename/<path:slug>", methods=["GET", "POST"])
@checks_its_own_csrf_token
def rename(slug: str):
    page = get_page_or_404(slug)
    require(Action.RENAME, page)
    form = RenameForm(title=page.title) if request.method == "GET" else RenameForm()
    if form.validate_on_submit():
        try:
            renamed = pages.rename(slug, form.title.data, current_user,
                                   rewrite_links=form.rewrite_links.data)
        except pages.PageError as error:
            form.title.errors.append(error.message)
        else:
            flash(f"Renamed. The old address now leads to “{renamed.title}”.", "success")
            return redirect(url_for("pages.view", slug=renamed.slug), 303)
    return render_template("pages/rename.html", page=page, form=form,
                           backlinks=links.backlink_count(page)), form_status(form)


@bp.get("/pages")
def index():
    """All pages A–Z, or the wanted pages (red-link targets), or the orphans."""
    require(Action.READ)
    show = request.args.get("show", "all")
    if show not in LISTS:
        show = "all"
    if show == "wanted":
        listing = window(links.wanted_query(), PAGE_LIST_SIZE, scalars=False)
        listing = replace(listing, items=[(slug, title or pages.title_from_slug(slug), wants)
                                          for slug, title, wants in listing.items])
    elif show == "orphans":
        listing = window(links.orphans_query(), PAGE_LIST_SIZE)
    else:
        listing = window(pages.page_list_query(), PAGE_LIST_SIZE)
    return render_template("pages/index.html", listing=listing, show=show)


@bp.get("/help/shortcuts")
def shortcuts():
    """The keyboard shortcuts that static/js/wiki.js adds."""
    return render_template("help/shortcuts.html")

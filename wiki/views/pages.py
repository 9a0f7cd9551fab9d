"""Reading, creating, editing and deleting pages."""

from dataclasses import replace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from wiki.forms import ConfirmForm, PageForm, RenameForm, SectionForm, checks_its_own_csrf_token
from wiki.models import Page, Revision
from wiki.permissions import Action, can, rank
from wiki.services import diffing, links, page_templates, pages, reading, rendering, sections
from wiki.services.contents import contents_and_text
from wiki.services.slugs import slugify
from wiki.views import form_status
from wiki.web import caching, security, signed_in, validators
from wiki.web.access import reader, require, shown, visible
from wiki.web.arguments import whole_number
from wiki.web.loaders import abort_no_revision, get_page_or_404
from wiki.web.pagination import requested_page, requested_position

bp = Blueprint("pages", __name__)

PAGE_LIST_SIZE = 100
LISTS = {"all", "wanted", "orphans"}
# The editor's field that shows a refusal about each part of an edit (the base revision is
# a hidden field: its refusals show on the text, which is what is kept for the user).
FORM_FIELDS = {
    pages.Part.TITLE: "title", pages.Part.BODY: "body", pages.Part.SUMMARY: "summary",
    pages.Part.TAGS: "tags", pages.Part.REVISION: "body", pages.Part.PAGE: "title",
}
SAVE_MESSAGES = {
    pages.Outcome.CREATED: ("Page created.", "success"),
    pages.Outcome.SAVED: ("Saved.", "success"),
    pages.Outcome.MERGED: ("Someone saved revision {merged_with} while you were editing; "
                           "your changes were merged with theirs.", "info"),
    pages.Outcome.RETAGGED: ("Tags saved. The text had not changed, so no new revision was "
                             "made.", "success"),
    pages.Outcome.UNCHANGED: ("No changes to save.", "info"),
}


@bp.get("/")
@caching.keeps_page
def home():
    return view(pages.HOME)


@bp.get("/wiki/<path:slug>")
@caching.keeps_page
def view(slug: str):
    """The page, its article rendered for the reader's role or kept from the last time this
    worker rendered it for that role, if the wiki has not changed since."""
    require(Action.READ)
    version = caching.wiki_version()
    article = caching.kept_article(version)
    if article is None:
        page = page_seen(slug)
        if page is None:
            return missing_page(slug)
        article = render_article(page, version)
    response = validators.respond(validators.for_this_reader(article.validators),
                                  lambda: signed_in.page_around(article))
    if article.diagram:  # on a 304 too: its headers count
        security.allow_diagram_styles(response)
    return response


def page_seen(slug: str) -> reading.PageView | None:
    """The page at *slug* as the current user is shown it, at the revision ``?rev=`` asks
    for; None if there is no such page they may see.

    :raises NotFound: the page has no such revision.
    """
    try:
        return reading.page_view(slug, requested_revision(), rank(reader()))
    except reading.NoSuchRevision as missing:
        abort_no_revision(missing.page, missing.number)


def requested_revision() -> int | None | reading.Current:
    """The revision ``?rev=`` asks for: its number (None if it is no number), or the
    current one if it asks for none."""
    if "rev" not in request.args:
        return reading.CURRENT
    return whole_number(request.args["rev"])


def render_article(view: reading.PageView, version: int | None) -> caching.KeptArticle:
    """The page *view* as the current user is shown it, kept for the next reader of the
    same role.

    :raises Forbidden: an old revision, for a role that may not read history.
    """
    page, revision = view.page, view.revision
    if revision.number != page.revision_number:
        require(Action.READ_HISTORY, page.slug)
    context = dict(vars(view))  # its fields, by name
    contents, text = contents_and_text(view.html)
    # Jinja escaped everything in it as it rendered: it is HTML, to be shown as it is.
    html = Markup(render_template(  # noqa: S704
        "pages/article.html", **{**context, "html": text}, contents=contents))
    return caching.keep_article(caching.KeptArticle(
        version, validators.page_validators(**context), page.title, page.slug,
        rendering.has_diagram(view.html), bool(contents), html))


def missing_page(slug: str):
    """A slug without a live page (that the user may see): say it was deleted, follow a
    rename, fix a sloppy address, or 404 offering to create it. A page hidden from the user
    answers exactly as a missing one."""
    if (deleted := visible_deleted_page(slug)) is not None:
        return deleted_page(deleted)
    if moved := visible_redirect(slug):
        return redirect(url_for("pages.view", slug=moved.slug), 301)
    canonical = slugify(slug)
    if canonical and canonical != slug:
        return redirect(url_for("pages.view", slug=canonical), 301)
    return render_template("errors/404.html", missing_slug=slug,
                           missing_title=suggested_title(slug)), 404


def visible_deleted_page(slug: str) -> Page | None:
    """The deleted page at *slug*, unless the access rules hide it from the user."""
    page = pages.get_any_page(slug)
    return page if page is not None and page.deleted and shown(page) else None


def visible_redirect(slug: str) -> Page | None:
    """The page *slug* led to before a rename, unless the access rules hide it."""
    moved = pages.find_redirect(slug)
    return moved if moved is not None and shown(moved) else None


def deleted_page(page: Page):
    """404 for a deleted page: it says so (administrators get a link to restore it)."""
    return render_template("errors/404.html", deleted_page=page), 404


def suggested_title(slug: str) -> str:
    """The title a new page at *slug* starts with: the one a red link passed, else the slug's."""
    return request.args.get("title") or pages.title_from_slug(slug)


@bp.route("/new", methods=["GET", "POST"])
@checks_its_own_csrf_token
@security.draws_diagrams
def new():
    require(Action.CREATE)
    form = PageForm(title=request.args.get("title", ""))
    if request.method == "POST":
        return edit_form(None, form)
    started_from = None
    if "template" in request.args:
        started_from = start_from_template(form, request.args["template"])
    offered = page_templates.templates(visible())
    return render_template("pages/edit.html", form=form, page=None, slug=None,
                           templates=offered, started_from=started_from)


def start_from_template(form: PageForm, slug: str) -> Page | None:
    """Fill the new page's *form* with the text and tags of the template at *slug*; say so
    if there is none there (the editor opens empty all the same)."""
    try:
        template = page_templates.template(slug)
    except page_templates.NotATemplate:
        template = None
    if template is None or not can(current_user, "read", template.page):
        flash(f"There is no template “{slug}”: only pages tagged “{page_templates.TEMPLATE_TAG}” "
              "are templates. The editor starts empty.", "warning")
        return None
    form.body.data = template.body
    form.tags.data = ", ".join(template.tags)
    return template.page


@bp.route("/edit/<path:slug>", methods=["GET", "POST"])
@checks_its_own_csrf_token
@security.draws_diagrams
def edit(slug: str):
    page = pages.get_page(slug)
    # Rules decide by address, so a hidden page and a missing one are refused alike.
    require(Action.EDIT if page else Action.CREATE, page or slug)
    if "section" in request.args:
        return edit_section(slug, page, request.args["section"])
    if page is None and (moved := visible_redirect(slug)):
        if request.method == "POST":
            return edit_renamed(slug, moved)
        return redirect(url_for("pages.edit", slug=moved.slug), 301)
    if page is None and request.method == "GET" and (deleted := visible_deleted_page(slug)):
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
            preview = links.preview(pages.normalise_body(form.body.data or ""), slug, visible())
        except links.TooLongToPreview as error:
            form.body.errors = [error.message]
            return render_template("pages/edit.html", form=form, page=page, slug=slug), 422
        return render_template("pages/edit.html", form=form, page=page, slug=slug, preview=preview)
    if not form.validate_on_submit():
        return render_template("pages/edit.html", form=form, page=page, slug=slug), \
            form_status(form)
    if slug is None and not can(current_user, Action.CREATE, slugify(form.title.data)):
        # A new page's address comes from its title: the rules there decide, whether or not
        # a page (perhaps hidden) is there already.
        form.title.errors.append("You may not create pages at this address: an access rule "
                                 "keeps it for others. Choose another title.")
        return render_template("pages/edit.html", form=form, page=page, slug=slug), 403
    base_revision = whole_number(form.base_revision.data)
    if base_revision is None and (form.base_revision.data or "").strip():
        return refuse_base_revision(slug, form, page)
    try:
        result = pages.save(page_edit(slug, form, base_revision), current_user)
    except pages.PageError as error:
        getattr(form, FORM_FIELDS[error.part]).errors.append(error.message)
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
    message, category = SAVE_MESSAGES[result.outcome]
    flash(message.format(merged_with=result.merged_with), category)
    return redirect(url_for("pages.view", slug=result.page.slug), 303)


def page_edit(slug: str | None, form: PageForm, base_revision: int | None) -> pages.PageEdit:
    """The edit a valid editor form sends for the page at *slug* (None: a new page)."""
    return pages.PageEdit(
        slug, form.title.data, form.body.data or "", summary=form.summary.data or "",
        tags=form.tags.data or "", base_revision=base_revision, minor=form.minor.data,
    )


def edit_section(slug: str, page: Page | None, requested: str):
    """The editor of one section of *page* (``?section=N``). Saving puts the section back
    into the revision it was taken from, and saves that through the usual merge with what
    was saved meanwhile, so edits of different sections both land."""
    if page is None:
        if (moved := pages.find_redirect(slug)) is None:
            if deleted := pages.get_any_page(slug):
                return section_of_deleted_page(deleted)
            return no_section("There is no page at this address, so no section to edit.")
        if request.method == "GET":
            return redirect(url_for("pages.edit", slug=moved.slug, section=requested), 301)
        require(Action.EDIT, moved)  # a save sent to the address before a rename
        page = moved
    number = whole_number(requested) or 0
    if request.method == "GET":
        body = page.current_revision.body
        try:
            found = sections.section(body, number)
        except sections.NoSuchSection as error:
            return no_section(f"There is no section “{requested}” to edit: {error}.")
        form = SectionForm(body=body[found.start:found.end],
                           base_revision=str(page.revision_number))
        return section_editor(page, form, found)
    form = SectionForm()
    base = pages.get_revision(page, whole_number(form.base_revision.data) or 0)
    if base is None:
        form.body.errors = ["This editor's revision number is damaged, so nothing was saved. "
                            "Your text is below: check it against the page, then save again."]
        form.base_revision.data = str(page.revision_number)
        return section_editor(page, form, None), 422
    try:
        found = sections.section(base.body, number)
    except sections.NoSuchSection as error:
        form.body.errors = [f"There is no section “{requested}” to edit: {error}. Nothing was "
                            "saved; your text is below."]
        return section_editor(page, form, None), 422
    if form.preview.data:
        return preview_section(page, form, found)
    if not form.validate_on_submit():
        return section_editor(page, form, found), form_status(form)
    return save_section(page, form, base, found)


def section_of_deleted_page(page: Page):
    """The 404 of a deleted page; a save to it keeps the text that was sent (409)."""
    if request.method == "GET":
        return deleted_page(page)
    form = SectionForm()
    form.body.errors = [f"“{page.title}” was deleted while you were editing, so nothing was "
                        "saved; your text is kept below."]
    return section_editor(page, form, None), 409


def preview_section(page: Page, form: SectionForm, found: sections.Section):
    """The section editor with the section's text rendered under it (without JavaScript)."""
    try:
        preview = links.preview(pages.normalise_body(form.body.data or ""), page.slug)
    except links.TooLongToPreview as error:
        form.body.errors = [error.message]
        return section_editor(page, form, found), 422
    return section_editor(page, form, found, preview=preview)


def save_section(page: Page, form: SectionForm, base: Revision, found: sections.Section):
    """Save *page* with section *found* of revision *base* replaced by the form's text;
    redirect to the section, or show a conflict in the whole page's editor."""
    body, anchor = sections.replace_section(base.body, found.number, form.body.data or "")
    edit = pages.PageEdit(page.slug, page.title, body, summary=form.summary.data or "",
                          tags=None, base_revision=base.number, minor=form.minor.data)
    try:
        result = pages.save(edit, current_user)
    except pages.PageError as error:
        form.body.errors.append(error.message)
        status = 409 if isinstance(error, pages.PageDeleted | pages.UnknownBase) else 422
        return section_editor(page, form, found), status
    except pages.EditConflict as conflict:
        # The section's number may mean another section now: the whole page is edited
        # instead, holding the user's section where it was.
        whole = PageForm(formdata=None, title=page.title, body=body, summary=edit.summary,
                         tags=", ".join(tag.name for tag in page.tags), minor=edit.minor,
                         base_revision=str(conflict.current.number))
        their_change = diffing.diff_texts(conflict.base_body, conflict.current.body)
        return render_template("pages/edit.html", form=whole, page=conflict.page,
                               slug=page.slug, conflict=conflict, their_change=their_change,
                               from_section=found), 409
    message, category = SAVE_MESSAGES[result.outcome]
    flash(message.format(merged_with=result.merged_with), category)
    return redirect(url_for("pages.view", slug=result.page.slug, _anchor=anchor), 303)


def section_editor(page: Page, form: SectionForm, found: sections.Section | None, **context):
    return render_template("pages/edit.html", form=form, page=page, slug=page.slug,
                           section=found, **context)


def no_section(message: str):
    return render_template("errors/404.html", message=message), 404


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
        pages.delete(slug)
        flash(f"“{page.title}” was deleted. Its history is kept.", "success")
        return redirect(url_for("pages.home"), 303)
    return render_template("pages/delete.html", page=page, form=form), form_status(form)


@bp.route("/rename/<path:slug>", methods=["GET", "POST"])
@checks_its_own_csrf_token
def rename(slug: str):
    page = get_page_or_404(slug)
    require(Action.RENAME, page)
    form = RenameForm(title=page.title) if request.method == "GET" else RenameForm()
    if form.validate_on_submit() and not can(current_user, Action.EDIT,
                                             slugify(form.title.data)):
        # Renaming writes at both addresses; the new one's rules decide as for a new page.
        form.title.errors.append("You may not move pages to this address: an access rule "
                                 "keeps it for others. Choose another title.")
    elif form.validate_on_submit():
        try:
            renamed = pages.rename(slug, form.title.data, current_user,
                                   rewrite_links=form.rewrite_links.data)
        except pages.PageError as error:
            form.title.errors.append(error.message)
        else:
            flash(f"Renamed. The old address now leads to “{renamed.title}”.", "success")
            return redirect(url_for("pages.view", slug=renamed.slug), 303)
    return render_template("pages/rename.html", page=page, form=form,
                           backlinks=links.backlink_count(page, visible())), form_status(form)


@bp.get("/pages")
def index():
    """All pages A–Z, or the wanted pages (red-link targets), or the orphans."""
    require(Action.READ)
    show = request.args.get("show", "all")
    if show not in LISTS:
        show = "all"
    if show == "wanted":
        listing = links.wanted(requested_page(), PAGE_LIST_SIZE, visible())
        listing = replace(listing, items=[(slug, title or pages.title_from_slug(slug), wants)
                                          for slug, title, wants in listing.items])
    elif show == "orphans":
        listing = links.orphans(requested_page(), PAGE_LIST_SIZE, visible())
    else:
        listing = pages.page_list(requested_position(), PAGE_LIST_SIZE, visible())
    return render_template("pages/index.html", listing=listing, show=show)


@bp.get("/help/shortcuts")
def shortcuts():
    """The keyboard shortcuts that static/js/wiki.js adds."""
    return render_template("help/shortcuts.html")


@bp.get("/help/writing")
def writing():
    """How to write what the renderer does beyond plain Markdown: links, files, math, diagrams."""
    return render_template("help/writing.html")

"""A page's attached files: the list with its upload form, the files themselves, deletion
and (for administrators) restoring deleted ones."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import HTTPException, RequestedRangeNotSatisfiable, RequestEntityTooLarge

from wiki.errors import problem, wants_json
from wiki.forms import DeleteFileForm, RestoreFileForm, UploadForm, checks_its_own_csrf_token
from wiki.models import Attachment, Page, as_utc
from wiki.permissions import Action, can
from wiki.services import attachments
from wiki.views import FORM_REFUSED, form_status
from wiki.web import caching
from wiki.web.access import require
from wiki.web.arguments import int_argument
from wiki.web.loaders import get_page_or_404

bp = Blueprint("attachments", __name__)

FORM_OVERHEAD = 64 * 1024  # the CSRF token and multipart boundaries around the files
YEAR = 365 * 24 * 3600
# Served files run in a sandbox with nothing allowed: an image may show itself and nothing else.
FILE_POLICY = "sandbox; default-src 'none'"
IMAGE_POLICY = f"{FILE_POLICY}; img-src 'self'; style-src 'unsafe-inline'"


class InsufficientStorage(HTTPException):
    """507: the wiki has no room left for the upload (its quota), which Werkzeug lacks."""

    code = 507
    description = "The wiki has no room left for these files."


@bp.route("/attachments/<path:slug>", methods=["GET", "POST"])
@checks_its_own_csrf_token
def listing(slug: str):
    require(Action.READ)
    page = get_page_or_404(slug)
    if request.method == "GET":
        return file_list(page, UploadForm())
    require(Action.EDIT, page)
    form = upload_form_within_limit()
    if not form.validate_on_submit():
        return refused_upload(page, form)
    # Each file as Werkzeug received it: in memory when small, on disk when large.
    uploads = [attachments.Upload(item.filename or "", item.stream) for item in form.file.data]
    try:
        stored = attachments.upload(page, uploads, current_user)
    except attachments.FileTooLarge as refused:
        abort(413, str(refused))
    except attachments.QuotaExceeded as refused:
        raise InsufficientStorage(str(refused)) from refused
    except attachments.UploadRefused as refused:
        form.file.errors = [str(refused)]
        return refused_upload(page, form)
    if wants_json():  # the editor's paste and drop: it writes the Markdown itself
        return jsonify(files=[uploaded_file(page, item) for item in stored]), 201
    flash(f"Uploaded {', '.join(item.name for item in stored)}.", "success")
    return redirect(url_for("attachments.listing", slug=page.slug), 303)


def upload_form_within_limit() -> UploadForm:
    """The upload form as sent, reading no more than the files allowed could take.

    :raises RequestEntityTooLarge: with a message saying the limit.
    """
    most = current_app.config["MAX_FILES_PER_UPLOAD"]
    request.max_content_length = attachments.max_upload_bytes() * most + FORM_OVERHEAD
    try:
        form = UploadForm()
    except RequestEntityTooLarge:
        abort(413, f"{attachments.too_large_message()} Up to {most} files at once.")
    if form.file.data and len(form.file.data) > most:
        abort(413, f"Up to {most} files at once.")
    return form


def refused_upload(page: Page, form: UploadForm):
    """The form's errors: the list page with the form, or JSON for the editor's script."""
    if not wants_json():
        return file_list(page, form)
    problems = [error for errors in form.errors.values() for error in errors]
    return problem(FORM_REFUSED, " ".join(problems))


def uploaded_file(page: Page, attachment: Attachment) -> dict[str, object]:
    """What the editor needs to show a stored file: the name it got, its type, its address."""
    return {"name": attachment.name, "version": attachment.version,
            "media_type": attachment.media_type,
            "url": url_for("attachments.file", slug=page.slug, name=attachment.name)}


def file_list(page: Page, form: UploadForm, delete_form: DeleteFileForm | None = None,
              restore_form: RestoreFileForm | None = None):
    """The list of *page*'s files with the upload form, and for those who may restore, its
    deleted files; 422 when a form comes back."""
    deleted = attachments.deleted_files(page) if can(current_user, Action.RESTORE, page) else []
    return render_template("attachments/list.html", page=page, files=attachments.files(page),
                           deleted=deleted, form=form,
                           delete_form=delete_form or DeleteFileForm(formdata=None),
                           restore_form=restore_form or RestoreFileForm(formdata=None),
                           ), form_status(form)


@bp.post("/attachments/<path:slug>/delete")
@checks_its_own_csrf_token
def delete(slug: str):
    require(Action.READ)
    page = get_page_or_404(slug)
    require(Action.EDIT, page)
    form = DeleteFileForm()
    if not form.validate_on_submit():
        return file_list(page, UploadForm(formdata=None), form)
    if attachments.delete(page, form.name.data, current_user):
        flash(f"Deleted {form.name.data}.", "success")
    else:
        flash(f"“{page.title}” has no file called {form.name.data}.", "error")
    return redirect(url_for("attachments.listing", slug=page.slug), 303)


@bp.post("/attachments/<path:slug>/restore")
@checks_its_own_csrf_token
def restore(slug: str):
    require(Action.READ)
    page = get_page_or_404(slug)
    require(Action.RESTORE, page)
    form = RestoreFileForm()
    if not form.validate_on_submit():
        return file_list(page, UploadForm(formdata=None), restore_form=form)
    if attachments.restore(page, form.name.data, current_user):
        flash(f"Restored {form.name.data}.", "success")
    else:
        flash(f"“{page.title}” has no deleted file called {form.name.data}.", "error")
    return redirect(url_for("attachments.listing", slug=page.slug), 303)


@bp.get("/files/<path:slug>/<name>")
@caching.keeps_page  # an image on a page is asked for as often as the page
def file(slug: str, name: str):
    require(Action.READ)
    page = get_page_or_404(slug)
    version = int_argument("v")
    if "v" in request.args and version is None:
        abort(404)
    attachment = attachments.get_file(page, name, version)
    if attachment is None:
        abort(404)
    inline = attachment.media_type.startswith("image/")
    try:
        content = attachments.open_content(attachment)
    except attachments.ContentMissing:
        current_app.logger.error("The stored file %s of %s/%s is missing.",
                                 attachment.blob_sha256, page.slug, attachment.name)
        abort(404, f"The contents of {attachment.name} are missing from the wiki's files; "
                   "an administrator can put them back from a backup.")
    response = send_file(
        content, mimetype=attachment.media_type, as_attachment=not inline,
        download_name=attachment.name, conditional=False, etag=attachment.blob_sha256,
        last_modified=as_utc(attachment.uploaded_at), max_age=YEAR if version is not None else 0,
    )
    # 304s and ranges answered here, the length known from the row whatever the store.
    response.content_length = attachment.size
    try:
        response.make_conditional(request, accept_ranges=True, complete_length=attachment.size)
    except RequestedRangeNotSatisfiable:
        content.close()
        raise
    if version is not None:
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True  # the newest version may change: ask each time
    if not current_app.config["ANONYMOUS_READ"]:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = IMAGE_POLICY if inline else FILE_POLICY
    return response

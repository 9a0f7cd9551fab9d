"""JSON for the browser's enhancements: the editor's live preview.

Errors under ``/api/`` answer RFC 9457 problem details (``wiki/errors.py``); an anonymous
caller gets ``401`` (``wiki.web.access.require``) rather than a redirect to the login page,
which a ``fetch`` could not use.
"""

from flask import Blueprint, jsonify, request
from flask_login import current_user

from wiki.errors import problem
from wiki.extensions import csrf
from wiki.forms import checks_its_own_csrf_token
from wiki.permissions import Action, can
from wiki.services import links, pages, rendering
from wiki.web.access import require, visible

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.post("/preview")
@checks_its_own_csrf_token
def preview():
    """The page text in the form field ``body``, rendered as a reader will see it (on the
    page ``?page=<slug>``, whose files its bare file names show).

    The CSRF token comes in the ``X-CSRFToken`` header (or a ``csrf_token`` field).
    """
    if not can(current_user, Action.CREATE):
        require(Action.EDIT)
    csrf.protect()
    body = pages.normalise_body(request.form.get("body", ""))
    try:
        html = links.preview(body, request.args.get("page") or None, visible())
        return jsonify(html=rendering.under_root(html, request.script_root))
    except links.TooLongToPreview as error:
        return problem(413, error.message)

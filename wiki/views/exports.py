"""The whole wiki as one zip archive, for administrators: the layout `flask pages export`
writes, streamed while it is made."""

from datetime import UTC, datetime

from flask import Blueprint, Response, request, stream_with_context
from flask_login import fresh_login_required

from wiki.permissions import Action
from wiki.services import exporting
from wiki.web.access import require

bp = Blueprint("exports", __name__)


@bp.get("/export.zip")
@fresh_login_required
def archive():
    """Every live page with its front matter and files; ``?history=1`` adds every revision.

    :raises: as :func:`require` for anyone who may not export (administrators may), and a
        sign-in again for a remembered session, as the admin pages ask.
    """
    require(Action.EXPORT)
    history = request.args.get("history") == "1"
    stream = exporting.zip_stream(exporting.entries(history=history))
    name = f"wiki-{datetime.now(UTC):%Y-%m-%d}{'-history' if history else ''}.zip"
    return Response(stream_with_context(stream), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    })

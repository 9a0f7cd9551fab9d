"""``GET /favicon.ico``: the site's icon where browsers and feed readers look for it
without reading a page (pages link ``static/img/favicon.svg`` themselves)."""

from pathlib import Path

from flask import Blueprint, Response, current_app, request

bp = Blueprint("site", __name__)

ICON = "img/favicon.png"
ICON_MAX_AGE = 24 * 3600  # not fingerprinted like the static files, so not kept for a year


@bp.get("/favicon.ico")
def favicon():
    response = Response(Path(current_app.static_folder, ICON).read_bytes(), mimetype="image/png")
    response.cache_control.max_age = ICON_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)

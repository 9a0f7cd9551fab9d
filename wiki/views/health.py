"""``GET /healthz``: can this process serve pages? For load balancers and uptime checks.

It answers without a login and checks the one thing every page needs, the database, so a
host that lost its database is taken out of rotation instead of serving error pages.
"""

from flask import Blueprint, jsonify

from wiki.database import database_answers

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    if database_answers():
        response = jsonify(status="ok")
    else:
        response = jsonify(status="unavailable")
        response.status_code = 503
    response.headers["Cache-Control"] = "no-store"  # a cached "ok" would hide an outage
    return response


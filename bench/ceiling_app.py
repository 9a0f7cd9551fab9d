"""The ceiling: the least a Flask page view can cost on this stack.

A bare Flask app with one route that renders a template compiled once, about as large as a
wiki page (``CEILING_PAGE_BYTES``, measured by the driver from the wiki it compares with).
No database, no session, no login: what is left is Gunicorn, WSGI, routing, Jinja and
the response. The driver serves it with the wiki's own ``gunicorn.conf.py``:

    WEB_CONCURRENCY=2 CEILING_PAGE_BYTES=25000 \\
        gunicorn --config gunicorn.conf.py --pythonpath bench ceiling_app:app

With ``CEILING_FILE`` set, ``/file`` sends that file's bytes (read once) as a PNG: the
ceiling for serving an attached image.
"""

import os
from pathlib import Path

from flask import Flask, Response, render_template
from jinja2 import DictLoader

LAYOUT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ title }} · Notebook</title>
<link rel="stylesheet" href="/static/css/wiki.css"></head>
<body>
<header class="site-header"><a class="site-name" href="/">Notebook</a>
<nav><ul>{% for link in nav %}<li><a href="{{ link }}">{{ link }}</a></li>{% endfor %}</ul></nav>
</header>
<main id="content"><article class="page"><h1>{{ title }}</h1>
<div class="markdown">
<!-- body -->
</div>
<footer class="page__meta">Revision {{ number }}.</footer></article></main>
</body></html>
"""
PARAGRAPH = ("<p>Routes map URLs to view functions; the request context carries the request "
             "while a view runs, and <code>render_template</code> fills a template.</p>\n")


def template_source(size: int) -> str:
    """The page template, padded with static HTML to about *size* bytes when rendered."""
    paragraphs = max(size - len(LAYOUT), 0) // len(PARAGRAPH)
    return LAYOUT.replace("<!-- body -->", PARAGRAPH * paragraphs)


def create_app(page_bytes: int | None = None) -> Flask:
    size = page_bytes or int(os.environ.get("CEILING_PAGE_BYTES", "25000"))
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"page.html": template_source(size)})
    with app.app_context():
        app.jinja_env.get_template("page.html")  # compiled now, once

    @app.get("/wiki/<path:slug>")
    def view(slug: str):
        return render_template("page.html", title=slug, number=1,
                               nav=["/", "/pages", "/recent"])

    image = Path(os.environ["CEILING_FILE"]).read_bytes() if "CEILING_FILE" in os.environ else b""

    @app.get("/file")
    def file():
        return Response(image, mimetype="image/png")

    return app


app = create_app()

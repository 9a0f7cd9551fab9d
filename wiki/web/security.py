"""Security headers on every response."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import Flask, Response, current_app, make_response


def content_security_policy(external_images: bool, inline_styles: bool = False) -> str:
    """The policy of every page. Images come from this wiki only unless *external_images*
    (``WIKI_EXTERNAL_IMAGES``) lets pages show any ``https:`` image, which tells that site
    who reads the page: so it is off by default, and notes use attachments.

    *inline_styles* is for the pages that draw Mermaid diagrams (:func:`allow_diagram_styles`):
    Mermaid styles each drawing with a ``<style>`` element and ``style`` attributes that it
    writes in the browser, different for each diagram and theme, so no hash or nonce can name
    them, and without them a drawing is black boxes and clipped labels. Allowing inline styles
    there lets nothing else in: pages' own HTML can carry neither (the renderer's sanitiser
    drops both), and scripts stay limited to this site's files."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'" if inline_styles else "style-src 'self'",
        "img-src 'self' https:" if external_images else "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ])


def allow_diagram_styles(response: Response) -> Response:
    """Let Mermaid style the diagrams of *response*'s page; only pages that have diagrams
    (or may show one, as the editor's preview) get this."""
    response.headers["Content-Security-Policy"] = content_security_policy(
        bool(current_app.config["EXTERNAL_IMAGES"]), inline_styles=True)
    return response


P = ParamSpec("P")


def draws_diagrams(view: Callable[P, object]) -> Callable[P, Response]:
    """A view whose page may draw diagrams at any time (the editor's live preview)."""

    @wraps(view)
    def with_diagram_styles(*args: P.args, **kwargs: P.kwargs) -> Response:
        return allow_diagram_styles(make_response(view(*args, **kwargs)))

    return with_diagram_styles


def init_app(app: Flask) -> None:
    wanted = {
        "Content-Security-Policy": content_security_policy(bool(app.config["EXTERNAL_IMAGES"])),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    if app.config["HSTS"]:
        wanted["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        # The headers a view set itself (a page drawing diagrams sets its own policy) stay.
        present = {name.lower() for name, _ in headers.items()}
        headers.extend((name, value) for name, value in wanted.items()
                       if name.lower() not in present)
        return response

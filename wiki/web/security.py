"""Security headers on every response."""

from flask import Flask, Response


def content_security_policy(external_images: bool) -> str:
    """The policy of every page. Images come from this wiki only unless *external_images*
    (``WIKI_EXTERNAL_IMAGES``) lets pages show any ``https:`` image, which tells that site
    who reads the page: so it is off by default, and notes use attachments."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https:" if external_images else "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ])


def init_app(app: Flask) -> None:
    hsts = app.config["HSTS"]
    policy = content_security_policy(bool(app.config["EXTERNAL_IMAGES"]))

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if hsts:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

"""The WSGI entry point: ``gunicorn wsgi:app``."""

from wiki import create_app

app = create_app()

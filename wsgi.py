"""The WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from wiki import create_app

app = create_app()
# What the app was built of lives as long as the process: set it aside from the cycle
# collector, so its passes while serving walk only what requests make (and, under
# ``gunicorn --preload``, forked workers share those pages rather than copy them).
gc.freeze()

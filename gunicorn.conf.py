"""Gunicorn settings for ``make serve`` (``gunicorn --config gunicorn.conf.py wsgi:app``)."""

import multiprocessing
import os

bind = os.environ.get("WIKI_BIND", "127.0.0.1:8000")
# Sync workers: each request is short and the database does the waiting.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
# Load the app in each worker (not the master), so no database connection or engine
# pool is ever shared across fork.
preload_app = False

"""Gunicorn settings for ``make serve`` (``gunicorn --config gunicorn.conf.py wsgi:app``).

Command-line flags override these: ``gunicorn --config gunicorn.conf.py -w 2 -b :9000 wsgi:app``.
See docs/deployment.md for running it behind nginx under systemd.
"""

import multiprocessing
import os
import sys

bind = os.environ.get("WIKI_BIND", "127.0.0.1:8000")

# Sync workers: each request is short and the database does the waiting. The classic
# 2 × CPUs + 1, capped because every worker holds a whole copy of the app in memory and
# SQLite has a single writer anyway. WEB_CONCURRENCY (a common convention) overrides it.
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 12)))
worker_class = "sync"

# A request taking longer than this is stuck: the worker is killed and replaced. Saves of
# the largest pages (1 MB) take well under a second.
timeout = 30
graceful_timeout = 20  # on restart, let requests in flight finish
keepalive = 5  # behind nginx, reuse its connections for a few seconds

# Replace each worker now and then, so a slow leak can never grow far; the jitter keeps the
# workers from all restarting at the same moment. Not often: a new worker starts cold (its
# first requests compile templates, and its cache of rendered pages is empty), and at
# 1,000 requests/s a worker replaced every 5,000 requests would start cold every 5 s.
max_requests = 50_000
max_requests_jitter = 5_000

# The workers' heartbeat files go to memory rather than a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Gunicorn 25.1+ opens a control socket at one fixed path per user ($HOME/.gunicorn/);
# two masters on one machine (two sites, or a test) would take it from each other.
# systemd's reload (SIGHUP) does all we need. Older Gunicorns ignore this setting.
control_socket_disable = True

# Logs to stdout/stderr, for systemd's journal or the container runtime. The access line:
# client, time, request line, status, bytes, referrer, user agent, duration.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# Build the app in each worker, after the fork, never in the master: then no database
# connection (or SQLite file handle) can be inherited and shared by several workers.
preload_app = False


def post_fork(server, worker):
    """Forget any database connection a preloaded app opened in the master.

    With ``preload_app = False`` this finds no app and does nothing. It guards against
    ``gunicorn --preload``: then the app is built once in the master and forked, and a
    connection pooled there would be used by every worker at once, corrupting the
    conversation with the database. ``dispose(close=False)`` drops the pool in the worker
    without closing the master's connections, so each worker opens its own.
    """
    wsgi = sys.modules.get("wsgi")  # imported in the master only under --preload
    if wsgi is None:
        return
    from wiki.extensions import db

    with wsgi.app.app_context():
        db.engine.dispose(close=False)

"""Default settings. Secrets never live here: see ``load_secret_key`` in the factory.

Every name can be overridden in ``instance/config.py`` or by a ``WIKI_``-prefixed
environment variable (``WIKI_ANONYMOUS_READ=false``, ``WIKI_DATABASE_URL=...``).
"""

SITE_NAME = "Notebook"

# Where the wiki lives. None means a SQLite file in the instance folder.
DATABASE_URL = None
SQLALCHEMY_ENGINE_OPTIONS: dict = {}

# Who may do what (see wiki/permissions.py).
ANONYMOUS_READ = True
REGISTRATION = "closed"  # or "open"
DEFAULT_ROLE = "reader"
# Who may read old revisions, history and diffs: anyone who may read pages, or "editor"
# (or "admin") to keep them from readers. Access rules narrow it further per page.
HISTORY_VISIBLE_TO = "anyone"

# A page body may be up to 1 MB; the form around it needs a little more.
MAX_PAGE_BYTES = 1_000_000
MAX_FORM_MEMORY_SIZE = 4 * 1024 * 1024
MAX_CONTENT_LENGTH = 8 * 1024 * 1024

# Attached files: each may be up to this size; one upload may carry several.
MAX_UPLOAD_MB = 10

# `flask pages import` of a zip archive: at most this much unpacked, in all.
IMPORT_MAX_ARCHIVE_MB = 2048
# `flask pages import` writes new pages this many to a transaction: fast, and other writers
# wait for one batch at most (readers never wait).
IMPORT_BATCH_PAGES = 500
MAX_FILES_PER_UPLOAD = 10
# The room all of them may take together (each distinct content counted once); 0: no limit.
MAX_TOTAL_UPLOAD_MB = 0
# None keeps files in the database. A folder (relative to the instance folder) that every
# host shares keeps them there instead (wiki/services/storage.py); choose it before uploads.
FILES_DIR = None

# Pagination.
PAGE_SIZE = 50

# Search: matches are counted up to SEARCH_COUNTED; past it the results say "more than",
# and rank the newest SEARCH_CANDIDATES matches with a word of the query in their title or
# tags, then the newest SEARCH_CANDIDATES of the others (ranking every match of a common
# word is what makes it slow). Larger: better ranking of common words, slower searches.
SEARCH_COUNTED = 1_000
SEARCH_CANDIDATES = 500

# Page views kept by each worker for anonymous readers (see wiki/web/caching.py); 0 keeps none.
PAGE_CACHE_BYTES = 8 * 1024 * 1024  # about 1,000 pages; a worker's memory grows by up to
# about 2.75 times that: these, and signed-in readers' layouts (1.5x) and articles (0.25x)
PAGE_CACHE_SECONDS = 60

# Sessions and cookies. Set WIKI_SESSION_COOKIE_SECURE=true behind HTTPS.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_SECURE = False
REMEMBER_COOKIE_DURATION = 30 * 24 * 3600  # seconds "Keep me signed in" lasts
HSTS = False  # send Strict-Transport-Security (only behind HTTPS)
EXTERNAL_IMAGES = False  # true: pages may show images from any https: site
PROXY_FIX = 0  # number of trusted reverse proxies in front of the app

# Every POST is checked for its CSRF token before its view runs; the views that check it
# themselves say so (wiki.forms.checks_its_own_csrf_token).
WTF_CSRF_CHECK_DEFAULT = True
# A CSRF token lives as long as an edit may reasonably take; expiry keeps the user's text.
WTF_CSRF_TIME_LIMIT = 6 * 3600

# Password hashing: Werkzeug's "scrypt:N:r:p", at OWASP's minimum cost (N = 2**17, which
# takes 128 MB of memory per hash). Weaker hashes are replaced when their owner signs in.
PASSWORD_HASH_METHOD = "scrypt:131072:8:1"  # noqa: S105 (a method, not a password)

# Sign-in throttling, counted in the database so every worker and host sees every failure:
# failed sign-ins allowed per account from one client address, and per address in all,
# within the window (seconds). Another address is not held back by them.
LOGIN_FAILURES_PER_USERNAME_AND_ADDRESS = 10
LOGIN_FAILURES_PER_ADDRESS = 30
LOGIN_FAILURE_WINDOW = 15 * 60

# Registration throttling (Flask-Limiter, counted per worker unless the storage is shared).
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = False
REGISTRATIONS_PER_IP = "5 per hour"
# Calls to /api/v1 per API token (per address for calls without one).
API_RATE_LIMIT = "300 per minute"

# Static files are fingerprinted with ?v=<hash>, so they may be cached for a year.
SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600

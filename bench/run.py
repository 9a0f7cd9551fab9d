"""``make bench``: how fast the wiki is at 1,000 and 10,000 pages (100,000 with ``--large``),
on SQLite, PostgreSQL or both (``--database``; ``make bench DB=postgresql``).

For each database and wiki size it
1. makes the wiki (bench/generate.py, through the wiki's own services) or reuses it; on
   PostgreSQL, in a throw-away database on 127.0.0.1 (user postgres) dropped afterwards;
2. runs ``flask init`` on it and starts ``gunicorn wsgi:app`` with the project's
   ``gunicorn.conf.py``, two workers, as ``make serve`` does;
3. starts the ceiling (bench/ceiling_app.py: bare Flask, a template of the same size) under
   the same Gunicorn settings;
4. drives both with wrk on loopback: every endpoint with 16 connections for throughput and
   with one connection for unloaded latency, each run bounded in time and requests; saves
   go one after another through the edit form, signed in, with its CSRF token; the deep
   page of recent changes is reached by following its "Older" links;
5. records worker memory, ``create_app()`` start-up time and the database size;
6. on PostgreSQL, serves the same wiki from two Gunicorn masters (two hosts on one
   database), the load spread over both, against two ceilings; saves alternate between
   the hosts and are read back from the other one;
then times ``flask pages import`` of 10,000 generated pages into a fresh wiki on each
database, times rendering and diffing the hostile inputs (bench/hostile.py) in this process,
and writes ``bench/results/latest.md`` (SQLite at the top, a PostgreSQL section; sections a
run does not measure are kept) and ``latest.json``, the targets marked met or missed.

    python bench/run.py                  # 1k and 10k on SQLite
    python bench/run.py --large          # and 100k (or BENCH_LARGE=1)
    python bench/run.py --database postgresql            # make bench DB=postgresql
    python bench/run.py --sizes 1000 --seconds 2 --results /tmp/trial.md   # a quick look
    python bench/run.py --sizes 1000 --page-views-only   # printed; latest.md is left alone
    python bench/run.py --sizes 1000 --files-only   # the attached-file rows, into latest.md
    python bench/run.py --reviews-only   # review cards only: latest.md's "Review cards" section
    python bench/run.py --reviews-only --database sqlite postgresql   # on both, one run

Review cards are measured on 10,000 cards with 100,000 review-log rows for one user (written
straight into the database after the saves): the next due card (``GET /review``) and grading
(``POST /review/<id>``, one after another), and the due-card query alone with its plan.

On a machine shared by several users, ``BENCH_PORTS=5180-5199`` keeps the servers in a range
of ports and ``BENCH_POSTGRESQL_DATABASE`` names the throw-away database.

Only figures from one run compare: the machine is shared, and its speed varies.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode

import generate
import hostile
import sqlalchemy
from PIL import Image

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
RUN_DIR = generate.WORK / "run"
RESULTS = BENCH / "results"
WORKERS = 2
CONNECTIONS = 16
MAX_REQUESTS_PER_THREAD = 60_000
SAVES = 60
REVIEW_CARDS = 10_000
REVIEW_LOG_ROWS = 100_000
GRADES = 200
SLOW_RPS = 100
STARTUP_RUNS = 5
SERVED_IMAGE_KB = 100
UPLOADED_IMAGE_MB = 5
UPLOADS = 10
DEEP_PAGE = 1_000  # the deep page of a list (its last, if it has fewer)
IMPORT_PAGES = 10_000  # pages of the timed `flask pages import`
SERVE_IMAGE = f"serve a {SERVED_IMAGE_KB} KB image"
SERVE_IMAGE_CEILING = f"ceiling: the same {SERVED_IMAGE_KB} KB"
UPLOAD_IMAGE = f"upload a {UPLOADED_IMAGE_MB} MB image (sequential)"
FILES_SECTION = "## Attached files"


# --- results ------------------------------------------------------------------------------


@dataclass
class Load:
    """One wrk run (or a series of saves): how many, how fast, how long each took."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Measurement:
    name: str
    path: str  # one example of the paths requested
    throughput: Load | None  # 16 connections
    latency: Load  # 1 connection
    queries: int | None = None  # statements per request, from Server-Timing
    body_bytes: int | None = None
    # Medians of Server-Timing's db and total durations: the time spent inside the app, for
    # telling a slow query from a busy machine (measured for the review rows).
    app_ms: tuple[float, float] | None = None


@dataclass
class WikiRun:
    pages: int
    revisions: int
    generated: str  # how the wiki was made: saves through the services, and how long
    database_mb: float
    ready_s: float  # Gunicorn start to the first answered request
    startup_s: float = 0.0  # create_app() in a fresh process, median of STARTUP_RUNS
    startup_cpu_s: float = 0.0  # the CPU time of the same (less disturbed by other load)
    measurements: list[Measurement] = field(default_factory=list)
    ceiling_rps: list[float] = field(default_factory=list)  # before and after the page view
    ceiling_latency: Load | None = None
    worker_rss_mb: list[float] = field(default_factory=list)  # after the run
    worker_peak_rss_mb: float = 0.0  # the most any worker had, sampled during the run
    upload_peak_rss_mb: float | None = None  # the most any worker had during the uploads
    database: str = "sqlite"  # a key of DATABASES
    hosts: int = 1  # Gunicorn masters serving the one database, the load spread over them

    def find(self, name: str) -> Measurement | None:
        return next((m for m in self.measurements if m.name == name), None)

    @property
    def view_ratio(self) -> float | None:
        return self.ratio_to_ceiling("page view")

    def ratio_to_ceiling(self, name: str) -> float | None:
        found = self.find(name)
        if not (found and found.throughput and self.ceiling_rps):
            return None
        return found.throughput.rps / statistics.mean(self.ceiling_rps)


@dataclass
class Machine:
    cpu: str
    cores: int
    memory_gb: float
    os: str
    python: str
    sqlite: str
    gunicorn: str
    wrk: str
    date: str


@dataclass
class Target:
    what: str
    goal: str
    measured: str
    met: bool | None  # None: not measured


@dataclass
class Report:
    machine: Machine
    runs: list[WikiRun]
    settings: dict
    targets: list[Target] = field(default_factory=list)
    hostile: list[hostile.HostileResult] = field(default_factory=list)
    imports: list[ImportRun] = field(default_factory=list)

    def runs_on(self, database: str) -> list[WikiRun]:
        return [run for run in self.runs if run.database == database]


# --- the machine --------------------------------------------------------------------------


def describe_machine() -> Machine:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", _read("/proc/meminfo")).group(1))
    gunicorn = subprocess.run([BIN / "gunicorn", "--version"], capture_output=True, text=True)
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return Machine(
        cpu=cpu, cores=os.cpu_count() or 0, memory_gb=round(memory_kb / 1024 ** 2, 1),
        os=f"{platform.system()} {platform.release()}", python=platform.python_version(),
        sqlite=sqlite3.sqlite_version, gunicorn=gunicorn.stdout.strip(),
        wrk=(wrk.stdout or wrk.stderr).split("\n")[0].split(" Copyright")[0].strip(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _read(path: str) -> str:
    return Path(path).read_text()


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    """A port nobody listens on: any (the system's choice), or the first free one of
    ``BENCH_PORTS`` (``5180-5199``) on a machine where each user has a range."""
    low, _, high = os.environ.get("BENCH_PORTS", "0").partition("-")
    for port in range(int(low), int(high or low) + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


class Server:
    """A Gunicorn started with the project's config and two workers, stopped on exit."""

    def __init__(self, app: str, log: Path, extra_env: dict[str, str],
                 extra_args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.app, self.log, self.extra_env, self.extra_args = app, log, extra_env, extra_args
        self.process: subprocess.Popen | None = None
        self.ready_s = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        env = {**os.environ, **self.extra_env, "WEB_CONCURRENCY": str(WORKERS),
               "WIKI_BIND": f"127.0.0.1:{self.port}"}
        started = time.perf_counter()
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [BIN / "gunicorn", "--config", ROOT / "gunicorn.conf.py", *self.extra_args,
                 self.app], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        self._wait_until_ready()
        self.ready_s = time.perf_counter() - started
        return self

    def _wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited; see {self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if len(self.workers()) == WORKERS and fetch(self.base, "/wiki/x").status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.app} did not start in {timeout} s; see {self.log}")

    def workers(self) -> list[int]:
        """Process ids of the Gunicorn workers (the children of the master we started)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def worker_rss_mb(self) -> list[float]:
        return [rss for pid in self.workers() if (rss := rss_mb(pid)) is not None]

    def __exit__(self, *_exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else None


class RssSampler(threading.Thread):
    """Samples the workers' memory every half second; workers Gunicorn recycles count too."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server, self.peak = server, 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            self.peak = max([self.peak, *self.server.worker_rss_mb()])

    def stop(self) -> float:
        self.stopped.set()
        self.join()
        return self.peak


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str
    seconds: float
    size: int = 0  # bytes of the body as sent (an image is no text)


def fetch(base: str, path: str, headers: dict | None = None) -> Answer:
    return Browser(base).get(path, headers)


class Browser:
    """A keep-alive HTTP client that keeps cookies, reads forms and never follows redirects."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)
        self.cookies: dict[str, str] = {}

    def get(self, path: str, headers: dict | None = None) -> Answer:
        return self.request("GET", path, None, headers)

    def post(self, path: str, form: dict[str, str]) -> Answer:
        return self.request("POST", path, urlencode(form),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_file(self, path: str, name: str, content: bytes) -> Answer:
        """Send the upload form at *path* with one file, as a browser does."""
        token = FormFields.read(self.get(path).body)["csrf_token"]
        boundary = f"bench{random.getrandbits(64):x}"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.request("POST", path, body,
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def request(self, method: str, path: str, body: str | bytes | None,
                headers: dict | None) -> Answer:
        headers = {**(headers or {}), **self.cookie_header()}
        started = time.perf_counter()
        self.connection.request(method, path, body, headers)
        response = self.connection.getresponse()
        raw = response.read()
        seconds = time.perf_counter() - started
        for cookie in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, response.headers, raw.decode(errors="replace"), seconds,
                      len(raw))

    def cookie_header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}

    def login(self, username: str, password: str) -> None:
        form = FormFields.read(self.get("/login").body)
        answer = self.post("/login", {**form, "username": username, "password": password})
        if answer.status != 303:
            raise RuntimeError(f"could not sign in as {username}: {answer.status}")

    def close(self) -> None:
        self.connection.close()


class FormFields(HTMLParser):
    """The values a browser would submit from a page's inputs and textareas (not buttons)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None

    @classmethod
    def read(cls, html: str) -> dict[str, str]:
        parser = cls()
        parser.feed(html)
        return parser.values

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type") not in ("submit", "checkbox"):
            self.values.setdefault(name, attributes.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            if self._textarea:  # a browser drops the newline right after <textarea>
                self.values[self._textarea] = self.values[self._textarea].removeprefix("\n")
            self._textarea = None


def server_timing_queries(answer: Answer) -> int | None:
    match = re.search(r'db;dur=[\d.]+;desc="(\d+) quer', answer.headers.get("Server-Timing", ""))
    return int(match.group(1)) if match else None


def time_inside_app(answers: list[Answer]) -> tuple[float, float] | None:
    """The medians of the database time and the whole time the app reports per request."""
    timings = [dict(re.findall(r"(\w+);dur=([\d.]+)", a.headers.get("Server-Timing", "")))
               for a in answers]
    timings = [t for t in timings if "db" in t and "total" in t]
    if not timings:
        return None
    return (statistics.median(float(t["db"]) for t in timings),
            statistics.median(float(t["total"]) for t in timings))


# --- load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How long each load runs."""

    seconds: float = 5.0
    latency_seconds: float = 3.0
    warmup_seconds: float = 1.0
    # Page views are measured warm, as on a server that has been up a while: long enough
    # for both workers to have rendered most of the 1,000 sampled pages once.
    page_warmup_seconds: float = 4.0


def wrk(base: str | list[str], paths: list[str], connections: int, seconds: float,
        headers: dict[str, str] | None = None) -> Load:
    """Load *base* with wrk; given several bases (hosts), one wrk each at the same time, the
    connections shared out: their requests add up, their percentiles are averaged."""
    bases = [base] if isinstance(base, str) else base
    paths_file = RUN_DIR / f"paths-{os.getpid()}.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    share = max(connections // len(bases), 1)
    command = ["wrk", f"-t{min(share, 2)}", f"-c{share}", f"-d{max(round(seconds), 1)}s",
               "--timeout", "10s", "-s", str(BENCH / "wrk.lua")]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    env = {**os.environ, "BENCH_PATHS": str(paths_file),
           "BENCH_MAX_REQUESTS": str(MAX_REQUESTS_PER_THREAD)}
    running = [subprocess.Popen([*command, one], stdout=subprocess.PIPE, text=True, env=env)
               for one in bases]
    loads = [_wrk_load(process, seconds + 60) for process in running]
    return Load(requests=sum(load.requests for load in loads),
                seconds=max(load.seconds for load in loads),
                p50_ms=statistics.mean(load.p50_ms for load in loads),
                p99_ms=statistics.mean(load.p99_ms for load in loads),
                errors=sum(load.errors for load in loads))


def _wrk_load(process: subprocess.Popen, timeout: float) -> Load:
    stdout, _ = process.communicate(timeout=timeout)
    if process.returncode:
        raise RuntimeError(f"wrk failed: {stdout}")
    line = next(line for line in stdout.splitlines() if line.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return Load(requests=data["requests"], seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                errors=data["errors"] + data["timeouts"])


def measure(base: str | list[str], name: str, paths: list[str], plan: Plan,
            headers: dict[str, str] | None = None, warmup: float | None = None) -> Measurement:
    """Check the first path answers 200, warm up, then load with 16 and with 1 connection
    (with several hosts: the connections spread over them, and one to each)."""
    first = base if isinstance(base, str) else base[0]
    sample = fetch(first, paths[0], headers)
    if sample.status != 200:
        raise RuntimeError(f"{name}: {paths[0]} answered {sample.status}")
    wrk(base, paths, 2, warmup or plan.warmup_seconds, headers)
    loaded = wrk(base, paths, CONNECTIONS, plan.seconds, headers)
    # wrk leaves up to CONNECTIONS requests queued at the server: let the workers finish
    # them, or the first unloaded requests would wait behind them.
    time.sleep(0.2 + 2 * CONNECTIONS / max(loaded.rps, 1))
    # Slow endpoints get longer, so that their p99 rests on a few hundred requests.
    slow = loaded.rps < SLOW_RPS
    unloaded = wrk(base, paths, 1, plan.latency_seconds * (3 if slow else 1), headers)
    # Statements per request as the load found it (warm): the median of a few at random.
    queries = [server_timing_queries(fetch(first, random.choice(paths), headers))
               for _ in range(5)]
    measurement = Measurement(name, paths[0], loaded, unloaded,
                              None if None in queries else int(statistics.median(queries)),
                              sample.size)
    print(f"    {name:<28} {_describe(measurement)}", file=sys.stderr)
    return measurement


def _describe(m: Measurement) -> str:
    rps = f"{m.throughput.rps:8,.0f} req/s" if m.throughput else " " * 14
    return f"{rps}  p50 {m.latency.p50_ms:7.2f} ms  p99 {m.latency.p99_ms:7.2f} ms"


def measure_saves(base: str | list[str], manifest: generate.Manifest, count: int
                  ) -> Measurement:
    """Edit *count* pages one after another as a signed-in editor: open the editor, post.
    With several hosts, each save goes to the next host, and the page is then read from
    another one: a save it does not show yet counts as an error (a stale cache)."""
    bases = [base] if isinstance(base, str) else base
    browsers = [Browser(one) for one in bases]
    for browser in browsers:
        browser.login(manifest.user, manifest.password)
    posts: list[float] = []
    errors = 0
    for number in range(count):
        browser = browsers[number % len(browsers)]
        slug = manifest.sample_slugs[number % len(manifest.sample_slugs)]
        path = "/edit/" + quote(slug)
        form = FormFields.read(browser.get(path).body)
        form["body"] += f"\nBenchmark edit {number}.\n"
        form["summary"] = f"benchmark edit {number}"
        answer = browser.post(path, form)
        errors += answer.status != 303
        posts.append(answer.seconds)
        reader = browsers[(number + 1) % len(browsers)]  # where a browser goes next
        shown = reader.get(answer.headers.get("Location", "/"))
        errors += len(browsers) > 1 and f"Benchmark edit {number}." not in shown.body
    for browser in browsers:
        browser.close()
    load = Load(len(posts), sum(posts), _percentile(posts, 50) * 1000,
                _percentile(posts, 99) * 1000, errors)
    measurement = Measurement("save (sequential)", f"POST /edit/{manifest.sample_slugs[0]}",
                              None, load)
    print(f"    {'save (sequential)':<28} {_describe(measurement)}", file=sys.stderr)
    return measurement


def seed_reviews(database_url: str, manifest: generate.Manifest) -> None:
    """REVIEW_CARDS cards on the first live pages, each scheduled for the bench user (a third
    of them due), and REVIEW_LOG_ROWS gradings over the past year: written with SQL, since
    grading that many through the wiki would take longer than the whole bench. The same
    statements on SQLite and PostgreSQL (``"user"`` quoted, ``false`` for booleans)."""
    rng = random.Random(16)
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = sqlalchemy.create_engine(database_url)
    with engine.begin() as connection:
        def run(statement: str, params: dict | list | None = None) -> sqlalchemy.Result:
            return connection.execute(sqlalchemy.text(statement), params)

        user = run('SELECT id FROM "user" WHERE username = :name',
                   {"name": manifest.user}).scalar_one()
        page_ids = run("SELECT id FROM page WHERE deleted = false ORDER BY id LIMIT 200"
                       ).scalars().all()
        first = run("SELECT coalesce(max(id), 0) FROM card").scalar_one() + 1
        cards = range(first, first + REVIEW_CARDS)
        run("INSERT INTO card (id, page_id, position, kind, question, answer, retired, "
            "created_at) VALUES (:id, :page, :position, 'basic', :question, :answer, false, "
            ":now)",
            [{"id": card, "page": page_ids[n % len(page_ids)], "position": n // len(page_ids),
              "question": f"Bench question {n}", "answer": f"Bench answer {n}",
              "now": _stamp(now)} for n, card in enumerate(cards)])
        schedules = []
        for card in cards:
            due = now + timedelta(days=rng.uniform(-30, 60))
            schedules.append({"user": user, "card": card, "stability": rng.uniform(1, 100),
                              "difficulty": rng.uniform(1, 10), "due": _stamp(due),
                              "last": _stamp(due - timedelta(days=10))})
        run("INSERT INTO card_schedule (user_id, card_id, state, step, stability, difficulty, "
            "due, last_review) VALUES (:user, :card, 2, NULL, :stability, :difficulty, :due, "
            ":last)", schedules)
        run("INSERT INTO review_log (card_id, user_id, rating, state, elapsed_days, "
            "reviewed_at) VALUES (:card, :user, :rating, 2, :elapsed, :at)",
            [{"card": rng.choice(cards), "user": user, "rating": rng.choice((1, 3, 3, 3, 3, 4)),
              "elapsed": rng.uniform(0, 30),
              "at": _stamp(now - timedelta(days=rng.uniform(0, 365)))}
             for _ in range(REVIEW_LOG_ROWS)])
        if connection.dialect.name == "postgresql":
            # The ids were given, so the sequence must learn of them; and the planner gets
            # the statistics autovacuum would gather a little later anyway.
            run("SELECT setval(pg_get_serial_sequence('card', 'id'), :last)",
                {"last": cards[-1]})
            run("ANALYZE")
    engine.dispose()


def _stamp(moment: datetime) -> str:
    """A naive UTC time as SQLAlchemy stores it in SQLite; PostgreSQL reads it as well."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


# The due-card query as wiki/services/cards/reviewing.py::due_query sends it for an editor
# (no access rule narrows it), timed alone in the database.
DUE_QUERY = ("SELECT card.* FROM card JOIN card_schedule ON card_schedule.card_id = card.id "
             "WHERE card.retired = false AND card_schedule.user_id = :user "
             "AND card_schedule.due <= :now ORDER BY card_schedule.due LIMIT 1")
STATEMENT_RUNS = 200


def due_query_statement(database_url: str, manifest: generate.Manifest) -> str:
    """The due-card query by itself: the median of STATEMENT_RUNS runs from this process
    (driver included, no web request) and the plan the database chose."""
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as connection:
        user = connection.execute(sqlalchemy.text('SELECT id FROM "user" WHERE username = :n'),
                                  {"n": manifest.user}).scalar_one()
        params = {"user": user, "now": _stamp(datetime.now(UTC).replace(tzinfo=None))}
        times = []
        for _ in range(STATEMENT_RUNS):
            started = time.perf_counter()
            connection.execute(sqlalchemy.text(DUE_QUERY), params).all()
            times.append(time.perf_counter() - started)
        postgresql = connection.dialect.name == "postgresql"
        explain = "EXPLAIN (ANALYZE, COSTS OFF) " if postgresql else "EXPLAIN QUERY PLAN "
        plan = [row[-1].strip() for row in
                connection.execute(sqlalchemy.text(explain + DUE_QUERY), params)]
    engine.dispose()
    return (f"{statistics.median(times) * 1000:.2f} ms median over {STATEMENT_RUNS} runs; "
            f"plan: {'; '.join(plan)}")


def measure_reviews(base: str, database_url: str, manifest: generate.Manifest, plan: Plan,
                    grades: int = GRADES) -> list[Measurement]:
    """The next due card under load, then *grades* gradings one after another, each as a
    browser does it: the question, the answer page (for its token), the POST."""
    seed_reviews(database_url, manifest)
    browser = Browser(base)
    browser.login(manifest.user, manifest.password)
    due = measure(base, "next due card", ["/review"], plan, browser.cookie_header())
    due.app_ms = time_inside_app([browser.get("/review") for _ in range(GRADES)])
    posts: list[Answer] = []
    errors = 0
    for _ in range(grades):
        shown = re.search(r'href="/review/(\d+)\?show=1', browser.get("/review").body)
        if shown is None:
            raise RuntimeError("grade: /review showed no due card")
        path = f"/review/{shown.group(1)}"
        form = FormFields.read(browser.get(f"{path}?show=1").body)
        answer = browser.post(path, {**form, "rating": "3"})
        errors += answer.status != 303
        posts.append(answer)
    browser.close()
    seconds = [answer.seconds for answer in posts]
    load = Load(len(posts), sum(seconds), _percentile(seconds, 50) * 1000,
                _percentile(seconds, 99) * 1000, errors)
    graded = Measurement("grade", "POST /review/<id>", None, load,
                         app_ms=time_inside_app(posts))
    print(f"    {'grade':<28} {_describe(graded)}", file=sys.stderr)
    return [due, graded]


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * percent / 100), len(ordered) - 1)]


# --- one wiki -----------------------------------------------------------------------------


def page_views(manifest: generate.Manifest) -> list[str]:
    return [f"/wiki/{quote(slug)}" for slug in manifest.sample_slugs]


def endpoints(manifest: generate.Manifest, pages: int) -> list[tuple[str, list[str]]]:
    """Everything but page views and saves: name → the paths requested (one at random)."""
    history = quote(manifest.history_slug)
    revisions = range(2, manifest.history_revisions + 1)
    return [
        ("search: common word", [f"/search?q={manifest.common_word}"]),
        ("search: rare word", [f"/search?q={manifest.rare_word}"]),
        ("search: phrase", ["/search?" + urlencode({"q": f'"{manifest.phrase}"'})]),
        ("page list", ["/pages"]),
        ("tags, with counts", ["/tags"]),
        ("page list, middle page", [f"/pages?page={max(pages // 200, 1)}"]),
        ("history (500 revisions)", [f"/history/{history}"]),
        ("recent changes", ["/recent"]),
        ("diff", [f"/diff/{history}?from={n - 1}&to={n}" for n in revisions]),
        ("quick-jump titles", ["/api/v1/titles?" + urlencode({"q": prefix})
                               for prefix in manifest.title_prefixes]),
    ]


DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
POSTGRESQL_SERVER = ("-h", "127.0.0.1", "-p", "5432", "-U", "postgres")


@dataclass
class BenchWiki:
    manifest: generate.Manifest
    database: str  # a key of DATABASES
    database_url: str
    env: dict[str, str]  # what the Gunicorn serving it needs
    made: str  # how its pages were made


@contextmanager
def bench_wiki(database: str, size: int) -> Iterator[BenchWiki]:
    """A wiki of *size* pages on *database*, migrated as ``make serve`` does (flask init): a
    scratch copy of the generated SQLite wiki, or a throw-away PostgreSQL database on
    127.0.0.1 (user postgres) with the same pages written by bench/generate.py, dropped
    afterwards whatever happens."""
    if database == "sqlite":
        manifest = generate.ensure(size)
        instance = prepare_instance(size)
        yield BenchWiki(manifest, database, sqlite_url(instance),
                        {"WIKI_INSTANCE_PATH": str(instance)}, made_by(manifest))
        return
    with throwaway_postgresql() as url:
        instance = _scratch_instance(f"instance-{size}-postgresql")  # secret key, uploads
        manifest = generate.fill(instance, size, database_url=url)
        env = {"WIKI_INSTANCE_PATH": str(instance), "WIKI_DATABASE_URL": url}
        flask_init(env)
        settle_postgresql(url)
        yield BenchWiki(manifest, database, url, env, made_by(manifest))


def settle_postgresql(database_url: str) -> None:
    """VACUUM ANALYZE the freshly written database: the visibility map and statistics
    autovacuum gives it within minutes of a bulk write, done now, so that the rows are
    measured on the wiki as it then stays, and not beside autovacuum still at work."""
    engine = sqlalchemy.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


@contextmanager
def throwaway_postgresql() -> Iterator[str]:
    """An empty PostgreSQL database on 127.0.0.1, dropped on the way out: named
    ``BENCH_POSTGRESQL_DATABASE`` if set (one at a time), else after this process."""
    name = os.environ.get("BENCH_POSTGRESQL_DATABASE") or f"wiki_bench_{os.getpid()}"
    subprocess.run(["createdb", *POSTGRESQL_SERVER, name], check=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run(["dropdb", *POSTGRESQL_SERVER, "--if-exists", "--force", name],
                       check=False)


def made_by(manifest: generate.Manifest) -> str:
    return f"{manifest.saves:,} saves through the services in {manifest.seconds:,.0f} s"


def prepare_instance(size: int) -> Path:
    """A scratch copy of the generated wiki, migrated as ``make serve`` does (flask init)."""
    instance = _scratch_instance(f"instance-{size}")
    shutil.copy(generate.wiki_folder(size) / "instance" / "wiki.sqlite", instance)
    flask_init({"WIKI_INSTANCE_PATH": str(instance)})
    return instance


def _scratch_instance(name: str) -> Path:
    instance = RUN_DIR / name
    shutil.rmtree(instance, ignore_errors=True)
    instance.mkdir(parents=True)
    return instance


def flask_init(wiki_env: dict[str, str]) -> None:
    done = subprocess.run([BIN / "flask", "--app", "wiki", "init"], cwd=ROOT, text=True,
                          env={**os.environ, **wiki_env}, capture_output=True)
    if done.returncode:
        raise RuntimeError(f"flask init failed:\n{done.stdout}\n{done.stderr}")


def sqlite_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'wiki.sqlite'}"


def startup_seconds(wiki_env: dict[str, str]) -> tuple[float, float]:
    """``create_app()`` in a fresh interpreter, imports included: the median wall-clock and
    CPU seconds of several runs."""
    code = ("import time; t, c = time.perf_counter(), time.process_time(); "
            "from wiki import create_app; create_app(); "
            "print(time.perf_counter() - t, time.process_time() - c)")
    env = {**os.environ, **wiki_env}
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True).stdout.split()
            for _ in range(STARTUP_RUNS)]
    return (statistics.median(float(wall) for wall, _ in runs),
            statistics.median(float(cpu) for _, cpu in runs))


def database_facts(database_url: str) -> tuple[int, float]:
    """How many revisions the wiki has, and the database's size in MB."""
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as connection:
        revisions = connection.execute(sqlalchemy.text("SELECT count(*) FROM revision")
                                       ).scalar_one()
        if connection.dialect.name == "postgresql":
            size = connection.execute(sqlalchemy.text(
                "SELECT pg_database_size(current_database())")).scalar_one()
        else:  # the write-ahead log folded in, so that the file's size is all there
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            size = Path(engine.url.database).stat().st_size
    engine.dispose()
    return revisions, size / 1024 ** 2


BIGGEST_TAG = "biggest tag's pages"
MOST_LINKED = "most-linked page's backlinks"


def longest_lists(database_url: str) -> list[tuple[str, str]]:
    """(row name, path) of the lists of pages that grow longest with the wiki: the pages of
    the tag most pages carry, and the backlinks of the page most pages link to."""
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as connection:
        tag = connection.execute(sqlalchemy.text(
            "SELECT tag.name FROM tag JOIN page_tag ON page_tag.tag_id = tag.id "
            "GROUP BY tag.name ORDER BY count(*) DESC, tag.name LIMIT 1")).scalar_one()
        linked = connection.execute(sqlalchemy.text(
            "SELECT target_slug FROM link JOIN page ON page.slug = link.target_slug "
            "GROUP BY target_slug ORDER BY count(*) DESC, target_slug LIMIT 1")).scalar_one()
    engine.dispose()
    return [(BIGGEST_TAG, f"/tags/{quote(tag)}"), (MOST_LINKED, f"/backlinks/{quote(linked)}")]


def noise_png(size: int, seed: int) -> bytes:
    """A PNG of random pixels, about *size* bytes: noise does not compress, so the file is
    as large as its pixels, the worst case for decoding and encoding it again."""
    side = int((size / 3) ** 0.5)
    pixels = random.Random(seed).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


def measure_files(run: WikiRun, wiki: Server, manifest: generate.Manifest, plan: Plan) -> None:
    """A 100 KB image served (against a bare Flask app sending the same bytes), then 5 MB
    images uploaded one after another through the form, the workers' memory sampled."""
    browser = Browser(wiki.base)
    browser.login(manifest.user, manifest.password)
    form = "/attachments/" + quote(manifest.sample_slugs[0])
    stored = browser.post_file(form, "picture.png", noise_png(SERVED_IMAGE_KB * 1024, 0))
    if stored.status != 303:
        raise RuntimeError(f"uploading the image answered {stored.status}")
    path = "/files/" + quote(manifest.sample_slugs[0]) + "/picture.png?v=1"
    image = RUN_DIR / "picture.png"
    image.write_bytes(_raw(wiki.base, path))  # the bytes the wiki serves, for the ceiling
    with Server("ceiling_app:app", RUN_DIR / "ceiling-files.log", {"CEILING_FILE": str(image)},
                ("--pythonpath", str(BENCH))) as ceiling:
        run.measurements.append(measure(ceiling.base, SERVE_IMAGE_CEILING, ["/file"], plan))
        run.measurements.append(measure(wiki.base, SERVE_IMAGE, [path], plan))

    sampler = RssSampler(wiki)
    sampler.start()
    posts, errors = [], 0
    for number in range(UPLOADS):
        content = noise_png(UPLOADED_IMAGE_MB * 1024 * 1024, number + 1)
        answer = browser.post_file(form, f"photo-{number}.png", content)
        errors += answer.status != 303
        posts.append(answer.seconds)
    run.upload_peak_rss_mb = round(sampler.stop(), 1)
    browser.close()
    load = Load(len(posts), sum(posts), _percentile(posts, 50) * 1000,
                _percentile(posts, 99) * 1000, errors)
    measurement = Measurement(UPLOAD_IMAGE, f"POST {form}", None, load)
    run.measurements.append(measurement)
    print(f"    {UPLOAD_IMAGE:<28} {_describe(measurement)}  "
          f"worker RSS up to {run.upload_peak_rss_mb:.0f} MB", file=sys.stderr)


def _raw(base: str, path: str) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("GET", path)
        return connection.getresponse().read()
    finally:
        connection.close()


def run_wiki(size: int, plan: Plan, saves: int, page_views_only: bool = False,
             files_only: bool = False, database: str = "sqlite") -> list[WikiRun]:
    """The table of one wiki size on *database*; on PostgreSQL, then a second table of the
    same wiki served by two hosts."""
    print(f"Wiki of {size:,} pages on {DATABASES[database]}", file=sys.stderr)
    everything = not (page_views_only or files_only)
    with bench_wiki(database, size) as bench:
        manifest = bench.manifest
        revisions, database_mb = database_facts(bench.database_url)
        with Server("wsgi:app", RUN_DIR / f"wiki-{size}-{database}.log", bench.env) as wiki:
            sampler = RssSampler(wiki)
            sampler.start()
            run = WikiRun(size, revisions, bench.made, round(database_mb, 1), wiki.ready_s,
                          database=database)
            if not files_only:
                measure_page_views(run, [wiki.base], manifest, plan)
            if everything:
                for name, paths in endpoints(manifest, size):
                    run.measurements.append(measure(wiki.base, name, paths, plan))
                run.measurements.append(measure_deep_list(wiki.base, "recent changes",
                                                          "/recent", plan))
                for name, path in longest_lists(bench.database_url):
                    run.measurements.append(measure(wiki.base, name, [path], plan))
                    run.measurements.append(measure_deep_list(wiki.base, name, path, plan))
                run.measurements.append(measure_saves(wiki.base, manifest, saves))
            if not page_views_only:
                measure_files(run, wiki, manifest, plan)
            if everything:
                run.measurements += measure_reviews(wiki.base, bench.database_url, manifest,
                                                    plan)
            run.worker_rss_mb = [round(rss, 1) for rss in wiki.worker_rss_mb()]
            run.worker_peak_rss_mb = round(sampler.stop(), 1)
        if not files_only:  # with the machine quiet
            run.startup_s, run.startup_cpu_s = startup_seconds(bench.env)
        runs = [run]
        if everything and database == "postgresql":
            runs.append(run_two_hosts(bench, run, plan, saves))
    return runs


def run_two_hosts(bench: BenchWiki, alone: WikiRun, plan: Plan, saves: int) -> WikiRun:
    """The wiki served by two Gunicorn masters (two hosts behind a load balancer, here on
    one machine) on its one database, the load spread over both; saves alternate between
    them and each is read back from the other."""
    print(f"  {alone.pages:,} pages on two hosts", file=sys.stderr)
    manifest, logs = bench.manifest, RUN_DIR / f"wiki-{alone.pages}-{bench.database}"
    with Server("wsgi:app", Path(f"{logs}-host1.log"), bench.env) as one, \
            Server("wsgi:app", Path(f"{logs}-host2.log"), bench.env) as two:
        bases = [one.base, two.base]
        run = WikiRun(alone.pages, alone.revisions, bench.made, alone.database_mb,
                      max(one.ready_s, two.ready_s), database=bench.database, hosts=2)
        measure_page_views(run, bases, manifest, plan, first_views=False)
        run.measurements.append(measure(bases, "search: common word",
                                        [f"/search?q={manifest.common_word}"], plan))
        run.measurements.append(measure_saves(bases, manifest, saves))
        run.worker_rss_mb = [round(rss, 1) for rss in one.worker_rss_mb() + two.worker_rss_mb()]
    run.startup_s, run.startup_cpu_s = alone.startup_s, alone.startup_cpu_s
    return run


def measure_deep_list(base: str, name: str, path: str, plan: Plan,
                      depth: int = DEEP_PAGE) -> Measurement:
    """Page *depth* of the list at *path* (or its last page, if it has fewer)."""
    deep, reached = deep_address(base, path, depth)
    return measure(base, f"{name}, page {reached:,}", [deep], plan)


def deep_address(base: str, path: str, depth: int) -> tuple[str, int]:
    """The address of page *depth* of the list at *path*, or of its last page, and which
    page that is: found as a reader finds it, by following its "Older"/"Next" link
    (``rel="next"``), so numbered pages (``?page=``) and pages walked by key
    (``?before=``) are both reached."""
    browser = Browser(base)
    reached = 1
    try:
        while reached < depth:
            answer = browser.get(path)
            following = re.search(r'<a\b[^>]*\brel="next"[^>]*\bhref="([^"]+)"', answer.body)
            if answer.status != 200 or following is None:
                break
            path, reached = unescape(following.group(1)), reached + 1
    finally:
        browser.close()
    return path, reached


def measure_page_views(run: WikiRun, bases: list[str], manifest: generate.Manifest,
                       plan: Plan, first_views: bool = True) -> None:
    """Page views, with the ceiling (as many hosts of it as of the wiki) measured just before
    and just after them; then page views that no cache can answer (first views, and views
    by a signed-in editor)."""
    views = page_views(manifest)
    sizes = [len(fetch(bases[0], path).body.encode()) for path in views[:20]]
    ceiling_env = {"CEILING_PAGE_BYTES": str(int(statistics.mean(sizes)))}
    with ExitStack() as stack:
        ceilings = [stack.enter_context(Server(
            "ceiling_app:app", RUN_DIR / f"ceiling-{number}.log", ceiling_env,
            ("--pythonpath", str(BENCH)))).base for number in range(len(bases))]
        before = measure(ceilings, "ceiling", views, plan)
        # Each worker keeps the pages it rendered: as many more workers, as much more warm-up
        # for each to have seen the same share of the sample.
        warmup = plan.page_warmup_seconds * len(bases)
        run.measurements.append(measure(bases, "page view", views, plan, warmup=warmup))
        after = measure(ceilings, "ceiling (again)", views, plan)
    run.ceiling_rps = [before.throughput.rps, after.throughput.rps]
    run.ceiling_latency = before.latency
    if first_views:
        first = [f"{path}?v={number}" for number in range(20) for path in views]
        run.measurements.append(measure(bases, "page view, first time", first, plan))
    run.measurements.append(signed_in_view(bases, manifest, plan, warmup))


def signed_in_view(base: str | list[str], manifest: generate.Manifest, plan: Plan,
                   warmup: float) -> Measurement:
    """Page views by a signed-in editor (on several hosts: the same session on each),
    warmed up as long as the anonymous ones: each worker keeps the articles (and their
    layout) per role, as a server up for a while has them."""
    browser = Browser(base if isinstance(base, str) else base[0])
    browser.login(manifest.user, manifest.password)
    cookies = browser.cookie_header()
    browser.close()
    return measure(base, "page view, signed in", page_views(manifest), plan, cookies,
                   warmup=warmup)


# --- importing ----------------------------------------------------------------------------


@dataclass
class ImportRun:
    database: str
    pages: int
    seconds: float  # `flask pages import` from start to exit, the interpreter's start included
    pages_after: int  # live pages in the wiki afterwards (the shipped notes' included)


def import_folder(pages: int) -> Path:
    """*pages* Markdown files with front matter (title, tags), as `flask pages export`
    writes them, their text made as bench/generate.py makes pages (kept for the next run)."""
    folder = generate.WORK / f"import-{pages}"
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(20)
    plan = generate.make_plan(pages, rng)
    author = generate.Author(rng, plan)
    for index, title in enumerate(plan.titles):
        tags = "".join(f"\n  - {tag}" for tag in plan.tags[index])
        (folder / f"note-{index:06d}.md").write_text(
            f"---\ntitle: {json.dumps(title)}\ntags:{tags or ' []'}\n---\n\n"
            f"{author.body(index)}")
    done.touch()
    return folder


def time_import(database: str, pages: int) -> ImportRun:
    """`flask pages import` of *pages* new pages into a fresh wiki (after `flask init`) on
    *database*, timed from the outside as a user times it."""
    folder = import_folder(pages)
    print(f"Importing {pages:,} pages on {DATABASES[database]}", file=sys.stderr)
    with ExitStack() as stack:
        instance = _scratch_instance(f"instance-import-{database}")
        env = {"WIKI_INSTANCE_PATH": str(instance)}
        if database == "postgresql":
            env["WIKI_DATABASE_URL"] = stack.enter_context(
                throwaway_postgresql())
        flask_init(env)
        started = time.perf_counter()
        subprocess.run([BIN / "flask", "--app", "wiki", "pages", "import", str(folder)],
                       cwd=ROOT, check=True, env={**os.environ, **env}, capture_output=True)
        seconds = time.perf_counter() - started
        url = env.get("WIKI_DATABASE_URL") or sqlite_url(instance)
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            live = connection.execute(sqlalchemy.text(
                "SELECT count(*) FROM page WHERE deleted = false")).scalar_one()
        engine.dispose()
    print(f"    import of {pages:,} pages: {seconds:,.1f} s ({live:,} pages after)",
          file=sys.stderr)
    return ImportRun(database, pages, round(seconds, 1), live)


# --- targets ------------------------------------------------------------------------------


def check_targets(runs: list[WikiRun], hostile_results: list[hostile.HostileResult],
                  imports: list[ImportRun] = ()) -> list[Target]:
    """The targets on SQLite, checked on the largest wiki measured (they are set for 100k)."""
    run = max(runs, key=lambda r: r.pages)
    targets = ratio_targets(run) + latency_targets(run, [
        ("search: rare word", 10, "p50"), ("search: common word", 15, "p50"),
        ("search: rare word", 100, "p99"), ("search: common word", 50, "p99"),
        ("search: phrase", 100, "p99"), ("save (sequential)", 30, "p50"),
        ("history (500 revisions)", 20, "p50"), ("recent changes", 20, "p50"),
        (deep_list_name(run, "recent changes"), 20, "p50"), ("page list", 20, "p50"),
        (BIGGEST_TAG, 20, "p50"), (deep_list_name(run, BIGGEST_TAG), 20, "p50"),
        (MOST_LINKED, 20, "p50"), (deep_list_name(run, MOST_LINKED), 20, "p50"),
        ("tags, with counts", 20, "p50"),
        ("next due card", 10, "p50"), ("grade", 10, "p50")])
    after = max(max(r.worker_rss_mb, default=0) for r in runs)
    peak = max(r.worker_peak_rss_mb for r in runs)
    targets.append(Target(
        "worker RSS after the run (largest, any size)", "< 100 MB",
        f"{after:.0f} MB (highest sampled during the run {peak:.0f} MB; a sign-in's scrypt "
        "hash takes 32 MiB more for a moment)",
        after < 100))
    slowest = max(runs, key=lambda r: r.startup_s)
    targets.append(Target("create_app() (slowest size)", "< 0.3 s",
                          f"{slowest.startup_s:.2f} s ({slowest.startup_cpu_s:.2f} s CPU)",
                          slowest.startup_s < 0.3))
    targets += import_targets(imports)
    targets += file_targets(runs)
    if hostile_results:
        worst = hostile.worst(hostile_results)
        targets.append(Target("hostile input, worst case", f"< {hostile.GOAL_SECONDS:g} s",
                              f"{worst.seconds:.2f} s ({worst.name})",
                              worst.seconds < hostile.GOAL_SECONDS))
    return targets


def postgresql_targets(runs: list[WikiRun], imports: list[ImportRun] = ()) -> list[Target]:
    """Issue #20's targets on PostgreSQL: on the largest wiki, served by one host and by
    two; and no errors anywhere."""
    largest = max(run.pages for run in runs)
    targets = []
    for run in (r for r in runs if r.pages == largest):
        alone = run.hosts == 1  # issue #20's targets for every database, then two hosts'
        targets += ratio_targets(run, signed_in=alone) + latency_targets(run, [
            ("search: common word", 15 if alone else 20, "p50"),
            *([("search: common word", 50, "p99")] if alone else []),
            ("save (sequential)", 30, "p50"),
            *([("next due card", 10, "p50"), ("grade", 10, "p50"),
               *((name, 20, "p50") for name in list_rows(run))] if alone else [])])
    errors = sum(m.latency.errors + (m.throughput.errors if m.throughput else 0)
                 for run in runs for m in run.measurements)
    targets.append(Target("errors (every row, every size, one and two hosts)", "none",
                          f"{errors:,}", errors == 0))
    return targets + import_targets(imports)


def list_rows(run: WikiRun) -> list[str]:
    """The lists of the table, each at its first page and deep: every one under 20 ms."""
    return ["page list", "page list, middle page", "tags, with counts",
            "history (500 revisions)", "recent changes", deep_list_name(run, "recent changes"),
            BIGGEST_TAG, deep_list_name(run, BIGGEST_TAG), MOST_LINKED,
            deep_list_name(run, MOST_LINKED)]


def _where(run: WikiRun) -> str:
    hosts = ", two hosts" if run.hosts > 1 else ""
    return f" at {run.pages:,} pages{hosts}"


def ratio_targets(run: WikiRun, signed_in: bool = True) -> list[Target]:
    """Page views against the bare-Flask ceiling: warm (cached), and where no cache helps."""
    goals = [("page view", 0.6)]
    if signed_in:
        goals += [("page view, signed in", 0.5), ("page view, first time", 0.3)]
    targets = []
    for name, goal in goals:
        ratio = run.ratio_to_ceiling(name)
        targets.append(Target(f"{name} throughput / ceiling{_where(run)}", f"≥ {goal:.0%}",
                              f"{ratio:.0%}" if ratio is not None else "not measured",
                              None if ratio is None else ratio >= goal))
    return targets


def latency_targets(run: WikiRun, goals: list[tuple[str, float, str]]) -> list[Target]:
    """(row, goal in ms, "p50" or "p99") → a target each."""
    targets = []
    for name, goal_ms, percentile in goals:
        found = run.find(name)
        value = getattr(found.latency, f"{percentile}_ms") if found else None
        targets.append(Target(f"{name}, {percentile}{_where(run)}", f"< {goal_ms:g} ms",
                              f"{value:.1f} ms" if value is not None else "not measured",
                              None if value is None else value < goal_ms))
    return targets


def deep_list_name(run: WikiRun, name: str) -> str:
    """The name of the row of *name*'s deep page in *run* (it says which page it reached)."""
    return next((m.name for m in run.measurements if m.name.startswith(f"{name}, page ")),
                f"{name}, page {DEEP_PAGE:,}")


IMPORT_GOALS_S = {10_000: 20, 100_000: 240}


def import_targets(imports: list[ImportRun]) -> list[Target]:
    return [Target(f"`flask pages import` of {i.pages:,} pages on {DATABASES[i.database]}",
                   f"< {IMPORT_GOALS_S.get(i.pages, i.pages / 500):g} s",
                   f"{i.seconds:,.1f} s ({i.pages / i.seconds:,.0f} pages/s)",
                   i.seconds < IMPORT_GOALS_S.get(i.pages, i.pages / 500))
            for i in imports]


def file_targets(runs: list[WikiRun]) -> list[Target]:
    """The attached-file targets, on the largest wiki where they were measured."""
    measured = [r for r in runs if r.find(SERVE_IMAGE)]
    if not measured:
        return []
    run = max(measured, key=lambda r: r.pages)
    served, ceiling = run.find(SERVE_IMAGE), run.find(SERVE_IMAGE_CEILING)
    ratio = served.throughput.rps / ceiling.throughput.rps
    upload = run.find(UPLOAD_IMAGE)
    at = f" at {run.pages:,} pages"
    return [
        Target(f"{SERVE_IMAGE} / the same bytes from bare Flask{at}", "≥ 50%",
               f"{ratio:.0%} ({served.throughput.rps:,.0f} / {ceiling.throughput.rps:,.0f} "
               "req/s)", ratio >= 0.5),
        Target(f"{UPLOAD_IMAGE}: worker RSS during the uploads{at}", "< 200 MB",
               f"{run.upload_peak_rss_mb:.0f} MB (p50 {upload.latency.p50_ms:,.0f} ms per "
               "upload)", run.upload_peak_rss_mb < 200),
    ]


def files_section(runs: list[WikiRun], date: str) -> list[str]:
    """The attached-file rows of *runs* and their targets, as a section of their own."""
    lines = [
        FILES_SECTION, "",
        f"Run {date} (`--files-only`). A {SERVED_IMAGE_KB} KB PNG of random pixels (it does "
        "not compress) is uploaded through the form, then its versioned address "
        "(`?v=1`) is asked for by wrk as a visitor without cookies, against a bare Flask app "
        "(bench/ceiling_app.py, `/file`) sending the same bytes under the same Gunicorn "
        f"settings. Then {UPLOADS} different {UPLOADED_IMAGE_MB} MB PNGs are uploaded one "
        "after another by a signed-in editor (each decoded and encoded again by Pillow and "
        "stored in the database), the workers' memory sampled every half second. The machine "
        "is shared and noisy: compare figures within one run only.", "",
        "| target | goal | measured | |", "| --- | --- | --- | --- |",
    ]
    lines += [_target_row(t) for t in file_targets(runs)]
    for run in runs:
        lines += ["", f"{run.pages:,} pages:", "",
                  "| endpoint | req/s (16 conn.) | p50 ms | p99 ms | queries | KB | errors |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [_measurement_row(m) for m in run.measurements]
    return lines


def splice_section(markdown_text: str, section: list[str]) -> str:
    """*markdown_text* with the section headed like *section* (its first line, ``## ...``)
    replaced by *section*, or added before the hostile-input section, or at the end;
    everything else kept."""
    lines = markdown_text.rstrip("\n").split("\n")
    heading = section[0]
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        lines[start:end] = [*section, ""] if end < len(lines) else section
    elif "## Hostile input" in lines:
        at = lines.index("## Hostile input")
        lines[at:at] = [*section, ""]
    else:
        lines += ["", *section]
    return "\n".join(lines) + "\n"


def sections(markdown_text: str) -> dict[str, str]:
    """The ``## `` sections of *markdown_text*, by heading, each with its text."""
    found: dict[str, str] = {}
    heading = None
    for line in markdown_text.split("\n"):
        if line.startswith("## "):
            heading = line
        if heading:
            found[heading] = found.get(heading, "") + line + "\n"
    return found


# --- writing the results ------------------------------------------------------------------


POSTGRESQL_SECTION = "## PostgreSQL"


def write_results(report: Report, latest: Path) -> None:
    """Into *latest* (and JSON beside it): the SQLite tables, replacing theirs, and the
    PostgreSQL section, replacing its own; every other section of the file is kept."""
    latest.parent.mkdir(parents=True, exist_ok=True)
    data = asdict(report)
    for run, run_data in zip(report.runs, data["runs"], strict=True):
        run_data["view_ratio"] = run.view_ratio
        run_data["first_view_ratio"] = run.ratio_to_ceiling("page view, first time")
    sqlite_measured = bool(report.runs_on("sqlite"))
    json_name = latest.stem + ("" if sqlite_measured else "-postgresql") + ".json"
    (latest.parent / json_name).write_text(json.dumps(data, indent=1) + "\n")
    before = latest.read_text() if latest.exists() else "# Benchmark results\n"
    text = before
    if sqlite_measured:
        text = markdown(report)
        for heading, body in sections(before).items():  # kept, with the run that made them
            if heading not in sections(text):
                text = splice_section(text, body.rstrip("\n").split("\n"))
    if report.runs_on("postgresql"):
        text = splice_section(text, postgresql_section(report))
    latest.write_text(text)


def markdown(report: Report) -> str:
    """The SQLite part of latest.md: the settings, the targets, a table per wiki size."""
    m = report.machine
    lines = [
        "# Benchmark results", "",
        f"Run {m.date} on {m.cpu}, {m.cores} cores, {m.memory_gb:g} GB RAM, {m.os}; "
        f"Python {m.python}, SQLite {m.sqlite}, {m.gunicorn}, {m.wrk}.", "",
        f"`gunicorn wsgi:app` with `gunicorn.conf.py` and {WORKERS} sync workers; throughput "
        f"with {CONNECTIONS} connections for {report.settings['seconds']:g} s, latency with 1 "
        f"connection for {report.settings['latency_seconds']:g} s (unloaded), wrk on loopback. "
        "Page views ask for a random page of a sample of 1,000, as a visitor without "
        "cookies, measured warm: each worker keeps the page views it sent anonymous readers "
        "(`wiki/web/caching.py`) and the warm-up lets it see most of the sample, as on a server "
        "up for a while. *Page view, first time* asks for pages no worker has kept (rendered "
        "each time); *signed in* by an editor's session, warmed up the same way (each worker "
        "keeps the layout per role, puts in the reader's own name and CSRF token, and "
        "answers before Flask: `wiki/web/signed_in.py`). Saves go one after another through "
        "the edit form. *Recent changes, page N* is the list's page N (1,000, or its last), "
        "reached by following its \"Older\" links. `queries`: statements per request, from "
        "`Server-Timing` (BEGIN included). Endpoints under 100 req/s get a latency run three "
        "times as long. Imports: `flask pages import` of a folder of generated pages with "
        "front matter into a fresh wiki, timed from the outside. The machine is shared: "
        "compare figures within one run only.",
        "", "## Targets", "", "| target | goal | measured | |", "| --- | --- | --- | --- |",
    ]
    lines += [_target_row(t) for t in report.targets]
    for run in report.runs_on("sqlite"):
        lines += ["", *_run_table(run)]
    if report.hostile:
        lines += ["", *hostile.markdown(report.hostile)]
    return "\n".join(lines) + "\n"


def postgresql_section(report: Report) -> list[str]:
    runs = report.runs_on("postgresql")
    imports = [i for i in report.imports if i.database == "postgresql"]
    lines = [
        POSTGRESQL_SECTION, "",
        f"Run {report.machine.date} with `make bench DB=postgresql` (`python bench/run.py "
        f"--database postgresql`), PostgreSQL {postgresql_version()} on 127.0.0.1: the same "
        "table as above, in a throw-away database the bench creates and drops, its pages "
        "written by bench/generate.py through the services, as for SQLite, then VACUUM "
        "ANALYZE (what autovacuum does within minutes of such a write). Then the same "
        "wiki served by two hosts: two Gunicorn masters of "
        f"{WORKERS} workers each on the one database (both on this machine, so sharing its "
        f"{report.machine.cores} cores), wrk's connections spread over them (one wrk each: "
        "requests added, percentiles averaged), against two bare-Flask ceilings loaded the "
        "same way; saves alternate between the hosts, and each is read back from the other "
        "(not shown there yet: an error). Same settings as above; compare figures within one "
        "run only.", "",
        "| target | goal | measured | |", "| --- | --- | --- | --- |",
        *[_target_row(t) for t in postgresql_targets(runs, imports)],
    ]
    for run in runs:
        lines += ["", *_run_table(run, level="###")]
    return lines


def postgresql_version() -> str:
    done = subprocess.run(["psql", *POSTGRESQL_SERVER, "-tAc", "SHOW server_version",
                           "postgres"], capture_output=True, text=True)
    return done.stdout.strip().split(" ")[0] or "(version unknown)"


def _target_row(t: Target) -> str:
    return (f"| {t.what} | {t.goal} | {t.measured} | "
            f"{'met' if t.met else 'not measured' if t.met is None else '**missed**'} |")


def _run_table(run: WikiRun, level: str = "##") -> list[str]:
    ceiling = " / ".join(f"{rps:,.0f}" for rps in run.ceiling_rps)
    hosts = f", {run.hosts} hosts on one database" if run.hosts > 1 else ""
    peak = f" (peak {run.worker_peak_rss_mb:.0f} MB)" if run.worker_peak_rss_mb else ""
    ratios = [f"{label} at {ratio:.0%}" for label, name in (
        ("page view", "page view"), ("signed in", "page view, signed in"),
        ("a first view (rendered, not kept yet)", "page view, first time"))
        if (ratio := run.ratio_to_ceiling(name)) is not None]
    lines = [
        f"{level} {run.pages:,} pages{hosts}", "",
        f"{run.revisions:,} revisions (made by {run.generated}); database "
        f"{run.database_mb:,.0f} MB; `create_app()` "
        f"{run.startup_s:.2f} s ({run.startup_cpu_s:.2f} s CPU); Gunicorn ready in "
        f"{run.ready_s:.1f} s; worker RSS after the "
        f"run {', '.join(f'{rss:.0f}' for rss in run.worker_rss_mb)} MB{peak}. Ceiling "
        f"{ceiling} req/s (before / after the page view)"
        + (f"; of it: {', '.join(ratios)}." if ratios else "."), "",
        "| endpoint | req/s (16 conn.) | p50 ms | p99 ms | queries | KB | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    if run.ceiling_latency:
        c = run.ceiling_latency
        lines.append(f"| ceiling (bare Flask) | {statistics.mean(run.ceiling_rps):,.0f} | "
                     f"{c.p50_ms:.2f} | {c.p99_ms:.2f} | – | – | {c.errors} |")
    lines += [_measurement_row(m) for m in run.measurements]
    return lines


def _measurement_row(m: Measurement) -> str:
    loaded = m.throughput
    errors = m.latency.errors + (loaded.errors if loaded else 0)
    one = m.latency.rps  # a slow series (uploads) gets its decimals
    rps = f"{loaded.rps:,.0f}" if loaded else f"{one:,.{0 if one >= 10 else 2}f} (1 conn.)"
    return (
        f"| {m.name} | {rps}"
        f" | {m.latency.p50_ms:.2f} | {m.latency.p99_ms:.2f} | "
        f"{m.queries if m.queries is not None else '–'} | "
        f"{f'{m.body_bytes / 1024:.0f}' if m.body_bytes else '–'} | {errors} |"
    )


REVIEW_SECTION = "## Review cards"
def review_rows(database: str, size: int, plan: Plan) -> list[str]:
    """Review cards measured on one database: its subsection of latest.md."""
    print(f"Review cards on {DATABASES[database]}, {size:,} pages", file=sys.stderr)
    with bench_wiki(database, size) as wiki, Server(
            "wsgi:app", RUN_DIR / f"wiki-{size}-reviews-{database}.log", wiki.env) as server:
        baseline = signed_in_view(server.base, wiki.manifest, plan,
                                  plan.page_warmup_seconds)  # how busy the machine is
        measurements = measure_reviews(server.base, wiki.database_url, wiki.manifest, plan)
        statement = due_query_statement(wiki.database_url, wiki.manifest)
    lines = [
        f"### {DATABASES[database]}", "",
        f"{size:,} pages made by {wiki.made}. Load average after the run: "
        f"{os.getloadavg()[0]:.1f}.", "",
        "| endpoint | req/s (16 conn.) | p50 ms | p99 ms | queries | KB | errors | goal |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for m in [baseline, *measurements]:
        goal = "–" if m is baseline else "met" if m.latency.p50_ms < 10 else "**missed**"
        lines.append(f"{_measurement_row(m)} {goal} |")
    inside = [f"*{m.name}* {m.app_ms[0]:.2f} ms in the database of {m.app_ms[1]:.2f} ms in "
              "the app" for m in measurements if m.app_ms]
    return [*lines, "", f"Medians of `Server-Timing` over {GRADES} requests one at a time: "
            f"{'; '.join(inside)}; the rest of the p50 is the WSGI server, the network and "
            f"the machine's load. The due-card query alone: {statement}."]


def write_review_section(machine: Machine, size: int, plan: Plan, databases: list[str],
                         latest: Path) -> None:
    """Measure review cards alone, on the wiki of *size* pages on each of *databases*, and
    put the result in latest.md in place of its review section (the rest is kept)."""
    lines = [
        REVIEW_SECTION, "",
        f"Run {machine.date} on {machine.cpu}, {machine.cores} cores, with `make bench "
        f"REVIEWS=1 DB=\"{' '.join(databases)}\"` (`python bench/run.py --reviews-only "
        f"--database {' '.join(databases)}`): a wiki of "
        f"{size:,} pages with {REVIEW_CARDS:,} cards, all scheduled for one signed-in user "
        f"(a third due), and {REVIEW_LOG_ROWS:,} review-log rows of theirs, written with "
        "bulk inserts. *Next due card* is `GET /review` (the question side), loaded like the "
        f"other endpoints; *grade* is {GRADES} POSTs of rating 3 one after another, each "
        "after opening the card as a browser does. Goal: p50 < 10 ms each. Load average "
        f"before: {os.getloadavg()[0]:.1f} on {machine.cores} cores; a busy machine slows "
        "every request, so a signed-in page view (3.8 ms p50 at 1,000 pages "
        "in the full run above) is measured alongside for comparison, and the due-card "
        "query is timed alone in the database, with the plan it gets.",
    ]
    for database in databases:
        lines += ["", *review_rows(database, size, plan)]
    text = latest.read_text() if latest.exists() else "# Benchmark results\n"
    latest.write_text(splice_section(text, lines))
    print("\n".join(lines))


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    generate.forget_shell_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", default=bool(os.environ.get(
        "BENCH_LARGE")), help=f"also the {generate.LARGE_SIZE:,}-page wiki")
    parser.add_argument("--sizes", type=int, nargs="+", help="page counts to measure")
    parser.add_argument("--seconds", type=float, default=5.0, help="each throughput run")
    parser.add_argument("--latency-seconds", type=float, default=3.0, help="each latency run")
    parser.add_argument("--saves", type=int, default=SAVES, help="saves per wiki")
    parser.add_argument("--import-pages", type=int, nargs="*",
                        help=f"pages per timed import (default {IMPORT_PAGES:,}, and "
                             f"{generate.LARGE_SIZE:,} with --large; none: no import)")
    parser.add_argument("--page-views-only", action="store_true",
                        help="page views and the ceiling only; print them, keep latest.md")
    parser.add_argument("--files-only", action="store_true",
                        help="the attached-file rows only; put their section into latest.md")
    parser.add_argument("--reviews-only", action="store_true",
                        help="review cards only (1,000 pages unless --sizes): their section "
                             "of latest.md")
    parser.add_argument("--database", nargs="+", choices=list(DATABASES), default=["sqlite"],
                        help="where to measure, one after the other (postgresql: a "
                             "throw-away database on 127.0.0.1, user postgres, and a run "
                             "on two hosts)")
    parser.add_argument("--results", type=Path, default=RESULTS / "latest.md",
                        help="the Markdown file to write (its other sections are kept)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    plan = Plan(args.seconds, args.latency_seconds)
    databases = list(dict.fromkeys(args.database))
    if args.reviews_only:
        write_review_section(describe_machine(), (args.sizes or [1_000])[0], plan,
                             databases, args.results)
        return
    machine = describe_machine()
    runs = [run for database in databases
            for size in generate.sizes_wanted(args.large, args.sizes)
            for run in run_wiki(size, plan, args.saves, args.page_views_only,
                                args.files_only, database)]
    if args.page_views_only:  # a part of the table: compare it with another such run
        print("\n".join(line for run in runs for line in _run_table(run)))
        return
    if args.files_only:  # its own section; the other rows of latest.md are kept
        section = files_section(runs, machine.date)
        args.results.write_text(splice_section(args.results.read_text(), section))
        print("\n".join(section))
        return
    import_sizes = (args.import_pages if args.import_pages is not None else
                    [IMPORT_PAGES, *([generate.LARGE_SIZE] if args.large else [])])
    imports = [time_import(database, pages) for database in databases
               for pages in import_sizes]
    report = Report(machine, runs, asdict(plan) | {"saves": args.saves},
                    hostile=hostile.measure() if "sqlite" in databases else [],
                    imports=imports)
    if report.runs_on("sqlite"):
        report.targets = check_targets(report.runs_on("sqlite"), report.hostile,
                                       [i for i in imports if i.database == "sqlite"])
    write_results(report, args.results)
    print(args.results.read_text())


if __name__ == "__main__":
    main()

"""Several hosts, one database: Gunicorn masters on their own ports share a PostgreSQL
database (and, for login limits, a Redis), as machines behind a load balancer would.

Eight writers, spread over the hosts, edit the same pages through the real forms at the same
time, retrying when the wiki shows them a conflict, as people would. Afterwards no edit the
wiki reported as saved is missing, every page's revisions are numbered without a gap or a
duplicate, search finds the final text and backlinks follow the final links, on every host.
The same runs against one master on SQLite.
"""

from __future__ import annotations

import io
import os
import re
import threading
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from tests import databases
from tests.servers import (
    CONFLICT,
    Browser,
    free_port,
    gunicorn_command,
    prepare_wiki,
    running_server,
    tail,
    wiki_environment,
)
from wiki.models import Link, Page, Revision

WRITERS = 8
ROUNDS = 3
PAGES = ("Race A", "Race B")
WORKERS = 2  # per Gunicorn master
REDIS = ("127.0.0.1", 6379)


def slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def slot_text(writer: int, round_: int) -> str:
    return f"slot {writer}: w{writer}r{round_} [[Topic {round_}]]"


# One line per writer, kept apart by lines nobody edits, so edits of different writers
# merge, as edits of different paragraphs do.
FIRST_TEXT = "\n~\n".join(f"slot {writer}: empty" for writer in range(WRITERS)) + "\n"


# --- the hosts --------------------------------------------------------------------------------


@contextmanager
def hosts(tmp_path: Path, count: int, **settings: str):
    """*count* Gunicorn masters (WORKERS workers each) on one wiki database, the first one
    initialised with ``flask init``; yields their base URLs and log files."""
    with ExitStack() as stack:
        bases, logs = [], []
        for number in range(count):
            instance = tmp_path / f"host-{number}"
            env = (prepare_wiki(instance, **settings) if number == 0
                   else wiki_environment(instance, **settings))
            port, log = free_port(), tmp_path / f"host-{number}.log"
            bases.append(stack.enter_context(
                running_server(gunicorn_command(port, WORKERS), port, env, log)))
            logs.append(log)
        yield bases, logs
    for log in logs:
        assert "Traceback" not in tail(log, 1_000_000), tail(log)


# --- the writers ------------------------------------------------------------------------------


@dataclass(eq=False)  # threads are told apart by identity
class Writer(threading.Thread):
    """Signs in on one host and, round after round, rewrites its own line of every page."""

    number: int
    base: str
    start_together: threading.Barrier
    saved: list[tuple[str, int]] = field(default_factory=list)  # (page slug, round)
    conflicts: int = 0
    error: BaseException | None = None

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def run(self) -> None:
        try:
            browser = Browser(self.base)
            browser.login()
            self.start_together.wait()
            for round_ in range(1, ROUNDS + 1):
                for title in PAGES:
                    self.edit(browser, slug(title), round_)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def edit(self, browser: Browser, page: str, round_: int) -> None:
        mine = re.compile(rf"^slot {self.number}: .*$", re.MULTILINE)
        while True:
            form = browser.open_editor(page)
            form["body"] = mine.sub(slot_text(self.number, round_), form["body"])
            answer = browser.save(page, form)
            if answer.status == 200 and answer.url.endswith(f"/wiki/{page}"):
                self.saved.append((page, round_))
                return
            if answer.status == 409 and CONFLICT in answer.text:
                self.conflicts += 1
                continue  # reload the page and make the edit again
            raise AssertionError(f"saving {page} answered {answer.status}:\n{answer.text[:2000]}")


def run_writers(bases: list[str]) -> list[Writer]:
    for title in PAGES:  # the pages and the pages they will link to
        create_page(bases[0], title, FIRST_TEXT)
    for round_ in range(1, ROUNDS + 1):
        create_page(bases[-1], f"Topic {round_}", "A topic.\n")
    together = threading.Barrier(WRITERS)
    writers = [Writer(number, bases[number % len(bases)], together)
               for number in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
    assert not [writer for writer in writers if writer.is_alive()], "a writer is stuck"
    errors = [writer.error for writer in writers if writer.error]
    assert not errors, errors
    return writers


def create_page(base: str, title: str, text: str) -> None:
    browser = Browser(base)
    browser.login()
    form = browser.open_editor(slug(title))
    answer = browser.save(slug(title), {**form, "title": title, "body": text})
    assert answer.status == 200 and answer.url.endswith(f"/wiki/{slug(title)}"), answer.status


# --- what must hold afterwards ----------------------------------------------------------------


def check_history(database_url: str, writers: list[Writer]) -> None:
    """Every reported save is a revision; numbers run 1..n; the last has every last edit."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            for title in PAGES:
                revisions = connection.execute(
                    select(Revision.number, Revision.body).join(Page, Page.id == Revision.page_id)
                    .where(Page.slug == slug(title)).order_by(Revision.number)).all()
                saves = [(writer.number, round_) for writer in writers
                         for page, round_ in writer.saved if page == slug(title)]
                assert len(saves) == WRITERS * ROUNDS
                assert [row.number for row in revisions] == list(range(1, len(saves) + 2))
                bodies = [row.body for row in revisions]
                for number, round_ in saves:
                    assert any(slot_text(number, round_) in body for body in bodies), \
                        f"the save of writer {number}, round {round_} is missing"
                for number in range(WRITERS):
                    assert slot_text(number, ROUNDS) in bodies[-1]
                links = connection.scalars(
                    select(Link.target_slug).join(Page, Page.id == Link.from_page_id)
                    .where(Page.slug == slug(title))).all()
                assert links == [f"topic-{ROUNDS}"]
    finally:
        engine.dispose()


def check_every_host(bases: list[str]) -> None:
    """Search finds the final text and not what it replaced; backlinks follow the links."""
    race_links = {f'href="/wiki/{slug(title)}"' for title in PAGES}
    for base in bases:
        browser = Browser(base)
        final = browser.get(f"/search?q=w{WRITERS - 1}r{ROUNDS}")
        assert final.status == 200 and "2 results" in final.text, final.text[-3000:]
        assert all(link in final.text for link in race_links)
        replaced = browser.get("/search?q=w0r1")
        assert "No pages match" in replaced.text
        linked = browser.get(f"/backlinks/topic-{ROUNDS}")
        assert linked.status == 200 and all(link in linked.text for link in race_links)
        unlinked = browser.get("/backlinks/topic-1")
        assert unlinked.status == 200 and not any(link in unlinked.text for link in race_links)


# --- the tests --------------------------------------------------------------------------------


@pytest.fixture
def postgresql_database():
    """A throw-away database for the hosts, on this run's PostgreSQL (WIKI_TEST_DATABASE_URL's
    server, else the machine's own at 127.0.0.1:5432 if it answers)."""
    server = databases.server_url()
    if server is None:
        if databases.REQUIRED:
            pytest.fail("POSTGRESQL_REQUIRED is set but no PostgreSQL answers")
        pytest.skip("no PostgreSQL: set WIKI_TEST_DATABASE_URL, or run one at 127.0.0.1:5432")
    with databases.throwaway_database(server, "hosts") as url:
        yield url


@pytest.mark.slow
def test_eight_writers_on_two_hosts_and_postgresql_lose_nothing(tmp_path, postgresql_database):
    with hosts(tmp_path, 2, DATABASE_URL=postgresql_database) as (bases, _logs):
        writers = run_writers(bases)
        check_history(postgresql_database, writers)
        check_every_host(bases)


@pytest.mark.slow
def test_eight_writers_on_one_host_and_sqlite_lose_nothing(tmp_path):
    with hosts(tmp_path, 1) as (bases, _logs):
        writers = run_writers(bases)
        check_history(f"sqlite:///{tmp_path / 'host-0' / 'wiki.sqlite'}", writers)
        check_every_host(bases)


@pytest.mark.slow
def test_a_file_uploaded_on_one_host_is_served_by_the_other_at_once(tmp_path,
                                                                   postgresql_database):
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(picture, "PNG")
    with hosts(tmp_path, 2, DATABASE_URL=postgresql_database) as ([host_a, host_b], _logs):
        create_page(host_a, "Shared", "![flow](flow.png) [slides](talk.pdf)")
        a, b = Browser(host_a), Browser(host_b)
        a.login()
        b.login()
        assert a.upload("shared", "flow.png", picture.getvalue()).status == 200
        assert b.upload("shared", "talk.pdf", b"%PDF-1.4 from host B").status == 200

        served_by_a = a.download("/files/shared/flow.png")
        assert served_by_a[0] == 200
        assert b.download("/files/shared/flow.png") == served_by_a
        assert a.download("/files/shared/talk.pdf") == (200, b"%PDF-1.4 from host B")
        for browser in (a, b):  # each host's page shows both files, no red link left
            page = browser.get("/wiki/shared").text
            assert '<img src="/files/shared/flow.png" alt="flow">' in page
            assert 'href="/files/shared/talk.pdf"' in page


@pytest.mark.slow
def test_a_save_on_one_host_is_seen_by_the_other_at_once_even_after_a_restart(
        tmp_path, postgresql_database):
    """Host B's workers keep the page for anonymous readers and read the change counter on
    connections of their own; a save on host A shows on B's next view. Then every backend
    is ended, as a restart of PostgreSQL would: B's next views are still right and fail
    nothing (its log gets no traceback), on new connections."""
    with hosts(tmp_path, 2, DATABASE_URL=postgresql_database) as ([host_a, host_b], _logs):
        create_page(host_a, "Shared", "First words.")
        reader = Browser(host_b)  # never signs in: B's workers keep the page for it
        for _ in range(2 * WORKERS):
            assert "First words." in reader.get("/wiki/shared").text
        for number, moment in enumerate(("Before", "After")):
            editor = Browser(host_a)
            editor.login()
            form = editor.open_editor("shared")
            assert editor.save("shared", {**form, "body": f"{moment} the restart."}).status \
                == 200
            if number:
                end_every_backend(postgresql_database)
            for _ in range(2 * WORKERS):
                shown = reader.get("/wiki/shared")
                assert shown.status == 200 and f"{moment} the restart." in shown.text


def end_every_backend(database_url: str) -> None:
    """End every connection to the database but the one asking."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            assert all(connection.scalars(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")))
    finally:
        engine.dispose()


@pytest.fixture
def redis_limits() -> dict[str, str]:
    """Settings that keep the registration limits in the machine's Redis, under a key prefix of
    this test's own (so runs never count each other's attempts); its keys go afterwards."""
    redis = pytest.importorskip("redis", reason="pip install -e '.[redis]'")
    client = redis.Redis(*REDIS, socket_timeout=5)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("REDIS_REQUIRED"):
            pytest.fail("REDIS_REQUIRED is set but Redis does not answer at 127.0.0.1:6379")
        pytest.skip("no Redis at 127.0.0.1:6379 (redis-server --port 6379)")
    prefix = f"wiki-test-{uuid.uuid4().hex}"
    yield {"RATELIMIT_STORAGE_URI": "redis://{}:{}".format(*REDIS),
           "RATELIMIT_KEY_PREFIX": prefix}
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


@pytest.mark.slow
def test_a_login_limit_reached_on_one_host_applies_on_the_other(tmp_path):
    """Failures are counted in the database: no Redis, and every worker of every host sees them."""
    shared = tmp_path / "host-0" / "wiki.sqlite"  # one database for both, as on PostgreSQL
    settings = {"LOGIN_FAILURES_PER_USERNAME_AND_ADDRESS": "3",
                "DATABASE_URL": f"sqlite:///{shared}"}
    with hosts(tmp_path, 2, **settings) as ([host_a, host_b], _logs):
        a, b = Browser(host_a), Browser(host_b)
        for _ in range(3):
            assert failed_login(a).status == 422  # the form again, with its error
        assert failed_login(b).status == 429  # counted on host A, refused on host B
        assert failed_login(Browser(host_b), username="reader").status == 422  # per account


@pytest.mark.slow
def test_a_registration_limit_in_redis_applies_on_every_host(tmp_path, redis_limits):
    shared = tmp_path / "host-0" / "wiki.sqlite"
    settings = {**redis_limits, "REGISTRATION": "open", "REGISTRATIONS_PER_IP": "2 per hour",
                "DATABASE_URL": f"sqlite:///{shared}"}
    with hosts(tmp_path, 2, **settings) as ([host_a, host_b], _logs):
        for name in ("newcomer-1", "newcomer-2"):
            assert f"Welcome, {name}." in register(Browser(host_a), name).text
        assert register(Browser(host_b), "newcomer-3").status == 429


def register(browser: Browser, username: str):
    from tests.helpers import PASSWORD, csrf_token

    form = browser.get("/register")
    return browser.post("/register", {"csrf_token": csrf_token(form.text), "username": username,
                                      "password": PASSWORD, "confirm": PASSWORD})


def failed_login(browser: Browser, username: str = "editor"):
    from tests.helpers import csrf_token

    form = browser.get("/login")
    return browser.post("/login", {"csrf_token": csrf_token(form.text), "username": username,
                                   "password": "not the password"})

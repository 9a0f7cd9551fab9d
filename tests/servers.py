"""The wiki under real WSGI servers, for tests: a prepared instance, a server that is always
stopped, and a urllib "browser" that signs in and saves pages through the real forms.

Editors that must save *at the same time* run as separate OS processes (see
:func:`concurrent_edits`); they import this module, so it uses only the standard library.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

from tests.helpers import PASSWORD, csrf_token, textarea

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv's scripts: flask, gunicorn, uwsgi
START_TIMEOUT = 20  # seconds for a server to answer its first request
REQUEST_TIMEOUT = 30
EDITOR = "editor"  # the account prepare_wiki creates, with the password PASSWORD
TITLE_INPUT = re.compile(r'name="title"[^>]*value="([^"]*)"')
BASE_REVISION = re.compile(r'name="base_revision" type="hidden" value="([^"]*)"')
CONFLICT = "Someone else changed this page"


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_command(port: int, workers: int = 2) -> list[str]:
    return [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py",
            "-w", str(workers), "-b", f"127.0.0.1:{port}", "wsgi:app"]


def werkzeug_command(port: int) -> list[str]:
    return [str(BIN / "flask"), "--app", "wiki", "run", "--host", "127.0.0.1", "--port", str(port)]


def uwsgi_command(port: int, processes: int = 2) -> list[str]:
    # --need-app: exit if wsgi:app fails to import, rather than answer 500 to everything.
    # --die-on-term: stop on SIGTERM, as systemd and these tests expect (uWSGI 2.0 reloads).
    return [str(BIN / "uwsgi"), "--http", f"127.0.0.1:{port}", "--module", "wsgi:app",
            "--master", "--processes", str(processes), "--need-app", "--die-on-term"]


def wiki_environment(instance: Path, **settings: str) -> dict[str, str]:
    """The environment of a wiki in *instance*: this one's, minus any WIKI_/FLASK_ settings
    of the developer's shell, plus *settings* (``DATABASE_URL="..."`` → ``WIKI_DATABASE_URL``).
    """
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("WIKI_", "FLASK_"))}
    env.update({"WIKI_INSTANCE_PATH": str(instance), "WIKI_SECRET_KEY": "test-servers-key"})
    env.update({f"WIKI_{name}": value for name, value in settings.items()})
    return env


def flask(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run ``flask --app wiki ARGS`` as an administrator would; return its output."""
    done = subprocess.run([str(BIN / "flask"), "--app", "wiki", *args], cwd=PROJECT_ROOT,
                          env=env, input=stdin, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def prepare_wiki(instance: Path, **settings: str) -> dict[str, str]:
    """``flask init`` a wiki in *instance* with an editor account; return its environment."""
    env = wiki_environment(instance, **settings)
    flask(env, "init")
    flask(env, "user", "create", EDITOR, "--role", "editor", "--password-stdin",
          stdin=PASSWORD + "\n")
    return env


@contextmanager
def running_server(command: list[str], port: int, env: dict[str, str], log: Path,
                   ready_path: str = "/healthz") -> Iterator[str]:
    """Start *command* (listening on *port*) from the project root; yield its base URL once
    it answers.

    The server runs in its own process group, which is always stopped on the way out.
    Its output goes to *log* (a pipe nobody reads could fill up and block the server).
    """
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=output,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + ready_path, server, log)
        yield base
    finally:
        stop(server)


def wait_for_http(url: str, server: subprocess.Popen, log: Path,
                  timeout: float = START_TIMEOUT) -> None:
    """Wait until *url* answers at all (any status), or fail with the server's output."""
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise AssertionError(f"the server exited ({server.returncode}):\n{tail(log)}")
        try:
            with build_opener().open(url, timeout=2):
                return
        except HTTPError as error:
            error.close()
            return  # an error page is still an answer
        except (URLError, OSError):
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer from {url} in {timeout} s:\n{tail(log)}") from None
            time.sleep(0.1)


def stop(server: subprocess.Popen) -> None:
    """Stop the server's process group: SIGTERM, as systemd would, then SIGKILL for
    whatever is left of the group (a worker that outlived its master, say)."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return  # every process of the group is gone
        try:
            server.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            time.sleep(0.2)  # let workers the master already told to stop finish exiting


def tail(log: Path, size: int = 4000) -> str:
    return log.read_text(errors="replace")[-size:]


# --- a browser ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    url: str
    text: str


class Browser:
    """A urllib client with cookies that uses the wiki's forms, CSRF tokens included."""

    def __init__(self, base: str):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> Response:
        return self._open(path)

    def post(self, path: str, fields: dict[str, str]) -> Response:
        return self._open(path, urlencode(fields).encode())

    def _open(self, path: str, data: bytes | None = None,
              headers: dict[str, str] | None = None) -> Response:
        status, url, body = self._fetch(path, data, headers)
        return Response(status, url, body.decode(errors="replace"))

    def _fetch(self, path: str, data: bytes | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
        request = Request(self.base + path, data, headers or {})
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, response.url, response.read()
        except HTTPError as error:  # 4xx and 5xx pages are answers to look at, too
            with error:
                return error.code, error.url, error.read()

    def download(self, path: str) -> tuple[int, bytes]:
        """The status and bytes of *path*: a file, not a page."""
        status, _url, body = self._fetch(path)
        return status, body

    def upload(self, slug: str, name: str, content: bytes) -> Response:
        """Choose one file in the upload form of *slug* and send it, as a browser would."""
        token = csrf_token(self.get(f"/attachments/{slug}").text)
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self._open(f"/attachments/{slug}", body,
                          {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def login(self, username: str = EDITOR, password: str = PASSWORD) -> None:
        form = self.get("/login")
        page = self.post("/login", {"csrf_token": csrf_token(form.text),
                                    "username": username, "password": password})
        assert page.status == 200 and "/login" not in page.url, f"login failed: {page.status}"

    def open_editor(self, slug: str) -> dict[str, str]:
        """The edit form of *slug* as a browser would submit it unchanged."""
        page = self.get(f"/edit/{slug}")
        assert page.status == 200, f"/edit/{slug} answered {page.status}"
        title = TITLE_INPUT.search(page.text)
        base = BASE_REVISION.search(page.text)
        return {"csrf_token": csrf_token(page.text), "title": html.unescape(title.group(1)),
                "body": textarea(page.text), "base_revision": base.group(1) if base else "",
                "summary": "", "tags": ""}

    def save(self, slug: str, form: dict[str, str]) -> Response:
        return self.post(f"/edit/{slug}", form)


# --- editors in their own processes -------------------------------------------------------


@dataclass(frozen=True)
class EditOutcome:
    status: int
    url: str
    conflict: bool
    problem: str  # "" or what went wrong, e.g. "database is locked"


def concurrent_edits(base: str, slug: str, edits: list[tuple[str, str]],
                     timeout: float = 60) -> list[EditOutcome]:
    """Save one edit per ``(old, new)`` pair of *slug*'s text, each from its own OS process.

    Every process signs in and opens the editor first; only when all are ready are they
    told to go, so the saves really race (and start from the same revision).
    """
    with tempfile.TemporaryDirectory() as signals:
        go = Path(signals) / "go"
        editors = [
            subprocess.Popen(
                [sys.executable, "-c", "import sys; from tests.servers import edit_process; "
                 "edit_process(sys.argv[1])",
                 json.dumps([base, slug, old, new, str(Path(signals) / f"ready-{n}"), str(go)])],
                cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for n, (old, new) in enumerate(edits)
        ]
        try:
            _wait_until(lambda: len(list(Path(signals).glob("ready-*"))) == len(edits)
                        or any(editor.poll() is not None for editor in editors), timeout)
            go.touch()
            outputs = [editor.communicate(timeout=timeout) for editor in editors]
        finally:
            for editor in editors:
                if editor.poll() is None:
                    editor.kill()
                    editor.wait()
    for editor, (out, err) in zip(editors, outputs, strict=True):
        assert editor.returncode == 0, f"an editor process failed:\n{out}{err}"
    return [EditOutcome(**json.loads(out.strip().splitlines()[-1])) for out, _ in outputs]


def edit_process(arguments: str) -> None:
    """The body of one editor process; prints its :class:`EditOutcome` as JSON."""
    base, slug, old, new, ready, go = json.loads(arguments)
    browser = Browser(base)
    browser.login()
    form = browser.open_editor(slug)
    assert old in form["body"], f"{old!r} is not in the text of {slug}"
    form["body"] = form["body"].replace(old, new, 1)
    Path(ready).touch()
    _wait_until(Path(go).exists, REQUEST_TIMEOUT)
    page = browser.save(slug, form)
    problem = next((sign for sign in ("database is locked", "Internal Server Error", "Traceback")
                    if sign in page.text), "")
    print(json.dumps({"status": page.status, "url": page.url,
                      "conflict": page.status == 409 and CONFLICT in page.text,
                      "problem": problem}))


def _wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {timeout} s")
        time.sleep(0.02)

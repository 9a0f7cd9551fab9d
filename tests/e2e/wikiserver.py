"""The wiki as a real server process: ``flask init``, then ``flask run`` on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20  # seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WikiServer:
    """A wiki on 127.0.0.1 with its own instance folder; ``url`` is where it answers."""

    def __init__(self, instance: Path) -> None:
        self.instance = instance
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = instance / "server.log"
        self.env = {
            **os.environ,
            "WIKI_INSTANCE_PATH": str(instance),
            "WIKI_SECRET_KEY": "e2e-secret-key-not-for-production",
            "FLASK_DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("FLASK_APP", None)
        self.process: subprocess.Popen | None = None

    def flask(self, *args: str, input: str | None = None) -> str:
        """Run a ``flask --app wiki`` command against this wiki; its output, or an error."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wiki", *args], cwd=PROJECT_ROOT,
            env=self.env, input=input, capture_output=True, text=True, timeout=60, check=False,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> None:
        self.flask("init")
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wiki", "run",
                 "--host", "127.0.0.1", "--port", str(self.port), "--no-reload"],
                cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        self._wait_until_it_answers()

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the wiki server exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the wiki server did not answer in {START_TIMEOUT} s:\n"
                           f"{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

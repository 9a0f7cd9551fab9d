"""``make run`` and ``make serve`` listen where they are told (port 5000 is AirPlay's on macOS)."""

import shutil
import subprocess

import pytest

from wiki import PROJECT_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def commands(*args: str) -> str:
    """What ``make`` would run, without running it (``-n``)."""
    result = subprocess.run(["make", "-n", *args], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    return result.stdout


def test_make_run_takes_a_port_and_a_host():
    assert "run --host 0.0.0.0 --port 8080" in commands("run", "PORT=8080", "HOST=0.0.0.0")
    assert "run --host 127.0.0.1 --port 5000" in commands("run")


def test_make_serve_takes_a_port():
    assert "WIKI_BIND=127.0.0.1:9000" in commands("serve", "PORT=9000")
    assert "WIKI_BIND" not in commands("serve")  # gunicorn.conf.py's own default, or the env's


def test_make_test_fast_runs_the_quick_part_on_sqlite():
    """No browser, no slow marker, no PostgreSQL even when the shell names one."""
    command = commands("test-fast", "WIKI_TEST_DATABASE_URL=postgresql://h/wiki_test_x")
    assert "env -u WIKI_TEST_DATABASE_URL" in command
    assert '-m "not slow"' in command and "--ignore=tests/e2e" in command
    assert "test-on-postgresql" not in command


def test_make_test_runs_the_server_tests_once():
    """They start wikis of their own, the same on either pass: the SQLite pass runs them."""
    sqlite_pass, postgresql_pass = commands("test").strip().splitlines()[-2:]
    assert "--ignore" not in sqlite_pass
    assert "test-on-postgresql" in postgresql_pass
    assert "--ignore=tests/test_servers.py --ignore=tests/test_multihost.py" in postgresql_pass
    assert "--ignore" not in commands("test", "WIKI_TEST_DATABASE_URL=postgresql://h/wiki_test_x")


def test_make_mermaid_vendors_the_pinned_version_that_is_committed():
    """The browser build and its licence are in the checkout: running and testing need no npm."""
    vendored = PROJECT_ROOT / "static" / "vendor" / "mermaid"
    version = (vendored / "VERSION").read_text().strip()
    assert f"npm pack --silent --pack-destination \"$tmp\" mermaid@{version}" in commands("mermaid")
    assert "MIT License" in (vendored / "LICENSE").read_text()
    build = (vendored / "mermaid.min.js").read_text(encoding="utf-8")
    assert f'"{version}"' in build or f"'{version}'" in build  # the build's own version


def test_make_bench_measures_the_database_it_is_given():
    """SQLite unless told; DB names one database or several, REVIEWS the review rows alone."""
    assert commands("bench").strip().endswith("bench/run.py --database sqlite")
    assert "bench/run.py --database postgresql" in commands("bench", "DB=postgresql")
    both = commands("bench", "REVIEWS=1", "DB=sqlite postgresql")
    assert "bench/run.py --database sqlite postgresql --reviews-only" in both

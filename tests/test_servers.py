"""The same ``wsgi:app`` under each WSGI server the notes name: Werkzeug (``flask run``),
Gunicorn and uWSGI. Each serves the Home page and takes two edits saved at the same moment
from two OS processes, without a 500 or "database is locked"."""

import pytest

from tests.servers import (
    Browser,
    concurrent_edits,
    free_port,
    gunicorn_command,
    prepare_wiki,
    running_server,
    tail,
    uwsgi_command,
    werkzeug_command,
)
from wiki import create_app
from wiki.extensions import db

SERVERS = {"gunicorn": gunicorn_command, "werkzeug": werkzeug_command, "uwsgi": uwsgi_command}


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS)
def test_the_server_serves_the_wiki_and_two_simultaneous_saves(server, tmp_path):
    env = prepare_wiki(tmp_path / "instance")
    port, log = free_port(), tmp_path / f"{server}.log"
    with running_server(SERVERS[server](port), port, env, log) as base:
        home = Browser(base).get("/")
        assert home.status == 200
        assert "Flask – Notes &amp; Learnings" in home.text

        editor = Browser(base)
        editor.login()
        lines = editor.open_editor("home")["body"].rstrip("\n").split("\n")
        first, last = lines[0], lines[-1]
        outcomes = concurrent_edits(base, "home", [
            (first, first + " (edited by the first process)"),
            (last, last + "\n\nAdded by the second process."),
        ])

        assert [outcome.problem for outcome in outcomes] == ["", ""]
        assert all(outcome.status == 200 and outcome.url.endswith("/wiki/home")
                   or outcome.conflict for outcome in outcomes), outcomes
        text = editor.open_editor("home")["body"]
        saved = [outcome.status == 200 for outcome in outcomes]
        assert ("(edited by the first process)" in text) == saved[0]
        assert ("Added by the second process." in text) == saved[1]
        assert any(saved)
    server_output = tail(log, 100_000)
    assert "Traceback" not in server_output and "database is locked" not in server_output


def test_building_the_app_opens_no_database_connection(tmp_path):
    """uWSGI (by default) and ``gunicorn --preload`` build the app once and then fork it.

    That is only safe because building it connects to nothing: a pooled connection made
    here would be shared by every worker process.
    """
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    with app.app_context():
        pool = db.engine.pool
        assert pool.checkedin() == 0 and pool.checkedout() == 0


@pytest.mark.slow
def test_a_token_made_in_the_browser_works_against_gunicorn(tmp_path):
    """The token API through a real server: a token from /account/tokens, then a script's
    PUT and GET with it (two workers: the token is found whichever answers)."""
    import html
    import json
    import re
    from urllib.request import Request, urlopen

    from tests.helpers import csrf_token

    env = prepare_wiki(tmp_path / "instance")
    port, log = free_port(), tmp_path / "gunicorn.log"
    with running_server(gunicorn_command(port), port, env, log) as base:
        person = Browser(base)
        person.login()
        form = person.get("/account/tokens")
        made = person.post("/account/tokens", {"csrf_token": csrf_token(form.text),
                                               "name": "smoke", "scope": "write",
                                               "expires": "7"})
        token = html.unescape(re.search(r'id="new-token"[^>]*value="([^"]+)"', made.text)
                              .group(1))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = json.dumps({"title": "From a script", "body": "Made over HTTP."}).encode()
        with urlopen(Request(f"{base}/api/v1/pages/from-a-script", body, headers,
                             method="PUT"), timeout=30) as created:
            assert created.status == 201
        for _ in range(2):
            with urlopen(Request(f"{base}/api/v1/pages/from-a-script", headers=headers),
                         timeout=30) as read:
                assert json.load(read)["body"] == "Made over HTTP."
    assert "Traceback" not in tail(log, 100_000)

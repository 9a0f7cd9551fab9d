"""A real wiki server and Debian's Chromium for the end-to-end tests.

One server process serves the whole run (``flask init`` then ``flask run`` on a free loopback
port, with a temporary instance folder). Its first account is made in the browser, from the
link ``flask init`` printed; other tests reuse that account's cookies.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    if os.environ.get("E2E_REQUIRED"):
        raise RuntimeError("E2E_REQUIRED is set but Chromium is missing: apt-get install chromium")
    pytest.skip("Chromium not installed: apt-get install chromium", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright  # noqa: E402

from tests import servers  # noqa: E402
from tests.e2e.steps import (  # noqa: E402
    BASE_OPTIONS,
    Account,
    create_first_account,
    create_page,
)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# How long to wait for what a step brings about; never a measure of speed. The machine that
# runs the suite is shared: a save may wait behind other work (the suite's other worker too).
expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class WikiServer:
    url: str
    env: dict[str, str]  # tests/servers.py's: none of the developer's WIKI_ settings
    setup_path: str  # the first account's link, as `flask init` printed it

    def flask(self, *args: str, input: str | None = None) -> str:
        """Run a ``flask --app wiki`` command against this wiki; its output."""
        return servers.flask(self.env, *args, stdin=input)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> WikiServer:
    instance = tmp_path_factory.mktemp("e2e-instance")
    # Registration open, so its form is one of the screens the browser tests see.
    env = servers.wiki_environment(instance, REGISTRATION="open")
    printed = servers.flask(env, "init")
    setup_path = re.search(r"http://127\.0\.0\.1:5000(/setup/\S+)", printed).group(1)
    port = servers.free_port()
    with servers.running_server(servers.werkzeug_command(port), port, env,
                                instance / "server.log", ready_path="/login") as url:
        yield WikiServer(url, env, setup_path)


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, server):
    """Open browser contexts on the server, signed in as *account* if given; all closed after."""
    opened: list[BrowserContext] = []

    def open_context(account: Account | None = None, **options) -> BrowserContext:
        state = str(account.state) if account else None
        context = browser.new_context(base_url=server.url, storage_state=state,
                                      **{**BASE_OPTIONS, **options})
        context.set_default_timeout(20_000)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture(scope="session")
def admin(browser, server, tmp_path_factory) -> Account:
    """The first account, created in the browser from the link ``flask init`` printed."""
    account = Account("Ada", "a long and memorable passphrase",
                      tmp_path_factory.mktemp("e2e-state") / "admin.json")
    context = browser.new_context(base_url=server.url, **BASE_OPTIONS)
    page = context.new_page()
    create_first_account(page, account, server.setup_path)
    context.storage_state(path=account.state)
    context.close()
    return account


@pytest.fixture(scope="session")
def reader(server, admin) -> Account:
    """An account that may only read, made with ``flask user create --password-stdin``."""
    account = Account("Rita", "reading is my whole job here", None)
    server.flask("user", "create", account.username, "--role", "reader",
                 "--password-stdin", input=account.password + "\n")
    return account


@pytest.fixture
def admin_page(new_context, admin):
    return new_context(admin).new_page()


@pytest.fixture(scope="session")
def sample_page(browser, server, admin) -> str:
    """A page with code, tables and a red link, saved twice (so it has a history and a diff)."""
    context = browser.new_context(base_url=server.url, storage_state=str(admin.state),
                                  **BASE_OPTIONS)
    page = context.new_page()
    slug = create_page(page, "Code and Tables", SAMPLE_BODY.replace("{extra}", ""))
    create_page(page, "Code and Tables", SAMPLE_BODY.replace("{extra}", SAMPLE_EXTRA),
                slug=slug, summary="Add a wide table")
    context.close()
    return slug


SAMPLE_BODY = """\
Flask answers a request by calling a **view function**. See [[Request Lifecycle]] (not written yet)
and [[What is Flask?]].

```python
from flask import Flask

app = Flask(__name__)

@app.get("/")
def index():
    return "Hello, world!"
```

| Hook | Runs | Typical use |
| :--- | :---: | ---: |
| `before_request` | before the view | open a connection |
| `after_request` | after the view | add headers |
| `teardown_request` | always, last | close the connection |
{extra}
> Keep views thin: parse, call a service, render.

- [x] read the request
- [ ] write the response
"""

SAMPLE_EXTRA = "\n".join([  # a table wider than any screen
    "",
    "| a very long column heading that goes on | another equally long column heading "
    "| and a third one to make the table wide | fourth | fifth column |",
    "| --- | --- | --- | --- | --- |",
    "| `a_rather_long_identifier_that_does_not_wrap` | some text | more text | 4 | 5 |",
    "",
])


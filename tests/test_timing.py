"""The Server-Timing header: database and template time of every response."""

import re

import pytest

from tests.helpers import save_page

METRIC = re.compile(r'(?P<name>\w+);dur=(?P<dur>\d+\.\d\d)(?:;desc="(?P<desc>[^"]*)")?')


def server_timing(response) -> dict[str, tuple[float, str | None]]:
    header = response.headers["Server-Timing"]
    metrics = {m["name"]: (float(m["dur"]), m["desc"]) for m in METRIC.finditer(header)}
    assert len(metrics) == len(header.split(", ")), header
    return metrics


def query_count(response) -> int:
    return int(server_timing(response)["db"][1].split()[0])


def test_a_page_view_reports_its_queries_templates_and_total(editor):
    save_page(editor, "routing", "Routing", "Routes map URLs to views.")
    metrics = server_timing(editor.get("/wiki/routing"))
    assert set(metrics) == {"db", "tpl", "total"}
    assert re.fullmatch(r"\d+ quer(y|ies)", metrics["db"][1])
    assert query_count(editor.get("/wiki/routing")) >= 1
    assert metrics["tpl"][1] == "templates"


@pytest.mark.parametrize("url", ["/wiki/nowhere", "/api/v1/titles?q=x", "/static/css/wiki.css",
                                 "/login"])
def test_every_response_has_the_header(client, users, url):
    with client.get(url) as response:  # closed, so a static file's handle is too
        assert set(server_timing(response)) == {"db", "tpl", "total"}


def test_responses_without_database_or_templates_report_none(client):
    with client.get("/static/css/wiki.css") as response:
        metrics = server_timing(response)
    assert metrics["db"] == (0.0, "0 queries")
    assert metrics["tpl"][0] == 0.0


def test_counts_are_per_request(editor):
    save_page(editor, "routing", "Routing", "Routes.")
    editor.get("/wiki/routing")  # the account read again after the save, and kept
    # Two addresses: the second view of one address is answered from the kept article.
    first, second = (query_count(editor.get(f"/wiki/routing?view={n}")) for n in range(2))
    assert first == second


def test_a_304_is_timed_too(editor):
    save_page(editor, "routing", "Routing", "Routes.")
    page = editor.get("/wiki/routing")
    unchanged = editor.get("/wiki/routing", headers={"If-None-Match": page.headers["ETag"]})
    assert unchanged.status_code == 304
    assert server_timing(unchanged)["tpl"][0] == 0.0

"""Watching one page or one tag: ``/recent.atom?page=<slug>`` and ``?tag=<tag>``, and the
Watch links and feed discovery that lead there."""

import xml.etree.ElementTree as ET

import pytest

from tests.helpers import save_page
from wiki.services import pages
from wiki.views.history import FEED_SIZE

ATOM = "{http://www.w3.org/2005/Atom}"


def feed(client, url: str) -> ET.Element:
    """The feed at *url*, parsed: it must be well-formed Atom."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    return root


def entry_titles(root: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]


def self_link(root: ET.Element) -> str:
    return next(link.get("href") for link in root.findall(f"{ATOM}link")
                if link.get("rel") == "self")


@pytest.fixture
def wiki(app, users):
    """Three pages: "Flask: routing" (two revisions, tagged web), "Other" (tagged web and
    python) and "Lonely" (untagged)."""
    with app.app_context():
        pages.save(pages.PageEdit(None, "Flask: routing", "one\n", tags="web"), None)
        pages.save(pages.PageEdit(None, "Other", "other\n", tags="web, python"), None)
        pages.save(pages.PageEdit(None, "Lonely", "alone\n"), None)
        pages.save(pages.PageEdit("flask-routing", "Flask: routing", "two\n",
                                  summary="second", tags="web"), None)


def test_a_page_feed_has_only_that_pages_changes(client, wiki):
    root = feed(client, "/recent.atom?page=flask-routing")
    assert entry_titles(root) == ["Flask: routing (revision 2)", "Flask: routing (revision 1)"]
    assert root.findtext(f"{ATOM}title").endswith("changes to Flask: routing")
    assert self_link(root) == "http://localhost/recent.atom?page=flask-routing"
    assert root.findtext(f"{ATOM}id") == self_link(root)  # not the wiki-wide feed's id
    everything = feed(client, "/recent.atom")
    assert len(everything.findall(f"{ATOM}entry")) == 4


def test_a_tag_feed_has_the_changes_of_the_pages_with_that_tag(client, wiki):
    root = feed(client, "/recent.atom?tag=web")
    assert entry_titles(root) == ["Flask: routing (revision 2)", "Other (revision 1)",
                                  "Flask: routing (revision 1)"]
    assert self_link(root) == "http://localhost/recent.atom?tag=web"
    assert entry_titles(feed(client, "/recent.atom?tag=Python")) == ["Other (revision 1)"]


def test_a_tag_no_page_carries_yet_is_an_empty_valid_feed(client, wiki):
    root = feed(client, "/recent.atom?tag=someday")
    assert entry_titles(root) == []
    assert root.findtext(f"{ATOM}updated")  # Atom requires it, even when empty


def test_a_deleted_or_missing_page_has_no_feed(app, client, wiki):
    with app.app_context():
        pages.delete("lonely")
    assert client.get("/recent.atom?page=lonely").status_code == 404
    assert client.get("/recent.atom?page=never-was").status_code == 404
    assert client.get("/recent.atom?tag=---").status_code == 404  # no tag at all


def test_a_renamed_pages_feed_moves_with_it(app, client, wiki):
    with app.app_context():
        pages.rename("other", "Another", None, rewrite_links=False)
    response = client.get("/recent.atom?page=other")
    assert response.status_code == 301  # feed readers update the subscription
    assert response.headers["Location"] == "/recent.atom?page=another"


def test_one_page_or_one_tag_not_both(client, wiki):
    response = client.get("/recent.atom?page=other&tag=web")
    assert response.status_code == 400
    assert "not both" in response.get_data(as_text=True)


def test_watch_feeds_stay_small(app, client, users):
    with app.app_context():
        for number in range(FEED_SIZE + 5):
            pages.save(pages.PageEdit("log", "Log", f"entry {number}\n", tags="diary"), None)
    for url in ("/recent.atom?page=log", "/recent.atom?tag=diary"):
        titles = entry_titles(feed(client, url))
        assert len(titles) == FEED_SIZE
        assert titles[0] == f"Log (revision {FEED_SIZE + 5})"


def test_feeds_follow_the_read_rule(app, client, wiki):
    app.config["ANONYMOUS_READ"] = False
    for url in ("/recent.atom?page=flask-routing", "/recent.atom?tag=web"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_page_and_a_tag_offer_their_feed(client, editor, wiki):
    page = client.get("/wiki/flask-routing").get_data(as_text=True)
    assert ('<link rel="alternate" type="application/atom+xml" title="Changes to Flask: routing"'
            ' href="/recent.atom?page=flask-routing">') in page
    assert 'href="/recent.atom?page=flask-routing" type="application/atom+xml"' in page
    assert ">Watch</a>" in page
    assert 'href="/recent.atom"' in page  # the wiki's own feed is still offered

    tag = client.get("/tags/web").get_data(as_text=True)
    assert ('<link rel="alternate" type="application/atom+xml" title="Changes to pages tagged '
            'web" href="/recent.atom?tag=web">') in tag
    assert ">Watch this tag</a>" in tag

    save_page(editor, "new-one", "New one", "text")
    assert "/recent.atom?page=new-one" in editor.get("/wiki/new-one").get_data(as_text=True)

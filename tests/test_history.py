"""History, old revisions, diffs, reverts, recent changes and the Atom feed."""

import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from tests.helpers import save_page, sql_statements, submit
from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services import pages

ATOM = "{http://www.w3.org/2005/Atom}"


def bodies(app, slug):
    with app.app_context():
        return [r.body for r in db.session.scalars(
            select(Revision).join(Page, Page.id == Revision.page_id)
            .where(Page.slug == slug).order_by(Revision.number))]


@pytest.fixture
def many_revisions(app, users):
    """A page with 60 revisions, written straight through the service."""
    with app.app_context():
        for number in range(1, 61):
            pages.save(pages.PageEdit("log", "Log", f"entry {number}\n",
                                      summary=f"change {number}"), None)
    return "log"


def test_history_lists_revisions_newest_first_in_pages(client, many_revisions):
    first = client.get("/history/log").get_data(as_text=True)
    numbers = [int(n) for n in re.findall(r'href="/wiki/log\?rev=(\d+)"', first)]
    assert numbers == list(range(60, 10, -1))
    assert 'rel="next" href="/history/log?before=11"' in first
    second = client.get("/history/log?before=11").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/wiki/log\?rev=(\d+)"', second)] == list(
        range(10, 0, -1))
    assert "change 10" in second and 'rel="prev" href="/history/log?after=10"' in second
    assert 'rel="next"' not in second
    newer = client.get("/history/log?after=10").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/wiki/log\?rev=(\d+)"', newer)] == numbers


def test_numbered_history_pages_of_old_bookmarks_still_open(client, many_revisions):
    second = client.get("/history/log?page=2").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/wiki/log\?rev=(\d+)"', second)] == list(
        range(10, 0, -1))
    assert 'rel="prev" href="/history/log?after=10"' in second


def test_history_shows_time_author_summary_and_size_change(editor):
    save_page(editor, "sized", "Sized", "12345", summary="five")
    save_page(editor, "sized", "Sized", "12", summary="shorter")
    html = editor.get("/history/sized").get_data(as_text=True)
    time_element = r'<time datetime="\d{4}-\d\d-\d\dT[^"]+" title="[^"]+UTC">just now</time>'
    assert re.search(time_element, html)
    assert "Editor" in html and "shorter" in html
    assert ">-3<" in html and ">+5<" in html


def test_old_revision_is_marked_with_links_to_current_and_diff(editor):
    save_page(editor, "p", "P", "old words")
    save_page(editor, "p", "P", "new words")
    html = editor.get("/wiki/p?rev=1").get_data(as_text=True)
    assert "You are reading revision 1 of 2" in html and "old words" in html
    assert 'href="/wiki/p"' in html and 'href="/diff/p?from=1&amp;to=2"' in html
    assert "You are reading" not in editor.get("/wiki/p").get_data(as_text=True)


def test_diff_shows_added_removed_and_changed_lines_with_word_highlights(editor):
    save_page(editor, "d", "D", "a\nthe quick fox\nb\nremove me\nc\n")
    save_page(editor, "d", "D", "a\nthe slow fox\nb\nc\nadded line\n")
    html = editor.get("/diff/d?from=1&to=2").get_data(as_text=True)
    assert "<del>quick</del>" in html and "<ins>slow</ins>" in html
    assert "remove me" in html and "added line" in html
    assert html.count("diff__line--delete") == 2 and html.count("diff__line--insert") == 2
    split = editor.get("/diff/d?from=1&to=2&view=split").get_data(as_text=True)
    assert "diff--split" in split and "<ins>slow</ins>" in split


def test_diff_works_in_either_order(editor):
    save_page(editor, "d", "D", "alpha\n")
    save_page(editor, "d", "D", "beta\n")
    forward = editor.get("/diff/d?from=1&to=2").get_data(as_text=True)
    backward = editor.get("/diff/d?from=2&to=1").get_data(as_text=True)
    assert "<del>alpha</del>" in forward and "<ins>beta</ins>" in forward
    assert "<del>beta</del>" in backward and "<ins>alpha</ins>" in backward


def test_missing_revision_has_a_clear_message(editor):
    save_page(editor, "d", "D", "x")
    for url in ["/diff/d?from=1&to=7", "/diff/d?from=9&to=1", "/wiki/d?rev=3", "/revert/d?rev=5"]:
        response = editor.get(url)
        assert response.status_code == 404, url
        assert "revisions 1 to 1" in response.get_data(as_text=True), url
    assert editor.get("/wiki/d?rev=abc").status_code == 404


def test_revert_confirms_then_saves_the_old_text_as_a_new_revision(editor, app):
    save_page(editor, "r", "R", "first\n")
    save_page(editor, "r", "R", "second\n")
    confirm = editor.get("/revert/r?rev=1")
    assert confirm.status_code == 200
    assert "<del>second</del>" in confirm.get_data(as_text=True)
    assert bodies(app, "r") == ["first\n", "second\n"]
    response = submit(editor, "/revert/r?rev=1")
    assert response.status_code == 303 and response.headers["Location"] == "/wiki/r"
    assert bodies(app, "r") == ["first\n", "second\n", "first\n"]
    with app.app_context():
        latest = db.session.scalar(select(Revision).order_by(Revision.id.desc()))
        assert latest.summary == "Reverted to revision 1 by Editor"


def test_revert_of_a_deleted_page_restores_it(auth, client, app):
    auth.login("editor")
    save_page(client, "gone", "Gone", "still here\n")
    submit(client, "/delete/gone")
    assert client.get("/history/gone").status_code == 404  # editors do not see deleted pages
    auth.logout()
    auth.login("admin")
    listing = client.get("/deleted").get_data(as_text=True)
    assert "Gone" in listing and 'href="/revert/gone?rev=1"' in listing
    response = submit(client, "/revert/gone?rev=1")
    assert response.status_code == 303
    assert "still here" in client.get("/wiki/gone").get_data(as_text=True)
    assert bodies(app, "gone") == ["still here\n", "still here\n"]


def test_only_admins_list_deleted_pages(auth, client):
    auth.login("editor")
    assert client.get("/deleted").status_code == 403


def test_recent_changes_newest_first_with_filters(auth, client, app):
    auth.login("editor")
    save_page(client, "a", "A", "one")
    save_page(client, "a", "A", "two", minor="y", summary="typo")
    auth.logout()
    auth.login("admin")
    save_page(client, "b", "B", "three", summary="admin's page")
    html = client.get("/recent").get_data(as_text=True)
    assert html.index("admin&#39;s page") < html.index("typo")
    assert 'href="/diff/a?from=1&amp;to=2"' in html
    only_editor = client.get("/recent?user=editor").get_data(as_text=True)
    assert "typo" in only_editor and "admin&#39;s page" not in only_editor
    no_minor = client.get("/recent?hide_minor=1").get_data(as_text=True)
    assert "typo" not in no_minor and "admin&#39;s page" in no_minor


def test_recent_changes_paginate(client, many_revisions):
    first = client.get("/recent").get_data(as_text=True)
    assert "change 60" in first and "change 11" in first and "change 10<" not in first
    assert "change 10<" in client.get("/recent?page=2").get_data(as_text=True)


def columns_read(app, client, url: str) -> set[str]:
    """The ``revision`` columns named by the queries that answering *url* ran."""
    with sql_statements(app) as statements:
        assert client.get(url).status_code == 200
    return set(re.findall(r"\brevision(?:_\d+)?\.(\w+)", " ".join(statements)))


@pytest.mark.parametrize("url", ["/history/log", "/history/log?page=2", "/recent",
                                 "/recent?page=2"])
def test_lists_of_revisions_do_not_read_their_texts(app, client, many_revisions, url):
    """Each text may be 1 MB: a list of fifty would read them all to show none."""
    read = columns_read(app, client, url)
    assert {"number", "summary", "created_at"} <= read
    assert not read & {"body", "html"}


def test_atom_feed_is_valid_xml_with_the_latest_changes_escaped(editor, client):
    hostile = "<script>alert(1)</script> & \"quotes\""
    submit(editor, "/new", {"title": "Feed <b>me</b>", "body": "<i>x</i>", "summary": hostile})
    response = editor.get("/recent.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.findtext(f"{ATOM}title") == "Feed <b>me</b> (revision 1)"
    assert entry.findtext(f"{ATOM}summary") == hostile
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert content.text.startswith("<pre>") and "&lt;i&gt;x&lt;/i&gt;" in content.text
    assert "<i>" not in content.text
    assert entry.find(f"{ATOM}link").get("href").endswith("/diff/feed-b-me/b?from=0&to=1")
    head = editor.get("/").get_data(as_text=True)
    assert 'type="application/atom+xml"' in head and 'href="/recent.atom"' in head


def test_feed_and_history_respect_anonymous_read(app, client, editor):
    save_page(editor, "p", "P", "x")
    app.config["ANONYMOUS_READ"] = False
    anonymous = app.test_client()
    for url in ["/recent.atom", "/recent", "/history/p", "/diff/p?from=0&to=1"]:
        assert anonymous.get(url).status_code == 302, url


def test_a_deleted_page_appears_nowhere_but_the_admins_list(app, auth, client):
    auth.login("editor")
    save_page(client, "parent", "Parent", "see [[Elsewhere]]")
    save_page(client, "parent/secret-plan", "Parent/Secret Plan",
              "hush-hush words\n\n[[Parent]] [[Nowhere Yet]]", tags="classified",
              summary="confidential summary")
    save_page(client, "parent/secret-plan", "Parent/Secret Plan", "hush-hush words, more\n",
              tags="classified")
    auth.logout()
    auth.login("admin")
    submit(client, "/delete/parent/secret-plan")
    leaks = ["Secret Plan", "secret-plan", "hush-hush", "confidential", "Nowhere"]
    for who in ("reader", "editor", "admin"):
        auth.logout()
        auth.login(who)
        for url in ["/recent", "/recent?user=editor", "/recent.atom", "/search?q=hush",
                    "/api/v1/titles?q=secret", "/tags", "/tags/classified", "/backlinks/parent",
                    "/pages", "/pages?show=wanted", "/pages?show=orphans", "/wiki/parent"]:
            html = client.get(url).get_data(as_text=True)
            assert not [leak for leak in leaks if leak in html], (who, url)
        assert "classified" not in client.get("/tags").get_data(as_text=True)
        if who != "admin":
            for url in ["/history/parent/secret-plan", "/diff/parent/secret-plan?from=1&to=2",
                        "/wiki/parent/secret-plan?rev=1", "/revert/parent/secret-plan?rev=1"]:
                assert client.get(url).status_code == 404, (who, url)
    assert "Secret Plan" in client.get("/deleted").get_data(as_text=True)


def test_the_first_revision_has_no_stray_separator(editor):
    save_page(editor, "h", "H", "one")
    save_page(editor, "h", "H", "two")
    html = editor.get("/history/h").get_data(as_text=True)
    assert '<td> <a href="/revert/h?rev=1">revert</a>' in re.sub(r"\s+", " ", html)
    assert not re.search(r"<td>\s*·", html)


@pytest.mark.parametrize("url", [
    "/diff/d?from=99999999999999999999", "/diff/d?to=99999999999999999999",
    "/diff/d?from=2147483648&to=1", "/diff/d?from=-1&to=1", "/diff/d?to=-2",
    "/revert/d?rev=99999999999999999999", "/revert/d?rev=-1", "/revert/d?rev=2147483648",
    "/wiki/d?rev=9223372036854775808",
])
def test_numbers_past_what_the_database_holds_are_not_found(editor, url):
    save_page(editor, "d", "D", "x")
    assert editor.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/history/d", "/recent", "/search?q=x", "/pages", "/tags/t",
                                 "/backlinks/d"])
@pytest.mark.parametrize("page", ["99999999999999999999", "-5", "2147483648"])
def test_page_numbers_past_what_the_database_holds_are_harmless(editor, url, page):
    save_page(editor, "d", "D", "x", tags="t")
    joiner = "&" if "?" in url else "?"
    assert editor.get(f"{url}{joiner}page={page}").status_code == 200


def test_the_feed_stays_well_formed_whatever_the_texts_hold(app, editor):
    save_page(editor, "clean", "Clean", "fine")
    with app.app_context():
        # Written before texts were checked: a control character in each field.
        pages.save(pages.PageEdit(None, "Form feed", "bell"), None)
        page = db.session.scalar(select(Page).where(Page.slug == "form-feed"))
        page.title = page.current_revision.title = "Form\x0cfeed"
        page.current_revision.summary = "sum\x01mary"
        page.current_revision.body = "bell\x07 and \x1b escape \ufffe"
        db.session.commit()
    response = editor.get("/recent.atom")
    root = ET.fromstring(response.data)
    titles = [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]
    assert titles == ["Form\ufffdfeed (revision 1)", "Clean (revision 1)"]


def test_the_feed_cuts_each_diff_and_links_to_the_whole_one(app, editor):
    big = "".join(f"line {n} of a long page, with words enough to fill it\n"
                  for n in range(17_000))  # nearly 1 MB
    with app.app_context():
        for number in range(3):
            pages.save(pages.PageEdit(None, f"Big {number}", big), None)
            pages.save(pages.PageEdit(f"big-{number}", f"Big {number}",
                                      big.replace("line 1", "LINE 1")), None)
    response = editor.get("/recent.atom")
    assert len(response.data) < 6 * 6_000  # 6 entries of at most a few KB each, not 6 MB
    root = ET.fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 6
    content = entries[0].findtext(f"{ATOM}content")
    assert "<pre>" in content and 'href="http://localhost/diff/big-2?from=1&amp;to=2"' in content
    assert "The whole change" in content

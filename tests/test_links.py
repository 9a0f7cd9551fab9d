"""Links between pages: backlinks, wanted and orphaned pages, sub-pages, tags, contents, rename."""

import re

from sqlalchemy import select

from tests.helpers import save_page, submit
from wiki.extensions import db
from wiki.models import Page, Revision


def current_body(app, slug):
    with app.app_context():
        return db.session.scalar(
            select(Revision.body).join(Page, Page.current_revision_id == Revision.id)
            .where(Page.slug == slug))


def test_pages_show_their_backlink_count_and_list(editor):
    save_page(editor, "target", "Target", "I am linked.")
    save_page(editor, "one", "One", "See [[Target]].")
    save_page(editor, "two", "Two", "Also [[Target|the target]] and [[Target]] again.")
    save_page(editor, "self", "Self", "[[Self]] links to itself.")
    page = editor.get("/wiki/target").get_data(as_text=True)
    assert 'href="/backlinks/target">2 pages link here</a>' in page
    listing = editor.get("/backlinks/target").get_data(as_text=True)
    assert 'href="/wiki/one"' in listing and 'href="/wiki/two"' in listing
    assert "1 page links here" not in page
    assert "0 pages link here" in editor.get("/wiki/self").get_data(as_text=True)


def test_wanted_pages_count_the_pages_wanting_each(editor):
    save_page(editor, "a", "A", "[[Missing One]] [[Missing Two]]")
    save_page(editor, "b", "B", "[[Missing One]]")
    html = editor.get("/pages?show=wanted").get_data(as_text=True)
    assert html.index("Missing one") < html.index("Missing two")
    assert re.search(r">Missing one</a>\s*— wanted by <a[^>]*>2 pages</a>", html)
    assert re.search(r">Missing two</a>\s*— wanted by <a[^>]*>1 page</a>", html)
    save_page(editor, "missing-one", "Missing One", "here now")
    assert "missing-one" not in editor.get("/pages?show=wanted").get_data(as_text=True)


def test_orphans_are_pages_nothing_links_to_except_home(editor):
    save_page(editor, "home", "Home", "[[Linked]]")
    save_page(editor, "linked", "Linked", "x")
    save_page(editor, "lonely", "Lonely", "[[Lonely]] only links to itself")
    html = editor.get("/pages?show=orphans").get_data(as_text=True)
    assert 'href="/wiki/lonely"' in html
    assert 'href="/wiki/linked"' not in html and 'href="/wiki/home"' not in html


def test_sub_pages_have_breadcrumbs_and_parents_list_children(editor):
    save_page(editor, "flask", "Flask", "The framework.")
    submit(editor, "/new", {"title": "Flask/Routing", "body": "Routes."})
    submit(editor, "/new", {"title": "Flask/Routing/Converters", "body": "int, path."})
    submit(editor, "/new", {"title": "Flask/Templates", "body": "Jinja."})
    deep = editor.get("/wiki/flask/routing/converters").get_data(as_text=True)
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', deep, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', crumbs) == ["/wiki/flask", "/wiki/flask/routing"]
    parent = editor.get("/wiki/flask").get_data(as_text=True)
    children = re.search(r'<section class="children".*?</section>', parent, re.S).group(0)
    hrefs = re.findall(r'href="([^"]+)"', children)
    assert hrefs == ["/wiki/flask/routing", "/wiki/flask/templates"]


def test_tags_are_normalised_listed_with_counts_and_browsable(editor):
    save_page(editor, "a", "A", "x", tags="Flask,  Web Dev, flask")
    save_page(editor, "b", "B", "y", tags="flask, CI/CD")
    tags = editor.get("/tags").get_data(as_text=True)
    assert re.search(r'href="/tags/flask">flask</a> <span class="count">2</span>', tags)
    assert re.search(r'href="/tags/web-dev">web-dev</a> <span class="count">1</span>', tags)
    assert re.search(r'href="/tags/ci-cd">ci-cd</a>', tags)
    assert 'href="/wiki/b"' in editor.get("/tags/ci-cd").get_data(as_text=True)
    tagged = editor.get("/tags/flask").get_data(as_text=True)
    assert 'href="/wiki/a"' in tagged and 'href="/wiki/b"' in tagged
    assert 'value="flask, web-dev"' in editor.get("/edit/a").get_data(as_text=True)


def test_table_of_contents_on_pages_with_three_headings(editor):
    save_page(editor, "short", "Short", "## One\n\n## Two\n")
    assert 'class="toc"' not in editor.get("/wiki/short").get_data(as_text=True)
    save_page(editor, "long", "Long", "## One\n\n## Two\n\n### Two and a half\n")
    html = editor.get("/wiki/long").get_data(as_text=True)
    toc = re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)
    assert re.findall(r'href="#([^"]+)"', toc) == ["h-one", "h-two", "h-two-and-a-half"]
    for anchor in ("h-one", "h-two", "h-two-and-a-half"):
        assert f'id="{anchor}"' in html


def test_rename_keeps_history_and_redirects_the_old_address(editor, app):
    save_page(editor, "old-name", "Old Name", "v1")
    save_page(editor, "old-name", "Old Name", "v2")
    confirm = editor.get("/rename/old-name")
    assert confirm.status_code == 200 and 'value="Old Name"' in confirm.get_data(as_text=True)
    response = submit(editor, "/rename/old-name", {"title": "New Name"})
    assert response.status_code == 303 and response.headers["Location"] == "/wiki/new-name"
    moved = editor.get("/wiki/old-name")
    assert moved.status_code == 301 and moved.headers["Location"] == "/wiki/new-name"
    history = editor.get("/history/new-name").get_data(as_text=True)
    assert "Renamed from “Old Name” to “New Name”" in history
    assert re.findall(r'href="/wiki/new-name\?rev=(\d+)"', history) == ["3", "2", "1"]


def test_rename_rewrites_links_when_asked(editor, app):
    save_page(editor, "old-name", "Old Name", "x")
    save_page(editor, "linker", "Linker", "See [[Old Name]] and [[old name|this]].\n")
    submit(editor, "/rename/old-name", {"title": "New Name", "rewrite_links": "y"})
    assert current_body(app, "linker") == "See [[New Name]] and [[New Name|this]].\n"
    history = editor.get("/history/linker").get_data(as_text=True)
    assert "Updated links: “old-name” was renamed to “New Name”" in history
    assert "Editor" in history


def test_rename_leaves_links_alone_when_not_asked_and_they_still_work(editor, app):
    save_page(editor, "old-name", "Old Name", "x")
    save_page(editor, "linker", "Linker", "See [[Old Name]].\n")
    submit(editor, "/rename/old-name", {"title": "New Name"})
    assert current_body(app, "linker") == "See [[Old Name]].\n"
    html = editor.get("/wiki/linker").get_data(as_text=True)
    assert "wikilink-missing" not in html  # the redirect keeps the link alive


def test_rename_onto_an_existing_page_is_refused(editor, app):
    save_page(editor, "a", "A", "a")
    save_page(editor, "b", "B", "b")
    response = submit(editor, "/rename/a", {"title": "B"})
    assert response.status_code == 200
    assert "A page called “B” already exists" in response.get_data(as_text=True)
    assert editor.get("/wiki/a").status_code == 200
    assert current_body(app, "b") == "b"


def test_rename_turns_red_links_to_the_new_name_blue(editor):
    save_page(editor, "wanting", "Wanting", "[[Fresh Name]]")
    save_page(editor, "stale", "Stale", "x")
    submit(editor, "/rename/stale", {"title": "Fresh Name"})
    assert "wikilink-missing" not in editor.get("/wiki/wanting").get_data(as_text=True)


def test_changing_only_tags_saves_them_without_a_revision(editor, app):
    save_page(editor, "a", "A", "text")
    response = save_page(editor, "a", "A", "text", tags="new-tag")
    assert response.status_code == 303
    page = editor.get("/wiki/a").get_data(as_text=True)
    assert "Tags saved" in page and 'href="/tags/new-tag"' in page
    assert "Revision 1," in page

"""Links between pages: backlinks, wanted and orphaned pages, sub-pages, tags, contents, rename."""

import re
from html.parser import HTMLParser

import pytest
from flask import url_for
from flask_migrate import downgrade, upgrade
from markdown_it import MarkdownIt
from sqlalchemy import inspect, select, text

from tests.helpers import csrf_token, save_page, submit
from wiki.extensions import db
from wiki.models import Page, Revision
from wiki.services import rendering


def current_body(app, slug, column=Revision.body):
    with app.app_context():
        return db.session.scalar(
            select(column).join(Page, Page.current_revision_id == Revision.id)
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
    assert html.index("Missing One") < html.index("Missing Two")
    assert re.search(r">Missing One</a>\s*— wanted by <a[^>]*>2 pages</a>", html)
    assert re.search(r">Missing Two</a>\s*— wanted by <a[^>]*>1 page</a>", html)
    assert 'href="/edit/missing-one?title=Missing+One"' in html  # the new page keeps it
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
    toc = re.search(r'<details class="toc".*?</details>', html, re.S).group(0)
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
    assert response.status_code == 422
    assert "A page called “B” already exists" in response.get_data(as_text=True)
    assert editor.get("/wiki/a").status_code == 200
    assert current_body(app, "b") == "b"


def test_rename_turns_red_links_to_the_new_name_blue(editor):
    save_page(editor, "wanting", "Wanting", "[[Fresh Name]]")
    save_page(editor, "stale", "Stale", "x")
    submit(editor, "/rename/stale", {"title": "Fresh Name"})
    assert "wikilink-missing" not in editor.get("/wiki/wanting").get_data(as_text=True)


def listed(client, url: str) -> list[str]:
    """The pages a tag's page or a backlinks page lists, in its order."""
    html = client.get(url).get_data(as_text=True)
    return re.findall(r'<li><a href="/wiki/([^"]+)"', html.split('<ul class="page-list">')[1])


def test_tag_counts_leave_out_deleted_pages(admin):
    save_page(admin, "apple", "Apple", "x", tags="fruit, red")
    save_page(admin, "berry", "Berry", "x", tags="fruit")
    assert submit(admin, "/delete/apple").status_code == 303
    tags = admin.get("/tags").get_data(as_text=True)
    assert re.search(r'href="/tags/fruit">fruit</a> <span class="count">1</span>', tags)
    assert 'href="/tags/red"' not in tags  # only a deleted page has it
    assert submit(admin, "/revert/apple?rev=1").status_code == 303
    tags = admin.get("/tags").get_data(as_text=True)
    assert re.search(r'href="/tags/fruit">fruit</a> <span class="count">2</span>', tags)
    assert re.search(r'href="/tags/red">red</a> <span class="count">1</span>', tags)


def test_a_renamed_page_moves_in_its_tag_s_list_and_in_backlinks(editor, app):
    save_page(editor, "target", "Target", "x")
    for slug, title in [("apple", "Apple"), ("berry", "Berry"), ("cherry", "Cherry")]:
        save_page(editor, slug, title, "See [[Target]].", tags="fruit")
    assert listed(editor, "/tags/fruit") == listed(editor, "/backlinks/target") == [
        "apple", "berry", "cherry"]
    submit(editor, "/rename/apple", {"title": "Zucchini"})
    assert listed(editor, "/tags/fruit") == listed(editor, "/backlinks/target") == [
        "berry", "cherry", "zucchini"]
    assert listed(editor, "/tags/fruit?after=cherry") == ["zucchini"]
    assert listed(editor, "/backlinks/target?before=berry") == ["berry", "cherry", "zucchini"]
    assert listed(editor, "/backlinks/target?after=berry") == ["cherry", "zucchini"]
    submit(editor, "/rename/zucchini", {"title": "Avocado", "rewrite_links": "y"})
    assert listed(editor, "/tags/fruit") == listed(editor, "/backlinks/target") == [
        "avocado", "berry", "cherry"]


def test_deleted_and_restored_pages_leave_and_rejoin_the_lists(admin, app):
    save_page(admin, "target", "Target", "x")
    for slug, title in [("apple", "Apple"), ("berry", "Berry")]:
        save_page(admin, slug, title, "See [[Target]].", tags="fruit")
    assert submit(admin, "/delete/apple").status_code == 303
    assert listed(admin, "/tags/fruit") == listed(admin, "/backlinks/target") == ["berry"]
    assert submit(admin, "/revert/apple?rev=1").status_code == 303
    assert listed(admin, "/tags/fruit") == listed(admin, "/backlinks/target") == [
        "apple", "berry"]


def test_the_migration_copies_the_slugs_of_existing_tags_and_links(editor, app):
    save_page(editor, "target", "Target", "x")
    for slug, title in [("cherry", "Cherry"), ("apple", "Apple"), ("berry", "Berry")]:
        save_page(editor, slug, title, "See [[Target]].", tags="fruit")
    with app.app_context():
        downgrade(revision="0014")
        assert "page_slug" not in {c["name"] for c in inspect(db.engine).get_columns("page_tag")}
        db.session.execute(text("INSERT INTO link (from_page_id, target_slug) "
                                "SELECT id, 'target' FROM page WHERE slug = 'target'"))
        db.session.commit()
        upgrade()
        copies = db.session.execute(text(
            "SELECT page.slug, page_tag.page_slug, link.from_slug FROM page "
            "JOIN page_tag ON page_tag.page_id = page.id "
            "JOIN link ON link.from_page_id = page.id ORDER BY page.slug")).all()
    assert copies == [(slug, slug, slug) for slug in ("apple", "berry", "cherry")]
    assert listed(editor, "/tags/fruit") == listed(editor, "/backlinks/target") == [
        "apple", "berry", "cherry"]  # not "target", which links to itself


def test_changing_only_tags_saves_them_without_a_revision(editor, app):
    save_page(editor, "a", "A", "text")
    response = save_page(editor, "a", "A", "text", tags="new-tag")
    assert response.status_code == 303
    page = editor.get("/wiki/a").get_data(as_text=True)
    assert "Tags saved" in page and 'href="/tags/new-tag"' in page
    assert "Revision 1," in page


# --- links to a section ---------------------------------------------------------------------


def test_a_link_to_a_section_lands_on_its_heading(editor):
    save_page(editor, "linker", "Linker", "See [[Flask Notes#Request Context]].")
    red = editor.get("/wiki/linker").get_data(as_text=True)
    assert re.search(r'class="wikilink wikilink-missing" href="/edit/flask-notes\?title=', red)
    save_page(editor, "flask-notes", "Flask Notes", "# Intro\n\n## Request Context\n\nText.\n")
    target = editor.get("/wiki/flask-notes").get_data(as_text=True)
    (anchor,) = re.findall(r'<h2 id="([^"]+)">Request Context', target)
    blue = editor.get("/wiki/linker").get_data(as_text=True)
    assert f'class="wikilink" href="/wiki/flask-notes#{anchor}"' in blue


def test_a_link_to_a_section_of_the_same_page(editor):
    save_page(editor, "long", "Long", "# Far Below\n\n[[#Far Below|back up]]\n")
    html = editor.get("/wiki/long").get_data(as_text=True)
    (anchor,) = re.findall(r'<h1 id="([^"]+)">Far Below', html)
    assert f'href="#{anchor}"' in html
    assert "0 pages link here" in html


# --- red links kept true without re-rendering other people's pages ----------------------------


@pytest.fixture
def parsed_texts(monkeypatch):
    """Every text markdown-it parses, as it parses it."""
    texts: list[str] = []
    parse = MarkdownIt.parse

    def recording(self, src, env=None):
        texts.append(src)
        return parse(self, src, env)

    monkeypatch.setattr(MarkdownIt, "parse", recording)
    return texts


def test_saving_a_linked_page_patches_the_linking_pages_without_parsing_them(
        editor, app, parsed_texts):
    heavy = "[[Target]] [[Target#Part|the part]] [[Other]]\n\n" + "# a\n\n- [ ] b\n" * 2_000
    save_page(editor, "heavy", "Heavy", heavy)
    parsed_texts.clear()

    assert save_page(editor, "target", "Target", "Here.").status_code == 303
    created = editor.get("/wiki/heavy").get_data(as_text=True)
    stored_when_created = current_body(app, "heavy", Revision.html)
    assert submit(editor, "/delete/target").status_code == 303
    deleted = editor.get("/wiki/heavy").get_data(as_text=True)

    assert heavy not in parsed_texts  # nor rendered under the writer lock, nor after
    assert 'class="wikilink" href="/wiki/target" title="Target"' in created
    assert 'href="/wiki/target#h-part"' in created
    assert created.count("wikilink-missing") == 1  # [[Other]]
    assert 'href="/edit/target?title=Target"' in deleted
    assert 'href="/edit/target?title=Target#h-part"' in deleted
    assert deleted.count("wikilink-missing") == 3
    # The patched HTML is what rendering the page afresh gives.
    fresh = rendering.render(heavy, lambda slugs: {"target"} & slugs).html
    assert canonical(stored_when_created) == canonical(fresh)
    fresh = rendering.render(heavy, lambda slugs: set()).html
    assert canonical(current_body(app, "heavy", Revision.html)) == canonical(fresh)


class _Canonical(HTMLParser):
    """HTML as a list of tags with their attributes sorted (nh3 may order them either way),
    and texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list = []

    def handle_starttag(self, tag, attrs) -> None:
        self.items.append((tag, sorted(attrs, key=lambda pair: pair[0])))

    def handle_endtag(self, tag) -> None:
        self.items.append(f"/{tag}")

    def handle_data(self, data) -> None:
        self.items.append(data)


def canonical(html: str) -> list:
    parser = _Canonical()
    parser.feed(html)
    parser.close()
    return parser.items


# --- a wiki served under a path prefix ----------------------------------------------------------

PREFIX = "/wiki-app"
UNDER_PREFIX = {"SCRIPT_NAME": PREFIX}  # as a WSGI server mounting the wiki there sets it


def wikilink_hrefs(html: str) -> list[str]:
    return re.findall(r'<a class="wikilink[^"]*" href="([^"]*)"', html)


@pytest.fixture
def linking(editor, auth):
    save_page(editor, "existing", "Existing", "Here.")
    save_page(editor, "linking", "Linking", "[[Existing]] and [[Missing Page]].")
    return editor


def test_a_wiki_behind_a_proxy_at_a_prefix_links_under_it(linking, auth, make_app):
    """Behind a proxy that serves the wiki at /wiki-app (``X-Forwarded-Prefix``), the links
    stored in a page's HTML lead there too, for a reader and from the page cache alike."""
    auth.logout()
    proxied = make_app("proxied", PROXY_FIX=1).test_client(use_cookies=False)
    for _ in range(2):  # rendered, then answered from the cache
        page = proxied.get("/wiki/linking", headers={"X-Forwarded-Prefix": PREFIX})
        assert wikilink_hrefs(page.get_data(as_text=True)) == [
            "/wiki-app/wiki/existing", "/wiki-app/edit/missing-page?title=Missing+Page"]
    unprefixed = proxied.get("/wiki/linking").get_data(as_text=True)
    assert wikilink_hrefs(unprefixed) == ["/wiki/existing", "/edit/missing-page?title=Missing+Page"]


def test_a_mounted_wiki_links_under_its_mount_point(linking):
    page = linking.get("/wiki/linking", environ_overrides=UNDER_PREFIX).get_data(as_text=True)
    assert wikilink_hrefs(page) == [
        "/wiki-app/wiki/existing", "/wiki-app/edit/missing-page?title=Missing+Page"]


def test_previews_under_a_prefix_link_under_it(linking):
    body = "[[Existing]] [[Missing Page]]"
    editor_page = linking.get("/edit/linking").get_data(as_text=True)
    form = {"csrf_token": csrf_token(editor_page), "title": "Linking", "body": body,
            "preview": "Preview"}
    shown = linking.post("/edit/linking", data=form, environ_overrides=UNDER_PREFIX)
    expected = ["/wiki-app/wiki/existing", "/wiki-app/edit/missing-page?title=Missing+Page"]
    assert wikilink_hrefs(shown.get_data(as_text=True)) == expected
    live = linking.post("/api/v1/preview", data={"body": body}, environ_overrides=UNDER_PREFIX,
                        headers={"X-CSRFToken": csrf_token(editor_page)})
    assert wikilink_hrefs(live.get_json()["html"]) == expected


def test_the_feed_under_a_prefix_links_under_it(linking):
    feed = linking.get("/recent.atom", environ_overrides=UNDER_PREFIX).get_data(as_text=True)
    assert "http://localhost/wiki-app/diff/linking?" in feed
    assert "http://localhost/diff/" not in feed


def test_a_prefix_never_makes_a_link_to_another_host(linking):
    assert rendering.under_root('<a class="wikilink" href="/wiki/a">', "//evil.example") == \
        '<a class="wikilink" href="/evil.example/wiki/a">'


def test_stored_links_use_the_url_maps_paths(app):
    with app.test_request_context():
        assert url_for("pages.view", slug="a/b") == rendering.PAGE_PATH + "a/b"
        assert url_for("pages.edit", slug="a/b") == rendering.EDIT_PATH + "a/b"

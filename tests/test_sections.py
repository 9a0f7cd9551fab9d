"""Editing one section of a page: the splitting service, and the editor over HTTP."""

import re

import pytest

from tests.helpers import PASSWORD, csrf_token, save_page, submit, textarea
from tests.test_conflicts import revision_bodies
from wiki.services import rendering, sections

# --- the service: sections of a text --------------------------------------------------------

LONG_PAGE = """Intro before any heading.

# Setup
Install it.

```sh
# not a heading: a shell comment in a fence
```

## Linux
apt-get install it

## macOS
brew install it

Usage
=====
Run it.

> # A quoted heading belongs to the section around it
still usage

Last words
----------
The end.
"""


def texts(body):
    return [(found.number, found.level, found.heading, body[found.start:found.end])
            for found in sections.sections(body)]


def test_sections_run_to_the_next_heading_of_the_same_or_a_higher_level():
    found = texts(LONG_PAGE)
    assert [(number, level, heading) for number, level, heading, _ in found] == [
        (1, 1, "Setup"), (2, 2, "Linux"), (3, 2, "macOS"), (4, 1, "Usage"),
        (5, 2, "Last words")]
    setup, linux, macos, usage, last = (text for *_, text in found)
    assert setup.startswith("# Setup\n") and setup.endswith("brew install it\n\n")
    assert "# not a heading" in setup  # a "#" line inside a fence starts no section
    assert linux == "## Linux\napt-get install it\n\n"
    assert macos == "## macOS\nbrew install it\n\n"
    assert usage.startswith("Usage\n=====\n") and usage.endswith("The end.\n")  # setext
    assert "# A quoted heading" in usage
    assert last == "Last words\n----------\nThe end.\n"  # the last section runs to the end


def test_each_section_knows_its_headings_anchor_as_rendered():
    anchors = [found.anchor for found in sections.sections("# Same\n\n# Same\n\n## Other\n")]
    assert anchors == ["h-same", "h-same-2", "h-other"]


def test_a_text_without_headings_has_no_sections():
    assert sections.sections("just text\n\n    # indented: code\n") == []
    with pytest.raises(sections.NoSuchSection, match="no headings"):
        sections.section("just text\n", 1)


@pytest.mark.parametrize("number", [0, 6, 99])
def test_a_section_number_out_of_range_is_refused(number):
    with pytest.raises(sections.NoSuchSection, match="5 sections, numbered 1 to 5"):
        sections.section(LONG_PAGE, number)


def test_replacing_a_section_leaves_the_rest_exactly():
    body, anchor = sections.replace_section(LONG_PAGE, 2, "## Linux\nuse your package manager\n\n")
    assert body == LONG_PAGE.replace("apt-get install it", "use your package manager")
    assert anchor == "h-linux"


def test_replacing_a_section_whose_heading_changes_gives_the_new_anchor():
    body, anchor = sections.replace_section(LONG_PAGE, 3, "## On a Mac\nbrew install it\n\n")
    assert "## On a Mac\n" in body and "## macOS" not in body
    assert anchor == "h-on-a-mac"


def test_replacing_a_section_with_nested_ones_replaces_them_too():
    body, _ = sections.replace_section(LONG_PAGE, 1, "# Setup\nJust download it.\n\n")
    assert body.startswith("Intro before any heading.\n\n# Setup\nJust download it.\n\nUsage\n")
    assert [found.heading for found in sections.sections(body)] == [
        "Setup", "Usage", "Last words"]


def test_replacing_the_last_section():
    body, anchor = sections.replace_section(LONG_PAGE, 5, "Last words\n----------\nBye.")
    assert body.endswith("Last words\n----------\nBye.")
    assert anchor == "h-last-words"


def test_a_replacement_without_a_final_newline_keeps_the_next_heading_a_heading():
    body, _ = sections.replace_section(LONG_PAGE, 2, "## Linux\nno newline at the end")
    assert "no newline at the end\n## macOS" in body
    # An underlined heading after a paragraph would become part of it: a blank line parts them.
    body, _ = sections.replace_section(LONG_PAGE, 3, "## macOS\nbrew")
    assert "brew\n\nUsage\n=====" in body
    assert [found.heading for found in sections.sections(body)][3] == "Usage"


def test_a_replacement_without_its_heading_has_no_anchor():
    body, anchor = sections.replace_section(LONG_PAGE, 2, "no heading any more\n\n")
    assert anchor is None
    assert "## Linux" not in body and "no heading any more" in body


def test_edit_links_go_beside_each_sections_heading_only():
    body = "# One\n\n> ## Quoted\n\n## Two & \"more\"\n"
    html = rendering.render(body).html
    linked = sections.with_edit_links(html, lambda number: f"/edit/p?section={number}")
    assert linked.count('class="section-edit"') == 2
    assert ('<div class="section-heading"><h2 id="h-two-more">Two &amp; "more"</h2><a '
            'class="section-edit" href="/edit/p?section=2" aria-label="Edit section: Two &amp; '
            '&quot;more&quot;">edit</a></div>') in linked
    assert '<h2 id="h-quoted">Quoted</h2>\n</blockquote>' in linked


def test_the_links_in_the_html_number_the_sections_as_the_text_does():
    """The page view finds sections in the stored HTML (no parsing), the editor in the text:
    link N must open the section of the heading it stands beside."""
    body = LONG_PAGE + (
        "\n- ## In a list\n\nText with a note.[^1]\n\n[^1]: # In a footnote\n\n"
        "## `code` and *emphasis*\n\n| a |\n|---|\n| b |\n\n### Deeper\n\n# Setup\n")
    html = rendering.render(body).html
    assert '<nav class="toc"' in html  # its headings and list items are no sections either
    linked = sections.with_edit_links(html, lambda number: f"/edit/p?section={number}")
    beside = re.findall(r'<div class="section-heading"><h[1-6] id="([^"]+)">(?:(?!</h).)*'
                        r'</h[1-6]><a class="section-edit" href="/edit/p\?section=(\d+)"',
                        linked, re.S)
    expected = [(found.anchor, str(found.number)) for found in sections.sections(body)]
    assert beside == expected
    assert [anchor for anchor, _ in expected][-3:] == ["h-code-and-emphasis", "h-deeper",
                                                      "h-setup-2"]


# --- over HTTP --------------------------------------------------------------------------------

PAGE = "Intro.\n\n## Alpha\nalpha text\n\n## Beta\nbeta text\n\n## Gamma\ngamma text\n"


def open_section(client, slug, number):
    response = client.get(f"/edit/{slug}?section={number}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    base = re.search(r'name="base_revision" type="hidden" value="(\d+)"', html).group(1)
    return html, {"csrf_token": csrf_token(html), "base_revision": base, "summary": ""}


def test_the_page_view_has_an_edit_link_beside_each_heading_for_editors(app, editor):
    save_page(editor, "notes", "Notes", PAGE)
    html = editor.get("/wiki/notes").get_data(as_text=True)
    for number, heading in enumerate(["Alpha", "Beta", "Gamma"], start=1):
        assert (f'href="/edit/notes?section={number}" aria-label="Edit section: {heading}"'
                in html)
    visitor = app.test_client()
    assert 'class="section-edit"' not in visitor.get("/wiki/notes").get_data(as_text=True)


def test_an_old_revision_has_no_section_edit_links(editor):
    save_page(editor, "notes", "Notes", PAGE)
    save_page(editor, "notes", "Notes", PAGE + "more\n")
    assert 'class="section-edit"' not in editor.get("/wiki/notes?rev=1").get_data(as_text=True)


def test_the_section_editor_shows_only_that_section_and_saves_it_in_place(app, editor):
    save_page(editor, "notes", "Notes", PAGE, tags="kept, tags")
    html, form = open_section(editor, "notes", 2)
    assert textarea(html) == "## Beta\nbeta text\n\n"
    assert 'name="title"' not in html and "the section “Beta” of “Notes”" in html
    saved = editor.post("/edit/notes?section=2",
                        data={**form, "body": "## Beta\nnew beta text\n\n"})
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith("/wiki/notes#h-beta")
    assert revision_bodies(app, "notes")[-1] == PAGE.replace("beta text", "new beta text")
    assert "kept" in editor.get("/wiki/notes").get_data(as_text=True)  # tags stay


def test_a_renamed_heading_redirects_to_its_new_anchor(editor):
    save_page(editor, "notes", "Notes", PAGE)
    _, form = open_section(editor, "notes", 3)
    saved = editor.post("/edit/notes?section=3", data={**form, "body": "## Omega\nlast\n"})
    assert saved.headers["Location"].endswith("/wiki/notes#h-omega")
    assert 'id="h-omega"' in editor.get("/wiki/notes").get_data(as_text=True)


def test_two_people_editing_different_sections_both_land(app, editor):
    save_page(editor, "notes", "Notes", PAGE)
    other = app.test_client()
    submit(other, "/login", {"username": "admin", "password": PASSWORD})
    _, mine = open_section(editor, "notes", 1)
    _, theirs = open_section(other, "notes", 3)
    first = other.post("/edit/notes?section=3", data={**theirs, "body": "## Gamma\nTHEIRS\n"})
    assert first.status_code == 303
    second = editor.post("/edit/notes?section=1", data={**mine, "body": "## Alpha\nMINE\n\n"})
    assert second.status_code == 303 and second.headers["Location"].endswith("#h-alpha")
    assert revision_bodies(app, "notes")[-1] == (
        "Intro.\n\n## Alpha\nMINE\n\n## Beta\nbeta text\n\n## Gamma\nTHEIRS\n")
    assert "merged" in editor.get("/wiki/notes").get_data(as_text=True)


def test_two_people_editing_the_same_section_get_the_conflict_page_and_lose_nothing(app, editor):
    save_page(editor, "notes", "Notes", PAGE)
    other = app.test_client()
    submit(other, "/login", {"username": "admin", "password": PASSWORD})
    _, mine = open_section(editor, "notes", 2)
    _, theirs = open_section(other, "notes", 2)
    other.post("/edit/notes?section=2", data={**theirs, "body": "## Beta\nTHEIR beta\n\n"})
    conflict = editor.post("/edit/notes?section=2",
                           data={**mine, "body": "## Beta\nMY beta\n\n", "summary": "mine"})
    assert conflict.status_code == 409
    html = conflict.get_data(as_text=True)
    assert "Someone else changed this page" in html and "THEIR" in html
    # The whole page is in the editor, with my section in it; saving it sends it all.
    assert textarea(html) == PAGE.replace("beta text", "MY beta")
    assert 'action="/edit/notes"' in html and 'value="Notes"' in html
    assert "You were editing the section “Beta”" in html
    assert revision_bodies(app, "notes")[-1] == PAGE.replace("beta text", "THEIR beta")
    base = re.search(r'name="base_revision" type="hidden" value="(\d+)"', html).group(1)
    again = editor.post("/edit/notes", data={
        "csrf_token": csrf_token(html), "base_revision": base, "title": "Notes",
        "body": textarea(html), "summary": "mine", "tags": ""})
    assert again.status_code == 303
    assert revision_bodies(app, "notes")[-1] == PAGE.replace("beta text", "MY beta")


@pytest.mark.parametrize("number", ["0", "4", "abc", "-1", "1.5", "99999999999999999999"])
def test_a_section_that_does_not_exist_is_a_clear_404(editor, number):
    save_page(editor, "notes", "Notes", PAGE)
    response = editor.get(f"/edit/notes?section={number}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert f"There is no section “{number}” to edit" in html
    assert "3 sections, numbered 1 to 3" in html


def test_a_page_without_headings_says_so(editor):
    save_page(editor, "plain", "Plain", "No headings here.\n")
    response = editor.get("/edit/plain?section=1")
    assert response.status_code == 404 and "no headings" in response.get_data(as_text=True)


def test_a_section_of_a_missing_page_is_a_404(editor):
    response = editor.get("/edit/nowhere?section=1")
    assert response.status_code == 404
    assert "no section to edit" in response.get_data(as_text=True)


def test_a_post_to_a_section_that_is_gone_keeps_the_text(editor):
    save_page(editor, "notes", "Notes", PAGE)
    _, form = open_section(editor, "notes", 3)
    refused = editor.post("/edit/notes?section=7", data={**form, "body": "## Typed\nkeep me\n"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "There is no section “7” to edit" in html and textarea(html) == "## Typed\nkeep me\n"


def test_a_section_of_a_page_deleted_meanwhile_keeps_the_text(admin):
    save_page(admin, "notes", "Notes", PAGE)
    _, form = open_section(admin, "notes", 1)
    confirm = admin.get("/delete/notes").get_data(as_text=True)
    admin.post("/delete/notes", data={"csrf_token": csrf_token(confirm)})
    assert admin.get("/edit/notes?section=1").status_code == 404
    refused = admin.post("/edit/notes?section=1", data={**form, "body": "## Alpha\nkeep me\n"})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "was deleted while you were editing" in html
    assert textarea(html) == "## Alpha\nkeep me\n"


def test_a_section_save_sent_to_the_address_before_a_rename_lands(app, admin):
    save_page(admin, "notes", "Notes", PAGE)
    _, form = open_section(admin, "notes", 2)
    submit(admin, "/rename/notes", {"title": "Field notes"})
    moved = admin.get("/edit/notes?section=2")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/edit/field-notes?section=2")
    saved = admin.post("/edit/notes?section=2", data={**form, "body": "## Beta\nmoved\n\n"})
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith("/wiki/field-notes#h-beta")
    assert revision_bodies(app, "field-notes")[-1] == PAGE.replace("beta text", "moved")


def test_a_damaged_base_revision_keeps_the_text(editor):
    save_page(editor, "notes", "Notes", PAGE)
    _, form = open_section(editor, "notes", 1)
    refused = editor.post("/edit/notes?section=1",
                          data={**form, "base_revision": "x", "body": "## Alpha\nkeep me\n"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "revision number is damaged" in html and textarea(html) == "## Alpha\nkeep me\n"


def test_a_section_save_without_its_csrf_token_saves_nothing(app, editor):
    save_page(editor, "notes", "Notes", PAGE)
    _, form = open_section(editor, "notes", 1)
    refused = editor.post("/edit/notes?section=1",
                          data={**form, "csrf_token": "stale", "body": "## Alpha\nkeep me\n"})
    assert refused.status_code in (400, 422)
    assert textarea(refused.get_data(as_text=True)) == "## Alpha\nkeep me\n"
    assert revision_bodies(app, "notes") == [PAGE]


def test_the_section_preview_renders_the_section_without_javascript(editor):
    save_page(editor, "notes", "Notes", PAGE)
    _, form = open_section(editor, "notes", 2)
    shown = editor.post("/edit/notes?section=2",
                        data={**form, "body": "## Beta\n*previewed*\n", "preview": "Preview"})
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "<em>previewed</em>" in html and textarea(html) == "## Beta\n*previewed*\n"


def test_readers_may_not_edit_a_section(auth, client, editor):
    save_page(editor, "notes", "Notes", PAGE)
    auth.logout()
    auth.login("reader")
    assert client.get("/edit/notes?section=1").status_code == 403
    assert 'class="section-edit"' not in client.get("/wiki/notes").get_data(as_text=True)

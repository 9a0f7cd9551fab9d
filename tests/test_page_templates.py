"""Page templates: pages tagged ``template`` offered as starting text on /new."""

import re

from tests.helpers import csrf_token, save_page, textarea
from wiki.services import page_templates
from wiki.services.access import Rule, Rules, Visibility

MEETING = "## Attendees\n\n## Agenda\n\n## Decisions\n"


def test_new_offers_the_pages_tagged_template(editor):
    save_page(editor, "meeting-notes", "Meeting notes", MEETING, tags="template, meetings")
    save_page(editor, "book-notes", "Book notes", "## Quotes\n", tags="template")
    save_page(editor, "not-one", "Not one", "text", tags="meetings")
    html = editor.get("/new").get_data(as_text=True)
    offered = re.search(r'<nav class="templates".*?</nav>', html, re.S).group(0)
    assert "Start from:" in offered
    assert re.findall(r'href="/new\?template=([^"&]+)"', offered) == ["book-notes",
                                                                     "meeting-notes"]
    assert "Meeting notes</a>" in offered and "Not one" not in offered


def test_without_templates_nothing_is_offered(editor):
    assert "Start from:" not in editor.get("/new").get_data(as_text=True)


def test_a_template_prefills_the_body_and_its_other_tags(app, editor):
    save_page(editor, "meeting-notes", "Meeting notes", MEETING, tags="template, meetings")
    response = editor.get("/new?template=meeting-notes&title=Weekly+sync")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert textarea(html) == MEETING
    assert re.search(r'name="tags" type="text" value="meetings"', html)
    assert 'value="Weekly sync"' in html
    assert "starts from the template" in html
    # Saving makes an ordinary page: the template's text, not the template tag.
    saved = editor.post("/new", data={"csrf_token": csrf_token(html), "title": "Weekly sync",
                                      "body": textarea(html), "tags": "meetings",
                                      "summary": "", "base_revision": ""})
    assert saved.status_code == 303
    page = editor.get("/wiki/weekly-sync").get_data(as_text=True)
    assert 'id="h-agenda"' in page and "/tags/meetings" in page and "/tags/template" not in page


def test_a_missing_or_untagged_template_says_so_and_opens_the_editor(editor):
    save_page(editor, "plain", "Plain", "not a template", tags="other")
    for slug in ("plain", "no-such-page"):
        response = editor.get(f"/new?template={slug}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert f"There is no template “{slug}”" in html
        assert textarea(html) == "" and 'name="title"' in html


def test_a_deleted_template_is_neither_offered_nor_used(admin):
    save_page(admin, "old-form", "Old form", "old text", tags="template")
    form = admin.get("/delete/old-form").get_data(as_text=True)
    admin.post("/delete/old-form", data={"csrf_token": csrf_token(form)})
    html = admin.get("/new?template=old-form").get_data(as_text=True)
    assert "There is no template “old-form”" in html and "Start from:" not in html


def test_the_template_links_work_without_javascript_for_readers_too(app, editor):
    """Readers may not create pages: /new asks them to sign in or refuses, never a 500."""
    save_page(editor, "meeting-notes", "Meeting notes", MEETING, tags="template")
    visitor = app.test_client()
    assert visitor.get("/new?template=meeting-notes").status_code in (302, 401, 403)


def test_hidden_templates_never_push_visible_ones_off_the_list(app, editor):
    """The list is cut after the access rules are applied, in the query: templates the reader
    may not see (here the first ones A–Z) leave room for those they may."""
    save_page(editor, "a-private/plan", "A-private/Plan", MEETING, tags="template")
    save_page(editor, "meeting-notes", "Meeting notes", MEETING, tags="template")
    hidden = Visibility(Rules.of([Rule("a-private/**", "admin", "admin")]), rank=2)
    with app.app_context():
        assert [page.slug for page in page_templates.templates(hidden, limit=1)] \
            == ["meeting-notes"]
        assert [page.slug for page in page_templates.templates(limit=1)] == ["a-private/plan"]

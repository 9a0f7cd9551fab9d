"""An edit is one typed value from the form to the page service, and what a save did (or
why it was refused) comes back typed: the service knows nothing of form field names."""

import re

import pytest

from tests.helpers import save_page, submit
from wiki.forms import PageForm
from wiki.services import pages
from wiki.services.pages import Outcome, PageEdit, Part
from wiki.views.pages import FORM_FIELDS, SAVE_MESSAGES


def field_errors(html: str, field: str) -> str:
    """The error list the editor shows under *field* ("" if none)."""
    found = re.search(rf'<ul class="field__errors" id="{field}-errors">(.*?)</ul>', html, re.S)
    return found[1] if found else ""


def test_each_save_says_what_it_did(app, users):
    with app.app_context():
        author = users["editor"]
        created = pages.save(PageEdit(None, "Typed", "one\ntwo\nthree\n"), author)
        saved = pages.save(PageEdit("typed", "Typed", "one\ntwo\nTHREE\n", base_revision=1),
                           author)
        merged = pages.save(PageEdit("typed", "Typed", "ONE\ntwo\nthree\n", base_revision=1),
                            author)
        retagged = pages.save(PageEdit("typed", "Typed", "ONE\ntwo\nTHREE\n", tags="flask",
                                       base_revision=3), author)
        unchanged = pages.save(PageEdit("typed", "Typed", "ONE\ntwo\nTHREE\n", tags=["flask"],
                                        base_revision=3), author)
        assert [r.outcome for r in (created, saved, merged, retagged, unchanged)] == [
            Outcome.CREATED, Outcome.SAVED, Outcome.MERGED, Outcome.RETAGGED, Outcome.UNCHANGED]
        assert merged.merged_with == 2 and merged.revision.body == "ONE\ntwo\nTHREE\n"


@pytest.mark.parametrize(("edit", "part"), [
    (PageEdit(None, "   ", "x"), Part.TITLE),
    (PageEdit(None, "Fine", "x", summary="a\u202eb"), Part.SUMMARY),
    (PageEdit(None, "Fine", "x", tags=[".."]), Part.TAGS),
    (PageEdit(None, "Fine", "x" * 3_000_000), Part.BODY),
])
def test_a_refusal_says_what_part_of_the_edit_it_is_about(app, edit, part):
    with app.app_context(), pytest.raises(pages.PageError) as refused:
        pages.save(edit, None)
    assert refused.value.part is part


def test_the_editor_shows_every_kind_of_refusal_and_outcome():
    assert set(FORM_FIELDS) == set(Part)
    assert all(hasattr(PageForm, field) for field in FORM_FIELDS.values())
    assert set(SAVE_MESSAGES) == set(Outcome)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("tags", ", ".join(f"t{n}" for n in range(21)), "Use at most 20 tags."),
    ("summary", "new\u202e", "The summary holds a control"),
    ("title", "!!!", "The title needs at least one letter or digit."),
])
def test_a_refused_edit_shows_the_reason_at_its_field(editor, field, value, message):
    data = {"title": "Placed", "body": "kept text", "summary": "", "tags": "", field: value}
    response = submit(editor, "/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "kept text</textarea>" in html
    assert message in field_errors(html, field)
    assert [other for other in ("title", "body", "summary", "tags")
            if other != field and field_errors(html, other)] == []


def test_a_base_revision_ahead_of_the_page_shows_on_the_text(editor):
    save_page(editor, "based", "Based", "first")
    response = submit(editor, "/edit/based", {"title": "Based", "body": "second",
                                              "base_revision": "9"})
    assert response.status_code == 409
    assert "does not have" in field_errors(response.get_data(as_text=True), "body")

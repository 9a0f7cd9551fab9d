"""What the browser enhancements rely on: the preview API, the shortcut help, the editor's
data attributes, and fingerprinted static files cached for a year."""

import re

import pytest

from tests.helpers import csrf_token, save_page

ONE_YEAR = 365 * 24 * 3600


def preview(client, body: str, *, token: str | None = None):
    if token is None:
        token = csrf_token(client.get("/new").get_data(as_text=True))
    return client.post("/api/v1/preview", data={"body": body}, headers={"X-CSRFToken": token})


def test_preview_renders_like_a_saved_page_with_red_links(editor):
    save_page(editor, "flask", "Flask", "A page.")
    response = preview(editor, "# Title\r\n\r\n[[Flask]] and [[Nowhere]]\n\n```python\nx = 1\n```")
    assert response.status_code == 200
    assert response.is_json
    html = response.get_json()["html"]
    assert '<h1 id="h-title">Title</h1>' in html
    assert re.search(r'<a class="wikilink" href="/wiki/flask"[^>]*>Flask</a>', html)
    missing = r'<a class="wikilink wikilink-missing" href="/edit/nowhere\?title=Nowhere"'
    assert re.search(missing, html)
    assert '<div class="highlight">' in html


def test_preview_is_sanitised(editor):
    html = preview(editor, '<script>alert(1)</script> [x](javascript:alert(1))').get_json()["html"]
    assert "<script" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_task_list_checkboxes_are_labelled_by_their_item(editor):
    html = preview(editor, "- [x] done\n- [ ] to do\n").get_json()["html"]
    assert re.search(r'<label><input[^>]*type="checkbox"[^>]*> done</label>', html)


def test_preview_needs_the_csrf_token(editor):
    response = editor.post("/api/v1/preview", data={"body": "x"})
    assert response.status_code == 400
    assert response.is_json and "CSRF" in response.get_json()["detail"]
    assert preview(editor, "x", token="not-a-token").status_code == 400


def test_preview_needs_the_edit_permission(auth, client):
    anonymous = client.post("/api/v1/preview", data={"body": "x"})
    assert anonymous.status_code == 401 and anonymous.is_json
    auth.login("reader")
    token = csrf_token(client.get("/account").get_data(as_text=True))
    forbidden = preview(client, "x", token=token)
    assert forbidden.status_code == 403 and forbidden.is_json


def test_preview_is_size_limited_like_the_form(editor, app):
    limit = app.config["MAX_PAGE_BYTES"]
    assert preview(editor, "a" * limit).status_code == 200
    response = preview(editor, "a" * (limit + 1))
    assert response.status_code == 413
    assert "too long" in response.get_json()["detail"]


def test_preview_answers_only_post(editor):
    assert editor.get("/api/v1/preview").status_code == 405


def test_editor_form_names_its_draft_and_preview_url(editor):
    save_page(editor, "notes", "Notes", "x")
    html = editor.get("/edit/notes").get_data(as_text=True)
    assert 'data-draft-key="notes"' in html
    # The page's own files: bare file names in the preview show its attachments.
    assert 'data-preview-url="/api/v1/preview?page=notes"' in html
    new = editor.get("/new").get_data(as_text=True)
    assert 'data-draft-key="new"' in new and 'data-preview-url="/api/v1/preview"' in new
    assert 'data-page-slug="notes"' in editor.get("/wiki/notes").get_data(as_text=True)


def test_script_is_deferred_and_no_script_is_inline(client):
    html = client.get("/help/shortcuts").get_data(as_text=True)
    assert re.search(r'<script src="/static/js/wiki\.js\?v=[0-9a-f]{10}" defer></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_shortcut_help_is_linked_from_every_footer(client):
    help_page = client.get("/help/shortcuts")
    assert help_page.status_code == 200
    text = help_page.get_data(as_text=True)
    for keys in ("/", "e", "Ctrl</kbd> + <kbd>S", "Esc"):
        assert f"<kbd>{keys}</kbd>" in text
    footer = client.get("/").get_data(as_text=True).split('<footer class="site-footer">')[1]
    assert 'href="/help/shortcuts"' in footer


def test_the_help_says_how_to_add_pictures(client):
    text = client.get("/help/shortcuts").get_data(as_text=True)
    assert 'id="pictures"' in text and "paste a picture" in text and "drop files" in text
    assert "<code>![Request flow](flow.png)</code>" in text
    assert "<code>[slides](talk.pdf)</code>" in text and "up to 10 MB" in text
    assert "A new page has to be saved" in text


@pytest.mark.parametrize("path", ["css/wiki.css", "css/print.css", "css/pygments.css",
                                  "js/wiki.js"])
def test_static_files_are_fingerprinted_and_cached_for_a_year(client, path):
    html = client.get("/").get_data(as_text=True)
    match = re.search(rf'/static/{re.escape(path)}\?v=([0-9a-f]{{10}})"', html)
    assert match, f"{path} is not linked with a ?v=<hash>"
    response = client.get(f"/static/{path}?v={match.group(1)}")
    assert response.status_code == 200
    assert response.cache_control.max_age == ONE_YEAR
    assert response.cache_control.public
    response.close()

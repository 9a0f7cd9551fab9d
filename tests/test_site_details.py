"""Small things a reader notices: the site's icon, and counts that agree with their nouns."""

import re

import pytest

from tests.helpers import save_page
from wiki.services.text import counted


def test_pages_link_the_icon_and_it_is_served(client, app):
    html = client.get("/help/shortcuts").get_data(as_text=True)
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert link, "the layout links no icon"
    with client.get(link[1]) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert b"<svg" in icon.data


def test_browsers_asking_at_favicon_ico_get_an_image(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 pages link here"), (1, "1 page links here"), (2, "2 pages link here")])
def test_counted_agrees_noun_and_verb(count, expected):
    assert f"{counted(count, 'page links', 'pages link')} here" == expected


def test_one_page_imported_is_one_page(runner, tmp_path):
    (tmp_path / "one.md").write_text("# One\n\ntext\n")
    result = runner.invoke(args=["pages", "import", str(tmp_path)])
    assert "1 page created, 0 already there." in result.output
    exported = runner.invoke(args=["pages", "export", str(tmp_path / "out")])
    assert "Exported 1 page to" in exported.output
    assert "Reindexed 1 page." in runner.invoke(args=["pages", "reindex"]).output


def test_a_diff_of_one_line_says_one_line(editor):
    save_page(editor, "solo", "Solo", "first line\n")
    save_page(editor, "solo", "Solo", "first line\nsecond line\n")
    html = editor.get("/diff/solo?from=1&to=2").get_data(as_text=True)
    assert "1 line added and 0 removed" in html


def test_pages_link_a_png_icon_for_browsers_without_svg_icons(client):
    html = client.get("/help/shortcuts").get_data(as_text=True)
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/png" sizes="32x32">', html)
    assert link, "the layout links no PNG icon"
    with client.get(link[1]) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/png"
        assert icon.data.startswith(b"\x89PNG\r\n\x1a\n")

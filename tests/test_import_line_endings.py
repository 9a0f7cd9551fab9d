"""``flask pages import`` of Markdown written on Windows: CRLF line endings, a UTF-8 BOM."""

from sqlalchemy import select

from wiki.extensions import db
from wiki.models import Page

WINDOWS_NOTE = ("---\r\n"
                "title: Routing on Windows\r\n"
                "tags: [flask, windows]\r\n"
                "---\r\n"
                "First line.\r\n"
                "\r\n"
                "Second paragraph.\r\n")


def test_front_matter_of_a_crlf_file_with_a_bom_is_read_and_left_out_of_the_body(
        runner, app, tmp_path):
    folder = tmp_path / "vault"
    folder.mkdir()
    (folder / "routing.md").write_bytes(b"\xef\xbb\xbf" + WINDOWS_NOTE.encode("utf-8"))

    result = runner.invoke(args=["pages", "import", str(folder)])

    assert result.exit_code == 0, result.output
    with app.app_context():
        page = db.session.scalar(select(Page).where(Page.slug == "routing-on-windows"))
        assert page is not None, result.output
        assert page.title == "Routing on Windows"
        assert sorted(tag.name for tag in page.tags) == ["flask", "windows"]
        assert page.current_revision.body == "First line.\n\nSecond paragraph.\n"

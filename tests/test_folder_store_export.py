"""``flask pages export`` and ``/export.zip`` of a wiki whose files live in a folder
(``WIKI_FILES_DIR``): the exported files hold the bytes, not the empty ``blob`` row."""

import io
import zipfile
from pathlib import Path

import pytest

from tests.helpers import save_page
from tests.test_attachment_operations import get
from tests.test_attachments import png, upload

SLIDES = b"%PDF-1.4 slides of the talk"


@pytest.fixture
def app(make_app):
    return make_app(FILES_DIR="files")


@pytest.fixture
def served(auth, users) -> dict[str, bytes]:
    auth.login("admin")
    assert save_page(auth.client, "notes", "Notes", "![flow](flow.png)").status_code == 303
    upload(auth.client, "notes", ("flow.png", png()), ("talk.pdf", SLIDES))
    return {name: get(auth.client, f"/files/notes/{name}").data
            for name in ("flow.png", "talk.pdf")}


def test_an_export_to_a_folder_holds_the_bytes_of_the_files(runner, served, tmp_path):
    result = runner.invoke(args=["pages", "export", str(tmp_path / "out")])

    assert result.exit_code == 0, result.output
    assert served["talk.pdf"] == SLIDES
    for name, content in served.items():
        assert (tmp_path / "out" / "notes.files" / name).read_bytes() == content


def test_the_export_archive_holds_the_bytes_of_the_files(auth, served):
    archive = get(auth.client, "/export.zip")

    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.data)) as unpacked:
        for name, content in served.items():
            assert unpacked.read(f"notes.files/{name}") == content


def lose_the_slides(app) -> None:
    for path in (Path(app.instance_path) / "files").rglob("*"):
        if path.is_file() and path.read_bytes() == SLIDES:
            path.unlink()


def test_an_export_to_a_folder_skips_a_lost_file_and_writes_the_rest(
        app, runner, served, tmp_path):
    """A file lost from the folder stopped the export with a traceback."""
    lose_the_slides(app)

    result = runner.invoke(args=["pages", "export", str(tmp_path / "out")])

    assert result.exit_code == 1
    assert "Skipped notes (file talk.pdf): its contents are missing" in result.output
    assert (tmp_path / "out" / "notes.md").is_file()
    assert (tmp_path / "out" / "notes.files" / "flow.png").read_bytes() == served["flow.png"]


def test_the_export_archive_leaves_a_lost_file_out(app, auth, served):
    """A file lost from the folder broke the archive half-way."""
    lose_the_slides(app)

    archive = get(auth.client, "/export.zip")

    with zipfile.ZipFile(io.BytesIO(archive.data)) as unpacked:
        assert "notes.files/talk.pdf" not in unpacked.namelist()
        assert unpacked.read("notes.files/flow.png") == served["flow.png"]

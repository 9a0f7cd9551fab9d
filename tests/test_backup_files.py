"""``flask backup`` and ``flask restore`` of a wiki whose files live in a folder
(``WIKI_FILES_DIR``): the backup carries their bytes, the restore puts them back."""

import hashlib
import io
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import PASSWORD, save_page, submit
from tests.test_attachments import upload

pytestmark = pytest.mark.sqlite_only  # flask backup copies SQLite files

SMALLEST = "size = (SELECT min(size) FROM blob)"  # the PDF's row, in a backup


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), "teal").save(out, "PNG")
    return out.getvalue()


def files_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def download(client, url: str) -> bytes:
    with client.get(url) as response:
        assert response.status_code == 200, url
        return response.get_data()


@pytest.fixture
def app(make_app):
    return make_app(FILES_DIR="files")


@pytest.fixture
def backed_up(app, editor, tmp_path) -> tuple[Path, dict[str, bytes]]:
    """A folder wiki with two files on a page, backed up; the backup and the files."""
    sent = {"flow.png": photo(), "talk.pdf": b"%PDF-1.4 slides of the talk"}
    assert save_page(editor, "notes", "Notes", "![flow](flow.png)").status_code == 303
    assert upload(editor, "notes", *sent.items()).status_code == 303
    kept = {name: download(editor, f"/files/notes/{name}") for name in sent}
    target = tmp_path / "wiki-backup.sqlite"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    return target, kept, result.output


def test_a_restore_on_a_fresh_instance_brings_back_the_files_byte_for_byte(
        backed_up, make_app, other_database_url, tmp_path):
    backup_file, kept, said = backed_up
    fresh = make_app("fresh", FILES_DIR="files", DATABASE_URL=other_database_url)
    fresh_folder = Path(fresh.instance_path) / "files"
    assert files_in(fresh_folder) == []

    result = fresh.test_cli_runner().invoke(args=["restore", str(backup_file), "--yes"])

    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output
    assert [path.name for path in files_in(fresh_folder)] == sorted(
        hashlib.sha256(content).hexdigest() for content in kept.values())
    for name, content in kept.items():  # read without signing in, as any reader may
        assert download(fresh.test_client(), f"/files/notes/{name}") == content
    assert "with 2 attached files" in said


def test_a_restore_into_a_wiki_keeping_files_in_its_database_brings_them_too(
        backed_up, make_app, other_database_url):
    backup_file, kept, _ = backed_up
    fresh = make_app("fresh", DATABASE_URL=other_database_url)

    result = fresh.test_cli_runner().invoke(args=["restore", str(backup_file)], input="y\n")

    assert result.exit_code == 0, result.output
    assert "(1 revision) and 2 attached files in" in result.output  # the question
    for name, content in kept.items():
        assert download(fresh.test_client(), f"/files/notes/{name}") == content


def test_a_backup_naming_a_file_outside_the_folder_is_refused_and_writes_nothing(
        backed_up, make_app, other_database_url, tmp_path):
    backup_file, _, _ = backed_up
    with closing(sqlite3.connect(backup_file)) as connection, connection:
        connection.execute(f"UPDATE blob SET sha256 = '../../escaped' WHERE {SMALLEST}")
    fresh = make_app("fresh", FILES_DIR="files", DATABASE_URL=other_database_url)

    result = fresh.test_cli_runner().invoke(args=["restore", str(backup_file), "--yes"])

    assert result.exit_code == 1
    assert "'../../escaped'" in result.output
    assert files_in(Path(fresh.instance_path) / "files") == []
    assert not list(tmp_path.rglob("escaped"))


def test_a_backup_whose_file_bytes_were_altered_is_refused(
        backed_up, make_app, other_database_url):
    backup_file, _, _ = backed_up
    with closing(sqlite3.connect(backup_file)) as connection, connection:
        connection.execute(f"UPDATE blob SET data = zeroblob(size) WHERE {SMALLEST}")
    fresh = make_app("fresh", FILES_DIR="files", DATABASE_URL=other_database_url)

    result = fresh.test_cli_runner().invoke(args=["restore", str(backup_file), "--yes"])

    assert result.exit_code == 1 and "damaged" in result.output
    assert files_in(Path(fresh.instance_path) / "files") == []


def test_a_backup_says_which_files_were_missing_from_the_folder(app, editor, tmp_path):
    assert save_page(editor, "notes", "Notes", "text").status_code == 303
    assert upload(editor, "notes", ("talk.pdf", b"%PDF-1.4 lost")).status_code == 303
    (lost,) = files_in(Path(app.instance_path) / "files")
    lost.unlink()

    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.sqlite")])

    assert result.exit_code == 0, result.output
    assert "1 file is missing" in result.output and lost.name in result.output


def test_a_backup_naming_a_file_by_bytes_not_text_is_refused_and_writes_nothing(
        backed_up, make_app, other_database_url):
    """A forged row whose name is a blob, not text, is refused like any other bad name
    (it raised a TypeError, a traceback instead of a message)."""
    backup_file, _, _ = backed_up
    with closing(sqlite3.connect(backup_file)) as connection, connection:
        connection.execute(f"UPDATE blob SET sha256 = X'2e2e2f' WHERE {SMALLEST}")
    fresh = make_app("fresh", FILES_DIR="files", DATABASE_URL=other_database_url)

    result = fresh.test_cli_runner().invoke(args=["restore", str(backup_file), "--yes"])

    assert result.exit_code == 1
    assert "b'../'" in result.output and "not a SHA-256 digest" in result.output
    assert files_in(Path(fresh.instance_path) / "files") == []


def test_a_file_missing_from_the_backup_is_a_clear_404_in_a_wiki_keeping_files_in_its_database(
        app, editor, make_app, other_database_url, tmp_path):
    """Restored into a wiki keeping files in its database, a file the backup lacked was
    served as its empty row under the length of the real file: a broken download."""
    assert save_page(editor, "notes", "Notes", "text").status_code == 303
    assert upload(editor, "notes", ("talk.pdf", b"%PDF-1.4 lost")).status_code == 303
    (lost,) = files_in(Path(app.instance_path) / "files")
    lost.unlink()
    assert app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.sqlite")]).exit_code == 0
    fresh = make_app("fresh", DATABASE_URL=other_database_url)

    result = fresh.test_cli_runner().invoke(args=["restore", str(tmp_path / "b.sqlite"), "--yes"])

    assert result.exit_code == 0, result.output
    assert "Warning: 1 attached file is not in the backup" in result.stderr
    assert lost.name in result.stderr
    with fresh.test_client().get("/files/notes/talk.pdf") as response:
        assert response.status_code == 404
        assert "The contents of talk.pdf are missing" in response.get_data(as_text=True)

    # Uploading the same bytes again puts them back (the row was taken as holding them).
    uploader = fresh.test_client()
    assert submit(uploader, "/login", {"username": "editor", "password": PASSWORD}
                  ).status_code == 303
    assert upload(uploader, "notes", ("talk.pdf", b"%PDF-1.4 lost")).status_code == 303
    assert download(fresh.test_client(), "/files/notes/talk.pdf?v=1") == b"%PDF-1.4 lost"


def test_a_file_altered_in_the_folder_is_left_out_of_the_backup_which_still_restores(
        app, editor, make_app, other_database_url, tmp_path):
    """A file changed on disk (same size, other bytes) went into the backup under its
    digest, and every restore of that backup was then refused as damaged."""
    assert save_page(editor, "notes", "Notes", "text").status_code == 303
    sent = {"talk.pdf": b"%PDF-1.4 slides", "notes.txt": b"plain notes"}
    assert upload(editor, "notes", *sent.items()).status_code == 303
    altered = next(path for path in files_in(Path(app.instance_path) / "files")
                   if path.read_bytes() == sent["talk.pdf"])
    altered.write_bytes(b"%PDF-1.4 SLIDES")

    made = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.sqlite")])

    assert made.exit_code == 0, made.output
    assert "with 1 attached file to" in made.output
    assert "1 file is missing" in made.output and altered.name in made.output
    fresh = make_app("fresh", FILES_DIR="files", DATABASE_URL=other_database_url)
    restored = fresh.test_cli_runner().invoke(args=["restore", str(tmp_path / "b.sqlite"),
                                                     "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "1 attached file is not in the backup" in restored.stderr
    assert altered.name in restored.stderr
    assert download(fresh.test_client(), "/files/notes/notes.txt") == sent["notes.txt"]
    with fresh.test_client().get("/files/notes/talk.pdf") as response:
        assert response.status_code == 404

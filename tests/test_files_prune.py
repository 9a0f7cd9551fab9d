"""``flask files prune``: removing stored contents no attachment uses, live or deleted, and
never one a deleted (restorable) file needs; in either store."""

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import save_page, submit
from tests.test_attachment_operations import delete_file, get, restore_file
from tests.test_attachments import png, upload
from wiki.database import write_transaction
from wiki.extensions import db
from wiki.models import Blob
from wiki.services import storage

LEFT_OVER = b"bytes a restore left behind, which no attachment names"
STRAY = b"a file whose upload rolled back after it was written"


@pytest.fixture(params=["database", "folder"])
def app(make_app, request):
    return make_app(FILES_DIR="files") if request.param == "folder" else make_app()


def stored_digests(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Blob.sha256)))


def folder_files(app) -> set[str]:
    folder = Path(app.instance_path) / "files"
    return {path.name for path in folder.rglob("*") if path.is_file()} if folder.exists() \
        else set()


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def files_in_use(app, auth, users) -> dict[str, bytes]:
    """A page with two versions of an image and a deleted PDF, as the editor left it; the
    bytes each address serves."""
    auth.login("editor")
    editor = auth.client
    assert save_page(editor, "notes", "Notes", "![flow](flow.png)").status_code == 303
    upload(editor, "notes", ("flow.png", png(color="red")), ("talk.pdf", b"%PDF-1.4 talk"))
    upload(editor, "notes", ("flow.png", png(color="blue")))
    served = {url: get(editor, url).data for url in
              ("/files/notes/flow.png?v=1", "/files/notes/flow.png", "/files/notes/talk.pdf")}
    assert delete_file(editor, "talk.pdf").status_code == 303
    auth.logout()
    return served


@pytest.fixture
def unused(app, files_in_use) -> dict[str, int]:
    """Contents nothing uses: a stored one, and in a folder store a file with no row; their
    digests and sizes."""
    with app.app_context():
        store = storage.configured()
        with write_transaction() as session:
            store.put(session, digest(LEFT_OVER), io.BytesIO(LEFT_OVER), len(LEFT_OVER))
        left = {digest(LEFT_OVER): len(LEFT_OVER)}
        if isinstance(store, storage.FolderStore):
            store.write(digest(STRAY), io.BytesIO(STRAY))
            left[digest(STRAY)] = len(STRAY)
    return left


def test_a_dry_run_lists_what_would_go_and_its_bytes_and_removes_nothing(app, unused):
    rows, files = stored_digests(app), folder_files(app)

    result = app.test_cli_runner().invoke(args=["files", "prune"])

    assert result.exit_code == 0, result.output
    for sha256, size in unused.items():
        assert f"{sha256}  {size:>12,} bytes" in result.output
    assert f"Would remove {len(unused)} content" in result.output
    assert f"{sum(unused.values()):,} bytes; run again with --yes" in result.output
    assert stored_digests(app) == rows and folder_files(app) == files


def test_prune_removes_only_what_no_attachment_live_or_deleted_uses(
        app, auth, files_in_use, unused):
    rows = stored_digests(app)

    result = app.test_cli_runner().invoke(args=["files", "prune", "--yes"])

    assert result.exit_code == 0, result.output
    assert f"Removed {len(unused)} content" in result.output
    assert stored_digests(app) == rows - set(unused)
    assert len(stored_digests(app)) == 3  # two versions of the image, the deleted PDF
    if app.config["FILES_DIR"]:
        assert folder_files(app) == stored_digests(app)
    auth.login("admin")
    assert restore_file(auth.client, "talk.pdf").status_code == 303
    for url, content in files_in_use.items():
        assert get(auth.client, url).data == content
    again = app.test_cli_runner().invoke(args=["files", "prune"])
    assert "nothing to remove" in again.output


def test_prune_keeps_the_bytes_of_a_file_whose_page_was_deleted(app, auth, files_in_use):
    auth.login("admin")
    assert submit(auth.client, "/delete/notes").status_code == 303
    rows = stored_digests(app)

    result = app.test_cli_runner().invoke(args=["files", "prune", "--yes"])

    assert result.exit_code == 0 and "nothing to remove" in result.output
    assert stored_digests(app) == rows

"""Attachments as operators meet them: where the bytes are stored (the database, or a shared
folder), uploads streamed rather than held in memory, conditional and ranged serving, the
wiki's quota, uploads cut off halfway, deleted files restored by administrators, backups."""

import io
import os
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.http import http_date
from werkzeug.test import encode_multipart

from tests.helpers import csrf_token, save_page, submit
from tests.test_attachments import png, stored, upload
from wiki.extensions import db
from wiki.models import Attachment, Blob
from wiki.services import storage

MB = 1024 * 1024
PDF = b"%PDF-1.4 0123456789"


@pytest.fixture
def app(make_app, request):
    """The wiki, its files in the database; ``parametrize("app", ["folder"], indirect=True)``
    keeps them in a folder instead."""
    if getattr(request, "param", "database") == "folder":
        return make_app(FILES_DIR="files")
    return make_app()


BOTH_STORES = pytest.mark.parametrize("app", ["database", "folder"], indirect=True)


@pytest.fixture
def notes_page(editor):
    assert save_page(editor, "notes", "Notes", "Some notes.").status_code == 303
    return "notes"


def get(client, url: str, **kwargs):
    """GET *url*, its body read and the response closed: a file served from a folder stays
    open until then."""
    with client.get(url, **kwargs) as response:
        response.get_data()
    return response


def files_folder(app) -> Path:
    return Path(app.instance_path) / "files"


def folder_contents(app) -> list[Path]:
    folder = files_folder(app)
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


# --- the stores -------------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["database", "folder"])
def test_a_store_puts_gets_opens_and_deletes_by_digest(app, tmp_path, store):
    chosen = storage.DatabaseStore() if store == "database" else storage.FolderStore(
        tmp_path / "files")
    digest = "ab" * 32
    with app.app_context():
        assert not chosen.exists(db.session, digest)
        chosen.put(db.session, digest, io.BytesIO(b"some bytes"), 10)
        db.session.commit()
        assert chosen.exists(db.session, digest)
        assert chosen.get(db.session, digest) == b"some bytes"
        with chosen.open(db.session, digest) as opened:
            assert opened.read() == b"some bytes"
        chosen.delete(db.session, digest)
        db.session.commit()
        assert not chosen.exists(db.session, digest)
        assert db.session.get(Blob, digest) is None
    if store == "folder":
        assert not [path for path in (tmp_path / "files").rglob("*") if path.is_file()]


@pytest.mark.parametrize("name", ["../../etc/passwd", "AB" * 32, "ab" * 31, "/tmp/x", ""])
def test_the_folder_store_uses_no_name_but_a_hex_digest(app, tmp_path, name):
    store = storage.FolderStore(tmp_path / "files")
    with app.app_context(), pytest.raises(ValueError, match="not a SHA-256 digest"):
        store.put(db.session, name, io.BytesIO(b"x"), 1)
    assert not (tmp_path / "files").exists() or not any((tmp_path / "files").rglob("*"))


class BreaksHalfway(io.BytesIO):
    def read(self, size=-1):
        if self.tell() > 0:
            raise OSError("the disk went away")
        return super().read(4)


def test_the_folder_store_leaves_no_half_written_file(app, tmp_path):
    store = storage.FolderStore(tmp_path / "files")
    with app.app_context(), pytest.raises(OSError, match="went away"):
        store.put(db.session, "cd" * 32, BreaksHalfway(b"0123456789"), 10)
    assert [path for path in (tmp_path / "files").rglob("*") if path.is_file()] == []


@pytest.mark.parametrize("app", ["folder"], indirect=True)
def test_with_a_files_folder_uploads_go_there_and_are_served_from_there(app, editor,
                                                                       notes_page):
    upload(editor, "notes", ("talk.pdf", PDF), ("flow.png", png()))
    kept = folder_contents(app)
    assert len(kept) == 2 and PDF in [path.read_bytes() for path in kept]
    assert all(path.name == path.parent.name + path.name[2:] and len(path.name) == 64
               for path in kept)
    with app.app_context():  # the rows know the contents; the folder has the bytes
        assert {blob.data for blob in db.session.scalars(select(Blob))} == {b""}
    assert get(editor, "/files/notes/talk.pdf").data == PDF
    pdf = next(path for path in kept if path.read_bytes() == PDF)
    pdf.write_bytes(b"%PDF-1.4 changed on disk")
    assert get(editor, "/files/notes/talk.pdf").data == b"%PDF-1.4 changed on disk"


# --- uploads are streamed ---------------------------------------------------------------------


def multipart(client, slug: str, name: str, content: bytes) -> tuple[str, bytes]:
    """The body (and its content type) of the upload form of *slug* carrying one file."""
    form = client.get(f"/attachments/{slug}")
    boundary, body = encode_multipart(MultiDict([
        ("csrf_token", csrf_token(form.text)),
        ("file", FileStorage(io.BytesIO(content), name))]))
    return f"multipart/form-data; boundary={boundary}", body


def traced_peak(action) -> int:
    """The most memory Python held at once, above what it held before, while *action* ran."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


@BOTH_STORES
def test_a_large_upload_is_hashed_and_stored_as_it_streams(app, editor, notes_page):
    content = os.urandom(5 * MB)
    content_type, body = multipart(editor, "notes", "data.bin", content)
    answers = []
    peak = traced_peak(lambda: answers.append(
        editor.post("/attachments/notes", data=body, content_type=content_type)))
    assert answers[0].status_code == 303
    assert get(editor, "/files/notes/data.bin").data == content
    if app.config["FILES_DIR"]:  # disk to disk: never the whole file in memory
        assert peak < 1 * MB
    else:  # into the database: the file in memory once, for the INSERT
        assert peak < 1.5 * len(content)


# --- serving ----------------------------------------------------------------------------------


@BOTH_STORES
def test_a_file_is_served_with_validators_ranges_and_304s(app, editor, notes_page):
    upload(editor, "notes", ("talk.pdf", PDF))
    first = get(editor, "/files/notes/talk.pdf")
    assert first.data == PDF and first.headers["Accept-Ranges"] == "bytes"
    assert first.content_length == len(PDF)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    with app.app_context():
        digest = db.session.scalar(select(Attachment.blob_sha256))
    assert etag == f'"{digest}"'

    assert get(editor, "/files/notes/talk.pdf",
                      headers={"If-None-Match": etag}).status_code == 304
    assert get(editor, "/files/notes/talk.pdf",
                      headers={"If-Modified-Since": modified}).status_code == 304
    earlier = http_date(first.last_modified - timedelta(hours=1))
    assert get(editor, "/files/notes/talk.pdf",
                      headers={"If-Modified-Since": earlier}).status_code == 200

    part = get(editor, "/files/notes/talk.pdf", headers={"Range": "bytes=9-12"})
    assert part.status_code == 206 and part.data == b"0123"
    assert part.headers["Content-Range"] == f"bytes 9-12/{len(PDF)}"
    tail = get(editor, "/files/notes/talk.pdf", headers={"Range": "bytes=-3"})
    assert tail.status_code == 206 and tail.data == b"789"
    beyond = get(editor, "/files/notes/talk.pdf", headers={"Range": "bytes=500-900"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(PDF)}"


def test_a_versioned_address_is_kept_a_year_and_the_newest_is_asked_for_each_time(
        app, editor, notes_page):
    upload(editor, "notes", ("talk.pdf", PDF))
    versioned = get(editor, "/files/notes/talk.pdf?v=1")
    assert versioned.cache_control.max_age == 365 * 24 * 3600
    assert versioned.cache_control.immutable
    newest = get(editor, "/files/notes/talk.pdf")
    assert newest.cache_control.no_cache and not newest.cache_control.max_age


@pytest.mark.parametrize("app", ["folder"], indirect=True)
def test_a_file_lost_from_the_folder_is_a_clear_404_not_a_server_error(app, editor, notes_page):
    """A file removed from the folder by hand (or missing from a backup) answered 500."""
    upload(editor, "notes", ("talk.pdf", PDF))
    (stored_file,) = (path for path in (Path(app.instance_path) / "files").rglob("*")
                      if path.is_file())
    stored_file.unlink()

    for client in (editor, app.test_client()):
        response = get(client, "/files/notes/talk.pdf")
        assert response.status_code == 404
        assert "The contents of talk.pdf are missing" in response.get_data(as_text=True)
    assert get(editor, "/attachments/notes").status_code == 200


# --- the quota and refused or interrupted uploads ---------------------------------------------


@pytest.fixture
def quota_app(make_app):
    return make_app(MAX_TOTAL_UPLOAD_MB=1)


def test_an_upload_past_the_wiki_s_quota_is_refused_and_nothing_is_stored(quota_app, users):
    client = quota_app.test_client()
    assert submit(client, "/login", {"username": "editor", "password": "correct horse "
                                     "battery staple"}).status_code == 303
    save_page(client, "notes", "Notes", "x")
    assert "1 MB for all the wiki's files" in client.get("/attachments/notes").text
    first = os.urandom(600 * 1024)
    assert upload(client, "notes", ("first.bin", first)).status_code == 303
    assert upload(client, "notes", ("again.bin", first)).status_code == 303  # no more room

    refused = upload(client, "notes", ("second.bin", os.urandom(600 * 1024)),
                     ("small.pdf", PDF))
    assert refused.status_code == 507
    assert "may take up to 1 MB in all" in refused.text and "Nothing was stored" in refused.text
    assert stored(quota_app) == (2, 1)
    assert get(client, "/files/notes/small.pdf").status_code == 404


def test_no_quota_by_default(app, editor, notes_page):
    assert app.config["MAX_TOTAL_UPLOAD_MB"] == 0
    for number in range(3):
        assert upload(editor, "notes", (f"{number}.bin", os.urandom(MB))).status_code == 303


@BOTH_STORES
def test_an_upload_cut_off_halfway_stores_nothing(app, editor, notes_page):
    content_type, body = multipart(editor, "notes", "data.bin", os.urandom(2 * MB))
    cut = editor.post("/attachments/notes", input_stream=io.BytesIO(body[:len(body) // 2]),
                      content_length=len(body), content_type=content_type)
    # Werkzeug stops reading at the cut and finds no file: the form asks for one.
    assert cut.status_code == 422 and "Choose at least one file." in cut.text
    assert stored(app) == (0, 0)
    assert folder_contents(app) == []
    assert get(editor, "/files/notes/data.bin").status_code == 404


# --- deleted files: hidden, and restored by administrators ------------------------------------


def delete_file(client, name: str):
    return submit(client, "/attachments/notes/delete", {"name": name},
                  form_url="/attachments/notes")


def restore_file(client, name: str):
    return submit(client, "/attachments/notes/restore", {"name": name},
                  form_url="/attachments/notes")


def test_an_administrator_restores_a_deleted_file_with_its_versions(app, auth, users):
    auth.login("editor")
    editor = auth.client
    save_page(editor, "notes", "Notes", "![flow](flow.png)")
    upload(editor, "notes", ("flow.png", png(color="red")))
    upload(editor, "notes", ("flow.png", png(color="blue")))
    newest = get(editor, "/files/notes/flow.png").data
    assert delete_file(editor, "flow.png").status_code == 303
    assert "Deleted files" not in editor.get("/attachments/notes").text  # editors: no list

    auth.logout()
    auth.login("admin")
    admin = auth.client
    listing = admin.get("/attachments/notes").text
    assert "Deleted files" in listing and "deleted by Editor" in listing
    assert 'action="/attachments/notes/restore"' in listing
    answer = restore_file(admin, "flow.png")
    assert answer.status_code == 303
    assert "Restored flow.png." in admin.get("/attachments/notes").text

    assert get(admin, "/files/notes/flow.png").data == newest
    assert get(admin, "/files/notes/flow.png?v=1").status_code == 200  # its history is back
    assert '<img src="/files/notes/flow.png" alt="flow">' in admin.get("/wiki/notes").text
    with app.app_context():  # the restore is recorded: a version by the administrator
        restored = db.session.scalars(select(Attachment).order_by(Attachment.version)).all()
        assert [(row.version, row.deleted) for row in restored] == [
            (1, False), (2, False), (3, False)]
        assert restored[-1].uploader_id == users["admin"].id
        assert restored[-1].blob_sha256 == restored[1].blob_sha256

    again = restore_file(admin, "flow.png")  # nothing deleted by that name any more
    assert "has no deleted file called flow.png" in admin.get(again.location).text


@pytest.mark.parametrize("who", ["reader", "editor"])
def test_only_administrators_may_restore_a_file(app, auth, who):
    auth.login("editor")
    save_page(auth.client, "notes", "Notes", "x")
    upload(auth.client, "notes", ("talk.pdf", PDF))
    delete_file(auth.client, "talk.pdf")
    auth.logout()
    auth.login(who)
    answer = auth.client.post("/attachments/notes/restore", data={
        "csrf_token": csrf_token(auth.client.get("/attachments/notes").text),
        "name": "talk.pdf"})
    assert answer.status_code == 403
    assert get(auth.client, "/files/notes/talk.pdf").status_code == 404


def test_a_deleted_page_s_files_are_hidden_from_readers(app, auth):
    auth.login("admin")
    save_page(auth.client, "notes", "Notes", "![flow](flow.png)")
    upload(auth.client, "notes", ("flow.png", png()))
    assert submit(auth.client, "/delete/notes").status_code == 303
    auth.logout()
    auth.login("reader")
    assert get(auth.client, "/files/notes/flow.png").status_code == 404
    assert get(auth.client, "/files/notes/flow.png?v=1").status_code == 404
    assert auth.client.get("/attachments/notes").status_code == 404
    auth.logout()
    assert get(auth.client, "/files/notes/flow.png").status_code == 404  # nor to visitors


# --- backups ----------------------------------------------------------------------------------


@pytest.mark.sqlite_only  # flask backup copies SQLite files; PostgreSQL has pg_dump
def test_backup_and_restore_carry_the_files(app, editor, notes_page, runner, tmp_path):
    image, slides = png(64, 48, color="green"), PDF
    upload(editor, "notes", ("flow.png", image), ("talk.pdf", slides))
    served = get(editor, "/files/notes/flow.png").data
    backup = tmp_path / "backup.sqlite"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0

    delete_file(editor, "flow.png")
    upload(editor, "notes", ("talk.pdf", b"%PDF-1.4 later"))
    assert get(editor, "/files/notes/flow.png").status_code == 404

    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert get(editor, "/files/notes/flow.png").data == served
    assert get(editor, "/files/notes/talk.pdf").data == slides
    assert get(editor, "/files/notes/talk.pdf?v=2").status_code == 404


def queries(response) -> int:
    return int(response.headers["Server-Timing"].split('desc="')[1].split(" ")[0])


@BOTH_STORES
def test_anonymous_readers_get_a_kept_copy_until_the_file_changes(app, auth, users):
    auth.login("editor")
    save_page(auth.client, "notes", "Notes", "x")
    upload(auth.client, "notes", ("flow.png", png()))
    visitor = app.test_client()
    first = get(visitor, "/files/notes/flow.png?v=1")
    again = get(visitor, "/files/notes/flow.png?v=1")
    assert queries(first) > 1 and queries(again) == 1  # the change counter only
    assert again.data == first.data and again.headers["Content-Security-Policy"] == \
        first.headers["Content-Security-Policy"]
    part = get(visitor, "/files/notes/flow.png?v=1", headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == first.data[:8]  # ranges reach the view

    delete_file(auth.client, "flow.png")
    assert get(visitor, "/files/notes/flow.png?v=1").status_code == 404


def test_a_restore_naming_no_file_says_so(app, admin):
    save_page(admin, "notes", "Notes", "x")
    answer = submit(admin, "/attachments/notes/restore", {"name": ""},
                    form_url="/attachments/notes")
    assert answer.status_code == 422 and "Say which file to restore." in answer.text

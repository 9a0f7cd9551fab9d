"""Attachments through HTTP as people use them: uploading, versions, deleting, serving
safely, and the refusals (too large, not what it claims, a tricky name, no permission)."""

import io

import pytest
from flask_migrate import downgrade, upgrade
from PIL import Image
from sqlalchemy import func, inspect, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.helpers import csrf_token, save_page, submit
from wiki.extensions import db
from wiki.models import Attachment, Blob
from wiki.services import attachments

MB = 1024 * 1024
GPS_IFD = 0x8825


def png(width: int = 40, height: int = 30, color: str = "red", mode: str = "RGB",
        gps: bool = False) -> bytes:
    image = Image.new(mode, (width, height), color)
    exif = image.getexif()
    if gps:
        exif[0x010F] = "SpyCam"
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 12.0)})
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    return out.getvalue()


def upload(client, slug: str, *files: tuple[str, bytes], **kwargs):
    """Choose *files* (name, bytes) in the upload form of *slug* and send it."""
    form = client.get(f"/attachments/{slug}")
    # Encoded here, in memory: the test client would spool a large body to a file it
    # never closes.
    boundary, body = encode_multipart(MultiDict(
        [("csrf_token", csrf_token(form.text))]
        + [("file", FileStorage(io.BytesIO(content), name)) for name, content in files]))
    return client.post(f"/attachments/{slug}", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}", **kwargs)


def stored(app) -> tuple[int, int]:
    """How many attachment rows and blobs the database holds."""
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Attachment)),
                db.session.scalar(select(func.count()).select_from(Blob)))


@pytest.fixture
def notes_page(editor):
    assert save_page(editor, "notes", "Notes", "Some notes.").status_code == 303
    return "notes"


def test_an_editor_uploads_several_files_and_a_reader_sees_them(app, editor, notes_page, auth):
    response = upload(editor, "notes", ("flow.png", png(320, 240)),
                      ("talk.pdf", b"%PDF-1.4 slides"))
    assert response.status_code == 303 and response.location == "/attachments/notes"
    listing = editor.get("/attachments/notes").text
    assert "flow.png" in listing and "talk.pdf" in listing and "Editor" in listing
    assert 'src="/files/notes/flow.png?v=1"' in listing
    assert 'width="160" height="120"' in listing  # the thumbnail, scaled down
    assert "application/pdf" in listing
    assert 'href="/attachments/notes"' in editor.get("/wiki/notes").text  # "Attach files"

    auth.logout()
    auth.login("reader")
    reader = auth.client
    listing = reader.get("/attachments/notes")
    assert listing.status_code == 200 and "talk.pdf" in listing.text
    assert 'enctype="multipart/form-data"' not in listing.text  # no upload form for readers
    assert 'href="/attachments/notes"' not in reader.get("/wiki/notes").text
    image = reader.get("/files/notes/flow.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert Image.open(io.BytesIO(image.data)).size == (320, 240)


def test_a_reader_cannot_upload_or_delete(app, notes_page, auth):
    auth.logout()
    auth.login("reader")
    response = auth.client.post("/attachments/notes", data={
        "csrf_token": csrf_token(auth.client.get("/attachments/notes").text),
        "file": (io.BytesIO(png()), "x.png")}, content_type="multipart/form-data")
    assert response.status_code == 403
    token = csrf_token(auth.client.get("/attachments/notes").text)
    deleting = auth.client.post("/attachments/notes/delete",
                                data={"csrf_token": token, "name": "x.png"})
    assert deleting.status_code == 403
    assert stored(app) == (0, 0)


def test_gps_and_other_metadata_are_gone_from_an_uploaded_photo(app, editor, notes_page):
    original = png(gps=True)
    assert b"SpyCam" in original and Image.open(io.BytesIO(original)).getexif()
    upload(editor, "notes", ("holiday.png", original))
    served = editor.get("/files/notes/holiday.png").data
    assert b"SpyCam" not in served and b"eXIf" not in served
    image = Image.open(io.BytesIO(served))
    assert not image.getexif() and not image.getexif().get_ifd(GPS_IFD)
    assert image.size == (40, 30) and image.getpixel((0, 0)) == (255, 0, 0)


def test_an_animation_keeps_its_frames_and_loses_its_comment(app, editor, notes_page):
    frames = [Image.new("RGB", (20, 10), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0,
                   comment=b"taken at 51.5N 0.1W")
    upload(editor, "notes", ("spin.gif", out.getvalue()))
    served = editor.get("/files/notes/spin.gif")
    assert served.mimetype == "image/gif" and b"51.5N" not in served.data
    assert Image.open(io.BytesIO(served.data)).n_frames == 3


def test_html_named_as_an_image_is_refused_with_a_message(app, editor, notes_page):
    page = b"<html><script>alert(document.cookie)</script></html>"
    response = upload(editor, "notes", ("x.png", page))
    assert response.status_code == 422
    assert "looks like an image but is not" in response.text
    assert stored(app) == (0, 0)


def test_a_polyglot_is_served_as_the_plain_image_it_decodes_to(app, editor, notes_page):
    polyglot = png() + b"<html><script>alert(1)</script></html>"
    upload(editor, "notes", ("cat.png", polyglot))
    served = editor.get("/files/notes/cat.png")
    assert served.mimetype == "image/png" and b"<script>" not in served.data


@pytest.mark.parametrize(("name", "content"), [
    ("page.html", b"<html><body><script>alert(1)</script></body></html>"),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("notes.txt", b"plain words"),
])
def test_anything_but_a_raster_image_is_served_as_a_download(app, editor, notes_page, name,
                                                             content):
    upload(editor, "notes", (name, content))
    served = editor.get(f"/files/notes/{name}")
    assert served.status_code == 200 and served.data == content
    assert served.mimetype == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_an_image_is_shown_inline_in_a_sandbox(app, editor, notes_page):
    upload(editor, "notes", ("flow.png", png()))
    served = editor.get("/files/notes/flow.png")
    assert served.headers["Content-Disposition"].startswith("inline;")
    policy = served.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox; default-src 'none'") and "img-src 'self'" in policy
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_over_the_limit_gets_413_saying_the_limit_and_nothing_is_stored(
        app, editor, notes_page):
    response = upload(editor, "notes", ("big.bin", b"x" * (11 * MB)))
    assert response.status_code == 413
    assert "10 MB" in response.text
    assert stored(app) == (0, 0)


def test_a_refused_file_leaves_the_others_of_its_upload_unstored(app, editor, notes_page):
    response = upload(editor, "notes", ("good.png", png()), ("bad.png", b"not an image"))
    assert response.status_code == 422 and "bad.png" in response.text
    assert stored(app) == (0, 0)


def test_a_decompression_bomb_is_refused(app, editor, notes_page):
    bomb = png(10_000, 10_000, color=0, mode="1")  # 100 million pixels in a few kilobytes
    assert len(bomb) < MB
    response = upload(editor, "notes", ("bomb.png", bomb))
    assert response.status_code == 422 and "pixels" in response.text
    assert attachments.MAX_IMAGE_PIXELS == Image.MAX_IMAGE_PIXELS
    assert stored(app) == (0, 0)


@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("invoice\u202egnp.exe", "invoicegnp.exe"),  # right-to-left override: "invoiceexe.png"
    ("two words\x00\x1b\t.pdf", "two-words.pdf"),
    ("..", None),
    ("a" * 200 + ".txt", None),
])
def test_file_names_are_normalised_or_refused(app, editor, notes_page, sent, kept):
    response = upload(editor, "notes", (sent, b"content"))
    with app.app_context():
        names = db.session.scalars(select(Attachment.name)).all()
    if kept is None:
        assert response.status_code == 422 and "file name" in response.text
        assert names == []
    else:
        assert response.status_code == 303 and names == [kept]
        assert editor.get(f"/files/notes/{kept}").data == b"content"


def test_uploading_a_name_again_makes_a_version_and_keeps_the_old_one(app, editor, notes_page):
    upload(editor, "notes", ("flow.png", png(color="red")))
    upload(editor, "notes", ("flow.png", png(color="blue")))
    newest = editor.get("/files/notes/flow.png")
    first = editor.get("/files/notes/flow.png?v=1")
    assert Image.open(io.BytesIO(newest.data)).getpixel((0, 0)) == (0, 0, 255)
    assert Image.open(io.BytesIO(first.data)).getpixel((0, 0)) == (255, 0, 0)
    assert "immutable" in first.headers["Cache-Control"]
    assert first.cache_control.max_age == 365 * 24 * 3600
    assert newest.cache_control.no_cache
    assert editor.get("/files/notes/flow.png?v=3").status_code == 404
    assert editor.get("/files/notes/flow.png?v=x").status_code == 404
    listing = editor.get("/attachments/notes").text
    assert "Older versions" in listing and "/files/notes/flow.png?v=1" in listing


def test_the_same_bytes_are_stored_once(app, editor, notes_page):
    save_page(editor, "other", "Other", "x")
    upload(editor, "notes", ("a.pdf", b"%PDF-1.4 same"))
    upload(editor, "other", ("b.pdf", b"%PDF-1.4 same"))
    upload(editor, "notes", ("a.pdf", b"%PDF-1.4 same"))
    assert stored(app) == (3, 1)


def test_a_file_answers_304_to_its_etag_and_serves_ranges(app, editor, notes_page):
    upload(editor, "notes", ("talk.pdf", b"%PDF-1.4 0123456789"))
    first = editor.get("/files/notes/talk.pdf")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = editor.get("/files/notes/talk.pdf", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    part = editor.get("/files/notes/talk.pdf", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.data == b"%PDF"


def test_an_editor_deletes_a_file_and_it_is_gone(app, editor, notes_page):
    upload(editor, "notes", ("flow.png", png()))
    upload(editor, "notes", ("flow.png", png(color="blue")))
    response = submit(editor, "/attachments/notes/delete", {"name": "flow.png"},
                      form_url="/attachments/notes")
    assert response.status_code == 303
    assert editor.get("/files/notes/flow.png").status_code == 404
    assert editor.get("/files/notes/flow.png?v=1").status_code == 404
    assert "flow.png" not in editor.get("/attachments/notes").text
    with app.app_context():  # recorded, not erased
        deleted = db.session.scalars(select(Attachment)).all()
        assert [row.deleted for row in deleted] == [True, True]
        assert all(row.deleted_by_id and row.deleted_at for row in deleted)


def test_a_deleted_page_hides_its_files(app, admin):
    save_page(admin, "notes", "Notes", "Some notes.")
    upload(admin, "notes", ("flow.png", png()))
    assert submit(admin, "/delete/notes").status_code == 303
    assert admin.get("/files/notes/flow.png").status_code == 404
    assert admin.get("/attachments/notes").status_code == 404


def test_no_form_field_means_a_message_not_an_error(app, editor, notes_page):
    response = submit(editor, "/attachments/notes")
    assert response.status_code == 422 and "Choose at least one file." in response.text


def test_the_attachments_migration_goes_down_and_up_again(app, editor, notes_page):
    upload(editor, "notes", ("flow.png", png()))
    with app.app_context():
        downgrade(revision="0008")
        assert not {"attachment", "blob"} & set(inspect(db.engine).get_table_names())
        upgrade()
        assert {"attachment", "blob"} <= set(inspect(db.engine).get_table_names())
    upload(editor, "notes", ("flow.png", png()))
    assert editor.get("/files/notes/flow.png").status_code == 200


# --- in Markdown: a bare file name is the page's own file ----------------------------------

FLOW_IMAGE = '<img src="/files/notes/flow.png" alt="Request flow">'
FLOW_MISSING = 'href="/attachments/notes" class="attachment-missing" title="upload flow.png"'


def test_a_bare_file_name_shows_the_page_s_file_or_a_red_link_to_upload_it(app, editor):
    body = "![Request flow](flow.png) and [slides](talk.pdf) and [site](https://e.org/a.png)"
    save_page(editor, "notes", "Notes", body)
    page = editor.get("/wiki/notes").text
    assert FLOW_MISSING in page and ">Request flow</a>" in page
    assert 'title="upload talk.pdf"' in page and 'href="https://e.org/a.png"' in page

    upload(editor, "notes", ("flow.png", png()))  # the page shows it at once
    page = editor.get("/wiki/notes").text
    assert FLOW_IMAGE in page and FLOW_MISSING not in page
    assert 'title="upload talk.pdf"' in page
    assert editor.get("/files/notes/flow.png").status_code == 200

    submit(editor, "/attachments/notes/delete", {"name": "flow.png"},
           form_url="/attachments/notes")
    page = editor.get("/wiki/notes").text
    assert FLOW_MISSING in page and FLOW_IMAGE not in page


def test_a_page_saved_after_its_files_shows_them_and_keeps_them_when_renamed(app, editor):
    save_page(editor, "notes", "Notes", "First.")
    upload(editor, "notes", ("flow.png", png()), ("talk.pdf", b"%PDF-1.4"))
    save_page(editor, "notes", "Notes", "![Request flow](flow.png) [slides](talk.pdf)")
    page = editor.get("/wiki/notes").text
    assert FLOW_IMAGE in page and 'href="/files/notes/talk.pdf"' in page

    assert submit(editor, "/rename/notes", {"title": "Study notes"}).status_code == 303
    page = editor.get("/wiki/study-notes").text
    assert '<img src="/files/study-notes/flow.png" alt="Request flow">' in page
    assert editor.get("/files/study-notes/flow.png").status_code == 200


def test_another_page_s_file_is_reached_by_its_path(app, editor):
    save_page(editor, "notes", "Notes", "x")
    upload(editor, "notes", ("flow.png", png()))
    save_page(editor, "other", "Other", "![flow](/files/notes/flow.png) ![mine](flow.png)")
    page = editor.get("/wiki/other").text
    assert '<img src="/files/notes/flow.png" alt="flow">' in page
    assert 'href="/attachments/other" class="attachment-missing"' in page


def test_the_preview_shows_the_page_s_files(app, editor):
    save_page(editor, "notes", "Notes", "x")
    upload(editor, "notes", ("flow.png", png()))
    body = "![Request flow](flow.png)"
    shown = submit(editor, "/edit/notes", {"title": "Notes", "body": body, "preview": "Preview",
                                           "base_revision": "1"})
    assert FLOW_IMAGE in shown.text
    form = editor.get("/edit/notes").text
    assert 'data-preview-url="/api/v1/preview?page=notes"' in form
    live = editor.post("/api/v1/preview?page=notes", data={"body": body},
                       headers={"X-CSRFToken": csrf_token(form)})
    assert FLOW_IMAGE in live.json["html"]


def test_file_links_are_under_the_path_the_wiki_is_served_from(app, editor):
    save_page(editor, "notes", "Notes", "![Request flow](flow.png) [slides](talk.pdf)")
    upload(editor, "notes", ("flow.png", png()))
    page = editor.get("/wiki/notes", environ_overrides={"SCRIPT_NAME": "/notebook"}).text
    assert '<img src="/notebook/files/notes/flow.png"' in page
    assert '<a href="/notebook/attachments/notes" class="attachment-missing"' in page


def test_stored_file_links_use_the_url_maps_paths(app):
    from flask import url_for

    from wiki.services import rendering

    with app.test_request_context():
        assert url_for("attachments.file", slug="a/b", name="c.png") == \
            rendering.FILE_PATH + "a/b/c.png"
        assert url_for("attachments.listing", slug="a/b") == rendering.FILE_LIST_PATH + "a/b"


# --- the editor's paste and drop: the same route, answering JSON when asked -----------------

JSON = {"Accept": "application/json"}


def test_a_script_asking_for_json_gets_the_stored_names_and_addresses(app, editor, notes_page):
    response = upload(editor, "notes", ("my flow.png", png()), headers=JSON)
    assert response.status_code == 201 and response.is_json
    assert response.json == {"files": [{"name": "my-flow.png", "version": 1,
                                        "media_type": "image/png",
                                        "url": "/files/notes/my-flow.png"}]}
    assert stored(app) == (1, 1)
    again = upload(editor, "notes", ("my-flow.png", png(color="blue")), headers=JSON)
    assert again.json["files"][0]["version"] == 2


def test_a_browser_s_own_form_still_gets_the_303(app, editor, notes_page):
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    response = upload(editor, "notes", ("flow.png", png()), headers=browser)
    assert response.status_code == 303 and response.location == "/attachments/notes"


@pytest.mark.parametrize(("files", "status", "message"), [
    ([("x.png", b"<html>not a picture</html>")], 422, "looks like an image but is not"),
    ([("big.bin", b"x" * (11 * MB))], 413, "Files may be up to 10 MB each."),
    ([], 422, "Choose at least one file."),
])
def test_a_refused_upload_answers_json_with_the_message(app, editor, notes_page, files, status,
                                                        message):
    response = upload(editor, "notes", *files, headers=JSON)
    assert response.status_code == status and response.is_json
    assert message in response.json["detail"]
    assert stored(app) == (0, 0)


def test_an_expired_token_answers_json_and_a_signed_out_script_gets_401(app, editor, notes_page,
                                                                          auth):
    response = editor.post("/attachments/notes", headers=JSON, data={
        "csrf_token": "stale", "file": (io.BytesIO(png()), "x.png")},
        content_type="multipart/form-data")
    assert response.status_code == 422 and "CSRF" in response.json["detail"]
    auth.logout()
    response = auth.client.post("/attachments/notes", headers=JSON, data={
        "file": (io.BytesIO(png()), "x.png")}, content_type="multipart/form-data")
    assert response.status_code == 401 and response.is_json


def test_the_editor_of_a_saved_page_knows_where_files_go(app, editor, notes_page):
    form = editor.get("/edit/notes").text
    assert 'data-upload-url="/attachments/notes"' in form
    assert 'data-max-upload-mb="10"' in form
    new = editor.get("/edit/not-written-yet").text  # no page yet, so nowhere to attach to
    assert "data-upload-url" not in new and 'data-draft-key="not-written-yet"' in new
    assert "data-upload-url" not in editor.get("/new").text

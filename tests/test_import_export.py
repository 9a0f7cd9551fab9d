"""``flask pages import`` and ``export`` with hostile or awkward folders: symbolic links,
files that cannot be written, page addresses too long for a file name."""

import hashlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select

from wiki.extensions import db
from wiki.models import Attachment, Page
from wiki.services import attachments, pages

# 91 characters, 273 bytes in UTF-8: its slug is longer than a file name may be.
LONG_TITLE = "日本語の長いタイトル" * 9 + "題"


def page_rows(app) -> dict[str, tuple[str, str]]:
    """Every live page as ``{slug: (title, body)}``."""
    with app.app_context():
        return {page.slug: (page.title, page.current_revision.body) for page in
                db.session.scalars(select(Page).where(Page.deleted.is_(False)))}


def file_rows(app) -> dict[tuple[str, str, int], str]:
    """Every attached file version as ``{(page slug, name, version): sha256 of its bytes}``."""
    with app.app_context():
        rows = db.session.execute(
            select(Page.slug, Attachment).join(Page, Page.id == Attachment.page_id))
        return {(slug, row.name, row.version):
                hashlib.sha256(attachments.content(row)).hexdigest() for slug, row in rows}


def png_with_a_comment() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "PNG", pnginfo=_comment())
    return out.getvalue()


def _comment() -> PngInfo:
    info = PngInfo()
    info.add_text("Comment", "taken at home")
    return info


def attach(app, title: str, files: dict[str, bytes]) -> None:
    with app.app_context():
        page = pages.save(pages.PageEdit(None, title, "See the files.\n"), None).page
        attachments.upload(page, [attachments.Upload(n, d) for n, d in files.items()], None)


@pytest.fixture
def other_app(make_app, other_database_url):
    """A second, empty wiki to import an export into."""
    return make_app("other", DATABASE_URL=other_database_url)


# --- import ---------------------------------------------------------------------------------


def test_import_never_follows_a_symbolic_link(runner, app, tmp_path):
    secret = Path(app.instance_path) / "secret_key"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.md").write_text("# Private\n\nnot for the wiki\n")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nfine\n")
    (folder / "notes.md").symlink_to(secret)
    (folder / "linked").symlink_to(outside, target_is_directory=True)

    result = runner.invoke(args=["pages", "import", str(folder)])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"Skipped {folder / 'notes.md'}: a symbolic link; not followed" in result.stderr
    assert f"Skipped {folder / 'linked'}: a symbolic link; not followed" in result.stderr
    rows = page_rows(app)
    assert set(rows) == {"good"}
    key = secret.read_text().strip()
    assert not any(key in body for _, body in rows.values())


def test_import_of_one_linked_file_is_refused(runner, app, tmp_path):
    (tmp_path / "real.md").write_text("# Real\n\ntext\n")
    (tmp_path / "link.md").symlink_to(tmp_path / "real.md")
    result = runner.invoke(args=["pages", "import", str(tmp_path / "link.md")])
    assert result.exit_code == 1
    assert "a symbolic link; not followed" in result.stderr
    assert page_rows(app) == {}


def test_import_skips_what_is_not_a_regular_file(runner, app, tmp_path):
    """A named pipe would block the import forever, waiting for a writer."""
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "good.md").write_text("# Good\n")
    result = runner.invoke(args=["pages", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert f"Skipped {tmp_path / 'pipe.md'}: not a regular file" in result.stderr
    assert set(page_rows(app)) == {"good"}


# --- export ---------------------------------------------------------------------------------


def test_export_writes_through_no_link_and_goes_on_past_what_it_cannot_write(
        runner, app, tmp_path):
    with app.app_context():
        for title in ("Alpha", "Beta", "Gamma", "Zeta/Child"):
            pages.save(pages.PageEdit(None, title, f"about {title}\n"), None)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "export"
    out.mkdir()
    (out / "alpha.md").symlink_to(victim)
    (out / "beta.md").mkdir()  # a file that cannot be written
    (out / "zeta").symlink_to(tmp_path, target_is_directory=True)

    result = runner.invoke(args=["pages", "export", str(out)])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Exported 1 page to" in result.output
    assert "Skipped alpha: " in result.stderr and "symbolic link" in result.stderr
    assert "Skipped beta: Is a directory" in result.stderr
    assert "Skipped zeta/child: " in result.stderr
    assert "Some pages could not be exported" in result.stderr
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "child.md").exists()
    assert (out / "gamma.md").read_text().endswith("\n---\nabout Gamma\n")


def test_export_into_a_folder_it_cannot_make_says_so(runner, app, tmp_path):
    (tmp_path / "file").write_text("")
    result = runner.invoke(args=["pages", "export", str(tmp_path / "file" / "out")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Cannot make the folder" in result.output


def test_a_title_too_long_for_a_file_name_exports_and_imports_back(
        runner, app, other_app, tmp_path):
    titles = ["Alpha", LONG_TITLE, f"{LONG_TITLE}/{LONG_TITLE}", f"{LONG_TITLE}/Child",
              "Zulu", "Ünïcode/Sub"]
    with app.app_context():
        for title in titles:
            pages.save(pages.PageEdit(None, title, f"about {title}\n"), None)
    first, second = tmp_path / "first", tmp_path / "second"

    result = runner.invoke(args=["pages", "export", str(first)])
    assert result.exit_code == 0, result.output
    assert f"Exported {len(titles)} pages" in result.output
    assert all(len(path.name.encode()) <= 255 for path in first.rglob("*"))

    imported = other_app.test_cli_runner().invoke(args=["pages", "import", str(first)])
    assert imported.exit_code == 0, imported.output
    assert page_rows(other_app) == page_rows(app)
    assert {title for title, _ in page_rows(other_app).values()} == set(titles)

    other_app.test_cli_runner().invoke(args=["pages", "export", str(second)])
    exported = sorted(path.relative_to(first) for path in first.rglob("*.md"))
    assert sorted(path.relative_to(second) for path in second.rglob("*.md")) == exported


# --- attached files -------------------------------------------------------------------------


def test_attached_files_export_and_import_back_with_the_same_bytes_once(
        runner, app, other_app, tmp_path):
    attach(app, "Notes", {"flow.png": png_with_a_comment(),
                                   "talk.pdf": b"%PDF-1.4 slides",
                                   "readme.md": b"# Readme\n\nan attachment, not a page\n"})
    out = tmp_path / "export"

    exported = runner.invoke(args=["pages", "export", str(out)])

    assert exported.exit_code == 0, exported.output
    assert "Exported 3 attached files" in exported.output
    assert (out / "notes.files" / "talk.pdf").read_bytes() == b"%PDF-1.4 slides"
    stored = file_rows(app)
    assert hashlib.sha256((out / "notes.files" / "flow.png").read_bytes()).hexdigest() \
        == stored[("notes", "flow.png", 1)]

    other = other_app.test_cli_runner()
    imported = other.invoke(args=["pages", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert "3 files attached, 0 already there." in imported.output
    assert page_rows(other_app) == page_rows(app)  # notes.files/readme.md is no page
    assert file_rows(other_app) == stored  # the PNG encoded again is the same PNG

    again = other.invoke(args=["pages", "import", str(out)])
    assert again.exit_code == 0, again.output
    assert "0 files attached, 3 already there." in again.output
    assert file_rows(other_app) == stored


def test_import_skips_a_symbolic_link_among_the_files_and_says_so(
        runner, app, tmp_path):
    secret = Path(app.instance_path) / "secret_key"
    folder = tmp_path / "notes"
    (folder / "notes.files").mkdir(parents=True)
    (folder / "notes.md").write_text("# Notes\n\nfiles\n")
    (folder / "notes.files" / "talk.pdf").write_bytes(b"%PDF-1.4 slides")
    (folder / "notes.files" / "key.txt").symlink_to(secret)

    result = runner.invoke(args=["pages", "import", str(folder)])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    link = folder / "notes.files" / "key.txt"
    assert f"Skipped {link}: a symbolic link; not followed" in result.stderr
    assert {(slug, name) for slug, name, _ in file_rows(app)} == {("notes", "talk.pdf")}


def test_export_writes_no_file_through_a_symbolic_link(runner, app, tmp_path):
    attach(app, "Notes", {"talk.pdf": b"%PDF-1.4 slides", "b.txt": b"text"})
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "export"
    (out / "notes.files").mkdir(parents=True)
    (out / "notes.files" / "b.txt").symlink_to(victim)

    result = runner.invoke(args=["pages", "export", str(out)])

    assert result.exit_code == 1
    assert "Skipped notes (file b.txt): " in result.stderr
    assert victim.read_text() == "precious\n"
    assert (out / "notes.files" / "talk.pdf").read_bytes() == b"%PDF-1.4 slides"


def test_the_files_of_a_page_with_a_long_title_travel_too(runner, app, other_app, tmp_path):
    attach(app, LONG_TITLE, {"talk.pdf": b"%PDF-1.4 slides"})
    out = tmp_path / "export"
    assert runner.invoke(args=["pages", "export", str(out)]).exit_code == 0
    assert all(len(path.name.encode()) <= 255 for path in out.rglob("*"))
    imported = other_app.test_cli_runner().invoke(args=["pages", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert file_rows(other_app) == file_rows(app)

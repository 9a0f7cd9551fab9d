"""``flask pages import`` and ``export`` with hostile or awkward folders: symbolic links,
files that cannot be written, page addresses too long for a file name."""

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
import yaml
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import event, select

from wiki.extensions import db
from wiki.models import Attachment, Page, Revision, Role, as_utc
from wiki.services import accounts, attachments, exporting, pages

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


# --- front matter ---------------------------------------------------------------------------

# Titles YAML would misread if written bare: a colon, quotes, a word YAML 1.1 takes for
# true, a number, a leading dash, a hash, unicode.
AWKWARD_TITLES = ["Flask: routing", 'He said "hi" & \'bye\'', "Yes", "2024", "- dash first",
                  "#hashtag", "Ünïcode — “quotes” 日本"]


def read_front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    block, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(block), body


def all_files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def tag_rows(app) -> dict[str, list[str]]:
    with app.app_context():
        return {page.slug: [tag.name for tag in page.tags] for page in
                db.session.scalars(select(Page).where(Page.deleted.is_(False)))}


def test_front_matter_carries_awkward_titles_tags_and_dates(runner, app, tmp_path):
    with app.app_context():
        for number, title in enumerate(AWKWARD_TITLES):
            pages.save(pages.PageEdit(None, title, f"body {number}\n",
                                      tags=["web", f"t{number}"]), None)
        pages.save(pages.PageEdit("flask-routing", "Flask: routing", "changed\n",
                                  tags="web"), None)
    out = tmp_path / "export"
    assert runner.invoke(args=["pages", "export", str(out)]).exit_code == 0

    fields, body = read_front_matter(out / "flask-routing.md")
    assert list(fields) == ["title", "tags", "created", "updated", "revision"]
    assert fields["title"] == "Flask: routing" and fields["tags"] == ["web"]
    assert fields["revision"] == 2 and body == "changed\n"
    assert fields["created"] <= fields["updated"] and fields["updated"].tzinfo is not None
    titles = {read_front_matter(path)[0]["title"] for path in out.glob("*.md")}
    assert titles == set(AWKWARD_TITLES)


def test_pages_tags_and_files_export_import_export_to_identical_files(
        runner, app, other_app, tmp_path):
    with app.app_context():
        for number, title in enumerate(AWKWARD_TITLES):
            pages.save(pages.PageEdit(None, title, f"# A heading of its own\n\nbody {number}\n",
                                      tags=["web", f"t{number}"]), None)
        pages.save(pages.PageEdit(None, "Guides/Intro", "sub-page\n", tags="guide"), None)
    attach(app, "Notes", {"flow.png": png_with_a_comment(), "talk.pdf": b"%PDF-1.4 slides"})
    first, second = tmp_path / "first", tmp_path / "second"
    assert runner.invoke(args=["pages", "export", str(first)]).exit_code == 0

    imported = other_app.test_cli_runner().invoke(args=["pages", "import", str(first)])
    assert imported.exit_code == 0, imported.output
    assert page_rows(other_app) == page_rows(app)  # the front matter's title, not the heading
    assert tag_rows(other_app) == tag_rows(app)
    assert file_rows(other_app) == file_rows(app)

    assert other_app.test_cli_runner().invoke(args=["pages", "export", str(second)]).exit_code == 0
    assert all_files(second) == all_files(first)


# --- history --------------------------------------------------------------------------------


def make_account(app, name: str) -> None:
    with app.app_context():
        accounts.create_user(name, "correct horse battery staple", Role.EDITOR)


def history_rows(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(Page.slug, Revision).join(Page, Page.id == Revision.page_id)
            .order_by(Page.slug, Revision.number)).all()
        return [(slug, r.number, r.title, r.body, r.summary, r.minor,
                 r.author.username if r.author else None,
                 as_utc(r.created_at).replace(microsecond=0)) for slug, r in rows]


def test_history_exports_every_revision_and_imports_back_identically(
        runner, app, other_app, tmp_path):
    make_account(app, "Ada")
    with app.app_context():
        ada = accounts.find_user("Ada")
        pages.save(pages.PageEdit(None, "Flask: routing", "one\n", tags="web"), ada)
        pages.save(pages.PageEdit("flask-routing", "Flask: Routing", "two\n", summary="case",
                                  tags="web"), None)
        pages.save(pages.PageEdit("flask-routing", "Flask: Routing", "three\n", minor=True,
                                  summary="typo: fixed", tags="web"), ada)
        pages.save(pages.PageEdit(None, "Single", "only one\n"), ada)
    first, second = tmp_path / "first", tmp_path / "second"

    result = runner.invoke(args=["pages", "export", "--history", str(first)])

    assert result.exit_code == 0, result.output
    assert "Exported 4 revisions of their history." in result.output
    assert sorted(p.name for p in (first / "flask-routing.history").iterdir()) == [
        "0001.md", "0002.md", "0003.md"]
    fields, body = read_front_matter(first / "flask-routing.history" / "0003.md")
    assert body == "three\n"
    assert fields == {"revision": 3, "title": "Flask: Routing", "date": fields["date"],
                      "author": "Ada", "summary": "typo: fixed", "minor": True}
    assert "author" not in read_front_matter(first / "flask-routing.history" / "0002.md")[0]

    make_account(other_app, "Ada")  # authors are matched by name; an empty wiki of pages
    imported = other_app.test_cli_runner().invoke(args=["pages", "import", str(first)])
    assert imported.exit_code == 0, imported.output
    assert "4 revisions of their history imported." in imported.output
    assert history_rows(other_app) == history_rows(app)
    assert tag_rows(other_app) == tag_rows(app)

    again = other_app.test_cli_runner().invoke(args=["pages", "export", "--history", str(second)])
    assert again.exit_code == 0, again.output
    assert all_files(second) == all_files(first)


def test_a_history_file_numbered_infinity_is_skipped_and_the_rest_imports(runner, app, tmp_path):
    """``revision: .inf`` is a YAML float int() cannot take: it stopped the import."""
    history = tmp_path / "notes" / "page.history"
    history.mkdir(parents=True)
    (tmp_path / "notes" / "page.md").write_text("two\n")
    (history / "0001.md").write_text("---\nrevision: 1\n---\none\n")
    (history / "0002.md").write_text("---\nrevision: .inf\n---\nforged\n")

    result = runner.invoke(args=["pages", "import", str(tmp_path / "notes")])

    assert result.exit_code == 1
    assert f"Skipped {history / '0002.md'}: its front matter has no revision number" \
        in result.stderr
    assert [row[3] for row in history_rows(app)] == ["one\n", "two\n"]


def test_history_by_an_author_this_wiki_lacks_imports_without_one(
        runner, app, other_app, tmp_path):
    make_account(app, "Ada")
    with app.app_context():
        pages.save(pages.PageEdit(None, "Page", "one\n"), accounts.find_user("Ada"))
    runner.invoke(args=["pages", "export", "--history", str(tmp_path / "out")])
    imported = other_app.test_cli_runner().invoke(args=["pages", "import",
                                                        str(tmp_path / "out")])
    assert imported.exit_code == 0, imported.output
    assert "no account called Ada; their revisions have no author" in imported.output
    assert [row[6] for row in history_rows(other_app)] == [None]


# --- streaming ------------------------------------------------------------------------------


def export_work(app, count: int, chunk: int) -> tuple[int, int, int]:
    """Export a wiki of *count* pages, each with a file: (statements run, the most objects
    the session held at once, entries made)."""
    with app.app_context():
        for number in range(count):
            page = pages.save(pages.PageEdit(None, f"Page {number}", f"text {number}\n",
                                             tags="shared"), None).page
            attachments.upload(page, [attachments.Upload("a.txt", f"{number}".encode())], None)
        db.session.remove()
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        peak = made = 0
        try:
            for _entry in exporting.entries(chunk=chunk):
                made += 1
                peak = max(peak, len(db.session.identity_map))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements), peak, made


def test_export_reads_a_chunk_at_a_time(make_app, database_url, other_database_url):
    small = export_work(make_app("small"), 12, chunk=5)
    large = export_work(make_app("large", DATABASE_URL=other_database_url), 48, chunk=5)
    assert small[2] == 24 and large[2] == 96  # a page and its file each
    # Memory holds a chunk of pages, never the wiki: four times the pages, the same peak.
    assert large[1] == small[1]
    # Work grows with the wiki, linearly: a query per chunk and one per file's bytes.
    assert large[0] <= 4 * small[0]
    assert large[0] < 2 * 48


# --- zip archives ---------------------------------------------------------------------------


def test_the_zip_export_streams_the_same_files_as_the_folder_export(
        runner, app, admin, tmp_path):
    with app.app_context():
        pages.save(pages.PageEdit(None, "Flask: routing", "one\n", tags="web"), None)
        pages.save(pages.PageEdit("flask-routing", "Flask: routing", "two\n", tags="web"), None)
        pages.save(pages.PageEdit(None, "Guides/Intro", "sub-page\n"), None)
    attach(app, "Notes", {"talk.pdf": b"%PDF-1.4 slides"})
    runner.invoke(args=["pages", "export", "--history", str(tmp_path / "folder")])

    response = admin.get("/export.zip?history=1")

    assert response.status_code == 200
    assert response.is_streamed  # made while it is sent, never whole in memory
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="wiki-')
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.testzip() is None
        unpacked = {name: archive.read(name) for name in archive.namelist()}
    assert unpacked == all_files(tmp_path / "folder")
    assert "flask-routing.history/0002.md" in unpacked and "guides/intro.md" in unpacked

    without = admin.get("/export.zip")
    with zipfile.ZipFile(io.BytesIO(without.get_data())) as archive:
        assert not any(".history/" in name for name in archive.namelist())


def test_the_zip_export_is_for_administrators(client, editor):
    assert editor.get("/export.zip").status_code == 403
    page = editor.get("/admin/users")
    assert page.status_code == 403


def test_the_users_page_offers_the_zip_export(admin):
    html = admin.get("/admin/users").get_data(as_text=True)
    assert 'href="/export.zip"' in html and 'href="/export.zip?history=1"' in html


def test_a_zip_export_imports_into_an_empty_wiki(app, admin, other_app, tmp_path):
    with app.app_context():
        pages.save(pages.PageEdit(None, "Home", "Start\n"), None)
        pages.save(pages.PageEdit(None, "Flask: routing", "one\n", tags="web"), None)
    attach(app, "Notes", {"flow.png": png_with_a_comment()})
    archive = tmp_path / "wiki.zip"
    archive.write_bytes(admin.get("/export.zip").get_data())

    result = other_app.test_cli_runner().invoke(args=["pages", "import", str(archive)])

    assert result.exit_code == 0, result.output
    assert "3 pages created" in result.output and "1 file attached" in result.output
    assert page_rows(other_app) == page_rows(app)
    assert tag_rows(other_app) == tag_rows(app)
    assert file_rows(other_app) == file_rows(app)


def zip_of(path: Path, members: dict[str, bytes], *, links: dict[str, str] | None = None,
           level: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=level) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (0o120777 << 16)  # a symbolic link, as Unix zip stores it
            archive.writestr(info, target)
    return path


GOOD = {"good.md": b"---\ntitle: Good\n---\nfine\n"}


@pytest.mark.parametrize(("members", "links", "says"), [
    ({**GOOD, "../evil.md": b"# Evil\n"}, None, "“../evil.md” would be written outside"),
    ({**GOOD, "notes/../../evil.md": b"# Evil\n"}, None, "would be written outside"),
    ({**GOOD, "/etc/evil.md": b"# Evil\n"}, None, "“/etc/evil.md” would be written outside"),
    ({**GOOD, "C:/evil.md": b"# Evil\n"}, None, "would be written outside"),
    ({**GOOD, "..\\evil.md": b"# Evil\n"}, None, "would be written outside"),
    (GOOD, {"key.md": "../../instance/secret_key"}, "“key.md” is a symbolic link"),
    ({**GOOD, "bomb.md": b"a" * 900_000 + b"\0" * 900_000}, None, "zip bomb"),
], ids=["parent", "climbs", "absolute", "drive", "backslash", "symlink", "ratio"])
def test_a_hostile_zip_is_refused_whole(runner, app, tmp_path, members, links, says):
    archive = zip_of(tmp_path / "in.zip", members, links=links)
    result = runner.invoke(args=["pages", "import", str(archive)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"Nothing imported from {archive}: " in result.output
    assert says in result.output
    assert page_rows(app) == {}  # not even the good page
    assert not (tmp_path / "evil.md").exists()


def test_a_zip_member_larger_than_any_page_or_file_is_refused(make_app, tmp_path):
    app = make_app(MAX_UPLOAD_MB=1)
    archive = zip_of(tmp_path / "in.zip", {**GOOD, "huge.md": b"x" * 1_200_000},
                     level=zipfile.ZIP_STORED)
    result = app.test_cli_runner().invoke(args=["pages", "import", str(archive)])
    assert result.exit_code == 1
    assert "“huge.md” would unpack to 1200000 bytes, more than the wiki keeps in a page or " \
        "file (1065536)" in result.output


def test_a_zip_larger_than_the_limit_is_refused(make_app, tmp_path):
    app = make_app(IMPORT_MAX_ARCHIVE_MB=1)
    archive = zip_of(tmp_path / "in.zip", {f"p{n}.md": os.urandom(400_000) for n in range(3)},
                     level=zipfile.ZIP_STORED)
    result = app.test_cli_runner().invoke(args=["pages", "import", str(archive)])
    assert result.exit_code == 1
    assert "it would unpack to more than 1 MB (WIKI_IMPORT_MAX_ARCHIVE_MB)" in result.output


def test_a_file_that_is_no_zip_says_so(runner, app, tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    result = runner.invoke(args=["pages", "import", str(tmp_path / "broken.zip")])
    assert result.exit_code == 1
    assert "is not a readable zip archive" in result.output


def test_an_import_from_a_zip_names_what_it_skipped_by_its_place_in_the_archive(
        runner, app, tmp_path):
    archive = zip_of(tmp_path / "in.zip", {**GOOD, "notes/latin1.md": "café".encode("latin-1")})
    result = runner.invoke(args=["pages", "import", str(archive)])
    assert result.exit_code == 1
    assert f"Skipped {archive}/notes/latin1.md: not UTF-8 text" in result.stderr
    assert "wiki-import-" not in result.output  # no temporary folder in what it says
    assert set(page_rows(app)) == {"good"}


# --- Obsidian vaults ------------------------------------------------------------------------


def obsidian_vault(root: Path) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    (root / ".obsidian" / "app.json").write_text("{}")
    (root / "attachments").mkdir()
    (root / "attachments" / "flow diagram.png").write_bytes(png_with_a_comment())
    (root / "Idea.md").write_text(
        "---\ntags: [flask, '#web']\naliases: [Thought, Notion]\ncssclasses: wide\n---\n"
        "# Idea\n\nSee [[Other]] and [[Other#Part|its part]].\n\n![[flow diagram.png|300]]\n\n"
        "![[Other]]\n\n```\n![[not-an-embed.png]]\n```\n\n![[missing.png]]\n")
    (root / "Other.md").write_text("---\ntitle: 'Other: the sequel'\ntags: alpha beta, gamma\n"
                                   "---\n# A different heading\n\ntext\n")
    (root / "Plain.md").write_text("No front matter, no heading.\n")
    # Unquoted, the second colon is YAML's: the most common slip in hand-written front matter.
    (root / "Broken.md").write_text("---\ntags: [a]\ntitle: Flask: routing\n---\ntext\n")
    return root


@pytest.mark.parametrize(("front_matter", "reason"), [
    ("created: 2024-02-30", "day is out of range for month"),
    ("updated: 2024-01-01 25:00:00", "hour must be in 0..23"),
    ("title: !!int x", "invalid literal for int()"),
    ("title: !!timestamp x", "has a value YAML cannot read"),
])
def test_front_matter_with_an_impossible_value_skips_that_file_alone(
        runner, app, tmp_path, front_matter, reason):
    """A date that looks like one but is not stopped the whole import with a traceback."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "Dated.md").write_text(f"---\n{front_matter}\n---\ntext\n")
    (tmp_path / "notes" / "Plain.md").write_text("Kept.\n")

    result = runner.invoke(args=["pages", "import", str(tmp_path / "notes")])

    assert result.exit_code == 1
    skipped = f"Skipped {tmp_path / 'notes' / 'Dated.md'}: the front matter has a value YAML"
    assert skipped in result.stderr and reason in result.stderr
    assert set(page_rows(app)) == {"plain"}


def test_a_refused_title_is_named_short_and_visible_in_the_report(runner, app, tmp_path):
    """The report printed a 5,000-character title whole, and a NUL in a title raw."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "long.md").write_text(f"---\ntitle: {'x' * 5000}\n---\nbody\n")
    (tmp_path / "notes" / "nul.md").write_text("# Hidden\x00character\n")

    result = runner.invoke(args=["pages", "import", str(tmp_path / "notes")])

    assert result.exit_code == 1
    assert f"long.md “{'x' * 79}…”: Keep the title to" in result.stderr
    assert "x" * 81 not in result.stderr
    assert "nul.md “Hidden\ufffdcharacter”: The title holds a control" in result.stderr
    assert "\x00" not in result.stderr


def test_an_obsidian_vault_imports_with_its_tags_and_embedded_files(runner, app, tmp_path):
    vault = obsidian_vault(tmp_path / "vault")

    result = runner.invoke(args=["pages", "import", str(vault)])

    assert result.exit_code == 1  # Broken.md is listed as skipped; the rest came in
    assert f"Skipped {vault / 'Broken.md'}: the front matter is not valid YAML (line 3)" \
        in result.stderr
    rows = page_rows(app)
    assert set(rows) == {"idea", "other-the-sequel", "plain"}
    assert rows["other-the-sequel"] == ("Other: the sequel", "# A different heading\n\ntext\n")
    assert rows["plain"] == ("Plain", "No front matter, no heading.\n")
    title, body = rows["idea"]
    assert title == "Idea"
    assert "![flow diagram.png](flow-diagram.png)" in body
    assert "[[Other]]\n" in body  # an embedded note, which a page cannot show, is a link
    assert "```\n![[not-an-embed.png]]\n```" in body  # code is left as written
    assert "![[missing.png]]" in body
    assert tag_rows(app) == {"idea": ["flask", "web"], "plain": [],
                             "other-the-sequel": ["alpha", "beta", "gamma"]}
    assert {(slug, name) for slug, name, _ in file_rows(app)} == {("idea", "flow-diagram.png")}
    out = result.output
    assert f"Changed {vault / 'Idea.md'}: front matter aliases, cssclasses left out" in out
    assert f"Changed {vault / 'Idea.md'}: ![[flow diagram.png]] → attached flow-diagram.png" in out
    assert f"Changed {vault / 'Idea.md'}: ![[Other]] became a link" in out
    assert f"Changed {vault / 'Idea.md'}: ![[missing.png]] left as it was: no file of that name" \
        in out


def test_the_embedded_image_shows_on_the_page(runner, app, client, tmp_path):
    runner.invoke(args=["pages", "import", str(obsidian_vault(tmp_path / "vault"))])
    html = client.get("/wiki/idea").get_data(as_text=True)
    assert '<img src="/files/idea/flow-diagram.png' in html


def test_front_matter_aliases_nested_into_a_huge_value_are_not_printed(runner, app, tmp_path):
    """YAML aliases let a few lines stand for a vast nested list ("billion laughs"): only
    plain values are read from front matter, so none is ever turned into text."""
    levels = "".join(f"l{n}: &l{n} [*l{n - 1}, *l{n - 1}, *l{n - 1}, *l{n - 1}]\n"
                     for n in range(1, 12))
    (tmp_path / "laughs.md").write_text(f"---\nl0: &l0 [lol]\n{levels}"
                                        "title: *l11\ntags: [*l11, kept]\n---\ntext\n")
    result = runner.invoke(args=["pages", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert page_rows(app) == {"laughs": ("laughs", "text\n")}  # the file name
    assert tag_rows(app) == {"laughs": ["kept"]}
    assert "front matter l0, l1, l10, l11, l2" in result.output

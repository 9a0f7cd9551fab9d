"""``flask pages import`` and ``export`` with hostile or awkward folders: symbolic links,
files that cannot be written, page addresses too long for a file name."""

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from wiki.extensions import db
from wiki.models import Page
from wiki.services import pages

# 91 characters, 273 bytes in UTF-8: its slug is longer than a file name may be.
LONG_TITLE = "日本語の長いタイトル" * 9 + "題"


def page_rows(app) -> dict[str, tuple[str, str]]:
    """Every live page as ``{slug: (title, body)}``."""
    with app.app_context():
        return {page.slug: (page.title, page.current_revision.body) for page in
                db.session.scalars(select(Page).where(Page.deleted.is_(False)))}


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
    assert (out / "gamma.md").read_text() == "# Gamma\n\nabout Gamma\n"


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

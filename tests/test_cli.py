"""The command line as an administrator types it: accounts, and pages in and out."""

import pytest
from sqlalchemy import func, select

from wiki.extensions import db
from wiki.models import Page, Revision, Role
from wiki.services import accounts, importing, pages

STRONG = "a long enough passphrase"
OTHER = "another long passphrase"


def user(app, username):
    with app.app_context():
        found = accounts.find_user(username)
        db.session.expunge_all()
        return found


def can_sign_in(app, username, password) -> bool:
    with app.app_context():
        return accounts.authenticate(username, password) is not None


def page_rows(app) -> dict[str, tuple[str, str]]:
    """Every live page as ``{slug: (title, body)}``."""
    with app.app_context():
        return {page.slug: (page.title, page.current_revision.body) for page in
                db.session.scalars(select(Page).where(Page.deleted.is_(False)))}


def revision_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Revision.id)))


# --- flask user ---------------------------------------------------------------------------


def test_user_create_asks_for_the_password_twice_without_showing_it(runner, app):
    result = runner.invoke(args=["user", "create", "Ada", "--role", "admin"],
                           input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    assert STRONG not in result.output
    assert "Created Ada (admin)." in result.output
    assert user(app, "ada").role == Role.ADMIN
    assert can_sign_in(app, "Ada", STRONG)


def test_user_create_reads_the_password_from_stdin(runner, app):
    result = runner.invoke(args=["user", "create", "bot", "--password-stdin"],
                           input=f"{STRONG}\r\n")
    assert result.exit_code == 0, result.output
    assert "Password:" not in result.output
    assert user(app, "bot").role == Role.EDITOR  # the default role
    assert can_sign_in(app, "bot", STRONG)


def test_mismatched_confirmation_asks_again(runner, app):
    result = runner.invoke(args=["user", "create", "ada"],
                           input=f"{STRONG}\n{OTHER}\n{OTHER}\n{OTHER}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert can_sign_in(app, "ada", OTHER)


def test_mismatched_confirmation_then_giving_up_creates_nothing(runner, app):
    result = runner.invoke(args=["user", "create", "ada"], input=f"{STRONG}\n{OTHER}\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert user(app, "ada") is None


@pytest.mark.parametrize(("password", "message"), [
    ("short", "Use at least 8 characters."),
    ("password123", "This password is too common"),
])
def test_a_weak_password_is_refused_with_a_clear_message(runner, app, password, message):
    result = runner.invoke(args=["user", "create", "ada", "--password-stdin"],
                           input=password + "\n")
    assert result.exit_code == 1
    assert f"Error: {message}" in result.output
    assert "Traceback" not in result.output
    assert user(app, "ada") is None


def test_a_taken_name_is_refused_whatever_its_case(runner, app):
    runner.invoke(args=["user", "create", "Ada", "--password-stdin"], input=STRONG)
    result = runner.invoke(args=["user", "create", "aDA", "--password-stdin"], input=OTHER)
    assert result.exit_code == 1
    assert "That username is taken." in result.output
    assert can_sign_in(app, "ada", STRONG)


def test_a_look_alike_or_invisible_name_is_refused(runner, app, users):
    for name, problem in [("\u0430dmin", "looks too much like “Admin”"),
                          ("admin\x1b[31m", "cannot hold control or invisible characters")]:
        result = runner.invoke(args=["user", "create", name, "--password-stdin"], input=STRONG)
        assert result.exit_code == 1 and problem in result.output, name
        assert user(app, name) is None


def test_user_list_escapes_control_characters_of_names_made_before_the_rule(runner, app, users):
    with app.app_context():
        legacy = accounts.find_user("reader")
        legacy.username = "Reader\x1b[31m"
        db.session.commit()
    result = runner.invoke(args=["user", "list"])
    assert "\x1b" not in result.output
    assert "Reader\\x1b[31m" in result.output


def test_user_list_shows_roles_and_deactivated_accounts(runner, users):
    result = runner.invoke(args=["user", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert set(lines) == {"Admin", "Editor", "Gone", "Reader"}
    assert "admin" in lines["Admin"] and "reader" in lines["Reader"]
    assert "(deactivated)" in lines["Gone"] and "(deactivated)" not in lines["Editor"]


def test_set_role(runner, app, users):
    result = runner.invoke(args=["user", "set-role", "READER", "editor"])
    assert result.exit_code == 0, result.output
    assert user(app, "reader").role == Role.EDITOR


def test_set_role_refuses_an_unknown_role_or_account(runner, users):
    assert runner.invoke(args=["user", "set-role", "reader", "owner"]).exit_code == 2
    result = runner.invoke(args=["user", "set-role", "nobody", "editor"])
    assert result.exit_code == 1 and "No account called 'nobody'." in result.output


def test_the_last_administrator_cannot_be_demoted_or_deactivated(runner, app, users):
    demote = runner.invoke(args=["user", "set-role", "admin", "editor"])
    assert demote.exit_code == 1 and "last administrator" in demote.output
    deactivate = runner.invoke(args=["user", "deactivate", "admin"])
    assert deactivate.exit_code == 1 and "last administrator" in deactivate.output
    assert user(app, "admin").role == Role.ADMIN and user(app, "admin").active


def test_set_password_asks_twice_and_replaces_the_old_one(runner, app, users):
    from tests.helpers import PASSWORD

    result = runner.invoke(args=["user", "set-password", "editor"], input=f"{OTHER}\n{OTHER}\n")
    assert result.exit_code == 0, result.output
    assert "Password of editor changed." in result.output
    assert can_sign_in(app, "editor", OTHER)
    assert not can_sign_in(app, "editor", PASSWORD)


def test_set_password_refuses_a_weak_one(runner, app, users):
    result = runner.invoke(args=["user", "set-password", "editor", "--password-stdin"],
                           input="1234\n")
    assert result.exit_code == 1 and "Use at least 8 characters." in result.output


def test_deactivate_and_activate(runner, app, users):
    from tests.helpers import PASSWORD

    result = runner.invoke(args=["user", "deactivate", "editor"])
    assert result.exit_code == 0, result.output
    assert not can_sign_in(app, "editor", PASSWORD)
    result = runner.invoke(args=["user", "activate", "editor"])
    assert result.exit_code == 0, result.output
    assert "editor is active again." in result.output
    assert can_sign_in(app, "editor", PASSWORD)


# --- flask pages import ---------------------------------------------------------------------


def test_import_a_file_titled_by_its_first_heading(runner, app, tmp_path):
    file = tmp_path / "anything.md"
    file.write_text("# Intro to C#\n\nSome *text*.\n\n## More\n\nand more\n")
    result = runner.invoke(args=["pages", "import", str(file)])
    assert result.exit_code == 0, result.output
    assert "1 page created, 0 already there." in result.output
    assert "Importing" not in result.output  # no progress bar for one file
    body = "Some *text*.\n\n## More\n\nand more\n"
    assert page_rows(app) == {"intro-to-c": ("Intro to C#", body)}


def test_a_file_without_a_heading_is_titled_by_its_name(runner, app, tmp_path):
    file = tmp_path / "Reading list.md"
    file.write_text("Just text.\n")
    assert runner.invoke(args=["pages", "import", str(file)]).exit_code == 0
    assert page_rows(app) == {"reading-list": ("Reading list", "Just text.\n")}


@pytest.fixture
def notes_folder(tmp_path):
    folder = tmp_path / "notes"
    (folder / "guides").mkdir(parents=True)
    (folder / "flask.md").write_text("# Flask\n\nA micro framework. See [[guides/Routing]].\n")
    (folder / "guides" / "routing.md").write_text("# Routing\n\nURL rules.\n")
    (folder / "guides" / "blueprints.md").write_text("Blueprints group views.\n")
    (folder / ".drafts").mkdir()
    (folder / ".drafts" / "secret.md").write_text("# Not ready\n")
    (folder / "picture.png").write_bytes(b"\x89PNG")
    return folder


def test_import_a_folder_with_a_sub_folder(runner, app, notes_folder):
    result = runner.invoke(args=["pages", "import", str(notes_folder)])
    assert result.exit_code == 0, result.output
    assert "Importing" in result.output  # the progress bar's label, as shown off a terminal
    assert "3 pages created, 0 already there." in result.output
    assert page_rows(app) == {
        "flask": ("Flask", "A micro framework. See [[guides/Routing]].\n"),
        "guides/routing": ("guides/Routing", "URL rules.\n"),
        "guides/blueprints": ("guides/blueprints", "Blueprints group views.\n"),
    }


def test_importing_again_creates_nothing(runner, app, notes_folder):
    runner.invoke(args=["pages", "import", str(notes_folder)])
    revisions = revision_count(app)
    again = runner.invoke(args=["pages", "import", str(notes_folder)])
    assert again.exit_code == 0, again.output
    assert "0 pages created, 3 already there." in again.output
    assert revision_count(app) == revisions


def test_split_sections_makes_a_page_per_section(runner, app, tmp_path):
    file = tmp_path / "doc.md"
    file.write_text("# Deploying\n\nIntro.\n\n## Gunicorn\n\nWorkers.\n\n---\n\n## uWSGI\n\n"
                    "```text\nuwsgi --http :8000\n```\n")
    result = runner.invoke(args=["pages", "import", str(file), "--split-sections"])
    assert result.exit_code == 0, result.output
    assert page_rows(app) == {
        "deploying": ("Deploying", "Intro.\n\n- [[Gunicorn]]\n- [[uWSGI]]\n"),
        "gunicorn": ("Gunicorn", "Workers.\n"),
        "uwsgi": ("uWSGI", "```text\nuwsgi --http :8000\n```\n"),
    }
    again = runner.invoke(args=["pages", "import", str(file), "--split-sections"])
    assert "0 pages created, 3 already there." in again.output


def test_split_sections_in_a_sub_folder_links_to_the_sub_pages(runner, app, tmp_path):
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "deploy.md").write_text("# Deploy\n\n## Gunicorn\n\nWorkers.\n")
    result = runner.invoke(args=["pages", "import", str(tmp_path), "--split-sections"])
    assert result.exit_code == 0, result.output
    rows = page_rows(app)
    assert rows["ops/deploy"] == ("ops/Deploy", "- [[ops/Gunicorn|Gunicorn]]\n")
    assert rows["ops/gunicorn"] == ("ops/Gunicorn", "Workers.\n")


def test_unreadable_and_untitled_files_are_reported_and_skipped(runner, app, tmp_path):
    (tmp_path / "good.md").write_text("# Good\n\nfine\n")
    (tmp_path / "latin1.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "symbols.md").write_text("# !!!\n\nno letters in the title\n")
    (tmp_path / "zzz.md").write_text("# Last\n\nstill imported\n")
    result = runner.invoke(args=["pages", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"Skipped {tmp_path / 'latin1.md'}: not UTF-8 text" in result.stderr
    assert "symbols.md “!!!”: The title needs at least one letter or digit." in result.stderr
    assert "Some files could not be imported" in result.stderr
    assert set(page_rows(app)) == {"good", "last"}


def test_a_file_that_vanished_is_reported(app, tmp_path):
    report = importing.ImportReport()
    with app.app_context():
        importing.import_file(tmp_path / "gone.md", tmp_path, False, report)
    assert report.failed == [importing.Failure(str(tmp_path / "gone.md"),
                                               "No such file or directory")]


def test_a_byte_order_mark_is_not_part_of_the_title(runner, app, tmp_path):
    file = tmp_path / "bom.md"
    file.write_bytes("# Windows notes\n\ntext\n".encode("utf-8-sig"))
    assert runner.invoke(args=["pages", "import", str(file)]).exit_code == 0
    assert page_rows(app) == {"windows-notes": ("Windows notes", "text\n")}


def test_home_md_at_the_top_becomes_the_home_page(runner, app, tmp_path):
    (tmp_path / "home.md").write_text("# My Notebook\n\nWelcome.\n")
    assert runner.invoke(args=["pages", "import", str(tmp_path)]).exit_code == 0
    assert page_rows(app) == {"home": ("My Notebook", "Welcome.\n")}


# --- flask pages export -----------------------------------------------------------------


@pytest.fixture
def other_app(make_app, other_database_url):
    """A second, empty wiki to import an export into."""
    return make_app("other", DATABASE_URL=other_database_url)


def add_pages(app):
    with app.app_context():
        pages.save(pages.PageEdit(None, "Flask/Routing", "URL rules, no final newline"), None)
        pages.save(pages.PageEdit(None, "Flask/Routing/Converters",
                                  "# Its own heading\n\n`<int:id>`\n"), None)
        pages.save(pages.PageEdit(None, "Café & Crème", "accents\n\n---\n"), None)
        pages.save(pages.PageEdit(None, "C#", ""), None)
        pages.save(pages.PageEdit(None, "Gone", "deleted\n"), None)
        pages.delete("gone")


def test_export_writes_one_file_per_live_page(runner, app, notes, tmp_path):
    add_pages(app)
    out = tmp_path / "export"
    result = runner.invoke(args=["pages", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported 12 pages" in result.output  # the notes (8 pages) and add_pages (4)
    files = sorted(path.relative_to(out).as_posix() for path in out.rglob("*.md"))
    assert "flask/routing.md" in files and "flask/routing/converters.md" in files
    assert "gone.md" not in files
    home = (out / "home.md").read_text()
    assert home.startswith("---\ntitle: Flask – Notes & Learnings\ntags: []\ncreated: ")
    assert "\n---\n# Flask – Notes & Learnings\n" not in home  # the title is no heading
    routing = (out / "flask" / "routing.md").read_text()
    assert routing.startswith("---\ntitle: Flask/Routing\n")
    assert routing.endswith("\nrevision: 1\n---\nURL rules, no final newline")  # as written
    assert (out / "c.md").read_text().endswith("\nrevision: 1\n---\n")


def test_an_export_imports_back_into_the_same_wiki(runner, app, other_app, notes, tmp_path):
    add_pages(app)
    first, second = tmp_path / "first", tmp_path / "second"
    runner.invoke(args=["pages", "export", str(first)])

    result = other_app.test_cli_runner().invoke(args=["pages", "import", str(first)])
    assert result.exit_code == 0, result.output
    assert "12 pages created" in result.output

    original, copy = page_rows(app), page_rows(other_app)
    assert copy.keys() == original.keys()
    for slug, (title, body) in original.items():
        assert copy[slug][0] == title
        assert copy[slug][1].rstrip("\n") == body.rstrip("\n"), slug
    other_app.test_cli_runner().invoke(args=["pages", "export", str(second)])
    for file in first.rglob("*.md"):
        assert (second / file.relative_to(first)).read_bytes() == file.read_bytes()
    assert len(list(second.rglob("*.md"))) == len(list(first.rglob("*.md")))

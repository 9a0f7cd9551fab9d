"""``flask backup`` and ``flask restore``: consistent copies of a wiki that keeps being edited."""

import shutil
import sqlite3
import stat
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from wiki import create_app
from wiki.extensions import db
from wiki.models import Revision
from wiki.services import pages

# flask backup and restore copy SQLite files; on PostgreSQL, pg_dump does (docs/deployment.md).
pytestmark = pytest.mark.sqlite_only

BODY = "A paragraph long enough to spread the wiki over many database pages.\n" * 200


class Writer(threading.Thread):
    """Saves pages in a loop, as busy editors would, until stopped."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app = app
        self.saves = 0
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            with self.app.app_context():
                while not self.stopping.is_set():
                    self.save_one()
        except BaseException as error:  # surfaced by stop(), not lost in the thread
            self.error = error

    def save_one(self):
        n = self.saves
        title = f"Extra {n}" if n % 7 == 0 else f"Busy {n % 5}"
        slug = None if n % 7 == 0 else title.lower().replace(" ", "-")
        pages.save(pages.PageEdit(slug, title, f"{BODY}\nedit {n}\n"), None)
        self.saves += 1

    def wait_for(self, saves: int, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while self.saves < saves:
            assert self.is_alive() and time.monotonic() < deadline, self.error
            time.sleep(0.01)

    def stop(self):
        self.stopping.set()
        self.join(timeout=20)
        if self.error:
            raise self.error


def database_file(app) -> Path:
    return Path(app.instance_path) / "wiki.sqlite"


def assert_consistent(path: Path):
    """The checks a restored wiki must pass: intact file, every history complete."""
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        page_rows = connection.execute(
            "SELECT id, slug, revision_number, current_revision_id FROM page").fetchall()
        assert page_rows
        for page_id, slug, newest, current_id in page_rows:
            numbers = [number for (number,) in connection.execute(
                "SELECT number FROM revision WHERE page_id = ? ORDER BY number", (page_id,))]
            assert numbers == list(range(1, newest + 1)), slug
            current = connection.execute(
                "SELECT page_id, number FROM revision WHERE id = ?", (current_id,)).fetchone()
            assert current == (page_id, newest), slug


def revision_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Revision.id)))


@pytest.fixture
def backup_file(app, runner, tmp_path) -> Path:
    with app.app_context():
        pages.save(pages.PageEdit(None, "Kept", "in the backup\n"), None)
    target = tmp_path / "wiki-backup.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    return target


def test_a_backup_taken_during_writes_restores_a_consistent_wiki(app, runner, client, tmp_path):
    writer = Writer(app)
    writer.start()
    backups = []
    try:
        writer.wait_for(20)
        for number in range(3):
            target = tmp_path / f"backup-{number}.sqlite"
            before = writer.saves
            result = runner.invoke(args=["backup", str(target)])
            assert result.exit_code == 0, result.output
            backups.append(target)
            writer.wait_for(before + 5)  # the writes went on around the backup
    finally:
        writer.stop()

    for target in backups:
        assert_consistent(target)
    saved_after_backup = revision_count(app)
    result = runner.invoke(args=["restore", str(backups[-1]), "--yes"])
    assert result.exit_code == 0, result.output
    assert_consistent(database_file(app))
    assert revision_count(app) < saved_after_backup  # the later saves are gone: it is the backup
    assert client.get("/wiki/busy-1").status_code == 200


def test_the_backup_is_private_to_its_owner_and_reports_what_it_holds(backup_file, runner):
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    again = runner.invoke(args=["backup", str(backup_file)])  # replaces the older backup
    assert again.exit_code == 0 and "Backed up 1 page (1 revision)" in again.output
    assert not list(backup_file.parent.glob(".*.tmp"))


def test_a_backup_is_one_self_contained_file(backup_file):
    with closing(sqlite3.connect(backup_file)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_backup_refuses_a_missing_folder_and_the_live_file(app, runner, tmp_path):
    missing = runner.invoke(args=["backup", str(tmp_path / "nowhere" / "b.sqlite")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    itself = runner.invoke(args=["backup", str(database_file(app))])
    assert itself.exit_code == 1 and "overwrite the live database" in itself.output


def test_restore_asks_first(app, runner, client, backup_file):
    with app.app_context():
        pages.save(pages.PageEdit(None, "Later", "not in the backup\n"), None)
    declined = runner.invoke(args=["restore", str(backup_file)], input="n\n")
    assert declined.exit_code == 1
    assert ("Replace every page and account of this wiki with the 1 page (1 revision)"
            in declined.output)
    assert client.get("/wiki/later").status_code == 200

    accepted = runner.invoke(args=["restore", str(backup_file)], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Restored 1 page" in accepted.output
    assert client.get("/wiki/later").status_code == 404
    assert client.get("/wiki/kept").status_code == 200


def test_the_restored_database_stays_in_wal_mode(app, runner, backup_file):
    assert runner.invoke(args=["restore", str(backup_file), "--yes"]).exit_code == 0
    with closing(sqlite3.connect(database_file(app))) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def damage(path: Path):
    data = bytearray(path.read_bytes())
    data[4096 + 100: 4096 * 3] = b"\xde\xad" * ((4096 * 2 - 100) // 2)
    path.write_bytes(bytes(data))


def not_a_wiki(path: Path):
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE notes (text)")


def from_the_future(path: Path):
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = 'from_the_future'")


def without_its_files_table(path: Path):
    """A table of its schema dropped: restored, every file's page answered 500."""
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DROP TABLE blob")


@pytest.mark.parametrize(("spoil", "message"), [
    (without_its_files_table, "is damaged: it lacks the table blob of its version"),
    (lambda path: path.write_text("just some text, long enough to not be a database " * 5),
     "is not a readable SQLite database"),
    (damage, "database disk image is malformed"),
    (not_a_wiki, "is not a wiki database"),
    (from_the_future, "comes from another version of the wiki (schema from_the_future)"),
])
def test_restore_refuses_what_is_not_an_intact_wiki(app, runner, client, backup_file, tmp_path,
                                                     spoil, message):
    bad = tmp_path / "bad.sqlite"
    if spoil is not not_a_wiki:
        shutil.copy(backup_file, bad)
    spoil(bad)
    result = runner.invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert client.get("/wiki/kept").status_code == 200  # the live wiki is untouched
    assert_consistent(database_file(app))


def test_restore_refuses_the_live_database_itself(app, runner):
    result = runner.invoke(args=["restore", str(database_file(app)), "--yes"])
    assert result.exit_code == 1 and "is the live database itself" in result.output


def test_backup_refuses_postgresql_and_points_to_pg_dump(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": "postgresql+psycopg://wiki@127.0.0.1:1/wiki"})
    for command in (["backup", str(tmp_path / "b.sqlite")], ["restore", __file__, "--yes"]):
        result = app.test_cli_runner().invoke(args=command)
        assert result.exit_code == 1
        assert "this wiki uses postgresql" in result.output
        assert "pg_dump" in result.output and "docs/deployment.md" in result.output


def test_no_page_kept_from_before_a_restore_is_served_after_it(app, runner, tmp_path):
    """The backup's change counter is older than the live one: put back as it was, the
    counter would reach again values whose pages the workers still keep."""
    visitor = app.test_client(use_cookies=False)  # anonymous: served from the page cache
    with app.app_context():
        pages.save(pages.PageEdit(None, "Topic", "what the backup holds\n"), None)
    backup = tmp_path / "backup.sqlite"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    with app.app_context():
        pages.save(pages.PageEdit("topic", "Topic", "written after the backup\n"), None)
    assert "written after the backup" in visitor.get("/wiki/topic").get_data(as_text=True)

    assert runner.invoke(args=["restore", str(backup), "--yes"]).exit_code == 0
    with app.app_context():  # another page saved: the counter moves on from the backup's
        pages.save(pages.PageEdit(None, "Other", "text\n"), None)

    assert "what the backup holds" in visitor.get("/wiki/topic").get_data(as_text=True)

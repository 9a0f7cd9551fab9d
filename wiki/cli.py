"""Command line: ``flask init``, ``flask user ...``, ``flask pages ...``, ``flask files ...``
and ``flask cards ...``.

A command's services are imported inside it: importing, backup, archives, pruning and
reindexing are loaded only when their command runs, not with every app (a web worker).
"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app, url_for
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from wiki.extensions import db
from wiki.models import Page, Role
from wiki.permissions import visibility
from wiki.services import accounts, exporting
from wiki.services.access import EVERYTHING
from wiki.services.cards import Scope
from wiki.services.pages import normalise_tags
from wiki.services.text import counted

if TYPE_CHECKING:
    from wiki.services.importing import ImportReport

user_cli = AppGroup("user", help="Manage accounts.")
pages_cli = AppGroup("pages", help="Import and maintain pages.")
files_cli = AppGroup("files", help="Maintain the stored bytes of attached files.")
cards_cli = AppGroup("cards", help="Take the review cards elsewhere.")
ROLES = click.Choice([role.value for role in Role])


def init_app(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(user_cli)
    app.cli.add_command(pages_cli)
    app.cli.add_command(files_cli)
    app.cli.add_command(cards_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database; fill an empty wiki with the shipped notes."""
    from flask_migrate import upgrade  # Alembic: loaded by the commands that migrate

    from wiki.services import importing  # this command's services: see the top

    upgrade()
    if db.session.scalar(select(func.count(Page.id))):
        click.echo("The wiki is up to date.")
    else:
        report = importing.import_shipped_notes()
        click.echo(f"Imported the shipped notes: {counted(len(report.created), 'page')}.")
    if not accounts.count_users():
        with current_app.test_request_context():  # url_for outside a request
            link = url_for("account.first_account", token=accounts.first_account_token())
        click.echo("Next: create the first account (it becomes the administrator) at\n"
                   f"  http://127.0.0.1:5000{link}\n"
                   "(that is `make run`'s address; elsewhere, the same path on your wiki's),\n"
                   "or run: flask user create NAME --role admin")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _fail(error: Exception) -> None:
    raise click.ClickException(str(error)) from error


@user_cli.command("create")
@click.argument("username")
@click.option("--role", type=ROLES, default=Role.EDITOR.value, show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(username: str, role: str, password_stdin: bool) -> None:
    """Create an account; the password is asked for twice, hidden."""
    try:
        user = accounts.create_user(username, _read_password(password_stdin), Role(role))
    except accounts.AccountError as error:
        _fail(error)
    click.echo(f"Created {user.username} ({user.role}).")


@user_cli.command("list")
def list_users() -> None:
    """List accounts with their roles."""
    for user in accounts.list_users():
        state = "" if user.active else "  (deactivated)"
        click.echo(f"{accounts.printable_username(user.username):<24} {user.role:<8}{state}")


def _user(username: str):
    user = accounts.find_user(username)
    if user is None:
        raise click.ClickException(f"No account called {username!r}.")
    return user


@user_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLES)
def set_role(username: str, role: str) -> None:
    """Give an account another role."""
    try:
        accounts.set_role(_user(username).id, role)
    except accounts.AccountError as error:
        _fail(error)
    click.echo(f"{username} is now {role}.")


@user_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(username: str, password_stdin: bool) -> None:
    """Set a new password (signs the user out everywhere)."""
    user = _user(username)
    try:
        accounts.set_password(user.id, _read_password(password_stdin))
    except accounts.AccountError as error:
        _fail(error)
    click.echo(f"Password of {username} changed.")


@user_cli.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Stop an account from signing in (signs it out everywhere)."""
    try:
        accounts.set_active(_user(username).id, False)
    except accounts.AccountError as error:
        _fail(error)
    click.echo(f"{username} is deactivated.")


@user_cli.command("activate")
@click.argument("username")
def activate(username: str) -> None:
    """Let a deactivated account sign in again."""
    accounts.set_active(_user(username).id, True)
    click.echo(f"{username} is active again.")


@pages_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--split-sections", is_flag=True,
              help="Make a page of each ## section, linked from a page for the file.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=None,
              help="Processes that render Markdown beside the one writing (0: render in it; "
                   "default: one per core).")
def import_command(path: Path, split_sections: bool, jobs: int | None) -> None:
    """Import a Markdown file, a folder of them (sub-folders become sub-pages), or a zip
    archive of such a folder (as /export.zip makes).

    A page's title is its front matter's title, else the file's first # heading, else the
    file name; front matter tags become the page's. A home.md at the top becomes the Home
    page. Pages that already exist are left alone. The files in a <name>.files folder
    beside <name>.md are attached to its page, unless it has them already, and a
    <name>.history folder gives the page its revisions. Obsidian embeds (![[flow.png]])
    attach the file. Symbolic links are never followed: they are listed as skipped.
    """
    from wiki.services import archives, importing  # this command's services: see the top

    report = importing.ImportReport()
    if path.is_file() and (path.suffix.lower() == ".zip" or zipfile.is_zipfile(path)):
        with tempfile.TemporaryDirectory(prefix="wiki-import-") as unpacked:
            try:
                archives.extract_archive(path, Path(unpacked))
            except archives.ArchiveRefused as error:
                raise click.ClickException(f"Nothing imported from {path}: {error}.") from error
            _import_folder(Path(unpacked), split_sections, report, jobs)
            _show_import(report, lambda text: text.replace(unpacked, str(path)))
    elif path.is_dir():
        _import_folder(path, split_sections, report, jobs)
        _show_import(report)
    else:
        importing.import_file(path, path, split_sections, report)
        _show_import(report)


def _import_folder(root: Path, split_sections: bool, report: ImportReport,
                   jobs: int | None) -> None:
    from wiki.services import importing

    files = importing.markdown_files(root, report)
    vault = importing.VaultFiles(root)
    jobs = importing.cores() if jobs is None else jobs
    with importing.rendering_processes(jobs) as renderer, \
            click.progressbar(files, label="Importing", show_pos=True,
                              item_show_func=lambda file: _relative(file, root)) as bar:
        pending = importing.PendingPages(report, current_app.config["IMPORT_BATCH_PAGES"],
                                         renderer)
        for file in bar:
            importing.import_file(file, root, split_sections, report, vault, pending)
        pending.flush()


def _show_import(report: ImportReport, shown=lambda text: text) -> None:
    """Say what the import did; *shown* turns a place unpacked from an archive into its name
    there."""
    for change in report.changes:
        click.echo(f"Changed {shown(change)}")
    click.echo(f"{counted(len(report.created), 'page')} created, "
               f"{len(report.skipped)} already there.")
    if report.revisions_added:
        click.echo(f"{counted(report.revisions_added, 'revision')} of their history imported.")
    if report.files_added or report.files_unchanged:
        click.echo(f"{counted(len(report.files_added), 'file')} attached, "
                   f"{len(report.files_unchanged)} already there.")
    for failure in report.failed:
        click.echo(f"Skipped {shown(failure.source)}: {failure.reason}", err=True)
    if report.failed:
        raise click.ClickException("Some files could not be imported; see the list above.")


def _relative(file: Path | None, root: Path) -> str:
    return file.relative_to(root).as_posix() if file else ""


@pages_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--history", is_flag=True,
              help="Also write every revision, in a <name>.history folder beside each page.")
def export_command(directory: Path, history: bool) -> None:
    """Write every page to DIRECTORY as Markdown, ready for `flask pages import`.

    One .md file per page, sub-pages in sub-folders, starting with YAML front matter
    (title, tags, created, updated, revision); a name too long for a file is shortened
    (import takes the address from the title); a page's attached files go in a
    <name>.files folder beside it, and with --history its revisions in <name>.history
    (0001.md...), each with its date, author and summary. Files of the same name are
    replaced; other files, and symbolic links, are left alone.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.ClickException(f"Cannot make the folder {directory}: {error.strerror}.") \
            from error
    with click.progressbar(length=exporting.count_pages(), label="Exporting",
                           show_pos=True) as bar:
        report = exporting.export_pages(
            directory, stream=_counting_pages(exporting.entries(history=history), bar))
    click.echo(f"Exported {counted(len(report.written), 'page')} to {directory}.")
    if report.revisions_written:
        click.echo(f"Exported {counted(report.revisions_written, 'revision')} of their history.")
    if report.files_written:
        click.echo(f"Exported {counted(len(report.files_written), 'attached file')} with them.")
    for failure in report.failed:
        click.echo(f"Skipped {failure.page}: {failure.reason}", err=True)
    if report.failed:
        raise click.ClickException("Some pages could not be exported; see the list above.")


def _counting_pages(stream, bar):
    """*stream* as it is, moving *bar* on at each page."""
    for entry in stream:
        if entry.kind == "page":
            bar.update(1, entry.label)
        yield entry


@pages_cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index and the links of every page."""
    from wiki.services.pages import reindexing  # this command's service: see the top

    rebuild = reindexing.reindex()
    with click.progressbar(rebuild, label="Reindexing", show_pos=True,
                           item_show_func=lambda slug: slug or "") as bar:
        for _ in bar:
            pass
    click.echo(f"Reindexed {counted(len(rebuild), 'page')}.")


@cards_cli.command("export-apkg")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--page", "slug", metavar="SLUG",
              help="Only the cards of this page and its sub-pages.")
@click.option("--tag", help="Only the cards of the pages tagged TAG.")
@click.option("--as", "username", metavar="USER",
              help="Only the cards of pages USER may read (the access rules); default: all.")
def export_apkg_command(path: Path, slug: str | None, tag: str | None,
                        username: str | None) -> None:
    """Write the review cards to PATH as an Anki package (.apkg): every card, or those of
    one page or one tag. Anki updates the notes of an earlier export on import (each note
    keeps its card's identity) rather than adding them again."""
    if slug is not None and tag is not None:
        raise click.UsageError("Give --page or --tag, not both.")
    if tag is not None:
        tag = (normalise_tags(tag) or [""])[0]
        if not tag:
            raise click.BadParameter("a tag has letters or digits", param_hint="--tag")
    visible = visibility(_user(username)) if username else EVERYTHING
    scope = Scope(tag=tag, under=slug.strip("/") if slug else None, visible=visible)
    from wiki.services.cards import anki  # genanki (and PyYAML): loaded when exporting only

    try:
        exported = anki.export_apkg(path, current_app.config["SITE_NAME"], scope)
    except anki.SelectionError as error:
        _fail(error)
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror}.") from error
    click.echo(f"Wrote {counted(exported.basic, 'basic note')} and "
               f"{counted(exported.cloze, 'cloze note')} to {path} (deck “{exported.deck}”).")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Copy the live SQLite database to TARGET; safe while the wiki is in use."""
    from wiki.services import backup  # this command's service: see the top

    try:
        info = backup.backup_database(target)
    except backup.BackupError as error:
        _fail(error)
    carried = f" with {counted(info.files, 'attached file')}" if info.files else ""
    click.echo(f"Backed up {counted(info.pages, 'page')} "
               f"({counted(info.revisions, 'revision')}){carried} to {target}.")
    if info.missing:
        verb = "is" if len(info.missing) == 1 else "are"
        click.echo(f"Warning: {counted(len(info.missing), 'file')} {verb} missing from "
                   f"{current_app.config['FILES_DIR']} (or altered there), so not in the "
                   "backup:", err=True)
        for sha256 in info.missing:
            click.echo(f"  {sha256}", err=True)


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Restore without asking for confirmation.")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Replace the wiki's content with the backup SOURCE made by `flask backup`."""
    from wiki.services import backup  # this command's service: see the top

    try:
        info = backup.inspect_backup(source)
        if not yes:
            files = f" and {counted(info.files, 'attached file')}" if info.files else ""
            click.confirm(f"Replace every page and account of this wiki with the "
                          f"{counted(info.pages, 'page')} "
                          f"({counted(info.revisions, 'revision')}){files} in {source}?",
                          abort=True)
        restored = backup.restore_database(source)
    except backup.BackupError as error:
        _fail(error)
    from flask_migrate import upgrade

    upgrade()  # a backup made by an older version of the wiki gets today's schema
    click.echo(f"Restored {counted(info.pages, 'page')} from {source}.")
    if restored.missing:
        verb = "is" if len(restored.missing) == 1 else "are"
        click.echo(f"Warning: {counted(len(restored.missing), 'attached file')} {verb} not in "
                   "the backup; their downloads say their contents are missing:", err=True)
        for sha256 in restored.missing:
            click.echo(f"  {sha256}", err=True)


@files_cli.command("prune")
@click.option("--yes", is_flag=True, help="Remove them; without it, only list them.")
def prune_command(yes: bool) -> None:
    """List the stored contents no attachment uses, live or deleted (and restorable), with
    their bytes; --yes removes them."""
    from wiki.services import pruning  # this command's service: see the top

    unused = pruning.prune() if yes else pruning.unused_contents()
    if not unused:
        click.echo("Every stored content is used by an attachment; nothing to remove.")
        return
    for content in unused:
        click.echo(f"  {content.sha256}  {content.size:>12,} bytes")
    total = f"{counted(len(unused), 'content')}, {sum(c.size for c in unused):,} bytes"
    if yes:
        click.echo(f"Removed {total}.")
    else:
        click.echo(f"Would remove {total}; run again with --yes to remove them.")

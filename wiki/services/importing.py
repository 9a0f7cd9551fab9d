"""Markdown files in, wiki pages out: the shipped notes, and ``flask pages import``."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

from wiki.extensions import db
from wiki.models import Page, as_utc
from wiki.services import accounts, attachments, exporting, pages
from wiki.services.slugs import slugify

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# An ATX heading; a closing run of ``#`` counts only after a space, so ``# C#`` is "C#".
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
SEPARATOR = re.compile(r"^ {0,3}([-*_])( *\1){2,} *$")
SHIPPED_NOTES = "content/flask-notes.md"
# The worked example beside the notes: one page, following a request through this app.
SHIPPED_EXAMPLE = "content/how-this-wiki-answers-a-request.md"
IMPORT_SUMMARY = "Imported"
SYMLINK_REASON = "a symbolic link; not followed"
# What the front matter of an export holds; other fields (Obsidian's aliases, cssclasses...)
# are left out, and the report says which.
PAGE_FOLDERS = (exporting.FILES_SUFFIX, exporting.HISTORY_SUFFIX)
KNOWN_FIELDS = {"title", "tags", "tag", "created", "updated", "revision"}
FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
# Obsidian's embed: ![[name]], ![[name|300]] (a width), ![[note#heading]].
EMBED = re.compile(r"!\[\[([^\[\]\n|#]+)((?:[#|][^\[\]\n]*)?)\]\]")
PLAIN_FILE_NAME = re.compile(r"[\w.\-]+")  # a link target that needs no <angle brackets>


@dataclass(frozen=True)
class Failure:
    source: str  # the file, or the file and the page title, that could not be imported
    reason: str


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already there: importing is idempotent
    failed: list[Failure] = field(default_factory=list)
    files_added: list[str] = field(default_factory=list)
    files_unchanged: list[str] = field(default_factory=list)
    revisions_added: int = 0
    changes: list[str] = field(default_factory=list)  # what the import wrote differently


@dataclass(frozen=True)
class Section:
    title: str
    body: str


def close_open_fences(markdown: str) -> str:
    """Close a code fence left open before the next heading inside it.

    A fence that is never closed swallows the rest of the document; a heading inside it
    is a sure sign the author meant the code to end. The closing fence goes after the
    code's last non-blank line.
    """
    out: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None and opening and opening.group(1)[0] == fence[0] \
                and len(opening.group(1)) >= len(fence) and not line.strip().strip(fence[0]):
            fence = None
        elif fence is not None and HEADING.match(line):
            last_code = max(i for i, text in enumerate(out) if text.strip()) + 1
            out.insert(last_code, fence)
            fence = None
        out.append(line)
    if fence is not None:
        out.append(fence)
    return "\n".join(out)


def split_sections(markdown: str) -> tuple[str | None, str, list[Section]]:
    """Split a document into its ``#`` title, the text before the first ``##``, and sections.

    Headings inside code blocks do not count. A section's trailing ``---`` separator is the
    document's way of dividing sections, so it is dropped; the words stay as written.
    """
    title: str | None = None
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    in_code = False
    for line in close_open_fences(markdown).split("\n"):
        if FENCE.match(line):
            in_code = not in_code
        heading = None if in_code else HEADING.match(line)
        if heading and len(heading.group(1)) == 1 and title is None and not sections:
            title = heading.group(2)
        elif heading and len(heading.group(1)) == 2:
            sections.append((heading.group(2), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            intro.append(line)
    return title, _tidy(intro), [Section(name, _tidy(lines)) for name, lines in sections]


def _tidy(lines: list[str]) -> str:
    while lines and (not lines[-1].strip() or SEPARATOR.match(lines[-1])):
        lines = lines[:-1]
    while lines and not lines[0].strip():
        lines = lines[1:]
    return "\n".join(lines) + "\n" if lines else ""


def document_pages(markdown: str, fallback_title: str, *, split: bool, as_home: bool = False,
                   prefix: str = "") -> list[tuple[str, str, str]]:
    """The pages a document becomes, as ``(slug, title, body)``; sub-pages of *prefix*.

    Unsplit, the document is one page titled by its first ``#`` heading. Split, the title
    and intro become one page (the home page, when *as_home*) linking to one page per section.
    """
    title, intro, sections = split_sections(markdown)
    title = in_folder(title or fallback_title, prefix)
    index_slug = pages.HOME if as_home else slugify(title)
    if not split or not sections:
        return [(index_slug, title, _without_title(close_open_fences(markdown)))]
    section_pages = [(in_folder(s.title, prefix), s) for s in sections]
    links = "\n".join(
        f"- [[{page_title}]]" if page_title == section.title
        else f"- [[{page_title}|{section.title}]]"
        for page_title, section in section_pages
    )
    index_body = f"{intro}\n{links}\n" if intro else f"{links}\n"
    return [(index_slug, title, index_body),
            *((slugify(page_title), page_title, s.body) for page_title, s in section_pages)]


def in_folder(title: str, prefix: str) -> str:
    """*title* as a sub-page of the folder *prefix* (``"guides/"``).

    A title that already names the folder (``Guides/Intro`` in ``guides/``, as ``flask pages
    export`` writes it) is kept as it is, so an export imports back unchanged; so is a title
    whose folder export shortened, being too long for a file name. A title without a letter
    or digit is kept too, so the page rules refuse it instead of the folder name making it
    valid.
    """
    slug = slugify(title)
    if not prefix or not slug or slug.startswith(slugify(prefix) + "/"):
        return title
    if f"{exporting.page_path(slug).parent.as_posix()}/" == prefix:
        return title
    return prefix + title


def _without_title(markdown: str) -> str:
    """The document without its leading ``#`` title line; the rest stays as written."""
    lines = markdown.split("\n")
    for index, line in enumerate(lines):
        if line.strip():
            heading = HEADING.match(line)
            if heading and len(heading.group(1)) == 1:
                body = "\n".join(lines[index + 1:]).strip("\n")
                return body + "\n" if body else ""
            break
    return markdown


def import_pages(documents: list[tuple[str, str, str]], report: ImportReport,
                 source: str = "", *, tags: list[str] | None = None,
                 when: datetime | None = None) -> None:
    """Create each page that does not exist yet; pages already there are left alone. The
    first document's page gets *tags*; every page is dated *when* (None: now).

    A page the page rules refuse (a title without a letter, a body over the size limit) is
    recorded in *report* as failed, and the others are still imported.
    """
    for index, (slug, title, body) in enumerate(documents):
        if pages.get_page(slug) is not None or pages.find_redirect(slug) is not None:
            report.skipped.append(slug)
            continue
        edit = pages.PageEdit(slug, title, body, summary=IMPORT_SUMMARY,
                              tags=(tags or []) if index == 0 else (), when=when)
        try:
            result = pages.save(edit, None)
        except pages.PageError as error:
            report.failed.append(Failure(f"{source} “{shown(title)}”".strip(), error.message))
            continue
        report.created.append(result.page.slug)


SHOWN_TITLE = 80  # characters of a refused title a report shows


def shown(title: str) -> str:
    """*title* as a report names it: cut short, its invisible characters (a NUL, a
    direction mark: why it may be refused) made visible as U+FFFD."""
    short = title if len(title) <= SHOWN_TITLE else title[:SHOWN_TITLE - 1] + "…"
    return "".join(char if char.isprintable() else "\ufffd" for char in short)


class PendingPages:
    """New pages an import has read but not yet written, created *batch* at a time through
    :func:`pages.prepare_pages` and :func:`pages.write_prepared`: a transaction per batch,
    long enough to be fast, short enough that other writers wait a moment at most. With
    *renderer* (see :func:`rendering_processes`), a batch is rendered there while the one
    before is written. Call :meth:`flush` at the end, and before any page is written another
    way, so pages are written in the order read."""

    def __init__(self, report: ImportReport, batch: int,
                 renderer: Executor | None = None) -> None:
        self.report = report
        self.batch = batch
        self.renderer = renderer
        self.waiting: list[tuple[pages.NewPage, str]] = []  # each with its source, to report
        self.in_flight: tuple[pages.PreparedPages, dict[int, str]] | None = None

    def add(self, documents: list[tuple[str, str, str]], source: str, *,
            tags: list[str] | None = None, when: datetime | None = None) -> None:
        """As :func:`import_pages`, the writing put off until the batch is full."""
        for index, (slug, title, body) in enumerate(documents):
            page = pages.NewPage(slug, title, body, summary=IMPORT_SUMMARY,
                                 tags=(tags or []) if index == 0 else (), when=when)
            self.waiting.append((page, source))
        if len(self.waiting) >= self.batch:
            self._send()

    def flush(self) -> None:
        self._send()
        self._write_in_flight()

    def _send(self) -> None:
        """Start on the waiting pages (checked, rendering), then write the batch before."""
        waiting, self.waiting = self.waiting, []
        prepared = None
        if waiting:
            sources = {id(page): source for page, source in waiting}
            prepared = pages.prepare_pages([page for page, _ in waiting], self.renderer), sources
        self._write_in_flight()
        self.in_flight = prepared

    def _write_in_flight(self) -> None:
        if self.in_flight is None:
            return
        (prepared, sources), self.in_flight = self.in_flight, None
        outcome = pages.write_prepared(prepared)
        self.report.created += outcome.created
        self.report.skipped += outcome.existing
        for page, error in outcome.refused:
            self.report.failed.append(Failure(f"{sources[id(page)]} “{shown(page.title)}”".strip(),
                                              error.message))
        for page in outcome.deleted:  # save says why not, as for any other import
            import_pages([(page.slug, page.title, page.body)], self.report,
                         source=sources[id(page)], tags=list(page.tags), when=page.when)


@contextmanager
def rendering_processes(jobs: int) -> Iterator[Executor | None]:
    """*jobs* processes to render an import's Markdown in, beside this one, which alone
    writes; None (render here) for none.

    They are started before the import opens a connection, with none of this process's
    left open, so no child holds a copy of one (they never touch the database anyway).
    """
    if jobs < 1:
        yield None
        return
    db.session.remove()
    db.engine.dispose()
    executor = ProcessPoolExecutor(jobs)
    try:
        list(executor.map(_started, range(jobs)))  # forked all at once, now
        yield executor
    finally:  # after a failure, the batch rendering meanwhile is not wanted
        executor.shutdown(cancel_futures=True)


def cores() -> int:
    """The cores this process may run on (fewer than the machine's, under taskset)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _started(_: int) -> None:
    """A task that makes the pool start its processes."""


def import_shipped_notes() -> ImportReport:
    """Import the notes that ship with the wiki, and the worked example beside them, as its
    first pages (idempotent)."""
    package = resources.files("wiki")
    notes = package.joinpath(SHIPPED_NOTES).read_text(encoding="utf-8")
    example = package.joinpath(SHIPPED_EXAMPLE).read_text(encoding="utf-8")
    report = ImportReport()
    import_pages(document_pages(notes, "Home", split=True, as_home=True), report)
    import_pages(document_pages(example, "How this wiki answers a request", split=False), report)
    return report


def markdown_files(root: Path, report: ImportReport) -> list[Path]:
    """The ``.md`` files under the folder *root*, hidden ones left out, in path order; a
    page's ``.files`` and ``.history`` folders are the page's, not sub-pages.

    Symbolic links are never followed, to files or to folders: one could make the import
    publish any file the wiki's account can read (``notes.md -> ../instance/secret_key``).
    Each link met is recorded in *report* as skipped.
    """
    def unreadable(error: OSError) -> None:
        report.failed.append(Failure(str(error.filename), error.strerror or str(error)))

    files = []
    # os.walk lists linked folders but does not descend into them.
    for folder, subfolders, names in os.walk(root, onerror=unreadable):
        here = Path(folder)
        # A page's .files folder holds its attachments, never sub-pages.
        subfolders[:] = sorted(name for name in subfolders if not name.startswith(".")
                               and not name.endswith(PAGE_FOLDERS))
        for name in subfolders:
            if (here / name).is_symlink():
                report.failed.append(Failure(str(here / name), SYMLINK_REASON))
        for name in sorted(names):
            if name.endswith(".md") and not name.startswith("."):
                if (here / name).is_symlink():
                    report.failed.append(Failure(str(here / name), SYMLINK_REASON))
                else:
                    files.append(here / name)
    return sorted(files)


def read_markdown(path: Path, root: Path) -> str:
    """The text of the regular file *path*, which must lie inside *root*.

    :raises OSError: as :func:`read_regular_file`.
    :raises UnicodeDecodeError: it is not UTF-8 text.
    """
    return read_regular_file(path, root).decode("utf-8-sig")  # -sig: drop an editor's BOM


def read_regular_file(path: Path, root: Path) -> bytes:
    """The bytes of the regular file *path*, which must lie inside *root*.

    :raises OSError: it cannot be read, is not a regular file (a pipe would block the
        import), is a symbolic link, or resolves outside *root*.
    """
    if path.is_symlink() or not path.resolve().is_relative_to(root.resolve()):
        raise OSError(errno.ELOOP, SYMLINK_REASON)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    with open(os.open(path, flags), "rb") as file:  # O_NOFOLLOW: no link swapped in since
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return file.read()


class FrontMatterError(ValueError):
    """Front matter that is not YAML fields; the message says where."""


def split_front_matter(text: str) -> tuple[dict, str]:
    """A file's YAML front matter (``---`` lines around it, at the very top) and the text
    after it, its line endings made LF; ``({}, text)`` when there is none.

    :raises FrontMatterError: the block is not valid YAML, or not a set of fields.
    """
    # A file saved on Windows: its CRLF lines (and a BOM) would hide the ``---`` lines.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.startswith(exporting.FRONT_MATTER):
        return {}, text
    end = FRONT_MATTER_END.search(text, len(exporting.FRONT_MATTER))
    if end is None:
        return {}, text  # a horizontal rule at the top, not front matter
    block = text[len(exporting.FRONT_MATTER):end.start()]
    body = text[end.end():]
    body = body[1:] if body.startswith("\n") else body
    import yaml  # only imports read front matter: not loaded at start-up

    try:
        # PyYAML's safe loader, in C where libyaml is there: ten times faster, the same result.
        safe_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        fields = yaml.load(block, Loader=safe_loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise FrontMatterError(f"the front matter is not valid YAML{where}") from error
    except (ValueError, AttributeError) as error:  # PyYAML's reading of `2024-02-30`,
        # `!!int x` (ValueError) or `!!timestamp x` (AttributeError): a value, not the syntax
        raise FrontMatterError(f"the front matter has a value YAML cannot read ({error})") \
            from error
    if fields is None:
        return {}, body
    if not isinstance(fields, dict):
        raise FrontMatterError("the front matter is not a set of fields (name: value)")
    return fields, body


def front_matter_tags(fields: dict) -> list[str]:
    """The tags of front matter: a list, or Obsidian's string of words or comma-separated
    names; a leading ``#`` is dropped."""
    raw = fields.get("tags", fields.get("tag"))
    if raw is None:
        return []
    items = re.split(r"[,\s]+", raw) if isinstance(raw, str) else raw
    if not isinstance(items, list):
        items = [items]
    texts = (scalar_text(item) for item in items)
    return pages.normalise_tags([text.lstrip("#") for text in texts if text])


def scalar_text(value: object) -> str | None:
    """A front matter value as text, if it is a plain value (a word, a number, a date).
    Lists and mappings are not: YAML aliases can nest them into something enormous to print
    (a "billion laughs"), and no field here wants one."""
    if isinstance(value, str | int | float | date):
        return str(value)
    return None


def front_matter_moment(value: object) -> datetime | None:
    """A front matter date as a UTC datetime; None for anything else (a free-form string)."""
    if isinstance(value, datetime):
        return as_utc(value).astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def front_matter_title(fields: dict) -> str | None:
    title = (scalar_text(fields.get("title")) or "").strip()
    return title or None


class VaultFiles:
    """The files (not Markdown) of the folder being imported, found by name as Obsidian
    finds an embed's target: beside the note first, else anywhere in the folder. Listed once,
    at the first embed; symbolic links and hidden folders (``.obsidian``) are left out."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_name: dict[str, Path] | None = None

    def find(self, name: str, near: Path) -> Path | None:
        beside = near / name
        if beside.is_file() and not beside.is_symlink():
            return beside
        if self._by_name is None:
            self._by_name = self._list()
        return self._by_name.get(name)

    def _list(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        if not self.root.is_dir():
            return found
        for folder, subfolders, names in os.walk(self.root):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(names):
                path = Path(folder) / name
                if not name.endswith(".md") and not path.is_symlink():
                    found.setdefault(name, path)
        return found


@dataclass
class Embeds:
    """What rewriting a note's ``![[...]]`` embeds found: files to attach, and what changed."""

    files: dict[str, Path] = field(default_factory=dict)  # stored name → the file
    changes: list[str] = field(default_factory=list)


def rewrite_embeds(body: str, near: Path, vault: VaultFiles) -> tuple[str, Embeds]:
    """*body* with Obsidian's embeds written as the wiki writes them: ``![[flow.png]]``
    becomes ``![flow.png](flow.png)``, the file to be attached to the page; an embedded
    note, which the wiki cannot show inside another, becomes a link. Code is left alone."""
    found = Embeds()

    def rewrite(match: re.Match) -> str:
        target = match.group(1).strip()
        suffix = Path(target).suffix.lower()
        if not suffix or suffix == ".md":
            found.changes.append(f"![[{target}]] became a link")
            return f"[[{target.removesuffix('.md')}{match.group(2)}]]"
        name = Path(target).name
        path = vault.find(name, near)
        if path is None:
            found.changes.append(f"![[{target}]] left as it was: no file of that name")
            return match.group(0)
        try:
            stored = attachments.normalise_name(name)
        except attachments.UploadRefused as error:
            found.changes.append(f"![[{target}]] left as it was: {error}")
            return match.group(0)
        found.files[stored] = path
        found.changes.append(f"![[{target}]] → attached {stored}")
        destination = stored if PLAIN_FILE_NAME.fullmatch(stored) else f"<{stored}>"
        return f"![{name.replace(']', '')}]({destination})"

    out, fence = [], None
    for line in body.split("\n"):
        opening = FENCE.match(line)
        if opening and (fence is None or opening.group(1)[0] == fence[0]):
            fence = opening.group(1) if fence is None else None
            out.append(line)
        else:
            out.append(line if fence is not None else EMBED.sub(rewrite, line))
    return "\n".join(out), found


def import_file(path: Path, root: Path, split: bool, report: ImportReport,
                vault: VaultFiles | None = None, pending: PendingPages | None = None) -> None:
    """Import one Markdown file found under *root* (or given as *root*).

    Files in sub-folders become sub-pages (``guides/intro.md`` → ``guides/...``); a
    ``home.md`` at the top becomes the Home page. Front matter's ``title`` wins over a ``#``
    heading, its ``tags`` are the page's, and a ``<name>.history`` folder beside the file
    (``flask pages export --history``) gives the page its revisions back. A file that cannot
    be read as UTF-8 text is recorded in *report* as failed, as is a symbolic link, a file
    outside *root*, or front matter that is not YAML.

    With *pending*, a page with no files and no history is left to it, to be written with
    others in a batch.
    """
    try:
        fields, text = split_front_matter(read_markdown(path, root))
    except UnicodeDecodeError:
        report.failed.append(Failure(str(path), "not UTF-8 text"))
        return
    except OSError as error:
        report.failed.append(Failure(str(path), error.strerror or str(error)))
        return
    except FrontMatterError as error:
        report.failed.append(Failure(str(path), str(error)))
        return
    folder = path.parent.relative_to(root).as_posix() if root.is_dir() else "."
    prefix = "" if folder == "." else folder + "/"
    as_home = not prefix and slugify(path.stem) == pages.HOME
    title = front_matter_title(fields)
    if title is not None:  # the body is exactly the text after the front matter
        title = in_folder(title, prefix)
        documents = [(pages.HOME if as_home else slugify(title), title, text)]
    else:
        documents = document_pages(text, path.stem, split=split, as_home=as_home,
                                   prefix=prefix)
    ignored = sorted(str(name) for name in fields if name not in KNOWN_FIELDS)
    if ignored:
        report.changes.append(f"{path}: front matter {', '.join(ignored)} left out")
    embeds = Embeds()
    if "![[" in text:
        vault = vault or VaultFiles(root if root.is_dir() else path.parent)
        rewritten = [rewrite_embeds(body, path.parent, vault) for _, _, body in documents]
        documents = [(slug, title, body) for (slug, title, _), (body, _) in
                     zip(documents, rewritten, strict=True)]
        for _, found in rewritten:
            embeds.files.update(found.files)
            embeds.changes += found.changes
        report.changes += [f"{path}: {change}" for change in embeds.changes]
    tags = front_matter_tags(fields)
    when = front_matter_moment(fields.get("updated"))
    history = path.with_suffix(exporting.HISTORY_SUFFIX)
    files_folder = path.with_suffix(exporting.FILES_SUFFIX)
    if pending is not None and not embeds.files and not history.is_dir() \
            and not files_folder.is_dir() and not files_folder.is_symlink():
        pending.add(documents, str(path), tags=tags, when=when)
        return
    if pending is not None:
        pending.flush()
    slug, title, body = documents[0]
    if history.is_dir() and not history.is_symlink() and pages.get_page(slug) is None \
            and pages.find_redirect(slug) is None:
        import_history(history, (slug, title, body), tags, when, report)
        documents = documents[1:]
    import_pages(documents, report, source=str(path), tags=tags, when=when)
    page = pages.get_page(slug)
    if page is None:
        return
    if files_folder.is_dir() or files_folder.is_symlink():
        import_attachments(files_folder, page, report)
    for name, file in embeds.files.items():
        attach_file(page, name, file, root if root.is_dir() else path.parent, report)


@dataclass(frozen=True)
class PastRevision:
    number: int
    title: str
    body: str
    when: datetime | None
    author: str | None
    summary: str
    minor: bool


def read_history(folder: Path, report: ImportReport) -> list[PastRevision]:
    """The revisions in *folder* (``0001.md``...), in order; unreadable ones are reported."""
    revisions = []
    for path in sorted(folder.glob("*.md")):
        try:
            fields, body = split_front_matter(read_markdown(path, folder))
            number = int(fields["revision"])
        except (OSError, UnicodeDecodeError, FrontMatterError, KeyError, TypeError,
                ValueError, OverflowError) as error:  # OverflowError: revision: .inf
            reason = error.strerror if isinstance(error, OSError) else \
                "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else \
                str(error) if isinstance(error, FrontMatterError) else \
                "its front matter has no revision number"
            report.failed.append(Failure(str(path), reason))
            continue
        revisions.append(PastRevision(
            number, front_matter_title(fields) or "", body, front_matter_moment(fields.get("date")),
            scalar_text(fields.get("author")), scalar_text(fields.get("summary")) or "",
            fields.get("minor") is True))
    return sorted(revisions, key=lambda revision: revision.number)


def import_history(folder: Path, document: tuple[str, str, str], tags: list[str],
                   when: datetime | None, report: ImportReport) -> None:
    """Create the page of *document* from the revisions in *folder*, each with its date,
    summary and author (the account of that name, if this wiki has one), then its current
    text if the revisions end elsewhere. A title from before a rename, which would put the
    page at another address, is replaced by the current one."""
    slug, title, body = document
    unknown_authors: set[str] = set()
    for past in read_history(folder, report):
        author = accounts.find_user(past.author) if past.author else None
        if past.author and author is None:
            unknown_authors.add(past.author)
        kept_title = past.title if past.title and (slug == pages.HOME
                                                   or slugify(past.title) == slug) else title
        edit = pages.PageEdit(slug, kept_title, past.body, summary=past.summary, tags=tags,
                              minor=past.minor, when=past.when)
        try:
            result = pages.save(edit, author)
        except pages.PageError as error:
            report.failed.append(Failure(f"{folder} (revision {past.number})", error.message))
            continue
        if result.revision is not None:
            report.revisions_added += 1
    if unknown_authors:
        report.changes.append(f"{folder}: no account called {', '.join(sorted(unknown_authors))}"
                              "; their revisions have no author")
    page = pages.get_page(slug)
    if page is None:  # no revision could be read: the page from its current text alone
        import_pages([document], report, source=str(folder), tags=tags, when=when)
        return
    if page.current_revision.body != body or page.title != title:
        try:
            pages.save(pages.PageEdit(slug, title, body, summary=IMPORT_SUMMARY, tags=tags,
                                      when=when), None)
        except pages.PageError as error:
            report.failed.append(Failure(f"{folder} “{shown(title)}”", error.message))
    report.created.append(slug)


def import_attachments(folder: Path, page: Page, report: ImportReport) -> None:
    """Attach the regular files directly in *folder* to *page* (see :func:`attach_file`).
    Symbolic links and folders are recorded in *report* as failed."""
    if folder.is_symlink():
        report.failed.append(Failure(str(folder), SYMLINK_REASON))
        return
    for path in sorted(folder.iterdir()):
        if path.is_dir() and not path.is_symlink():
            report.failed.append(Failure(str(path), "a folder; a page's files lie flat"))
            continue
        attach_file(page, path.name, path, folder, report)


def attach_file(page: Page, name: str, path: Path, root: Path, report: ImportReport) -> None:
    """Attach the regular file *path* (inside *root*) to *page* as *name*, as uploads are
    (images encoded again, names made safe). A file whose stored bytes would be those of the
    page's current file of that name is left alone, so importing again adds no version. A
    symbolic link, or a file the upload refuses, is recorded in *report* as failed."""
    try:
        upload = attachments.Upload(name, read_regular_file(path, root))
        if is_current_file(page, attachments.prepare(upload)):
            report.files_unchanged.append(str(path))
            return
        attachments.upload(page, [upload], None)
    except OSError as error:
        report.failed.append(Failure(str(path), error.strerror or str(error)))
    except attachments.UploadRefused as error:
        report.failed.append(Failure(str(path), str(error)))
    else:
        report.files_added.append(str(path))


def is_current_file(page: Page, prepared: attachments.Prepared) -> bool:
    """Whether *page*'s current file named as *prepared* already holds its bytes."""
    current = attachments.get_file(page, prepared.name)
    return current is not None and current.blob_sha256 == prepared.sha256

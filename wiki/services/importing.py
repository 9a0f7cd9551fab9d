"""Markdown files in, wiki pages out: the shipped notes, and ``flask pages import``."""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from wiki.models import Page
from wiki.services import attachments, exporting, pages
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
                 source: str = "") -> None:
    """Create each page that does not exist yet; pages already there are left alone.

    A page the page rules refuse (a title without a letter, a body over the size limit) is
    recorded in *report* as failed, and the others are still imported.
    """
    for slug, title, body in documents:
        if pages.get_page(slug) is not None or pages.find_redirect(slug) is not None:
            report.skipped.append(slug)
            continue
        try:
            result = pages.save(pages.PageEdit(slug, title, body, summary=IMPORT_SUMMARY), None)
        except pages.PageError as error:
            report.failed.append(Failure(f"{source} “{title}”".strip(), error.message))
            continue
        report.created.append(result.page.slug)


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
    """The ``.md`` files under the folder *root*, hidden ones left out, in path order.

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
                               and not name.endswith(exporting.FILES_SUFFIX))
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


def import_file(path: Path, root: Path, split: bool, report: ImportReport) -> None:
    """Import one Markdown file found under *root* (or given as *root*).

    Files in sub-folders become sub-pages (``guides/intro.md`` → ``guides/...``); a
    ``home.md`` at the top becomes the Home page. A file that cannot be read as UTF-8 text
    is recorded in *report* as failed, as is a symbolic link or a file outside *root*.
    """
    try:
        text = read_markdown(path, root)
    except UnicodeDecodeError:
        report.failed.append(Failure(str(path), "not UTF-8 text"))
        return
    except OSError as error:
        report.failed.append(Failure(str(path), error.strerror or str(error)))
        return
    folder = path.parent.relative_to(root).as_posix() if root.is_dir() else "."
    prefix = "" if folder == "." else folder + "/"
    as_home = not prefix and slugify(path.stem) == pages.HOME
    documents = document_pages(text, path.stem, split=split, as_home=as_home, prefix=prefix)
    import_pages(documents, report, source=str(path))
    files_folder = path.with_suffix(exporting.FILES_SUFFIX)
    page = pages.get_page(documents[0][0])
    if page is not None and (files_folder.is_dir() or files_folder.is_symlink()):
        import_attachments(files_folder, page, report)


def import_attachments(folder: Path, page: Page, report: ImportReport) -> None:
    """Attach the regular files directly in *folder* to *page*, as uploads are (images
    encoded again, names made safe). A file whose stored bytes would be those of the page's
    current file of that name is left alone, so importing again adds no version. Symbolic
    links and files the upload refuses are recorded in *report* as failed.
    """
    if folder.is_symlink():
        report.failed.append(Failure(str(folder), SYMLINK_REASON))
        return
    for path in sorted(folder.iterdir()):
        if path.is_dir() and not path.is_symlink():
            report.failed.append(Failure(str(path), "a folder; a page's files lie flat"))
            continue
        try:
            upload = attachments.Upload(path.name, read_regular_file(path, folder))
            if is_current_file(page, attachments.prepare(upload)):
                report.files_unchanged.append(str(path))
                continue
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

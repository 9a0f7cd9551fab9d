"""Markdown files in, wiki pages out: the shipped notes, and ``flask pages import``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from wiki.services import pages
from wiki.services.slugs import slugify

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
SEPARATOR = re.compile(r"^ {0,3}([-*_])( *\1){2,} *$")
SHIPPED_NOTES = "content/flask-notes.md"
IMPORT_SUMMARY = "Imported"


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already there: importing is idempotent


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
    """The pages a document becomes, as ``(slug, title, body)``; titles start with *prefix*.

    Unsplit, the document is one page titled by its first ``#`` heading. Split, the title
    and intro become one page (the home page, when *as_home*) linking to one page per section.
    """
    title, intro, sections = split_sections(markdown)
    title = prefix + (title or fallback_title)
    index_slug = pages.HOME if as_home else slugify(title)
    if not split or not sections:
        return [(index_slug, title, _without_title(close_open_fences(markdown)))]
    links = "\n".join(
        f"- [[{prefix}{section.title}|{section.title}]]" if prefix else f"- [[{section.title}]]"
        for section in sections
    )
    index_body = f"{intro}\n{links}\n" if intro else f"{links}\n"
    section_pages = [(slugify(prefix + s.title), prefix + s.title, s.body) for s in sections]
    return [(index_slug, title, index_body), *section_pages]


def _without_title(markdown: str) -> str:
    lines = markdown.split("\n")
    for index, line in enumerate(lines):
        if line.strip():
            heading = HEADING.match(line)
            if heading and len(heading.group(1)) == 1:
                return _tidy(lines[index + 1:])
            break
    return markdown


def import_pages(documents: list[tuple[str, str, str]], report: ImportReport) -> None:
    """Create each page that does not exist yet; pages already there are left alone."""
    for slug, title, body in documents:
        if pages.get_page(slug) is not None or pages.find_redirect(slug) is not None:
            report.skipped.append(slug)
            continue
        result = pages.save(slug, title, body, None, summary=IMPORT_SUMMARY)
        report.created.append(result.page.slug)


def import_shipped_notes() -> ImportReport:
    """Import the notes that ship with the wiki as its first pages (idempotent)."""
    text = resources.files("wiki").joinpath(SHIPPED_NOTES).read_text(encoding="utf-8")
    report = ImportReport()
    import_pages(document_pages(text, "Home", split=True, as_home=True), report)
    return report


def markdown_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(path for path in root.rglob("*.md") if path.is_file())


def import_file(path: Path, root: Path, split: bool, report: ImportReport) -> None:
    """Import one Markdown file; files in sub-folders of *root* become sub-pages."""
    text = path.read_text(encoding="utf-8")
    folder = path.parent.relative_to(root).as_posix() if root.is_dir() else "."
    prefix = "" if folder == "." else folder + "/"
    import_pages(document_pages(text, path.stem, split=split, prefix=prefix), report)

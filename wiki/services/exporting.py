"""Wiki pages out as Markdown files, in the shape ``flask pages import`` reads back.

Each live page becomes ``<slug>.md`` (so sub-pages land in sub-folders) starting with its
title as a ``# `` heading. The Home page is ``home.md``, which the importer turns back into
the Home page whatever its title.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from wiki.extensions import db
from wiki.models import Page


def page_markdown(title: str, body: str) -> str:
    """The file text of a page: its title as a ``# `` heading, then its body."""
    if not body:
        return f"# {title}\n"
    return f"# {title}\n\n{body}" + ("" if body.endswith("\n") else "\n")


def page_file(directory: Path, slug: str) -> Path:
    """Where the page at *slug* is written under *directory*.

    :raises ValueError: the slug would lead outside *directory* (slugs never should).
    """
    path = directory / f"{slug}.md"
    if not path.resolve().is_relative_to(directory.resolve()):
        raise ValueError(f"page {slug!r} would be written outside {directory}")
    return path


def export_pages(directory: Path) -> list[Path]:
    """Write every live page under *directory*, replacing files of the same name.

    Other files in *directory* are left alone. Returns the files written, in slug order.
    """
    written = []
    query = (select(Page).options(joinedload(Page.current_revision))
             .where(Page.deleted.is_(False)).order_by(Page.slug))
    for page in db.session.scalars(query):
        path = page_file(directory, page.slug)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page_markdown(page.title, page.current_revision.body), encoding="utf-8")
        written.append(path)
    return written

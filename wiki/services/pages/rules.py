"""The page rules: what a title, tags and text may be, and the refusals of an edit that
breaks them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum, auto

from flask import current_app

from wiki.models import Page
from wiki.services.slugs import slugify
from wiki.services.text import has_control_or_bidi, strip_body_controls

MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_TITLE_LENGTH = 200
# Said by the page rules and by the forms' validators alike: one wording per rule.
TITLE_MISSING = "Give the page a title."
TITLE_TOO_LONG = f"Keep the title to {MAX_TITLE_LENGTH} characters or fewer."
MAX_SLUG_LENGTH = Page.slug.type.length  # the column's: a longer address cannot be stored


class Part(Enum):
    """What part of an edit a refusal is about, for the caller to show it there."""

    TITLE = auto()
    BODY = auto()
    SUMMARY = auto()
    TAGS = auto()
    REVISION = auto()  # the revision an edit or a revert starts from
    PAGE = auto()  # the page as a whole (none there, or one that may not go)


class PageError(ValueError):
    """A save the page rules refuse; *part* says what of the edit *message* is about."""

    def __init__(self, part: Part, message: str, slug: str | None = None) -> None:
        super().__init__(message)
        self.part = part
        self.message = message
        self.slug = slug  # the page the message is about, when there is one


class PageDeleted(PageError):
    """The page at this address is deleted: only an administrator can bring it back."""


class UnknownBase(PageError):
    """The editor says it started from a revision the page does not have."""

    def __init__(self, message: str, current: int) -> None:
        super().__init__(Part.REVISION, message)
        self.current = current  # the revision to start from instead


def normalise_tags(raw: str | list[str]) -> list[str]:
    """``"Flask, web Dev,flask"`` → ``["flask", "web-dev"]``: lower case, unique, in order.

    Whitespace and ``/`` become ``-``, so every tag is one path segment of ``/tags/<tag>``
    (``.`` and ``..``, which a browser would read as path steps, are refused on saving).
    """
    parts = raw.split(",") if isinstance(raw, str) else raw
    tags: list[str] = []
    for part in parts:
        tag = re.sub(r"[\s/]+", "-", part.strip().lower())[:MAX_TAG_LENGTH].strip("-")
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def title_from_slug(slug: str) -> str:
    """A title for a page not written yet, from its address: ``flask-routing`` → ``Flask
    routing``. (A link records only the slug it leads to, not the title it was written with.)"""
    return slug.replace("-", " ").capitalize()


def normalise_body(body: str) -> str:
    """*body* with ``\n`` line ends and no control characters but tab and newline: invisible
    junk pasted from elsewhere, which would break the Atom feed's XML."""
    return strip_body_controls(body.replace("\r\n", "\n").replace("\r", "\n"))


def check_one_line_fields(title: str, summary: str, tags: str | Sequence[str]) -> None:
    """Refuse control and bidi-control characters, which hide or reorder what a title,
    summary or tag seems to say (and break the Atom feed)."""
    tag_text = tags if isinstance(tags, str) else ",".join(tags)
    for part, text in ((Part.TITLE, title), (Part.SUMMARY, summary), (Part.TAGS, tag_text)):
        if has_control_or_bidi(text):
            raise PageError(part, f"The {part.name.lower()} holds a control or text-direction "
                                  "character; remove it (it may be invisible: retype the text).")


def check_content(title: str, body: str, tags: Sequence[str]) -> None:
    if not title:
        raise PageError(Part.TITLE, TITLE_MISSING)
    if len(title) > MAX_TITLE_LENGTH:
        raise PageError(Part.TITLE, TITLE_TOO_LONG)
    if not slugify(title):
        raise PageError(Part.TITLE, "The title needs at least one letter or digit.")
    if len(slugify(title)) > MAX_SLUG_LENGTH:
        raise PageError(Part.TITLE, f"This title makes an address longer than {MAX_SLUG_LENGTH} "
                                    "characters (letters such as “ß” count twice); shorten it.")
    if any(tag in {".", ".."} for tag in tags):
        raise PageError(Part.TAGS, "“.” and “..” cannot be tags; use a word.")
    limit = current_app.config["MAX_PAGE_BYTES"]
    if len(body.encode()) > limit:
        raise PageError(Part.BODY,
                        f"The page is too long: at most {limit // 1_000_000} MB of text.")
    if len(tags) > MAX_TAGS:
        raise PageError(Part.TAGS, f"Use at most {MAX_TAGS} tags.")

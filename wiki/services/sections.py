"""A page's sections, for editing one at a time: section N runs from the N-th heading to the
next heading of the same or a higher level. Pure functions of the text; headings are found
by the renderer's own parser, so section N is the N-th heading a reader sees."""

import html as html_entities
import re
from collections.abc import Callable
from dataclasses import dataclass

from wiki.services.markdown_rules import escape_html
from wiki.services.rendering import top_level_headings


@dataclass(frozen=True)
class Section:
    number: int  # 1-based, in document order
    level: int  # 1 for "#", 2 for "##" or a "---" underline...
    heading: str  # the heading's text
    anchor: str  # the heading's id in the rendered page
    start: int  # character offsets in the body: the heading's first character,
    end: int  # and the first character after the section
    setext: bool  # the heading is underlined ("===", "---"): it must not follow a paragraph


class NoSuchSection(LookupError):
    """The page has no section of that number; it has *count*."""

    def __init__(self, count: int) -> None:
        super().__init__("the page has no headings, so no sections" if not count else
                         "the page has one section, number 1" if count == 1 else
                         f"the page has {count} sections, numbered 1 to {count}")
        self.count = count


def sections(body: str) -> list[Section]:
    """The sections of *body* (with ``\\n`` line ends), in order.

    Headings inside quotes, lists and footnotes belong to the section around them.
    """
    line_starts = [0] + [match.end() for match in re.finditer("\n", body)]

    def offset(line: int) -> int:
        return line_starts[line] if line < len(line_starts) else len(body)

    placed = top_level_headings(body)
    found = []
    for index, here in enumerate(placed):
        level = here.heading.level
        following = next((later for later in placed[index + 1:] if later.heading.level <= level),
                         None)
        found.append(Section(
            number=index + 1, level=level, heading=here.heading.text, anchor=here.heading.anchor,
            start=offset(here.start), end=offset(following.start) if following else len(body),
            setext=here.end - here.start > 1,
        ))
    return found


def section(body: str, number: int) -> Section:
    """Section *number* of *body*.

    :raises NoSuchSection: there is none of that number.
    """
    found = sections(body)
    if not 1 <= number <= len(found):
        raise NoSuchSection(len(found))
    return found[number - 1]


def replace_section(body: str, number: int, text: str) -> tuple[str, str | None]:
    """*body* with section *number* replaced by *text*, and the anchor of the heading the new
    text starts with (None if it no longer starts with one).

    *text* is made to end a line, and to end with a blank line when the next heading is
    underlined, so that what follows it still reads as the heading it was.

    :raises NoSuchSection: there is none of that number.
    """
    found = sections(body)
    if not 1 <= number <= len(found):
        raise NoSuchSection(len(found))
    old = found[number - 1]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rest = body[old.end:]
    if rest and text and not text.endswith("\n"):
        text += "\n"
    following = next((later for later in found if later.start == old.end), None)
    if following is not None and following.setext and text.strip() and \
            not text.endswith("\n\n"):
        text += "\n"
    new_body = body[:old.start] + text + rest
    starting = next((found for found in sections(new_body) if found.start == old.start), None)
    return new_body, starting.anchor if starting and text.strip() else None


# In rendered HTML as the sanitiser writes it (well formed, attributes in order, text
# escaped): the blocks that can hold a heading which is not a section's (a quote, a list
# item, the footnotes), and the headings, with the ids the renderer gave them.
_BLOCK_OR_HEADING = re.compile(
    r'<(/?)(blockquote|li|section)\b[^>]*>|<h([1-6]) id="([^"]+)">(.*?)</h\3>', re.S)
_TAG = re.compile(r"<[^>]*>")


def with_edit_links(html: str, edit_url: Callable[[int], str]) -> str:
    """Rendered *html* with a link beside each section's heading to edit the section at
    ``edit_url(number)``.

    Read from the HTML alone, so that showing a page never parses its Markdown: section N is
    the N-th heading outside any quote, list or footnote, as :func:`sections` counts. The
    heading and its link sit in a ``div.section-heading``; the link's accessible name says
    which section it edits, and the heading's own name stays its text.
    """
    depth = number = 0

    def visit(match: re.Match) -> str:
        nonlocal depth, number
        closing, block, _level, _anchor, inner = match.groups()
        if block:
            depth += -1 if closing else 1
            return match.group(0)
        if depth:
            return match.group(0)
        number += 1
        heading = html_entities.unescape(_TAG.sub("", inner))
        label = escape_html(f"Edit section: {heading}")
        return (f'<div class="section-heading">{match.group(0)}<a class="section-edit" '
                f'href="{escape_html(edit_url(number))}" aria-label="{label}">edit</a></div>')

    return _BLOCK_OR_HEADING.sub(visit, html)

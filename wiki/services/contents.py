"""The table of contents of a rendered page: made from its headings when the page is
rendered (stored before the text), and parted from the text again when a page is shown, so
the page view can put it beside the text."""

import re
from collections.abc import Iterable

from markupsafe import Markup

from wiki.services.markdown_rules import Heading, escape_html

TOC_MIN_HEADINGS = 3


def table_of_contents(headings: tuple[Heading, ...]) -> str:
    """A linked outline of the headings, for pages with enough of them to need one: each
    heading's list holds those under it (h2 > h3 > h4).

    Built from escaped heading text and our own anchors, so it needs no sanitising. A
    heading without text (``##`` alone) has no entry: a link must have a name to read out.
    """
    headings = tuple(heading for heading in headings if heading.text.strip())
    if len(headings) < TOC_MIN_HEADINGS:
        return ""
    top = min(heading.level for heading in headings)
    entries = [(heading.level - top + 1, escape_html(heading.anchor), escape_html(heading.text))
               for heading in headings]
    return (
        '<nav class="toc" aria-label="Contents"><h2 class="toc__title">Contents</h2>'
        f"{_outline(entries)}</nav>\n"
    )


def _outline(entries: Iterable[tuple[int, str, str]]) -> str:
    """Nested ``<ol>`` lists of (depth, escaped anchor, escaped text) entries in document
    order: each entry goes in the list of the nearest entry above it that is less deep. A
    jump of levels (h2 then h4) nests once, and what follows at h3 stays beside the h4."""
    parts = ["<ol>"]
    open_depths: list[int] = []  # the depth of each open <li>, outermost first
    for depth, anchor, text in entries:
        while len(open_depths) > 1 and open_depths[-2] >= depth:  # not inside that list
            parts.append("</li></ol>")
            open_depths.pop()
        if open_depths and open_depths[-1] >= depth:
            parts.append("</li>")
            open_depths.pop()
        elif open_depths:
            parts.append("<ol>")
        parts.append(f'<li class="toc__level-{depth}"><a href="#{anchor}">{text}</a>')
        open_depths.append(depth)
    parts.append("</li></ol>" * (len(open_depths) - 1) + "</li>" * bool(open_depths) + "</ol>")
    return "".join(parts)


# The contents as render() puts them before the text, flat (HTML stored before they were
# nested) or nested: each entry's depth, anchor and text, already escaped.
_CONTENTS = re.compile(r'<nav class="toc" aria-label="Contents">.*?</nav>\n', re.S)
_CONTENTS_ENTRY = re.compile(r'<li class="toc__level-(\d)"><a href="#([^"]*)">(.*?)</a>', re.S)


def contents_and_text(html: str) -> tuple[Markup, str]:
    """Rendered *html* as stored, parted into its table of contents (nested ``<ol>`` lists,
    or ``""`` when it has none) and the rest, so a page can show them apart.

    Contents stored flat, before they were nested, come out nested too. Our own markup
    only: the sanitiser allows no ``<nav>``, so the text cannot start like contents.
    """
    found = _CONTENTS.match(html)
    if not found:
        return Markup(""), html
    entries = [(int(depth), anchor, text)
               for depth, anchor, text in _CONTENTS_ENTRY.findall(found.group(0))]
    # Entries escaped when the page was rendered, in lists of our own: HTML to show as it is.
    return Markup(_outline(entries)), html[found.end():]  # noqa: S704

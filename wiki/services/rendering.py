"""Markdown → safe HTML: markdown-it-py, then wiki links, then Pygments, then nh3.

Pure functions, no Flask and no database: the caller says which link targets exist.
Raw HTML in the source is disabled at the parser, and nh3 cleans the result anyway with the
allow-list below, so a bug in any plugin still cannot put script into a page.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from wiki.services.slugs import slugify

# --- the sanitiser's allow-list ---------------------------------------------------------------

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
ALLOWED_TAGS = HEADINGS | {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "kbd", "blockquote",
    "ul", "ol", "li", "dl", "dt", "dd", "a", "img", "sup", "sub", "span", "div", "section",
    "table", "thead", "tbody", "tr", "th", "td", "input", "label",
}  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{heading: {"id"} for heading in HEADINGS},
    "a": {"href", "title", "class", "id"},  # id: footnote back-link target
    "img": {"src", "alt", "title"},
    "li": {"id", "class"},  # footnote items, task-list items
    "sup": {"class"},
    "section": {"class"},
    "ul": {"class"},
    "ol": {"class", "start"},
    "hr": {"class"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "th": {"class"},
    "td": {"class"},
    "input": {"class", "checked"},  # type and disabled are forced below
}
# Every checkbox is a read-only checkbox, whatever produced it.
FORCED_ATTRIBUTES = {"input": {"type": "checkbox", "disabled": "disabled"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer"


# --- public API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str  # the full id attribute, e.g. "h-what-is-flask"


@dataclass(frozen=True)
class Rendered:
    html: str  # sanitised HTML, safe to insert with |safe
    links: frozenset[str]  # slugs of every [[wiki link]] target
    headings: tuple[Heading, ...]
    text: str  # the document as plain words, for the search index


def render(
    markdown: str, existing: Callable[[set[str]], set[str]] = lambda slugs: slugs
) -> Rendered:
    """Render *markdown*; *existing* is asked once which of its link targets are pages."""
    env: EnvType = {}
    tokens = _MD.parse(markdown, env)
    links = _link_targets(tokens)
    env["existing"] = existing(set(links)) if links else set()
    html = _MD.renderer.render(tokens, _MD.options, env)
    headings = tuple(env["headings"])
    return Rendered(
        html=_table_of_contents(headings) + _sanitise(html),
        links=frozenset(links),
        headings=headings,
        text=_plain_text(tokens),
    )


def wikilink_targets(markdown: str) -> set[str]:
    """Slugs of the ``[[...]]`` targets in *markdown*, parsed exactly as :func:`render` does."""
    return _link_targets(_MD.parse(markdown, {}))


def rewrite_wikilinks(markdown: str, old_slug: str, new_title: str) -> str:
    """Point every ``[[...]]`` link to *old_slug* at *new_title*, keeping labels.

    ``[[Old]]`` becomes ``[[New]]``, ``[[Old|see this]]`` becomes ``[[New|see this]]``.
    Code blocks are left exactly as they are.
    """
    lines = markdown.split("\n")
    in_code = set()
    for token in _MD.parse(markdown, {}):
        if token.type in {"fence", "code_block"} and token.map:
            in_code.update(range(*token.map))

    def retarget(match: re.Match) -> str:
        title, bar, label = match.group(1).partition("|")
        if slugify(title.strip()) != old_slug:
            return match.group(0)
        return f"[[{new_title}{bar}{label}]]"

    return "\n".join(
        line if number in in_code else _WIKILINK.sub(retarget, line)
        for number, line in enumerate(lines)
    )


TOC_MIN_HEADINGS = 3


def _table_of_contents(headings: tuple[Heading, ...]) -> str:
    """A linked list of the headings, for pages with enough of them to need one.

    Built from escaped heading text and our own anchors, so it needs no sanitising.
    """
    if len(headings) < TOC_MIN_HEADINGS:
        return ""
    top = min(heading.level for heading in headings)
    items = "".join(
        f'<li class="toc__level-{heading.level - top + 1}">'
        f'<a href="#{escapeHtml(heading.anchor)}">{escapeHtml(heading.text)}</a></li>'
        for heading in headings
    )
    return (
        '<nav class="toc" aria-label="Contents"><h2 class="toc__title">Contents</h2>'
        f"<ol>{items}</ol></nav>\n"
    )


def _sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        set_tag_attribute_values=FORCED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


# --- wiki links: [[Title]] and [[Title|label]] ------------------------------------------------

# No brackets or newlines inside and a length cap, so a failed match scans at most 300
# characters: 5,000 "[[" in a row stay linear.
_WIKILINK = re.compile(r"\[\[([^\[\]\n]{1,300})\]\]")


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    if state.linkLevel > 0:  # no links inside a link's label
        return False
    match = _WIKILINK.match(state.src, state.pos, state.posMax)
    if not match:
        return False
    title, _, label = match.group(1).partition("|")
    title, label = title.strip(), label.strip()
    slug = slugify(title)
    if not slug:  # [[ ]] or [[!!!]]: leave the text alone
        return False
    if not silent:
        link = state.push("wikilink_open", "a", 1)
        link.meta = {"slug": slug, "title": title}
        state.push("text", "", 0).content = label or title
        state.push("wikilink_close", "a", -1)
    state.pos = match.end()
    return True


def _render_wikilink_open(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    slug, title = tokens[idx].meta["slug"], tokens[idx].meta["title"]
    path = quote(slug, safe="/")
    if slug in env["existing"]:
        return f'<a class="wikilink" href="/wiki/{path}">'
    href = escapeHtml(f"/edit/{path}?{urlencode({'title': title})}")
    return f'<a class="wikilink wikilink-missing" href="{href}" title="create this page">'


def _link_targets(tokens: Iterable[Token]) -> set[str]:
    return {
        child.meta["slug"]
        for token in tokens
        if token.type == "inline"
        for child in token.children or ()
        if child.type == "wikilink_open"
    }


# --- fenced code: Pygments for a named, known language, plain escaped text otherwise ----------

_FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True)


def _render_fence(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    language = token.info.split(maxsplit=1)[0] if token.info.strip() else ""
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:  # never guess: a wrong guess colours prose as code
        return f"<pre><code>{escapeHtml(token.content)}</code></pre>\n"
    return highlight(token.content, lexer, _FORMATTER)


# --- core rules: heading anchors, table alignment ---------------------------------------------


def _anchor_headings(state: StateCore) -> None:
    """Give each heading an ``h-`` id (never one of the page's own ids), unique in the page."""
    used: set[str] = set()
    headings: list[Heading] = []
    for heading, inline in zip(state.tokens, state.tokens[1:], strict=False):
        if heading.type != "heading_open":
            continue
        text = _inline_text(inline.children or ())
        base = "h-" + (slugify(text.replace("/", " ")) or "section")
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        heading.attrSet("id", anchor)
        headings.append(Heading(int(heading.tag[1]), text, anchor))
    state.env["headings"] = headings


_ALIGNMENT = re.compile(r"text-align:\s*(left|center|right)")


def _align_with_classes(state: StateCore) -> None:
    """markdown-it aligns table cells with ``style=``; the CSP forbids that, so use a class."""
    for token in state.tokens:
        if token.type not in ("th_open", "td_open"):
            continue
        if alignment := _ALIGNMENT.search(str(token.attrs.pop("style", ""))):
            token.attrSet("class", f"align-{alignment.group(1)}")


# --- plain text for the search index ----------------------------------------------------------


def _inline_text(children: Iterable[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":  # its alt text is its children
            parts.append(_inline_text(child.children or ()))
    return "".join(parts)


def _plain_text(tokens: Iterable[Token]) -> str:
    blocks = (
        _inline_text(token.children or ()) if token.type == "inline" else token.content
        for token in tokens
        if token.type in ("inline", "fence", "code_block")
    )
    return "\n".join(block.strip() for block in blocks if block.strip())


# --- the parser, built once -------------------------------------------------------------------


def _build_markdown() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark", {"html": False, "linkify": False})
        .enable(["table", "strikethrough"])
        .use(tasklists_plugin, label=True)  # disabled checkboxes, labelled by their item
        .use(footnote_plugin)
    )
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.core.ruler.push("heading_anchors", _anchor_headings)
    md.core.ruler.push("table_alignment", _align_with_classes)
    md.add_render_rule("wikilink_open", _render_wikilink_open)
    md.add_render_rule("wikilink_close", lambda *_: "</a>")
    md.add_render_rule("fence", _render_fence)
    return md


_MD = _build_markdown()

"""Markdown → safe HTML: markdown-it-py, then wiki links, then Pygments, then nh3.

Pure functions, no Flask and no database: the caller says which link targets exist.
Raw HTML in the source is disabled at the parser, and nh3 cleans the result anyway with the
allow-list below, so a bug in any plugin still cannot put script into a page.
"""

import html as html_entities
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlencode

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import table as table_rule
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.footnote import footnote_plugin
from pygments import format as format_tokens
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Error
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
    link_titles: Mapping[str, str]  # each target's title, as its first link wrote it
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
        link_titles=links,
        headings=headings,
        text=_plain_text(tokens),
    )


def rewrite_wikilinks(markdown: str, old_slug: str, new_title: str) -> str:
    """Point every ``[[...]]`` link to *old_slug* at *new_title*, keeping labels.

    ``[[Old]]`` becomes ``[[New]]``, ``[[Old|see this]]`` becomes ``[[New|see this]]``,
    ``[[Old#Part]]`` becomes ``[[New#Part]]``.
    Code blocks are left exactly as they are.
    """
    lines = markdown.split("\n")
    in_code = set()
    for token in _MD.parse(markdown, {}):
        if token.type in {"fence", "code_block"} and token.map:
            in_code.update(range(*token.map))

    def retarget(match: re.Match) -> str:
        target, bar, label = match.group(1).partition("|")
        title, hash_sign, section = target.partition("#")
        if slugify(title.strip()) != old_slug:
            return match.group(0)
        return f"[[{new_title}{hash_sign}{section}{bar}{label}]]"

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


# --- wiki links: [[Title]], [[Title|label]], [[Title#Section]], [[#Section]] -----------------

# Stored HTML links from the site's root, as the URL map's pages.view and pages.edit (a test
# checks); :func:`under_root` puts them under the path the app is served from, when shown.
PAGE_PATH, EDIT_PATH = "/wiki/", "/edit/"

# No brackets or newlines inside and a length cap, so a failed match scans at most 300
# characters: 5,000 "[[" in a row stay linear.
_WIKILINK = re.compile(r"\[\[([^\[\]\n]{1,300})\]\]")


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    if state.linkLevel > 0:  # no links inside a link's label
        return False
    match = _WIKILINK.match(state.src, state.pos, state.posMax)
    if not match:
        return False
    target, _, label = match.group(1).partition("|")
    target, label = target.strip(), label.strip()
    title, _, section = (part.strip() for part in target.partition("#"))
    slug = slugify(title)
    anchor = heading_anchor(section) if section else ""
    if not slug and (title or not anchor):  # [[ ]] or [[!!!]]: leave the text alone
        return False
    if not silent:
        link = state.push("wikilink_open", "a", 1)
        link.meta = {"slug": slug, "title": title, "anchor": anchor}
        state.push("text", "", 0).content = label or target
        state.push("wikilink_close", "a", -1)
    state.pos = match.end()
    return True


def _render_wikilink_open(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    slug, title, anchor = (tokens[idx].meta[key] for key in ("slug", "title", "anchor"))
    if not slug:  # [[#Section]]: a heading of this page
        return f'<a class="wikilink" href="#{escapeHtml(anchor)}">'
    return _wikilink_open_tag(slug, title, anchor, slug in env["existing"])


def _wikilink_open_tag(slug: str, title: str, anchor: str, exists: bool) -> str:
    """A link to an existing page carries its title, a red link its section, so that
    :func:`relink` can turn one into the other without the Markdown."""
    path = quote(slug, safe="/")
    fragment = f"#{anchor}" if anchor else ""
    if exists:
        return (f'<a class="wikilink" href="{PAGE_PATH}{path}{escapeHtml(fragment)}" '
                f'title="{escapeHtml(title)}">')
    href = escapeHtml(f"{EDIT_PATH}{path}?{urlencode({'title': title})}{fragment}")
    return f'<a class="wikilink wikilink-missing" href="{href}" title="create this page">'


# A wiki link's opening tag as the sanitiser writes it: attribute values are always quoted,
# with any quote inside escaped, so no value can end the match early.
_WIKILINK_TAG = re.compile(
    r'<a class="wikilink(?: wikilink-missing)?" href="(' + re.escape(PAGE_PATH) + "|"
    + re.escape(EDIT_PATH) + r')([^"?#]*)(\?[^"#]*)?'
    r'(#[^"]*)?"(?: title="([^"]*)")? rel="noopener noreferrer">'
)


def relink(html: str, slugs: set[str], existing: set[str]) -> str:
    """Turn the wiki links to *slugs* in rendered *html* blue (those in *existing*) or red.

    One pass over the HTML with a regular expression, no Markdown parsing: what a page that
    links to a new or deleted page costs stays linear in its rendered size.
    """

    def retag(match: re.Match) -> str:
        kind, path, query, fragment, title = match.groups()
        slug = unquote(path)
        if slug not in slugs:
            return match.group(0)
        if kind == EDIT_PATH:
            title = parse_qs(html_entities.unescape(query or "?")[1:]).get("title", [slug])[0]
        else:  # HTML stored before links carried their title has none: the slug stands in
            title = html_entities.unescape(title) if title is not None else slug
        anchor = html_entities.unescape(fragment or "#")[1:]
        tag = _wikilink_open_tag(slug, title, anchor, slug in existing)
        return _sanitise(tag + "</a>").removesuffix("</a>")  # as render() writes it

    return _WIKILINK_TAG.sub(retag, html)


_WIKILINK_OPENINGS = ('<a class="wikilink" href="/', '<a class="wikilink wikilink-missing" href="/')


def under_root(html: str, root: str) -> str:
    """Rendered *html* as stored, its wiki links under *root*, the path the app is served
    from (``request.script_root``, e.g. ``/wiki-app`` behind a proxy); *root* ``""`` leaves it.

    Two plain replacements, no parsing: only our own wiki links start this way, the
    sanitiser writing every tag's attributes in this order and escaping all text.
    """
    segments = root.strip("/")
    if not segments:
        return html
    rooted = escapeHtml(quote("/" + segments, safe="/"))  # never "//host": not another site
    for opening in _WIKILINK_OPENINGS:
        html = html.replace(opening, opening[:-1] + rooted + "/")
    return html


def _link_targets(tokens: Iterable[Token]) -> dict[str, str]:
    """The slug of each ``[[...]]`` target, with the title its first link gives it."""
    targets: dict[str, str] = {}
    for token in tokens:
        if token.type != "inline":
            continue
        for child in token.children or ():
            if child.type == "wikilink_open" and child.meta["slug"]:
                targets.setdefault(child.meta["slug"], child.meta["title"])
    return targets


# --- fenced code: Pygments for a named, known language, plain escaped text otherwise ----------

_FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True)

# Some Pygments lexers backtrack badly: the systemd lexer takes cubic time on a long line of
# blanks, scanning past line ends for a "=" and failing at every character. So highlighting
# has a budget: lines up to this long, this many characters in a page, and no lexing error;
# beyond it the code is shown plain. A failed match ends in an error token, so stopping at
# the first one keeps a lexer from failing at every character of the fence in turn.
MAX_HIGHLIGHTED_LINE = 500
MAX_HIGHLIGHTED_CHARS = 100_000


def _render_fence(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    language = token.info.split(maxsplit=1)[0] if token.info.strip() else ""
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is not None:  # never guess: a wrong guess colours prose as code
        highlighted = _highlighted(token.content, lexer, env)
        if highlighted is not None:
            return highlighted
    return f"<pre><code>{escapeHtml(token.content)}</code></pre>\n"


def _highlighted(code: str, lexer: Lexer, env: EnvType) -> str | None:
    """*code* highlighted as HTML, or None when that would exceed the page's budget."""
    budget = env.setdefault("highlight_budget", MAX_HIGHLIGHTED_CHARS)
    if len(code) > budget or max(map(len, code.split("\n"))) > MAX_HIGHLIGHTED_LINE:
        return None
    env["highlight_budget"] = budget - len(code)
    lexed = []
    for kind, text in lexer.get_tokens(code):
        if kind in Error:
            return None
        lexed.append((kind, text))
    return format_tokens(lexed, _FORMATTER)


# --- core rules: heading anchors, task lists, table alignment ---------------------------------


def heading_anchor(text: str) -> str:
    """The id of the first heading with this text: ``[[Page#Text]]`` links to it."""
    return "h-" + (slugify(text.replace("/", " ")) or "section")


def _anchor_headings(state: StateCore) -> None:
    """Give each heading an ``h-`` id (never one of the page's own ids), unique in the page."""
    used: set[str] = set()
    next_suffix: dict[str, int] = {}  # per base: no suffix below it is free (linear, not n²)
    headings: list[Heading] = []
    for heading, inline in zip(state.tokens, state.tokens[1:], strict=False):
        if heading.type != "heading_open":
            continue
        text = _inline_text(inline.children or ())
        base = anchor = heading_anchor(text)
        n = next_suffix.get(base, 1)
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        next_suffix[base] = n
        used.add(anchor)
        heading.attrSet("id", anchor)
        headings.append(Heading(int(heading.tag[1]), text, anchor))
    state.env["headings"] = headings


_TASK = re.compile(r"\[([ xX])\][ \t\n\v\f\r]")


def _task_lists(state: StateCore) -> None:
    """``- [ ] todo`` and ``- [x] done`` items become disabled, labelled checkboxes.

    As mdit_py_plugins' tasklists plugin renders them, but in one pass: the plugin walks
    back to each item's list, which made 12,000 items take seconds. A stack of open lists
    knows it at once.
    """
    tokens = state.tokens
    open_lists: list[Token] = []
    for index, token in enumerate(tokens):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            open_lists.append(token)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            open_lists.pop()
        elif (
            token.type == "inline" and index >= 2 and open_lists
            and tokens[index - 1].type == "paragraph_open"
            and tokens[index - 2].type == "list_item_open"
            and (task := _TASK.match(token.content))
            and token.children and token.children[0].type == "text"
            and token.children[0].content.startswith(task.group(0)[:3])
        ):
            _make_task(token, checked=task.group(1) != " ")
            tokens[index - 2].attrSet("class", "task-list-item")
            open_lists[-1].attrSet("class", "contains-task-list")


def _make_task(inline: Token, checked: bool) -> None:
    checkbox = Token("html_inline", "", 0)
    checked_attribute = ' checked="checked"' if checked else ""
    checkbox.content = (
        f'<input class="task-list-item-checkbox"{checked_attribute} '
        'disabled="disabled" type="checkbox">'
    )
    children = inline.children or []
    children[0].content = children[0].content[3:]  # the "[ ]"
    inline.content = inline.content[3:]
    label_open, label_close = Token("html_inline", "", 0), Token("html_inline", "", 0)
    label_open.content, label_close.content = "<label>", "</label>"
    inline.children = [label_open, checkbox, *children, label_close]


# Each table cell costs a parse of its own: 1 MB of table took seconds. Beyond this many
# cells in a page, the rest of a table is shown as the text it was written as.
MAX_TABLE_CELLS = 20_000


def _table_within_budget(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """markdown-it's table rule, given only the rows the page's cell budget still allows;
    the rows beyond them follow as a code block."""
    cells_left = state.env.setdefault("table_cells_left", MAX_TABLE_CELLS)
    header = state.src[state.bMarks[start_line] : state.eMarks[start_line]]
    columns = header.strip().removeprefix("|").removesuffix("|").count("|") + 1  # or more
    rows = cells_left // columns - 1  # besides the header
    if rows < 0:
        return False
    tokens_before = len(state.tokens)
    cut_at = start_line + 2 + rows
    if not table_rule(state, start_line, min(end_line, cut_at), silent):
        return False
    if silent:
        return True
    state.env["table_cells_left"] = cells_left - sum(
        token.type in ("th_open", "td_open") for token in state.tokens[tokens_before:]
    )
    if state.line == cut_at < end_line:
        _rows_left_over(state, end_line)
    return True


def _rows_left_over(state: StateBlock, end_line: int) -> None:
    """The table's rows after where it was cut, as a code block: one token, however many."""
    first = last = state.line
    while (last < end_line and not state.isEmpty(last) and state.sCount[last] >= state.blkIndent
           and "|" in state.src[state.bMarks[last] : state.eMarks[last]]):
        last += 1
    if last > first:
        token = state.push("code_block", "code", 0)
        token.content = state.getLines(first, last, state.blkIndent, True)
        token.map = [first, last]
        state.line = last


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
        .use(footnote_plugin)
    )
    md.core.ruler.after("inline", "task_lists", _task_lists)
    md.block.ruler.at("table", _table_within_budget, {"alt": ["paragraph", "reference"]})
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.core.ruler.push("heading_anchors", _anchor_headings)
    md.core.ruler.push("table_alignment", _align_with_classes)
    md.add_render_rule("wikilink_open", _render_wikilink_open)
    md.add_render_rule("wikilink_close", lambda *_: "</a>")
    md.add_render_rule("fence", _render_fence)
    return md


_MD = _build_markdown()

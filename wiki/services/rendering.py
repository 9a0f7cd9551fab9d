"""Markdown → safe HTML: markdown-it-py, then wiki links, Pygments and MathML, then nh3.

Pure functions, no Flask and no database: the caller says which link targets exist.
Raw HTML in the source is disabled at the parser, and nh3 cleans the result anyway with the
allow-list below, so a bug in any plugin still cannot put script into a page.
"""

from __future__ import annotations

import functools
import html as html_entities
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlencode

from wiki.services import markdown_rules as rules
from wiki.services.contents import table_of_contents
from wiki.services.markdown_rules import Heading, escape_html, heading_anchor, inline_text
from wiki.services.slugs import slugify

if TYPE_CHECKING:  # markdown-it, its plugins and nh3 load with the first page rendered
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

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
# MathML Core's presentation elements, as latex2mathml writes them (wiki.services.mathml).
# Left out: what can hold HTML or act (annotation-xml, maction, semantics), mglyph and
# malignmark (known mutation-XSS gadgets); and of the attributes, every link, style, class
# and id (latex2mathml passes \href, \style and \class through).
MATHML_TAGS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "mtext", "ms", "mspace", "mfrac", "msqrt", "mroot",
    "msub", "msup", "msubsup", "munder", "mover", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose", "merror",
})  # fmt: skip
MATHML_ATTRIBUTES = {
    "math": {"display"}, "mi": {"mathvariant"}, "mn": {"mathvariant"}, "mtext": {"mathvariant"},
    "mo": {"stretchy", "fence", "separator", "form", "lspace", "rspace", "minsize", "maxsize",
           "movablelimits", "mathvariant", "largeop", "symmetric", "accent"},
    "mspace": {"width", "height", "depth", "linebreak"},
    "mfrac": {"linethickness"},
    "munder": {"accentunder"}, "mover": {"accent"}, "munderover": {"accent", "accentunder"},
    "mtable": {"columnalign", "columnspacing", "columnlines", "rowspacing", "rowlines",
               "displaystyle", "frame", "framespacing", "rowalign"},
    "mtr": {"columnalign", "rowalign"}, "mtd": {"columnalign", "rowalign"},
    "mstyle": {"displaystyle", "scriptlevel", "mathsize", "mathcolor", "mathbackground"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "menclose": {"notation"},
}  # fmt: skip
ALLOWED_TAGS = ALLOWED_TAGS | MATHML_TAGS
ALLOWED_ATTRIBUTES |= MATHML_ATTRIBUTES
# Every checkbox is a read-only checkbox, whatever produced it.
FORCED_ATTRIBUTES = {"input": {"type": "checkbox", "disabled": "disabled"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer"


# --- public API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    html: str  # sanitised HTML, safe to insert with |safe
    links: frozenset[str]  # slugs of every [[wiki link]] target
    link_titles: Mapping[str, str]  # each target's title, as its first link wrote it
    headings: tuple[Heading, ...]
    text: str  # the document as plain words, for the search index
    files: frozenset[str] = frozenset()  # bare file names linked or shown: the page's own


@dataclass(frozen=True)
class PageFiles:
    """Whose files a bare file name (``![flow](flow.png)``) means, and which of those exist."""

    slug: str
    existing: frozenset[str]


def render(
    markdown: str, existing: Callable[[set[str]], set[str]] = lambda slugs: slugs,
    files: Callable[[set[str]], PageFiles] | None = None,
) -> Rendered:
    """Render *markdown*; *existing* is asked once which of its link targets are pages, and
    *files* (when given) once whose page's attachments its bare file names are, and which
    exist. Without *files*, bare file names stay relative links."""
    env: EnvType = {}
    md = _markdown()
    tokens = md.parse(markdown, env)
    links = _link_targets(tokens)
    env["existing"] = existing(set(links)) if links else set()
    named = _bare_file_references(tokens)
    if named and files is not None:
        _point_at_attachments(named, files(set(named)))
    html = md.renderer.render(tokens, md.options, env)
    headings = tuple(env["headings"])
    return Rendered(
        html=table_of_contents(headings) + _sanitise(html),
        links=frozenset(links),
        link_titles=links,
        headings=headings,
        text=_plain_text(tokens),
        files=frozenset(named),
    )


def has_diagram(html: str) -> bool:
    """Whether rendered *html* holds a diagram, which the browser draws (static/js/diagrams.js)."""
    return rules.DIAGRAM_OPENING in html

@dataclass(frozen=True)
class PlacedHeading:
    """A heading at the top of the document (not in a quote, list or footnote), and where
    its lines are: *start* is its first line (0-based), *end* the line after its last."""

    heading: Heading
    start: int
    end: int


def top_level_headings(markdown: str) -> tuple[PlacedHeading, ...]:
    """The headings of *markdown* that stand at its top, in order, as the renderer finds them
    (ATX or setext, never a ``#`` line in code) and with the ids it gives them."""
    tokens = _markdown().parse(markdown, {})
    return tuple(
        PlacedHeading(Heading(int(token.tag[1]), inline_text(inline.children or ()),
                              str(token.attrGet("id"))), *token.map)
        for token, inline in zip(tokens, tokens[1:], strict=False)
        if token.type == "heading_open" and token.level == 0 and token.map
    )


def rewrite_wikilinks(markdown: str, old_slug: str, new_title: str) -> str:
    """Point every ``[[...]]`` link to *old_slug* at *new_title*, keeping labels.

    ``[[Old]]`` becomes ``[[New]]``, ``[[Old|see this]]`` becomes ``[[New|see this]]``,
    ``[[Old#Part]]`` becomes ``[[New#Part]]``.
    Code blocks are left exactly as they are.
    """
    lines = markdown.split("\n")
    in_code = set()
    for token in _markdown().parse(markdown, {}):
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


@functools.cache
def _cleaner():
    """The sanitiser, built on first use: not at start-up (a worker that renders nothing
    never loads nh3), and once (nh3.clean builds its allow-lists anew at each call, 0.2 ms,
    which a page's render pays once but relink() once per link it patches)."""
    import nh3

    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        set_tag_attribute_values=FORCED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def _sanitise(html: str) -> str:
    return _cleaner().clean(html)


# --- wiki links: [[Title]], [[Title|label]], [[Title#Section]], [[#Section]] -----------------

# Stored HTML links from the site's root, as the URL map's pages.view and pages.edit (a test
# checks); :func:`under_root` puts them under the path the app is served from, when shown.
PAGE_PATH, EDIT_PATH = "/wiki/", "/edit/"
# Likewise a page's files and its file list, as the attachments routes.
FILE_PATH, FILE_LIST_PATH = "/files/", "/attachments/"

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
        return f'<a class="wikilink" href="#{escape_html(anchor)}">'
    return _wikilink_open_tag(slug, title, anchor, slug in env["existing"])


def _wikilink_open_tag(slug: str, title: str, anchor: str, exists: bool) -> str:
    """A link to an existing page carries its title, a red link its section, so that
    :func:`relink` can turn one into the other without the Markdown."""
    path = quote(slug, safe="/")
    fragment = f"#{anchor}" if anchor else ""
    if exists:
        return (f'<a class="wikilink" href="{PAGE_PATH}{path}{escape_html(fragment)}" '
                f'title="{escape_html(title)}">')
    href = escape_html(f"{EDIT_PATH}{path}?{urlencode({'title': title})}{fragment}")
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


def linked_pages(html: str) -> set[str]:
    """The slugs rendered *html* links to as existing pages (its blue wiki links)."""
    return {unquote(match[2]) for match in _WIKILINK_TAG.finditer(html) if match[1] == PAGE_PATH}


_WIKILINK_OPENINGS = ('<a class="wikilink" href="/', '<a class="wikilink wikilink-missing" href="/')
# Links and images to attached files (bare file names, or a path written in the Markdown).
_FILE_OPENINGS = (f'<img src="{FILE_PATH}', f'<a href="{FILE_PATH}', f'<a href="{FILE_LIST_PATH}')


def under_root(html: str, root: str) -> str:
    """Rendered *html* as stored, its wiki links and file links under *root*, the path the
    app is served from (``request.script_root``, e.g. ``/wiki-app`` behind a proxy); *root*
    ``""`` leaves it.

    Plain replacements, no parsing: only our own links start this way, the sanitiser
    writing every tag's attributes in this order and escaping all text.
    """
    segments = root.strip("/")
    if not segments:
        return html
    rooted = escape_html(quote("/" + segments, safe="/"))  # never "//host": not another site
    for opening in _WIKILINK_OPENINGS:
        html = html.replace(opening, opening[:-1] + rooted + "/")
    for opening in _FILE_OPENINGS:
        html = html.replace(opening, opening.replace('"/', f'"{rooted}/', 1))
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


# --- attachments: a bare file name is the page's own file ------------------------------------

# A link or image target that is only a file name: no scheme, no path, an extension.
_BARE_FILE_NAME = re.compile(r"[^/\\:?#\s]+\.[A-Za-z0-9]{1,10}")


def _bare_file_references(tokens: Iterable[Token]) -> dict[str, list[Token]]:
    """The link and image tokens of each bare file name."""
    named: dict[str, list[Token]] = {}
    for token in tokens:
        for child in token.children or () if token.type == "inline" else ():
            target = child.attrGet("href" if child.type == "link_open" else "src")
            if child.type not in ("link_open", "image") or not isinstance(target, str):
                continue
            name = unquote(target)
            if _BARE_FILE_NAME.fullmatch(name):
                named.setdefault(name, []).append(child)
    return named


def _point_at_attachments(named: dict[str, list[Token]], files: PageFiles) -> None:
    """Point bare file names at the page's files; a missing one becomes a red link to the
    page's upload form, an image showing its description as the link's text."""
    page = quote(files.slug, safe="/")
    for name, tokens in named.items():
        for token in tokens:
            if name in files.existing:
                token.attrSet("href" if token.type == "link_open" else "src",
                              f"{FILE_PATH}{page}/{quote(name)}")
                continue
            token.attrs = {"href": f"{FILE_LIST_PATH}{page}", "class": "attachment-missing",
                           "title": f"upload {name}"}
            if token.type == "image":
                token.type = "missing_image"


def _render_missing_image(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    description = inline_text(token.children or ())
    return f"<a{renderer.renderAttrs(token)}>{escape_html(description)}</a>"


# --- plain text for the search index ----------------------------------------------------------


def _plain_text(tokens: Iterable[Token]) -> str:
    blocks = (
        inline_text(token.children or ()) if token.type == "inline" else token.content
        for token in tokens
        if token.type in ("inline", "fence", "code_block", "math_block")
    )
    return "\n".join(block.strip() for block in blocks if block.strip())


# --- the parser, built once, when first needed -----------------------------------------------


@functools.cache
def _markdown() -> MarkdownIt:
    """The parser, built on first use: markdown-it-py, its plugins and the rules' Pygments
    cost start-up a twentieth of its work, and a worker serving stored pages never needs them."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.dollarmath.index import math_inline_dollar
    from mdit_py_plugins.footnote import footnote_plugin

    md = (
        MarkdownIt("commonmark", {"html": False, "linkify": False})
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
        # Pandoc's rules, so prices stay text ("$5 and $10"): no space inside the dollars,
        # no digit just outside them (not_next_to_digits), display math ends at a blank line.
        .use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_blank_lines=False,
             double_inline=True)
    )
    md.inline.ruler.at("math_inline", rules.not_next_to_digits(
        math_inline_dollar(allow_space=False, allow_digits=True, allow_double=True)))
    md.core.ruler.after("inline", "task_lists", rules.task_lists)
    md.block.ruler.at("table", rules.table_within_budget, {"alt": ["paragraph", "reference"]})
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.core.ruler.push("heading_anchors", rules.anchor_headings)
    md.core.ruler.push("table_alignment", rules.align_with_classes)
    md.add_render_rule("wikilink_open", _render_wikilink_open)
    md.add_render_rule("wikilink_close", lambda *_: "</a>")
    md.add_render_rule("missing_image", _render_missing_image)
    md.add_render_rule("fence", rules.render_fence)
    md.add_render_rule("math_inline", rules.render_math_inline)
    md.add_render_rule("math_inline_double", rules.render_math_inline)
    md.add_render_rule("math_block", rules.render_math_block)
    return md

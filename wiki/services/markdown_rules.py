"""The parser's own rules, added to markdown-it in ``rendering``: fenced code highlighted
within a budget, Mermaid diagrams left to the browser, math typeset as MathML within a
budget, heading anchors, task lists, tables within a budget and aligned by class. Each runs
in one pass, so no page within the size limit takes long to render."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wiki.services.mathml import to_mathml
from wiki.services.slugs import slugify

# This module is imported at start-up (for Heading and escape_html) but its rules run only
# inside the parser: markdown-it and Pygments are imported where used, with the first page
# rendered (wiki.services.rendering builds the parser on first use).
if TYPE_CHECKING:
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict
    from pygments.formatters import HtmlFormatter
    from pygments.lexer import Lexer

    InlineRule = Callable[[StateInline, bool], bool]


def escape_html(text: str) -> str:
    """markdown-it's escaping (``&``, ``<``, ``>`` and ``"``, not ``'``), without loading
    markdown-it: the views and the table of contents escape this way too."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str  # the full id attribute, e.g. "h-what-is-flask"


# --- fenced code: Pygments for a named, known language, plain escaped text otherwise ----------

@functools.cache
def _formatter() -> HtmlFormatter:
    from pygments.formatters import HtmlFormatter  # with the first code highlighted

    return HtmlFormatter(cssclass="highlight", wrapcode=True)

# Some Pygments lexers backtrack badly: the systemd lexer takes cubic time on a long line of
# blanks, scanning past line ends for a "=" and failing at every character. So highlighting
# has a budget: lines up to this long, this many characters in a page, and no lexing error;
# beyond it the code is shown plain. A failed match ends in an error token, so stopping at
# the first one keeps a lexer from failing at every character of the fence in turn.
MAX_HIGHLIGHTED_LINE = 500
MAX_HIGHLIGHTED_CHARS = 100_000


def render_fence(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    language = token.info.split(maxsplit=1)[0] if token.info.strip() else ""
    if language == DIAGRAM_LANGUAGE:
        return _diagram(token.content)
    from pygments.lexers import get_lexer_by_name  # with the first fence: see the top
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is not None:  # never guess: a wrong guess colours prose as code
        highlighted = _highlighted(token.content, lexer, env)
        if highlighted is not None:
            return highlighted
    return f"<pre><code>{escape_html(token.content)}</code></pre>\n"


def _highlighted(code: str, lexer: Lexer, env: EnvType) -> str | None:
    """*code* highlighted as HTML, or None when that would exceed the page's budget."""
    budget = env.setdefault("highlight_budget", MAX_HIGHLIGHTED_CHARS)
    if len(code) > budget or max(map(len, code.split("\n"))) > MAX_HIGHLIGHTED_LINE:
        return None
    env["highlight_budget"] = budget - len(code)
    from pygments import format as format_tokens  # with the first fence: see the top
    from pygments.token import Error

    lexed = []
    for kind, text in lexer.get_tokens(code):
        if kind in Error:
            return None
        lexed.append((kind, text))
    return format_tokens(lexed, _formatter())


# --- diagrams: drawn in the browser, the source shown until then ----------------------------

DIAGRAM_LANGUAGE = "mermaid"
# How a diagram starts in stored HTML, as the sanitiser writes it: a page holding this needs
# the diagram script (static/js/diagrams.js), and nothing else does.
DIAGRAM_OPENING = '<div class="diagram">'


def _diagram(source: str) -> str:
    """The diagram's source as code: what readers without JavaScript see, and what
    diagrams.js reads and replaces with the drawing (or shows with Mermaid's error)."""
    return (f'{DIAGRAM_OPENING}<pre class="diagram__source"><code class="language-mermaid">'
            f"{escape_html(source)}</code></pre></div>\n")


# --- math: TeX typeset as MathML on the server, within a budget -------------------------------

# Characters of TeX typeset per page (each formula costs its length plus MATH_FORMULA_COST:
# the conversion's own overhead). Beyond it formulas are shown as their source; a formula
# repeated costs once, so "$x$ " * 20,000 typesets one formula. Together with
# mathml.MAX_FORMULA_CHARS this bounds the worst page: ten of the costliest formulas.
MAX_MATH_CHARS = 10_000
MATH_FORMULA_COST = 5


def not_next_to_digits(rule: InlineRule) -> InlineRule:
    """*rule* (dollarmath's inline rule), refusing math with a digit just before its opening
    ``$`` or just after its closing one, so "$5-$10" stays text.

    The plugin's own check (``allow_digits=False``) reads the character before a paragraph's
    first ``$`` as its *last* one (index -1), so "$x$ costs 5" was never math.
    """

    def guarded(state: StateInline, silent: bool) -> bool:
        start = state.pos
        if state.src[start] != "$" or (start > 0 and state.src[start - 1].isdigit()):
            return False
        if not rule(state, True):  # a dry run: it only moves state.pos past the closing $
            return False
        end, state.pos = state.pos, start
        if end < len(state.src) and state.src[end].isdigit():
            return False
        return rule(state, silent)

    return guarded


def render_math_inline(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    display = tokens[idx].type == "math_inline_double"  # $$x$$ within a line of text
    return _math(tokens[idx].content, display, block=False, env=env)


def render_math_block(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    html = _math(tokens[idx].content, display=True, block=True, env=env)
    # A wide formula scrolls in its own box rather than widening the page (phones).
    return (f'<div class="math-display">{html}</div>' if html.startswith("<math") else html) + "\n"


def _math(tex: str, display: bool, block: bool, env: EnvType) -> str:
    """*tex* as MathML, or as code (*block*: a block of it) when over the budget or wrong."""
    tex = tex.strip()
    key = (tex, display, block)
    typeset: dict[tuple[str, bool, bool], str] = env.setdefault("typeset_math", {})
    if key in typeset:
        return typeset[key]
    budget = env.setdefault("math_budget", MAX_MATH_CHARS)
    cost = len(tex) + MATH_FORMULA_COST
    if cost > budget:
        return _math_source(tex, block)
    env["math_budget"] = budget - cost
    formula = to_mathml(tex, display)
    html = formula.mathml if formula.mathml is not None else _math_source(tex, block, formula.error)
    typeset[key] = html
    return html


def _math_source(tex: str, block: bool, error: str = "") -> str:
    """A formula as its TeX, marked as an error with its reason when there is one."""
    code = f"<code>{escape_html(tex)}</code>"
    if not error:
        return f'<pre class="math-source">{code}</pre>' if block else code
    message = f"TeX error: {escape_html(error)}"
    if block:
        return (f'<div class="math-error"><pre>{code}</pre>'
                f'<div class="math-error__message">{message}</div></div>')
    return (f'<span class="math-error">{code} '
            f'<span class="math-error__message">({message})</span></span>')


# --- core rules: heading anchors, task lists, table alignment ---------------------------------


def heading_anchor(text: str) -> str:
    """The id of the first heading with this text: ``[[Page#Text]]`` links to it."""
    return "h-" + (slugify(text.replace("/", " ")) or "section")


def anchor_headings(state: StateCore) -> None:
    """Give each heading an ``h-`` id (never one of the page's own ids), unique in the page."""
    used: set[str] = set()
    next_suffix: dict[str, int] = {}  # per base: no suffix below it is free (linear, not n²)
    headings: list[Heading] = []
    for heading, inline in zip(state.tokens, state.tokens[1:], strict=False):
        if heading.type != "heading_open":
            continue
        text = inline_text(inline.children or ())
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


def task_lists(state: StateCore) -> None:
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
    from markdown_it.token import Token  # loaded with the parser: see the top

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


def table_within_budget(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
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
    from markdown_it.rules_block.table import table as table_rule  # loaded with the parser

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


def align_with_classes(state: StateCore) -> None:
    """markdown-it aligns table cells with ``style=``; the CSP forbids that, so use a class."""
    for token in state.tokens:
        if token.type not in ("th_open", "td_open"):
            continue
        if alignment := _ALIGNMENT.search(str(token.attrs.pop("style", ""))):
            token.attrSet("class", f"align-{alignment.group(1)}")


def inline_text(children: Iterable[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "math_inline", "math_inline_double"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":  # its alt text is its children
            parts.append(inline_text(child.children or ()))
    return "".join(parts)

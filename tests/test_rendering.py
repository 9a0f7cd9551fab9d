"""The Markdown renderer: features, wiki links, and that hostile input never yields live HTML.

Assertions are made on the parsed DOM (stdlib ``html.parser``), not on substrings.
"""

import html
import re
import sys
from html.parser import HTMLParser

import pytest
from latex2mathml.converter import convert as latex2mathml_convert
from pygments.lexer import RegexLexer

from tests.helpers import save_page, textarea
from wiki.services import mathml
from wiki.services.markdown_rules import (
    MAX_HIGHLIGHTED_CHARS,
    MAX_MATH_CHARS,
    MAX_TABLE_CELLS,
    Heading,
)
from wiki.services.rendering import MATHML_TAGS, render, rewrite_wikilinks

Element = tuple[str, dict[str, str | None]]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.raw_attributes: list[tuple[str, str | None]] = []  # keeps duplicates a dict drops

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self.raw_attributes.extend(attrs)

    handle_startendtag = handle_starttag


def parse(fragment: str) -> _Collector:
    collector = _Collector()
    collector.feed(fragment)
    collector.close()
    return collector


def elements(markdown: str, **kwargs) -> list[Element]:
    return parse(render(markdown, **kwargs).html).elements


def find(found: list[Element], tag: str, **attrs: str) -> list[dict[str, str | None]]:
    return [a for t, a in found if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def classes(attrs: dict[str, str | None]) -> set[str]:
    return set((attrs.get("class") or "").split())


# --- Markdown features ------------------------------------------------------------------------


def test_table_alignment_becomes_a_class_not_a_style():
    found = elements("| L | C | R |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n")
    cells = find(found, "th") + find(found, "td")
    assert [a.get("class") for a in cells] == ["align-left", "align-center", "align-right"] * 2
    assert not any("style" in a for _, a in found)


def test_strikethrough():
    assert [t for t, _ in elements("~~gone~~")] == ["p", "s"]


def test_task_list_renders_disabled_checkboxes():
    found = elements("- [ ] todo\n- [x] done\n")
    boxes = find(found, "input", type="checkbox")
    assert len(boxes) == 2
    assert all("disabled" in box for box in boxes)
    assert ["checked" in box for box in boxes] == [False, True]


def test_footnote_reference_and_back_link_point_at_each_other():
    found = elements("Claim.[^src]\n\n[^src]: The source.\n")
    (ref,) = [a for t, a in found if t == "a" and a.get("id")]
    (back,) = [a for a in find(found, "a") if "footnote-backref" in classes(a)]
    (note,) = [a for a in find(found, "li") if a.get("id")]
    assert ref["href"] == f"#{note['id']}"
    assert back["href"] == f"#{ref['id']}"
    assert find(found, "sup", **{"class": "footnote-ref"})
    assert find(found, "section", **{"class": "footnotes"})


def test_heading_anchors_are_prefixed_and_deduplicated():
    result = render(
        "# What is Flask?\n\n## What is Flask?\n\n### What is Flask?\n\n## *Styled* `code`\n"
    )
    headings = [a for t, a in parse(result.html).elements if t in {"h1", "h2", "h3"}]
    ids = [a["id"] for a in headings if "class" not in a]  # the table of contents' own h2 aside
    assert ids == ["h-what-is-flask", "h-what-is-flask-2", "h-what-is-flask-3", "h-styled-code"]
    assert result.headings == (
        Heading(1, "What is Flask?", "h-what-is-flask"),
        Heading(2, "What is Flask?", "h-what-is-flask-2"),
        Heading(3, "What is Flask?", "h-what-is-flask-3"),
        Heading(2, "Styled code", "h-styled-code"),
    )


def test_heading_without_sluggable_text_still_gets_an_id():
    (heading,) = find(elements("# !!!"), "h1")
    assert heading["id"] == "h-section"


def test_python_fence_is_highlighted_with_classes():
    found = elements("```python\ndef f():\n    return 1\n```\n")
    assert find(found, "div", **{"class": "highlight"})
    span_classes = {a.get("class") for a in find(found, "span")}
    assert {"k", "nf"} <= span_classes  # keyword, function name
    assert not any("style" in a for _, a in found)


@pytest.mark.parametrize("info", ["", "no-such-language", '"><script>'])
def test_unknown_or_missing_language_is_plain_escaped_code(info):
    result = render(f"```{info}\n<b>bold?</b>\n```\n")
    assert parse(result.html).elements == [("pre", {}), ("code", {})]
    assert "<b>bold?</b>" in html.unescape(result.html)


def test_indented_code_is_plain():
    assert elements("    x = 1\n") == [("pre", {}), ("code", {})]


# --- wiki links -------------------------------------------------------------------------------


def test_existing_wiki_link_both_forms():
    result = render("[[Flask vs Web Server]] and [[Flask/Routing|routes]]")
    links = find(parse(result.html).elements, "a")
    assert [a["href"] for a in links] == ["/wiki/flask-vs-web-server", "/wiki/flask/routing"]
    assert all(classes(a) == {"wikilink"} for a in links)
    assert "Flask vs Web Server and routes" in result.text
    assert result.links == {"flask-vs-web-server", "flask/routing"}


def test_missing_page_is_a_red_link_to_the_editor():
    result = render("See [[New & Shiny|this]].", existing=lambda slugs: set())
    (link,) = find(parse(result.html).elements, "a")
    assert classes(link) == {"wikilink", "wikilink-missing"}
    assert link["title"] == "create this page"
    assert link["href"] == "/edit/new-shiny?title=New+%26+Shiny"


def test_existing_is_asked_once_with_every_target():
    calls: list[set[str]] = []

    def existing(slugs: set[str]) -> set[str]:
        calls.append(set(slugs))
        return {"alpha"}

    found = elements("[[Alpha]] [[Beta]] [[alpha|again]]", existing=existing)
    assert calls == [{"alpha", "beta"}]
    assert [classes(a) for a in find(found, "a")] == [
        {"wikilink"},
        {"wikilink", "wikilink-missing"},
        {"wikilink"},
    ]


def test_no_links_means_no_query():
    def existing(slugs: set[str]) -> set[str]:
        raise AssertionError("should not be called")

    render("no links here", existing=existing)


@pytest.mark.parametrize(
    "markdown",
    ["`[[Inline]]`", "```\n[[Fenced]]\n```", "    [[Indented]]", "[[ ]]", "[[!!!]]", "[[a\nb]]"],
)
def test_text_that_is_not_a_wiki_link(markdown):
    result = render(markdown)
    assert find(parse(result.html).elements, "a") == []
    assert result.links == frozenset()


def test_wiki_link_inside_a_link_label_is_not_nested():
    # As with [a [b](c)](d) in CommonMark, the inner link wins and the outer stays text.
    found = elements("[see [[Other]]](https://example.com)")
    assert [a["href"] for a in find(found, "a")] == ["/wiki/other"]


def test_render_finds_the_wiki_link_targets():
    markdown = "# T\n\n[[One]], [[Two|2]], `[[Three]]`, [[Flask/Routing]]\n\n- [[Four]]\n"
    assert render(markdown).links == {"one", "two", "flask/routing", "four"}


def test_unicode_slug_is_url_quoted():
    (link,) = find(elements("[[日本語]]"), "a")
    assert link["href"] == "/wiki/%E6%97%A5%E6%9C%AC%E8%AA%9E"


# --- plain text -------------------------------------------------------------------------------


def test_text_is_words_without_markup():
    result = render(
        "# Title\n\nSome *emphasis*, **strong** and `code()`.\n\n"
        "[a link](https://example.com) ![alt words](/x.png)\n\n```\nfenced code\n```\n"
    )
    assert result.text.split("\n") == [
        "Title",
        "Some emphasis, strong and code().",
        "a link alt words",
        "fenced code",
    ]


# --- hostile input ----------------------------------------------------------------------------

FORBIDDEN_TAGS = {
    "script", "style", "iframe", "svg", "form", "meta", "base", "object", "embed", "math",
    "link", "frame", "frameset", "textarea", "button", "template",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "xlink:href", "data", "poster"}
SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x20\x7f]+")


def scheme_of(url: str) -> str | None:
    """The scheme a browser would see: entities decoded, whitespace and controls dropped.

    Percent-escapes are left alone on purpose: browsers never decode them in a scheme, so
    ``%6Aavascript:x`` is a harmless relative path.
    """
    cleaned = _IGNORED_BY_BROWSERS.sub("", html.unescape(url)).lower()
    match = _SCHEME.match(cleaned)
    return match.group(1) if match else None


B64 = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="
HOSTILE = [
    # inline links, every spelling of javascript:
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](<java\tscript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](   \njavascript:alert(1))",
    "[x](<\x01javascript:alert(1)>)",
    "[x](vbscript:msgbox(1))",
    f"[x](data:text/html;base64,{B64})",
    '[x](/ "\\" onmouseover=\\"alert(1)")',
    # images
    "![x](javascript:alert(1))",
    f"![x](data:image/svg+xml;base64,{B64})",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    '![x" onerror="alert(1)](/a.png)',
    # reference links and autolinks
    "[x][r]\n\n[r]: javascript:alert(1)",
    "[x][r]\n\n[r]: &#x6A;avascript:alert(1)",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    f"<data:text/html;base64,{B64}>",
    "<vbscript:msgbox(1)>",
    # footnotes
    "x[^1]\n\n[^1]: [y](javascript:alert(1)) <script>alert(1)</script>",
    "x^[<img src=x onerror=alert(1)>]",
    "x[^<script>]\n\n[^<script>]: y",
    # raw HTML
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    "<style>body{display:none}</style>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<form action=javascript:alert(1)><button>x</button></form>",
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<!-- <script>alert(1)</script> -->",
    "text <b onclick=alert(1)>inline</b> <scr<script>ipt>alert(1)</script>",
    # HTML in headings, wiki links, tables, task lists, fences
    "# <script>alert(1)</script>\n\n## <img src=x onerror=alert(1)>",
    "[[<script>alert(1)</script>|x]]",
    "[[x|<img src=x onerror=alert(1)>]]",
    '[[x" onmouseover="alert(1)|y]]',
    "[[javascript:alert(1)]]",
    "[[//evil.example/x]]",
    "| <script>x</script> | <img src=x onerror=alert(1)> |\n|---|:-:|\n"
    "| <svg onload=alert(1)> | [x](javascript:alert(1)) |",
    "- [ ] <script>alert(1)</script>\n- [x] <img src=x onerror=alert(1)> [y](javascript:z)",
    '```"><script>alert(1)</script>\nx\n```',
    '```python" onmouseover="alert(1)\nx = 1\n```',
    "```html\n<script>alert(1)</script>\n```",
]


def assert_no_live_html(parsed: _Collector, forbidden: set[str] = FORBIDDEN_TAGS) -> None:
    assert not forbidden & {tag for tag, _ in parsed.elements}
    for name, value in parsed.raw_attributes:
        assert not name.startswith("on"), name
        assert name != "style"
        if name in URL_ATTRIBUTES:
            assert scheme_of(value or "") in SAFE_SCHEMES | {None}, value


@pytest.mark.parametrize("markdown", HOSTILE)
def test_hostile_input_never_yields_live_html(markdown):
    assert_no_live_html(parse(render(markdown, existing=lambda slugs: set()).html))


@pytest.mark.parametrize("markdown", [markdown for markdown in HOSTILE if "[[" in markdown])
def test_hostile_wiki_link_targets_are_plain_slugs(markdown):
    for slug in render(markdown).links:
        assert re.fullmatch(r"[\w/-]+", slug), slug


def test_raw_html_is_shown_as_text():
    result = render("<script>alert(1)</script>")
    assert parse(result.html).elements == [("p", {})]
    assert "<script>alert(1)</script>" in html.unescape(result.html)


# --- math -------------------------------------------------------------------------------------


def math_elements(markdown: str) -> list[Element]:
    return [(tag, attrs) for tag, attrs in elements(markdown) if tag in MATHML_TAGS]


def test_inline_math_is_mathml():
    result = render("Energy: $E = mc^2$.")
    found = parse(result.html).elements
    assert [tag for tag, _ in found][:2] == ["p", "math"]
    assert find(found, "math", display="inline")
    assert find(found, "msup") and [t for t, _ in found].count("mi") == 3  # E, m, c
    assert "Energy: E = mc^2." in result.text  # searchable by its source


def test_display_math_is_a_block_of_mathml():
    result = render("Before.\n\n$$\n\\frac{a}{b} = \\sqrt{x}\n$$\n\nAfter.")
    found = parse(result.html).elements
    assert find(found, "div", **{"class": "math-display"})
    assert find(found, "math", display="block")
    assert find(found, "mfrac") and find(found, "msqrt")
    assert "\\frac{a}{b} = \\sqrt{x}" in result.text


def test_double_dollars_within_a_line_are_display_math_in_the_paragraph():
    found = elements("so $$x^2$$ follows")
    assert [tag for tag, _ in found][:2] == ["p", "math"]
    assert find(found, "math", display="block")


@pytest.mark.parametrize("markdown", [
    "It costs $5 and $10.", "$5-$10", "from $20,000 to $30,000", "$ x $", "a5$x$", "$x$5",
    "\\$x\\$", "\\$x$", "`$x$`", "```\n$x$\n```", "    $x$", "$$\n\nx\n$$",
])
def test_text_that_is_not_math(markdown):
    result = render(markdown)
    assert math_elements(markdown) == []
    assert "$" in html.unescape(result.html)


def test_code_keeps_its_dollars_exactly():
    result = render("`$x$` and\n\n```\n$$y$$\n```\n")
    assert [tag for tag, _ in parse(result.html).elements] == ["p", "code", "pre", "code"]
    assert "$x$" in html.unescape(result.html) and "$$y$$" in html.unescape(result.html)


def test_math_ending_a_line_of_digits_still_typesets():
    # dollarmath's own digit check reads a paragraph's last character as the one before it
    assert math_elements("$x$ costs 5")


@pytest.mark.parametrize("markdown, error", [
    ("Look: $x^{$", "missing super script or subscript"),
    ("$\\begin{cases} a \\end{matrix}$", "missing end"),
    ("$" + "{" * 499 + "x" + "}" * 499 + "$", "nested too deeply"),
    ("$" + "x^{" * 150 + "x" + "}" * 150 + "$", "nested too deeply"),  # too deep for us
    ("$" + "x" * (mathml.MAX_FORMULA_CHARS + 1) + "$", "longer than"),
])
def test_malformed_tex_is_code_marked_as_an_error_with_its_message(markdown, error):
    result = render(markdown)
    found = parse(result.html).elements
    assert find(found, "span", **{"class": "math-error"})
    assert find(found, "code") and not find(found, "math")
    assert error in result.html


def test_malformed_display_math_is_a_block_of_code_with_its_message():
    result = render("$$\n\\frac{a}{b}^{\n$$")
    found = parse(result.html).elements
    assert [tag for tag, _ in found] == ["div", "pre", "code", "div"]
    assert find(found, "div", **{"class": "math-error__message"})
    assert "TeX error:" in result.html and "\\frac{a}{b}^{" in html.unescape(result.html)


# TeX whose markup latex2mathml passes through: tags in text, links, styles, classes.
HOSTILE_TEX = [
    "\\text{<script>alert(1)</script>}",
    "\\text{<img src=x onerror=alert(1)>}",
    "\\mbox{</math><img src=x onerror=alert(1)>}",
    "\\text{<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>}",
    "\\href{javascript:alert(1)}{click}",
    "\\href{data:text/html;base64,PHNjcmlwdD4=}{x}",
    "\\style{background:url(javascript:alert(1))}{x}",
    "\\class{wikilink-missing}{x}",
    '\\color{red" onmouseover="alert(1)}{x}',
    "\\operatorname{<script>} \\mathrm{<b onclick=x>}",
    "\\text{&lt;script&gt;&#x3C;b&#62;} \\unicode{0} \\unicode{x}",
    "\\begin{matrix}<script>&x\\\\ </mtd></mtr><script> \\end{matrix}",
]


def test_latex2mathml_alone_does_not_make_hostile_tex_safe():
    """Why our own serialiser and the allow-list are there: the converter's output is live."""
    script = parse(latex2mathml_convert(HOSTILE_TEX[0]))
    assert "script" in {tag for tag, _ in script.elements}
    link = parse(latex2mathml_convert(HOSTILE_TEX[4]))
    assert ("href", "javascript:alert(1)") in link.raw_attributes
    style = parse(latex2mathml_convert(HOSTILE_TEX[6]))
    assert "style" in dict(style.raw_attributes)


@pytest.mark.parametrize("tex", HOSTILE_TEX)
@pytest.mark.parametrize("delimiters", ["$", "$$\n"], ids=["inline", "display"])
def test_hostile_tex_is_inert(tex, delimiters):
    parsed = parse(render(f"{delimiters}{tex}{delimiters[::-1]}").html)
    assert_no_live_html(parsed, FORBIDDEN_TAGS - {"math"})
    for tag, attrs in parsed.elements:
        if tag in MATHML_TAGS:
            assert not {"href", "class", "id", "style"} & set(attrs), (tag, attrs)


def test_hostile_tex_text_is_shown_as_the_words_it_is():
    result = render("$\\text{<script>alert(1)</script>}$")
    assert find(parse(result.html).elements, "mtext")
    assert "<script>alert(1)</script>" in html.unescape(result.html)


@pytest.mark.parametrize("markdown", HOSTILE)
@pytest.mark.parametrize("delimiters", ["$", "$$\n"], ids=["inline", "display"])
def test_the_hostile_corpus_as_math_never_yields_live_html(markdown, delimiters):
    source = f"{delimiters}{markdown}{delimiters[::-1]}"
    parsed = parse(render(source, existing=lambda slugs: set()).html)
    assert_no_live_html(parsed, FORBIDDEN_TAGS - {"math"})
    inside_math = [attrs for tag, attrs in parsed.elements if tag in MATHML_TAGS]
    assert not any({"href", "class", "id"} & set(attrs) for attrs in inside_math)


@pytest.fixture
def conversions(monkeypatch):
    """Counts latex2mathml's conversions and the characters of TeX they read."""
    count = {"formulas": 0, "chars": 0}
    convert_to_element = mathml.convert_to_element

    def counting(tex, *args, **kwargs):
        count["formulas"] += 1
        count["chars"] += len(tex)
        return convert_to_element(tex, *args, **kwargs)

    monkeypatch.setattr(mathml, "convert_to_element", counting)
    return count


def test_a_formula_repeated_is_typeset_once(conversions):
    result = render("$x$ " * 20_000)
    assert conversions["formulas"] == 1
    assert len(find(parse(result.html).elements, "math")) == 20_000


def test_math_is_typeset_up_to_the_pages_budget_and_shown_as_source_beyond(conversions):
    formulas = [f"x_{{{number}}}" for number in range(20_000)]  # all different
    result = render(" ".join(f"${formula}$" for formula in formulas))
    typeset = len(find(parse(result.html).elements, "math"))
    assert conversions["chars"] <= MAX_MATH_CHARS
    assert 0 < typeset == conversions["formulas"] < len(formulas)
    assert result.html.count("<code>") == len(formulas) - typeset  # the rest, as their source
    assert result.text.count("x_{") == len(formulas)  # all searchable


# --- pathological input: the work done grows linearly -----------------------------------------


def python_lines_run(function, *args) -> int:
    """How many lines of Python *function* runs: the work it does, the same on any machine."""
    lines = 0

    def trace(frame, event, arg):
        nonlocal lines
        lines += event == "line"
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        function(*args)
    finally:
        sys.settrace(previous)
    return lines


# Each makes an input of about n units; n is small, as tracing every line is slow.
PATHOLOGICAL = {
    "nested quotes": lambda n: ">" * n,
    "spaced nested quotes": lambda n: "> " * n,
    "nested brackets": lambda n: "[" * n,
    "unclosed wiki links": lambda n: "[[" * n,
    "unclosed wiki links with text": lambda n: "[[a" * n,
    "closed wiki links": lambda n: "[[x]]" * n,
    "stars": lambda n: "*" * (10 * n),
    "alternating emphasis": lambda n: "*a **b" * n,
    "underscores": lambda n: "_a" * (5 * n),
    "unclosed links": lambda n: "[a](" * n,
    "images": lambda n: "![" * n,
    "footnote refs": lambda n: "[^" * n,
    "backticks": lambda n: "`" * (5 * n),
    "angle brackets": lambda n: "<" * (5 * n),
    "entities": lambda n: "&#" * (3 * n),
    "nested lists": lambda n: "".join("  " * i + "- x\n" for i in range(int(n**0.5) * 2)),
    "table pipes": lambda n: "|" * n + "\n" + "|-" * (n // 2),
    "duplicate headings": lambda n: "# a\n" * (n // 2),
    "task list items": lambda n: "- [ ] x\n" * (n // 2),
    "table rows": lambda n: "| x | y |\n|---|---|\n" + "| x | y |\n" * (n // 2),
    "dollars": lambda n: "$" * (5 * n),
    "unclosed math": lambda n: "$a " * n,
    "escaped dollars": lambda n: "\\$a" * n,
    "math": lambda n: "$x$ " * n,
    "unclosed display math": lambda n: "$$\n" + "x\n" * n,
    "display math blocks": lambda n: "$$\nx\n$$\n" * (n // 4),
    "nested math groups": lambda n: "$" + "{" * n + "$",
}


@pytest.mark.parametrize("make", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_input_takes_linear_work(make):
    small, large = (python_lines_run(render, make(n)) for n in (400, 1_600))
    assert large <= 5 * small  # four times the input: about four times the work, not 16


@pytest.fixture
def lexed_tokens(monkeypatch):
    """Counts the tokens Pygments' regular-expression lexers produce."""
    count = {"tokens": 0}
    get_tokens_unprocessed = RegexLexer.get_tokens_unprocessed

    def counting(self, text, stack=("root",)):
        for token in get_tokens_unprocessed(self, text, stack):
            count["tokens"] += 1
            yield token

    monkeypatch.setattr(RegexLexer, "get_tokens_unprocessed", counting)
    return count


def test_a_line_too_long_to_highlight_is_shown_plain_without_lexing(lexed_tokens):
    # The systemd lexer takes cubic time on this line: a minute for 2,400 characters.
    code = " \t" * 1_200 + "x"
    result = render(f"```systemd\n{code}\n```\n")
    assert parse(result.html).elements == [("pre", {}), ("code", {})]
    assert code in html.unescape(result.html)
    assert lexed_tokens["tokens"] == 0


@pytest.mark.parametrize("lines", [100, 400])
def test_lexing_stops_at_the_first_error_and_shows_the_code_plain(lexed_tokens, lines):
    # Each character the systemd lexer cannot place costs a scan of the rest of the fence.
    result = render("```systemd\n" + "no equals sign here\n" * lines + "```\n")
    assert parse(result.html).elements == [("pre", {}), ("code", {})]
    assert lexed_tokens["tokens"] == 1  # the first, an error: the same for any length


def test_code_is_highlighted_up_to_the_pages_budget(lexed_tokens):
    fence = "```python\n" + "x = 1\n" * (MAX_HIGHLIGHTED_CHARS * 2 // 3 // 6) + "```\n"
    found = elements(fence + "\n" + fence)
    assert len(find(found, "div", **{"class": "highlight"})) == 1
    assert find(found, "pre", **{})  # the second fence, plain
    assert 0 < lexed_tokens["tokens"] <= MAX_HIGHLIGHTED_CHARS


def test_a_table_beyond_the_cell_budget_goes_on_as_text():
    rows = MAX_TABLE_CELLS  # two cells a row: twice the budget
    result = render("| a | b |\n|---|---|\n" + "| x | y |\n" * rows + "\n\nAfter.\n")
    found = parse(result.html).elements
    cells = len(find(found, "td")) + len(find(found, "th"))
    assert cells == MAX_TABLE_CELLS
    assert result.text.count("x") == rows  # nothing lost: the rest is text
    assert result.text.endswith("After.")


def test_a_table_within_the_budget_ends_where_markdown_ends_it():
    found = elements("| a | b |\n|---|---|\n| 1 | 2 |\n> quote | with a pipe\n")
    assert [tag for tag, _ in found if tag in {"table", "pre", "blockquote"}] == [
        "table", "blockquote"]


def test_duplicate_headings_still_get_distinct_anchors_past_taken_suffixes():
    result = render("# a\n\n# a-2\n\n# a\n\n# a\n")
    assert [heading.anchor for heading in result.headings] == ["h-a", "h-a-2", "h-a-3", "h-a-4"]


# --- links to a section -----------------------------------------------------------------------


def test_a_link_to_a_section_points_at_the_headings_anchor():
    target = render("# Intro\n\n## Some Section\n")
    anchor = target.headings[1].anchor
    result = render("[[Page#Some Section]] and [[Page#Some Section|that part]]")
    links = find(parse(result.html).elements, "a")
    assert [a["href"] for a in links] == [f"/wiki/page#{anchor}"] * 2
    assert all(classes(a) == {"wikilink"} for a in links)
    assert result.links == {"page"}
    assert "Page#Some Section and that part" in result.text


def test_a_link_to_a_section_of_a_missing_page_is_red_by_the_page():
    result = render("[[Nowhere#Part]]", existing=lambda slugs: set())
    (link,) = find(parse(result.html).elements, "a")
    assert classes(link) == {"wikilink", "wikilink-missing"}
    assert link["href"].startswith("/edit/nowhere?title=Nowhere")
    assert result.links == {"nowhere"}


def test_a_link_to_a_section_of_the_same_page():
    result = render("# Far Below\n\n[[#Far Below]]", existing=lambda slugs: set())
    (link,) = find(parse(result.html).elements, "a")
    assert link["href"] == f"#{result.headings[0].anchor}"
    assert classes(link) == {"wikilink"}
    assert result.links == frozenset()


def test_renaming_keeps_the_section_of_a_link():
    body = "[[Old Name#Part]] [[Old Name#Part|see]] [[Other#Old Name]]"
    assert rewrite_wikilinks(body, "old-name", "New") == (
        "[[New#Part]] [[New#Part|see]] [[Other#Old Name]]"
    )


# --- preview ----------------------------------------------------------------------------------


def test_the_preview_button_keeps_to_the_page_size_limit_and_the_text(editor, app):
    body = "# Big\n\n" + "x" * app.config["MAX_PAGE_BYTES"]
    response = save_page(editor, "big", "Big", body, preview="Preview")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "too long to preview" in page
    assert textarea(page) == body
    assert save_page(editor, "big", "Big", "# Small", preview="Preview").status_code == 200

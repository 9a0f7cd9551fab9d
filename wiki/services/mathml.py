"""TeX → MathML, for ``$...$`` and ``$$...$$`` in pages: latex2mathml builds the tree, and
we write it out ourselves, escaping its text.

latex2mathml's own ``convert`` un-escapes the markup it wrote, so ``\\text{<script>}`` comes
out as a live ``<script>``; it also passes ``\\href`` and ``\\style`` through as attributes.
Serialising its element tree with every text and attribute escaped keeps the user's words
as words; the renderer's sanitiser then drops every element and attribute not on its MathML
allow-list (``href``, ``style``, ``class`` among them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # latex2mathml's trees; xml.etree loads with the first formula
    from xml.etree.ElementTree import Element

# A formula longer than this is shown as its source: latex2mathml's work on one formula grows
# faster than its length (a long run of primes or of "&" takes about its length squared).
MAX_FORMULA_CHARS = 1_000
# Elements nested deeper than this are refused: our serialiser recurses, and so does nh3.
MAX_DEPTH = 100

# latex2mathml writes symbols as character references ("&#x0003D;") in element text. They
# stay references (inert text in any HTML or XML) when they name a character XML may hold;
# any other "&" is the user's and is escaped.
_CHARACTER_REFERENCE = re.compile(r"&amp;#x([0-9A-Fa-f]{1,6});")


@dataclass(frozen=True)
class Formula:
    mathml: str | None  # None when the TeX could not be read
    error: str = ""  # why not, in words


def convert_to_element(tex: str, display: str) -> Element:
    """latex2mathml's conversion, imported with the first formula rather than at start-up
    (it costs every process 2 MB)."""
    from latex2mathml.converter import convert_to_element as convert

    return convert(tex, display=display)


def to_mathml(tex: str, display: bool) -> Formula:
    """*tex* as a ``<math>`` element (``display="block"`` when *display*), or the reason it
    cannot be; never raises."""
    if len(tex) > MAX_FORMULA_CHARS:
        return Formula(None, f"formula longer than {MAX_FORMULA_CHARS:,} characters")
    try:
        tree = convert_to_element(tex, display="block" if display else "inline")
    except RecursionError:
        return Formula(None, "groups nested too deeply")
    except Exception as error:  # latex2mathml raises many kinds, and plain ones on odd input
        return Formula(None, _described(error))
    if _deeper_than(tree, MAX_DEPTH):
        return Formula(None, "groups nested too deeply")
    return Formula(_serialised(tree))


def _described(error: Exception) -> str:
    """``MissingSuperScriptOrSubscriptError()`` → "missing super script or subscript"."""
    name = type(error).__name__.removesuffix("Error")
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    detail = str(error).strip()
    return f"{words}: {detail}" if detail and len(detail) < 200 else words


def _deeper_than(tree: Element, limit: int) -> bool:
    """Whether *tree* nests elements more than *limit* deep (found without recursion)."""
    level = [tree]
    for _ in range(limit):
        level = [child for element in level for child in element]
        if not level:
            return False
    return True


def _serialised(element: Element) -> str:
    attributes = "".join(f' {name}="{_escaped(str(value))}"'
                         for name, value in element.attrib.items())
    inner = _escaped(element.text or "") + "".join(_serialised(child) for child in element)
    return f"<{element.tag}{attributes}>{inner}</{element.tag}>" + _escaped(element.tail or "")


def _escaped(text: str) -> str:
    return _CHARACTER_REFERENCE.sub(_kept_reference, escape(text))


def _kept_reference(match: re.Match) -> str:
    code = int(match.group(1), 16)
    xml_character = (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF
                     or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF)
    return f"&#x{match.group(1)};" if xml_character else match.group(0)

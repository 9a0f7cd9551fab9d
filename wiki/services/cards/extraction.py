"""Cards written in a page's Markdown: ``Question :: Answer`` lines, and cloze lines ending in
`` #card`` whose ``==words==`` are hidden one at a time. Code is never a card: fenced blocks
are skipped, and a ``::`` inside inline code does not count."""

import re
from dataclasses import dataclass

BASIC = "basic"
CLOZE = "cloze"
SEPARATOR = " :: "  # the spaces keep C++ (std::vector) and URLs (http://) out
CLOZE_MARK = " #card"
BLANK = "[…]"

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_CLOZE = re.compile(r"==(?!=)(.+?)==")
# A list item's or quotation's marker is not part of the question.
_LINE_MARKER = re.compile(r"^\s*(?:>\s*)*(?:(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?)?")


@dataclass(frozen=True)
class Found:
    kind: str
    question: str
    answer: str


def extract(markdown: str) -> list[Found]:
    """The cards in *markdown*, in the order they are written."""
    found: list[Found] = []
    for line in _lines_outside_fences(markdown):
        text = _LINE_MARKER.sub("", line, count=1).strip()
        if text.endswith(CLOZE_MARK):
            found.extend(_clozes(text.removesuffix(CLOZE_MARK).rstrip()))
        elif (card := _basic(text)) is not None:
            found.append(card)
    return found


def _lines_outside_fences(markdown: str):
    fence = None  # the opening run of backticks or tildes while inside a fenced block
    for line in markdown.splitlines():
        opening = _FENCE.match(line)
        if fence is None:
            if opening:
                fence = opening.group(1)
            else:
                yield line
        elif opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence) \
                and not line.strip().strip(fence[0]):
            fence = None


def _masked(text: str) -> str:
    """*text* with the inside of its code spans blotted out, at the same offsets."""
    return _CODE_SPAN.sub(lambda span: "`" * len(span.group(1)) + "x" * len(span.group(2))
                          + "`" * len(span.group(1)), text)


def _basic(text: str) -> Found | None:
    at = _masked(text).find(SEPARATOR)
    if at == -1:
        return None
    question, answer = text[:at].strip(), text[at + len(SEPARATOR):].strip()
    if not question or not answer:
        return None
    return Found(BASIC, question, answer)


def _clozes(text: str) -> list[Found]:
    masked = _masked(text)
    spans = [match.span() for match in _CLOZE.finditer(masked)]
    cards = []
    for hidden in spans:
        question, answer = [], ""
        last = 0
        for start, end in spans:
            question.append(text[last:start])
            words = text[start + 2:end - 2]
            question.append(BLANK if (start, end) == hidden else words)
            if (start, end) == hidden:
                answer = words
            last = end
        question.append(text[last:])
        if answer.strip():
            cards.append(Found(CLOZE, "".join(question).strip(), answer.strip()))
    return cards

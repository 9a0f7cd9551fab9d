"""The query language: what a person types into the search box, read once into a :class:`Query`
that each backend compiles into its engine's own syntax (so user text never reaches a MATCH or a
tsquery raw)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_QUERY_LENGTH = 1_000  # characters of a query that are read; the rest is ignored
MAX_TERMS = 32  # terms of a query that are used: bounds the work one search can ask for

Field = Literal["all", "title", "tag"]


@dataclass(frozen=True)
class Term:
    """One thing to look for: a word or phrase, in any field or only the title or tags."""

    text: str
    field: Field = "all"
    prefix: bool = False  # ``rout*``: the last word may continue
    excluded: bool = False  # ``-word``: pages containing it are left out


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...] = ()

    @property
    def included(self) -> list[Term]:
        return [term for term in self.terms if not term.excluded]

    @property
    def excluded(self) -> list[Term]:
        return [term for term in self.terms if term.excluded]

    @property
    def searchable(self) -> bool:
        """Whether the query asks for anything: excluding alone finds nothing."""
        return bool(self.included)


# One term: optional "-", optional "title:"/"tag:", then a quoted phrase (its closing quote
# optional, so an unbalanced quote runs to the end) or a bare word, then an optional "*".
_TERM = re.compile(
    r"""
    (?P<minus>-)?
    (?:(?P<field>title|tag):)?
    (?: "(?P<quoted>[^"]*)"? | (?P<bare>[^\s"]+) )
    (?P<star>\*)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_IGNORED_OPERATORS = {"AND", "OR", "NEAR"}  # all words must match anyway; there is no OR


def parse_query(raw: str) -> Query:
    """Read what a person typed: ``flask "app factory" rout* -django tag:web title:blueprint``.

    Never fails: what cannot be read as a term is ignored, as are terms with no letter or
    digit (the index has no words for them). A bare ``NOT`` excludes the next term.
    """
    terms: list[Term] = []
    negate_next = False
    for match in _TERM.finditer(clean_text(raw)[:MAX_QUERY_LENGTH]):
        bare = match["bare"] or ""
        if not match["minus"] and not match["field"] and bare in (*_IGNORED_OPERATORS, "NOT"):
            negate_next = bare == "NOT"
            continue
        term = _term(match, excluded=bool(match["minus"]) or negate_next)
        negate_next = False
        if term is not None:
            terms.append(term)
    return Query(tuple(terms[:MAX_TERMS]))


def _term(match: re.Match[str], excluded: bool) -> Term | None:
    text = match["quoted"] if match["quoted"] is not None else match["bare"]
    prefix = bool(match["star"]) or text.endswith("*")
    text = " ".join(text.rstrip("*").split())
    field: Field = (match["field"] or "all").lower()  # type: ignore[assignment]
    if field == "tag":
        text = text.lower().replace(" ", "-")  # as tags are stored: see pages.normalise_tags
    if not any(char.isalnum() for char in text):
        return None
    return Term(text, field, prefix, excluded)


def clean_text(text: str) -> str:
    """*text* without control characters (NUL, and the snippet markers) or lone surrogates."""
    text = text.encode("utf-8", "ignore").decode("utf-8")
    return _CONTROL.sub(" ", text)


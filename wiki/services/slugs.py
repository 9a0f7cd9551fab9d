"""The slug rule: how a page title becomes its address (see the URL contract in the README)."""

import re
import unicodedata

HOME = "home"  # the home page's address, whatever its title

_NOT_SLUG_ASCII = re.compile(r"[^a-z0-9/]+")
_NOT_WORD = re.compile(r"[^\w/]+")
# Letters that do not decompose into an ASCII letter plus an accent.
_LIGATURES = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o",
                            "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th"})


def slugify(title: str) -> str:
    """Return the slug of *title*: ``"Flask vs Web Server"`` → ``"flask-vs-web-server"``.

    Accents fold to ASCII, case folds, every run of other characters becomes one ``-`` and
    ``/`` separates sub-pages. A title with no ASCII letter or digit keeps its own lower-cased
    letters, so ``"日本語"`` still gets an address. Returns ``""`` when nothing is left.
    """
    slug = _clean(_NOT_SLUG_ASCII.sub("-", fold(title)))
    if not slug:
        slug = _clean(_NOT_WORD.sub("-", unicodedata.normalize("NFC", title).lower()))
    return slug


def fold(text: str) -> str:
    """*text* in lower case, accents and ligatures folded: "Crème Brûlée" → "creme brulee"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def _clean(raw: str) -> str:
    """Trim ``-`` around each ``/``-separated segment and drop empty segments."""
    segments = (segment.strip("-_") for segment in raw.split("/"))
    return "/".join(segment for segment in segments if segment)

"""Checks of user-typed text shared by every service that takes a name or a title."""

import re
import unicodedata

# Characters that reorder the text around them (a title can then read as something else).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
# C0 controls a page body may not hold: every one but tab and newline (``\r`` is folded
# into ``\n`` before this applies).
_BODY_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# Unicode categories of characters that cannot be seen or that act on the text around them:
# controls, formatting (bidi overrides, zero-width spaces), surrogates, private use, line
# and paragraph separators. A name (of an account, of a file) holds none of them.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def is_invisible(char: str) -> bool:
    return unicodedata.category(char) in INVISIBLE_CATEGORIES


def has_control_or_bidi(text: str) -> bool:
    """Whether *text* holds a control character (C0, DEL, C1, so also tab and newline) or
    a bidirectional formatting character: neither belongs in a one-line field."""
    return any(unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS for char in text)


def strip_body_controls(text: str) -> str:
    """*text* without the control characters that a body may not hold (see above)."""
    return _BODY_CONTROLS.sub("", text)


# What XML 1.0 cannot carry at all, not even escaped (most C0 controls, lone surrogates,
# U+FFFE and U+FFFF). One of them makes a whole document unreadable to its parser. Written
# as the characters refused rather than the complement of those allowed: the same set, but
# compiled ten times faster (the complement took a hundredth of the app's start-up).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """*text* with every character XML cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """*count* with its noun in the right number: ``"1 page"``, ``"3 pages"``.

    *plural* defaults to *singular* with an ``s``; give it for other words, or for a noun
    and its verb: ``counted(n, "page links", "pages link")``.
    """
    return f"{count} {singular if count == 1 else plural or singular + 's'}"

"""Whole numbers from the request, within what the database can store.

PostgreSQL's ``integer`` stops at 2**31 - 1 and SQLite's at 2**63 - 1; a number past
either makes the driver fail, so it is refused here, the same on both.
"""

from flask import request

DATABASE_INT_MAX = 2**31 - 1


def whole_number(value: str | None) -> int | None:
    """*value* (``"42"``) as a number from 0 to :data:`DATABASE_INT_MAX`; None for anything
    else: missing, blank, negative, fractional, not a number, or too large to store."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(DATABASE_INT_MAX)):
        return None
    number = int(value)
    return number if number <= DATABASE_INT_MAX else None


def int_argument(name: str, default: int | None = None) -> int | None:
    """The query argument *name* as by :func:`whole_number`; *default* when it is absent.

    Present but unusable, it is None: the caller answers 404 (no such revision) or 400.
    """
    if name not in request.args:
        return default
    return whole_number(request.args[name])

"""Personal API tokens: made, listed, revoked, and recognised when a request presents one.

A token is 32 random bytes, shown to its owner once. The database keeps only its
HMAC-SHA256 under the app's secret key: a copy of the database (a backup, a dump) cannot
be used to call the API, and a token is still found by one index lookup. (A fast keyed hash
is enough for 256 random bits; a slow password hash would only slow down every call.)
Changing the secret key makes every token worthless, as it ends every session.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from wiki.database import write_transaction
from wiki.extensions import db
from wiki.models import ApiToken, User, as_utc, utcnow

PREFIX = "wiki_"  # says what a token is when one turns up in a log or a script
NAME_MAX = ApiToken.name.type.length
EXPIRY_DAYS = (7, 30, 90, 365)
# Last use is written at most this often per token, and as a write no page shows, so
# that calling the API neither writes on every request nor empties the page caches.
LAST_USED_PRECISION = timedelta(minutes=1)


class Scope(enum.StrEnum):
    READ = "read"
    WRITE = "write"  # read and write


class TokenError(ValueError):
    """A token the rules refuse to make; the message is fit to show the user."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    plaintext: str  # shown once, never stored


def token_hash(plaintext: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, plaintext.encode(), hashlib.sha256).hexdigest()


def create_token(user: User, name: str, scope: Scope | str, days: int) -> NewToken:
    """Make a token for *user*, valid for *days*.

    :raises TokenError: no name, a name too long, an unknown scope or lifetime.
    """
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise TokenError(f"Name the token (1 to {NAME_MAX} characters), say after the "
                         "script that uses it.")
    if scope not in set(Scope):
        raise TokenError("Choose read, or read and write.")
    if days not in EXPIRY_DAYS:
        raise TokenError("Choose one of the lifetimes offered.")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with write_transaction(seen_on_pages=False) as session:
        token = ApiToken(user_id=user.id, name=name, scope=Scope(scope),
                         token_hash=token_hash(plaintext), created_at=now,
                         expires_at=now + timedelta(days=days))
        session.add(token)
    return NewToken(token, plaintext)


def tokens_query(user_id: int | None = None):
    """Tokens not yet revoked, newest first: *user_id*'s, or everyone's (None)."""
    query = (select(ApiToken).options(joinedload(ApiToken.user))
             .where(ApiToken.revoked_at.is_(None))
             .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return query if user_id is None else query.where(ApiToken.user_id == user_id)


def list_tokens(user_id: int | None = None) -> list[ApiToken]:
    return list(db.session.scalars(tokens_query(user_id)))


def get_token(token_id: int) -> ApiToken | None:
    """The token with id *token_id*, unless it was revoked."""
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.revoked_at is None else None


def revoke(token_id: int) -> None:
    """Revoke a token: it answers 401 from now on. Its row stays, marked, for the record."""
    with write_transaction(seen_on_pages=False) as session:
        token = session.get(ApiToken, token_id)
        if token is not None and token.revoked_at is None:
            token.revoked_at = utcnow()


def is_expired(token: ApiToken, now: datetime | None = None) -> bool:
    return as_utc(token.expires_at) <= (now or utcnow())


def authenticate(plaintext: str) -> ApiToken | None:
    """The live token *plaintext* is, with its user loaded; None when it is unknown,
    revoked, expired, or its user is deactivated. Notes its use (see LAST_USED_PRECISION)."""
    if not plaintext.startswith(PREFIX) or len(plaintext) > 200:
        return None
    token = db.session.scalar(select(ApiToken).options(joinedload(ApiToken.user))
                              .where(ApiToken.token_hash == token_hash(plaintext)))
    now = utcnow()
    if token is None or token.revoked_at is not None or is_expired(token, now):
        return None
    if not token.user.active:
        return None
    if token.last_used_at is None or as_utc(token.last_used_at) < now - LAST_USED_PRECISION:
        _note_use(token.id, now)
        token = db.session.get(ApiToken, token.id)  # the write ended the read transaction
    return token


def _note_use(token_id: int, when: datetime) -> None:
    with write_transaction(seen_on_pages=False) as session:
        token = session.get(ApiToken, token_id)
        if token is not None:
            token.last_used_at = when

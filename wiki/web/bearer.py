"""Who calls the API: the owner of the ``Authorization: Bearer`` token, else the browser
session's user (anonymous without one).

The token's user is the caller for this request only: nothing is written to the session,
and a session cookie sent with a token is ignored. A token never grants more than its
user's role (the one policy, ``can``) and, when its scope is ``read``, only reading.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.exceptions import Forbidden, Unauthorized

from wiki.models import ApiToken, Page
from wiki.permissions import Action, can
from wiki.services import tokens

REALM = 'Bearer realm="wiki"'


@dataclass(frozen=True)
class Caller:
    user: object  # an account, or Flask-Login's anonymous user
    token: ApiToken | None  # None: the browser session


class TokenRefused(Unauthorized):
    """401 for a token that is unknown, revoked or expired (RFC 6750's ``invalid_token``)."""

    description = "The API token is not valid: it is unknown, revoked or expired."

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope),
                ("WWW-Authenticate", f'{REALM}, error="invalid_token"')]


class SignInNeeded(Unauthorized):
    """401 for an anonymous caller asking for what needs an account: send a token."""

    description = ("Send an API token (Authorization: Bearer <token>); make one at "
                   "/account/tokens.")

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("WWW-Authenticate", REALM)]


def presented_token() -> str | None:
    """The token in ``Authorization: Bearer <token>``, or None when there is no such header.

    :raises TokenRefused: an ``Authorization`` header that is not a bearer token.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise TokenRefused()
    return credentials.strip()


def caller() -> Caller:
    """This request's caller, found once per request.

    :raises TokenRefused: a token was sent and is not (or no longer) valid.
    """
    if "api_caller" not in g:
        plaintext = presented_token()
        if plaintext is None:
            g.api_caller = Caller(current_user._get_current_object(), None)
        else:
            token = tokens.authenticate(plaintext)
            if token is None:
                raise TokenRefused()
            g.api_caller = Caller(token.user, token)
    return g.api_caller


def require(action: Action | str, page: Page | None = None) -> None:
    """Abort unless the caller may do *action*: by the policy for their role, and for a
    token by its scope too.

    :raises SignInNeeded: an anonymous caller without the permission.
    :raises Forbidden: a caller whose role, or whose token's scope, does not allow it.
    """
    who = caller()
    if not can(who.user, action, page):
        if not who.user.is_authenticated:
            raise SignInNeeded()
        raise Forbidden(f"Your role ({who.user.role}) does not allow this.")
    if who.token is not None and Action(action) is not Action.READ \
            and who.token.scope != tokens.Scope.WRITE:
        raise Forbidden("This token may only read: make a read and write token to change "
                        "pages.")


def rate_limit_key() -> str:
    """Flask-Limiter's key: the token's id, so each token has its own allowance; requests
    without a valid token share their address's."""
    try:
        who = caller()
    except TokenRefused:
        who = None
    if who is not None and who.token is not None:
        return f"token:{who.token.id}"
    return f"address:{get_remote_address()}"


def rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]

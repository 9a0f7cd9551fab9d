"""Sign-in throttling: wrong passwords counted in the database, so every worker and host
sees them all. Per account *from one address*, and per address: never an account lockout
(docs/architecture.md, "Sign-in throttling").
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from wiki.database import write_transaction
from wiki.extensions import db
from wiki.models import LoginFailure, as_utc, utcnow
from wiki.services.accounts import username_key


@dataclass(frozen=True)
class Limits:
    per_username_and_address: int
    per_address: int
    window: timedelta

    @classmethod
    def configured(cls) -> "Limits":
        config = current_app.config
        return cls(int(config["LOGIN_FAILURES_PER_USERNAME_AND_ADDRESS"]),
                   int(config["LOGIN_FAILURES_PER_ADDRESS"]),
                   timedelta(seconds=int(config["LOGIN_FAILURE_WINDOW"])))


def seconds_to_wait(username: str, address: str) -> int:
    """How long *address* must wait before trying a password for *username*; 0: go ahead."""
    limits = Limits.configured()
    since = utcnow() - limits.window
    recent = LoginFailure.failed_at > since
    from_address = LoginFailure.client_address == _address_key(address)
    for_username = LoginFailure.username_key == _username_key(username)
    waits = [_wait(from_address & for_username & recent, limits.per_username_and_address,
                   limits.window),
             _wait(from_address & recent, limits.per_address, limits.window)]
    return max(waits)


def record_failure(username: str, address: str) -> None:
    """Count a wrong password for *username* from *address*; forget failures past the window."""
    limits = Limits.configured()
    with write_transaction(seen_on_pages=False) as session:
        session.execute(delete(LoginFailure).where(
            LoginFailure.failed_at <= utcnow() - limits.window))
        session.add(LoginFailure(username_key=_username_key(username),
                                 client_address=_address_key(address)))


def _wait(condition, limit: int, window: timedelta) -> int:
    """Seconds until fewer than *limit* failures matching *condition* are in the window."""
    count = db.session.scalar(select(func.count(LoginFailure.id)).where(condition)) or 0
    if count < limit:
        return 0
    # The oldest failures leave the window first; once count - limit + 1 of them have
    # left, one more attempt is allowed.
    freeing: datetime = db.session.scalar(
        select(LoginFailure.failed_at).where(condition).order_by(LoginFailure.failed_at)
        .offset(count - limit).limit(1))
    remaining = as_utc(freeing) + window - utcnow()
    return max(1, int(remaining.total_seconds()) + 1)


def _username_key(username: str) -> str:
    return username_key(username)[:255]


def _address_key(address: str | None) -> str:
    """The client's address; for IPv6 its /64 network, which one client commonly holds whole."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "unknown")[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)

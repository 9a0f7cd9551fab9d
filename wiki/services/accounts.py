"""Accounts: creating users, checking and changing passwords, roles and deactivation."""

import hmac
import unicodedata
from functools import cache

from flask import current_app
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from wiki.database import one_writer_at_a_time, write_transaction
from wiki.extensions import db
from wiki.models import Role, User
from wiki.services.text import INVISIBLE_CATEGORIES

PASSWORD_MIN = 8
PASSWORD_MAX = 1024
USERNAME_MAX = 40
SKELETON_MAX = 255
# Unicode categories a username may not hold: the invisible ones, and unassigned characters.
REFUSED_CATEGORIES = INVISIBLE_CATEGORIES | {"Cn"}
# Said by the account rules and by the forms' validators alike: one wording per rule.
USERNAME_LENGTH = f"Choose a username of 1 to {USERNAME_MAX} characters."
# Taken by the writes that check other accounts: the first one, the last administrator.
ACCOUNTS_LOCK = "accounts"


class AccountError(ValueError):
    """A request the account rules refuse; the message is fit to show the user."""


def username_key(username: str) -> str:
    return username.strip().casefold()


def username_skeleton(username: str) -> str:
    """What *username* looks like, whatever its case: names with one skeleton (Unicode
    TR39), such as ``admin`` and Cyrillic ``аdmin``, are confusable. Stored per user;
    migration 0007 computes it the same way for the accounts made before it."""
    from disarm import skeleton_key  # its tables cost 3 MB in every worker: load when used

    return skeleton_key(username_key(username))


def clean_username(username: str) -> str:
    """*username* as stored: NFKC-normalised (full-width ``Ａｄａ`` is ``Ada``) and trimmed.

    :raises AccountError: it is empty or too long, or holds a control or invisible character.
    """
    name = unicodedata.normalize("NFKC", username).strip()
    if not name or len(name) > USERNAME_MAX:
        raise AccountError(USERNAME_LENGTH)
    if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in name):
        raise AccountError("A username cannot hold control or invisible characters "
                           "(such as direction marks or zero-width spaces).")
    if len(username_skeleton(name)) > SKELETON_MAX:
        raise AccountError("Choose a simpler username.")
    return name


def printable_username(username: str) -> str:
    """*username* with any control or invisible character shown as an escape, for a
    terminal: accounts made before such names were refused may still hold one."""
    return "".join(
        char.encode("unicode_escape").decode() if unicodedata.category(char)
        in REFUSED_CATEGORIES else char for char in username
    )


def password_hash_method() -> str:
    """Werkzeug's ``"scrypt:N:r:p"`` from the setting (OWASP asks N of 2**17 at least)."""
    return current_app.config["PASSWORD_HASH_METHOD"]


def hash_password(password: str) -> str:
    return generate_password_hash(password, password_hash_method())


def is_weaker_than_configured(password_hash: str) -> bool:
    """Whether *password_hash* was made by another method or with a lower scrypt cost."""
    wanted = _scrypt_cost(password_hash_method())
    stored = _scrypt_cost(password_hash.split("$", 1)[0])
    return stored is None or (wanted is not None and stored < wanted)


def _scrypt_cost(method: str) -> tuple[int, int, int] | None:
    """``(N, r, p)`` of a Werkzeug scrypt method string, or None for another method."""
    name, *params = method.split(":")
    if name != "scrypt":
        return None
    n, r, p = (int(value) for value in params) if params else (2**15, 8, 1)  # Werkzeug's
    return n, r, p


def password_problem(password: str) -> str | None:
    """Why *password* is not acceptable, or None.

    Length and commonness only: composition rules make passwords worse, not better.
    """
    if len(password) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    if password.casefold() in common_passwords():
        return "This password is too common; choose one that is harder to guess."
    return None


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of published leaks, as the zxcvbn package ships them."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # 12 MB: only where passwords are set

    return frozenset(password.casefold() for password in FREQUENCY_LISTS["passwords"])


def first_account_token() -> str:
    """The secret part of the link that creates the first account (``flask init`` prints it).

    Signed with the secret key, so only someone with access to the server has it: on a fresh
    public deployment the first visitor does not become the administrator. It is good for
    one account only, since it is refused as soon as any account exists.
    """
    return URLSafeSerializer(current_app.secret_key, salt="first-account").dumps("admin")


def is_first_account_token(token: str) -> bool:
    return hmac.compare_digest(token.encode(), first_account_token().encode())


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username_key == username_key(username)))


def find_confusable_user(username: str) -> User | None:
    """An account whose name looks like *username* (see :func:`username_skeleton`)."""
    skeleton = username_skeleton(username)
    return db.session.scalars(select(User).where(User.username_skeleton == skeleton)).first()


def create_user(username: str, password: str, role: Role = Role.READER,
                *, only_if_first: bool = False) -> User:
    """Create an account.

    :raises AccountError: the name is taken or invalid, the password is refused, or
        *only_if_first* is set and an account already exists.
    """
    username = clean_username(username)
    if problem := password_problem(password):
        raise AccountError(problem)
    with write_transaction() as session:
        one_writer_at_a_time(session, ACCOUNTS_LOCK)
        if only_if_first and count_users():
            raise AccountError("The wiki already has an account; sign in instead.")
        if find_user(username):
            raise AccountError("That username is taken.")
        if look_alike := find_confusable_user(username):
            raise AccountError(f"That username looks too much like “{look_alike.username}”; "
                               "choose another.")
        user = User(
            username=username,
            username_key=username_key(username),
            username_skeleton=username_skeleton(username),
            password_hash=hash_password(password),
            role=Role(role),
        )
        session.add(user)
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active account matching *username* and *password*, or None.

    A hash made with an older method or a lower cost is replaced on success. An unknown
    name costs a hash check too, so the answer's timing does not tell which names exist.
    """
    if len(password) > PASSWORD_MAX:
        return None  # no account has such a password; don't spend a hash on it
    user = find_user(username)
    if user is None:
        check_password_hash(_stand_in_hash(password_hash_method()), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    if is_weaker_than_configured(user.password_hash):
        with write_transaction():
            user = db.session.get(User, user.id)
            user.password_hash = hash_password(password)
    return user


@cache
def _stand_in_hash(method: str) -> str:
    return generate_password_hash("not a password of anyone", method)


def set_password(user_id: int, password: str) -> User:
    """Replace a password and end every session of that user.

    :raises AccountError: the password is refused.
    """
    if problem := password_problem(password):
        raise AccountError(problem)
    with write_transaction() as session:
        user = _get(session, user_id)
        user.password_hash = hash_password(password)
        user.session_version += 1
    return user


def set_role(user_id: int, role: Role | str) -> User:
    with write_transaction() as session:
        one_writer_at_a_time(session, ACCOUNTS_LOCK)
        user = _get(session, user_id)
        if user.role == Role.ADMIN and Role(role) != Role.ADMIN:
            _keep_an_admin(session, user)
        user.role = Role(role)
        user.session_version += 1  # a new role takes effect with a fresh login
    return user


def set_active(user_id: int, active: bool) -> User:
    with write_transaction() as session:
        one_writer_at_a_time(session, ACCOUNTS_LOCK)
        user = _get(session, user_id)
        if not active and user.role == Role.ADMIN:
            _keep_an_admin(session, user)
        user.active = active
        user.session_version += 1
    return user


def end_sessions(user_id: int) -> None:
    """Make every session and remember-me cookie of the user invalid (used by logout)."""
    with write_transaction() as session:
        _get(session, user_id).session_version += 1


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username_key)))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def _get(session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("No such account.")
    return user


def _keep_an_admin(session, user: User) -> None:
    admins = session.scalar(
        select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True))
    )
    if admins <= 1:
        raise AccountError(f"{user.username} is the last administrator; appoint another first.")

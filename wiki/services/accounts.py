"""Accounts: creating users, checking and changing passwords, roles and deactivation."""

from functools import cache
from importlib import resources

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from wiki.database import one_writer_at_a_time, write_transaction
from wiki.extensions import db
from wiki.models import Role, User

PASSWORD_MIN = 8
PASSWORD_MAX = 1024
USERNAME_MAX = 40
# Said by the account rules and by the forms' validators alike: one wording per rule.
USERNAME_LENGTH = f"Choose a username of 1 to {USERNAME_MAX} characters."
HASH_METHOD = "scrypt"
# Taken by the writes that check other accounts: the first one, the last administrator.
ACCOUNTS_LOCK = "accounts"


class AccountError(ValueError):
    """A request the account rules refuse; the message is fit to show the user."""


def username_key(username: str) -> str:
    return username.strip().casefold()


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
    text = resources.files("wiki").joinpath("content/common-passwords.txt").read_text()
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username_key == username_key(username)))


def create_user(username: str, password: str, role: Role = Role.READER,
                *, only_if_first: bool = False) -> User:
    """Create an account.

    :raises AccountError: the name is taken or invalid, the password is refused, or
        *only_if_first* is set and an account already exists.
    """
    username = username.strip()
    if not username or len(username) > USERNAME_MAX:
        raise AccountError(USERNAME_LENGTH)
    if problem := password_problem(password):
        raise AccountError(problem)
    with write_transaction() as session:
        one_writer_at_a_time(session, ACCOUNTS_LOCK)
        if only_if_first and count_users():
            raise AccountError("The wiki already has an account; sign in instead.")
        if find_user(username):
            raise AccountError("That username is taken.")
        user = User(
            username=username,
            username_key=username_key(username),
            password_hash=generate_password_hash(password, HASH_METHOD),
            role=Role(role),
        )
        session.add(user)
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active account matching *username* and *password*, or None.

    A hash made with an older method is replaced by a scrypt hash on success. An unknown
    name costs a hash check too, so the answer's timing does not tell which names exist.
    """
    if len(password) > PASSWORD_MAX:
        return None  # no account has such a password; don't spend a hash on it
    user = find_user(username)
    if user is None:
        check_password_hash(_stand_in_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    if not user.password_hash.startswith(HASH_METHOD + ":"):
        with write_transaction():
            user = db.session.get(User, user.id)
            user.password_hash = generate_password_hash(password, HASH_METHOD)
    return user


@cache
def _stand_in_hash() -> str:
    return generate_password_hash("not a password of anyone", HASH_METHOD)


def set_password(user_id: int, password: str) -> User:
    """Replace a password and end every session of that user.

    :raises AccountError: the password is refused.
    """
    if problem := password_problem(password):
        raise AccountError(problem)
    with write_transaction() as session:
        user = _get(session, user_id)
        user.password_hash = generate_password_hash(password, HASH_METHOD)
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

"""Accounts: signing in and out, where ``next`` may lead, sessions that end everywhere,
login throttling, password rules, registration, the first account and user administration."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import session as flask_session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select, update
from werkzeug.security import generate_password_hash

from tests.helpers import PASSWORD, submit
from wiki import config as wiki_config
from wiki.extensions import db
from wiki.models import LoginFailure, Role, User, WikiState
from wiki.services import accounts

GENERIC_LOGIN_ERROR = "Unknown username or wrong password."
ACCOUNT_LINK = re.compile(r'<a href="/account">([^<]*)</a>')


def sign_in(client, username: str, password: str = PASSWORD, *, remember: bool = False,
            url: str = "/login", **kwargs):
    data = {"username": username, "password": password, **({"remember": "y"} if remember else {})}
    return submit(client, url, data, **kwargs)


def signed_in_as(client) -> str | None:
    """The name in the page header, or None when the visitor is anonymous."""
    match = ACCOUNT_LINK.search(client.get("/pages").get_data(as_text=True))
    return match.group(1) if match else None


def cookies_of(client) -> dict[str, str]:
    found = {name: client.get_cookie(name) for name in ("session", "remember_token")}
    return {name: cookie.value for name, cookie in found.items() if cookie is not None}


def replay(app, name: str, value: str) -> str | None:
    """Who a brand-new browser holding just this one cookie is signed in as."""
    client = app.test_client()
    client.set_cookie(name, value)
    return signed_in_as(client)


def stored_user(app, username: str) -> User:
    with app.app_context():
        user = accounts.find_user(username)
        db.session.expunge(user)
        return user


# --- next ----------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.example",
    "/\\evil.example",
    "/\t//evil.example",
    "/\\t//evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "/%09/evil.example",
    "///evil.example",
    "/%2F/evil.example",
    " /\n/evil.example",
    "evil.example",
])
def test_next_never_leads_off_the_site(client, users, target):
    response = sign_in(client, "editor", url="/login?" + urlencode({"next": target}))
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    again = client.get("/login?" + urlencode({"next": target}))  # already signed in
    assert again.headers["Location"] == "/"


def test_next_raw_in_the_address_is_refused_too(client, users):
    response = sign_in(client, "editor", url="/login?next=/%09/evil.example")
    assert response.headers["Location"] == "/"


def test_a_path_on_the_site_is_kept(client, users):
    response = sign_in(client, "editor", url="/login?" + urlencode({"next": "/wiki/x?y=1"}))
    assert response.headers["Location"] == "/wiki/x?y=1"


def test_signing_in_returns_to_the_page_that_asked_for_it(app, client, users):
    app.config["ANONYMOUS_READ"] = False
    asked = client.get("/pages?show=wanted")
    login_url = asked.headers["Location"]
    assert parse_qs(urlsplit(login_url).query)["next"] == ["/pages?show=wanted"]
    response = sign_in(client, "reader", url=login_url)
    assert response.headers["Location"] == "/pages?show=wanted"


# --- signing in ----------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "password"), [
    ("nobody", PASSWORD), ("editor", "wrong password"), ("gone", PASSWORD), ("editor", "x" * 1025),
])
def test_one_generic_error_for_every_failed_login(client, users, username, password):
    response = sign_in(client, username, password)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count(GENERIC_LOGIN_ERROR) == 1
    assert signed_in_as(client) is None


def test_usernames_are_case_insensitive_at_login(client, users):
    assert sign_in(client, "EDITOR").status_code == 303
    assert signed_in_as(client) == "Editor"


def test_the_session_starts_afresh_at_login(client, users):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    sign_in(client, "editor")
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.get_cookie("session").value != before


def test_a_legacy_hash_is_replaced_by_scrypt_at_login(app, client, users):
    with app.app_context():
        user = db.session.get(User, users["editor"].id)
        user.password_hash = generate_password_hash(PASSWORD, "pbkdf2:sha256")
        db.session.commit()
    assert sign_in(client, "editor").status_code == 303
    assert stored_user(app, "editor").password_hash.startswith("scrypt:")
    assert sign_in(app.test_client(), "editor").status_code == 303


# --- sessions end everywhere ---------------------------------------------------------------

@pytest.fixture
def stolen(app, users):
    """The editor signed in with "keep me signed in"; a copy of both cookies, known to work."""
    client = app.test_client()
    sign_in(client, "editor", remember=True)
    cookies = cookies_of(client)
    assert set(cookies) == {"session", "remember_token"}
    for name, value in cookies.items():
        assert replay(app, name, value) == "Editor", name
    return client, cookies


def assert_useless(app, cookies: dict[str, str]) -> None:
    for name, value in cookies.items():
        assert replay(app, name, value) is None, f"the old {name} cookie still signs in"


def test_logout_ends_every_session_and_remember_cookie(app, stolen):
    client, cookies = stolen
    other_device = app.test_client()
    sign_in(other_device, "editor")
    response = submit(client, "/logout")
    assert response.status_code == 303
    assert "remember_token" not in cookies_of(client)  # the browser is told to drop it
    assert_useless(app, cookies)
    assert signed_in_as(other_device) is None


def test_logout_by_get_only_asks_for_confirmation(app, stolen):
    client, cookies = stolen
    page = client.get("/logout")
    assert page.status_code == 200 and "Sign out?" in page.get_data(as_text=True)
    assert signed_in_as(client) == "Editor"


def test_password_change_ends_every_session_and_remember_cookie(app, stolen):
    _, cookies = stolen
    elsewhere = app.test_client()
    sign_in(elsewhere, "editor")
    new_password = "a completely new passphrase"
    response = submit(elsewhere, "/account", {"current": PASSWORD, "password": new_password,
                                              "confirm": new_password})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert_useless(app, cookies)
    assert signed_in_as(elsewhere) is None
    assert sign_in(app.test_client(), "editor").status_code == 422  # old password refused
    assert sign_in(app.test_client(), "editor", new_password).status_code == 303


def test_password_change_needs_the_current_password(editor, app):
    response = submit(editor, "/account", {"current": "not it at all",
                                           "password": "new phrase here",
                                           "confirm": "new phrase here"})
    assert "That is not your current password." in response.get_data(as_text=True)
    assert sign_in(app.test_client(), "editor").status_code == 303


def test_deactivation_ends_every_session_and_remember_cookie(app, stolen):
    _, cookies = stolen
    admin = app.test_client()
    sign_in(admin, "admin")
    editor_id = stored_user(app, "editor").id
    page = f"/admin/users/{editor_id}"
    response = submit(admin, page + "/deactivate", form_url=page)
    assert response.status_code == 303
    assert_useless(app, cookies)
    refused = sign_in(app.test_client(), "editor")
    assert GENERIC_LOGIN_ERROR in refused.get_data(as_text=True)


def test_a_role_change_takes_effect_at_the_next_sign_in(app, users):
    reader = app.test_client()
    sign_in(reader, "reader")
    admin = app.test_client()
    sign_in(admin, "admin")
    user_page = f"/admin/users/{users['reader'].id}"
    assert submit(admin, user_page + "/role", {"role": "editor"}, form_url=user_page
                  ).status_code == 303
    assert signed_in_as(reader) is None
    sign_in(reader, "reader")
    assert reader.get("/new").status_code == 200


def test_a_remembered_session_must_sign_in_again_for_sensitive_pages(app, users):
    browser = app.test_client()
    sign_in(browser, "admin", remember=True)
    remembered = app.test_client()  # the next day: only the remember-me cookie is left
    remembered.set_cookie("remember_token", cookies_of(browser)["remember_token"])
    assert signed_in_as(remembered) == "Admin"
    reader_page = f"/admin/users/{users['reader'].id}"
    for method, url in [("GET", "/admin/users"), ("GET", "/account"),
                        ("POST", reader_page + "/deactivate")]:
        response = remembered.open(url, method=method)
        assert response.status_code == 302, url
        assert urlsplit(response.headers["Location"]).path == "/login", url
    login = remembered.get("/login?next=/admin/users")  # shown, not bounced back: no loop
    assert login.status_code == 200
    assert "Sign in again to continue." in login.get_data(as_text=True)
    again = sign_in(remembered, "admin", url="/login?next=/admin/users")
    assert again.headers["Location"] == "/admin/users"
    assert remembered.get("/admin/users").status_code == 200
    assert stored_user(app, "reader").active


# --- throttling ----------------------------------------------------------------------------

def fail(client, username: str = "editor", ip: str = "192.0.2.1"):
    return sign_in(client, username, "wrong password", environ_base={"REMOTE_ADDR": ip})


def succeed(client, username: str = "editor", ip: str = "192.0.2.1"):
    return sign_in(client, username, environ_base={"REMOTE_ADDR": ip})


def failures_stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(LoginFailure.id)))


def test_failures_count_across_workers_and_never_lock_out_the_owner(app, make_app, users):
    worker_b = make_app()  # a second worker: its own engine, the same database
    for worker in (app, worker_b):
        worker.config.update(LOGIN_FAILURES_PER_USERNAME_AND_ADDRESS=3,
                             LOGIN_FAILURES_PER_ADDRESS=100)
    attacker = {worker: worker.test_client() for worker in (app, worker_b)}
    for worker in (app, worker_b, app):
        assert fail(attacker[worker], "admin").status_code == 422
    blocked = succeed(attacker[worker_b], "admin")  # even the right password
    assert blocked.status_code == 429
    html = blocked.get_data(as_text=True)
    assert "Too many wrong passwords were tried from your address" in html
    assert "Too many attempts, try again in 15 minutes." in html
    assert 0 < int(blocked.headers["Retry-After"]) <= 900
    assert blocked.headers["Content-Security-Policy"]
    assert failures_stored(app) == 3  # a refused attempt is not a failure: nothing checked
    assert fail(attacker[app], "admin").status_code == 429
    assert attacker[app].get("/login").status_code == 200  # the form itself stays reachable
    assert succeed(attacker[app], "reader").status_code == 303  # other accounts: unaffected
    owner = app.test_client()
    assert succeed(owner, "admin", ip="198.51.100.7").status_code == 303  # the owner, elsewhere


def test_failed_logins_are_limited_per_address(app, client, users):
    app.config.update(LOGIN_FAILURES_PER_USERNAME_AND_ADDRESS=100, LOGIN_FAILURES_PER_ADDRESS=3)
    for username in ("editor", "reader", "nobody"):
        assert fail(client, username).status_code == 422
    blocked = fail(client, "admin")
    assert blocked.status_code == 429
    assert succeed(client, "admin", ip="198.51.100.7").status_code == 303


def test_an_ipv6_client_counts_as_its_whole_slash_64(app, client, users):
    app.config["LOGIN_FAILURES_PER_USERNAME_AND_ADDRESS"] = 3
    for host in ("1", "2", "3"):
        assert fail(client, ip=f"2001:db8:0:1::{host}").status_code == 422
    assert succeed(client, ip="2001:db8:0:1::4").status_code == 429
    assert succeed(client, ip="2001:db8:0:2::1").status_code == 303


def test_successful_logins_do_not_count(app, client, users):
    app.config["LOGIN_FAILURES_PER_USERNAME_AND_ADDRESS"] = 3
    fail(client)
    fail(client)
    for _ in range(5):
        assert succeed(client).status_code == 303
    assert fail(client).status_code == 422  # the third failure is still answered
    assert fail(client).status_code == 429


def test_the_limit_recovers_after_its_window(app, client, users):
    app.config.update(LOGIN_FAILURES_PER_USERNAME_AND_ADDRESS=2, LOGIN_FAILURE_WINDOW=60)
    fail(client)
    fail(client)
    assert succeed(client).status_code == 429
    with app.app_context():  # a minute goes by: the failures are now older than the window
        db.session.execute(update(LoginFailure).values(
            failed_at=LoginFailure.failed_at - timedelta(seconds=61)))
        db.session.commit()
    assert succeed(client).status_code == 303


def test_failures_past_the_window_are_deleted(app, client, users):
    with app.app_context():
        long_ago = datetime.now(UTC) - timedelta(days=1)
        db.session.add_all(LoginFailure(username_key="editor", client_address="192.0.2.9",
                                        failed_at=long_ago) for _ in range(50))
        db.session.commit()
    assert succeed(client, ip="192.0.2.9").status_code == 303  # old failures do not count
    fail(client)
    assert failures_stored(app) == 1


def test_failed_sign_ins_leave_the_page_caches_alone(app, client, users):
    def wiki_version() -> int:
        with app.app_context():
            return db.session.get(WikiState, 1).version

    before = wiki_version()
    for _ in range(3):
        fail(client)
    assert failures_stored(app) == 3 and wiki_version() == before


def test_the_current_password_on_the_account_page_is_throttled_too(app, users):
    app.config["LOGIN_FAILURES_PER_USERNAME_AND_ADDRESS"] = 2
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    succeed(client)
    attempts = [submit(client, "/account", {"current": guess, "password": PASSWORD + "!",
                                            "confirm": PASSWORD + "!"})
                for guess in ("guess one", "guess two", PASSWORD)]
    assert [attempt.status_code for attempt in attempts] == [422, 422, 429]
    assert "That is not your current password." in attempts[0].get_data(as_text=True)
    assert sign_in(app.test_client(), "editor", environ_base={"REMOTE_ADDR": "192.0.2.8"}
                   ).status_code == 303  # the password was not changed


# --- passwords, usernames, registration ---------------------------------------------------

def register(client, username: str, password: str = PASSWORD, confirm: str | None = None):
    return submit(client, "/register", {"username": username, "password": password,
                                        "confirm": password if confirm is None else confirm})


def test_registration_is_limited_too(app, users):
    app.config.update(REGISTRATION="open", REGISTRATIONS_PER_IP="2 per hour")
    for number in range(2):
        assert register(app.test_client(), f"newcomer{number}").status_code == 303
    blocked = register(app.test_client(), "newcomer2")
    assert blocked.status_code == 429
    assert "try again in 60 minutes" in blocked.get_data(as_text=True)
    assert not_registered(app, "newcomer2")


def not_registered(app, username: str) -> bool:
    with app.app_context():
        return accounts.find_user(username) is None


@pytest.fixture
def open_registration(app, users):
    app.config.update(REGISTRATION="open", DEFAULT_ROLE="editor")
    return app


def passphrase(length: int) -> str:
    return ("quiet tulip river stone " * 50)[:length]


@pytest.mark.parametrize(("length", "problem"), [
    (7, "Use at least 8 characters."),
    (8, None),
    (1024, None),
    (1025, "Use at most 1024 characters."),
])
def test_password_length_bounds(open_registration, client, length, problem):
    response = register(client, "lengthy", passphrase(length))
    if problem:
        assert response.status_code == 422
        assert problem in response.get_data(as_text=True)
        assert not_registered(open_registration, "lengthy")
    else:
        assert response.status_code == 303
        assert sign_in(open_registration.test_client(), "lengthy", passphrase(length)
                       ).status_code == 303


@pytest.mark.parametrize("password", ["password123", "PassWord123", "qwertyuiop", "12345678"])
def test_common_passwords_are_refused(open_registration, client, password):
    response = register(client, "careless", password)
    assert "This password is too common" in response.get_data(as_text=True)
    assert not_registered(open_registration, "careless")


def test_usernames_are_unique_whatever_their_case(open_registration, client):
    assert register(client, "Ada").status_code == 303
    for variant in ("ada", "ADA", " Ada "):
        response = register(open_registration.test_client(), variant)
        assert "That username is taken." in response.get_data(as_text=True), variant
    with open_registration.app_context():
        assert len(db.session.scalars(select(User).where(User.username_key == "ada")).all()) == 1


@pytest.mark.parametrize("username", [
    "Ed\u202eitor",  # a right-to-left override: shows as "Edrotide"
    "admin\x1b[31m",  # colours the terminal of `flask user list`
    "admin\u200b",  # a zero-width space: looks like "admin"
    "two\nlines",
    "bell\x07",
    "joined\u2066name",
])
def test_usernames_with_control_or_invisible_characters_are_refused(open_registration, client,
                                                                     username):
    response = register(client, username)
    assert response.status_code == 422
    assert "A username cannot hold control or invisible characters" in response.get_data(
        as_text=True)
    with open_registration.app_context():
        assert accounts.count_users() == 4  # the fixture's


@pytest.mark.parametrize(("username", "problem"), [
    ("\u0430dmin", "That username looks too much like “Admin”"),  # a Cyrillic а
    ("\u0410DMIN", "That username looks too much like “Admin”"),  # a Cyrillic А
    ("R\u0435ader", "That username looks too much like “Reader”"),  # a Cyrillic е
    ("\uff21\uff44\uff4d\uff49\uff4e", "That username is taken."),  # full-width: Admin
])
def test_usernames_that_look_like_an_existing_one_are_refused(open_registration, client,
                                                               username, problem):
    response = register(client, username)
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    with open_registration.app_context():
        assert accounts.count_users() == 4


def test_the_migration_gives_existing_accounts_their_skeleton(app, users):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with app.app_context():
        downgrade(revision="0006")
        db.session.execute(text("INSERT INTO \"user\" (username, username_key, password_hash, "
                                "role, active, session_version, created_at) VALUES "
                                "('\u0410dmin', '\u0430dmin', 'x', 'reader', true, 1, "
                                "CURRENT_TIMESTAMP)"))
        db.session.commit()
        upgrade()
        skeletons = dict(db.session.execute(select(User.username, User.username_skeleton)).all())
    assert skeletons["Admin"] == skeletons["\u0410dmin"] == "admin"  # both kept, now alike
    assert skeletons["Reader"] == "reader"


def test_usernames_are_stored_normalised(open_registration, client):
    assert register(client, "\uff27\uff52\uff41\uff43\uff45").status_code == 303  # full-width
    assert signed_in_as(client) == "Grace"
    assert sign_in(open_registration.test_client(), "grace").status_code == 303


def test_an_admin_cannot_create_a_look_alike_either(app, admin, users):
    response = submit(admin, "/admin/users", {"username": "\u0430dmin", "role": "admin",
                                              "password": PASSWORD})
    assert "looks too much like “Admin”" in response.get_data(as_text=True)
    assert not_registered(app, "\u0430dmin")


def test_passwords_on_a_real_list_of_common_ones_are_refused(open_registration, client):
    assert len(accounts.common_passwords()) >= 10_000
    for password in ("sunshine1", "football", "iloveyou2", "trustno1", "starwars"):
        response = register(client, "careless", password)
        assert "This password is too common" in response.get_data(as_text=True), password
    assert not_registered(open_registration, "careless")


def scrypt_cost(password_hash: str) -> list[str]:
    return password_hash.split("$", 1)[0].split(":")


def test_passwords_are_hashed_at_owasps_scrypt_cost_by_default(make_app):
    app = make_app("defaults", PASSWORD_HASH_METHOD=wiki_config.PASSWORD_HASH_METHOD)
    with app.app_context():
        password_hash = accounts.create_user("Owasp", PASSWORD).password_hash
    assert scrypt_cost(password_hash) == ["scrypt", str(2**17), "8", "1"]


def test_a_cheaper_hash_is_replaced_at_login_and_old_hashes_still_verify(app, client, users):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt:2048:8:1"  # dearer than the fixture's
    assert succeed(client).status_code == 303
    assert scrypt_cost(stored_user(app, "editor").password_hash) == ["scrypt", "2048", "8", "1"]
    app.config["PASSWORD_HASH_METHOD"] = "scrypt:1024:8:1"  # a cheaper setting never downgrades
    assert succeed(app.test_client()).status_code == 303
    assert scrypt_cost(stored_user(app, "editor").password_hash)[1] == "2048"


def test_registration_creates_the_default_role_with_a_scrypt_hash(open_registration, client):
    assert "Create one" in client.get("/login").get_data(as_text=True)
    response = register(client, "Newcomer")
    assert response.status_code == 303
    assert signed_in_as(client) == "Newcomer"
    user = stored_user(open_registration, "newcomer")
    assert user.role == Role.EDITOR
    assert user.password_hash.startswith("scrypt:")


def test_registration_needs_matching_passwords(open_registration, client):
    response = register(client, "Newcomer", PASSWORD, "something else entirely")
    assert "The passwords differ." in response.get_data(as_text=True)
    assert not_registered(open_registration, "Newcomer")


def test_registration_is_closed_by_default(client, users):
    assert client.get("/register").status_code == 404
    assert "Create one" not in client.get("/login").get_data(as_text=True)


# --- the first account ---------------------------------------------------------------------

def setup_link(runner) -> str:
    """The path of the first-account link that ``flask init`` prints."""
    output = runner.invoke(args=["init"]).output
    match = re.search(r"http://127\.0\.0\.1:5000(/setup/\S+)", output)
    assert match, output
    return match.group(1)


def valid_csrf_token(app, client) -> str:
    """A CSRF token good for *client*'s session, as any form of the site would give it."""
    with app.test_request_context():
        token = generate_csrf()
        raw = flask_session["csrf_token"]
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    return token


def test_the_first_visitor_of_a_fresh_wiki_cannot_make_themselves_administrator(app, client):
    response = client.post("/login", data={"username": "Mallory", "password": PASSWORD,
                                           "confirm": PASSWORD,
                                           "csrf_token": valid_csrf_token(app, client)})
    assert response.status_code == 200
    assert not_registered(app, "Mallory")
    assert client.get("/setup/guess").status_code == 404
    page = client.get("/login").get_data(as_text=True)
    assert "with the link printed by <code>flask init</code>" in page
    assert "flask user create NAME --role admin" in page and 'type="password"' not in page


def test_the_link_flask_init_prints_creates_the_first_account_once(app, client, runner):
    link = setup_link(runner)
    page = client.get(link).get_data(as_text=True)
    assert "Create the first account" in page
    response = submit(client, link, {"username": "Founder", "password": PASSWORD,
                                     "confirm": PASSWORD})
    assert response.status_code == 303
    assert signed_in_as(client) == "Founder"
    assert stored_user(app, "founder").role == Role.ADMIN
    later = app.test_client()
    assert later.get(link).status_code == 404  # one account only
    assert "Sign in" in later.get("/login").get_data(as_text=True)
    assert "create the first account" not in runner.invoke(args=["init"]).output


def test_the_first_account_form_keeps_the_name_when_the_token_is_missing(app, client, runner):
    response = client.post(setup_link(runner), data={"username": "Founder",
                                                     "password": PASSWORD, "confirm": PASSWORD})
    html = response.get_data(as_text=True)
    assert "Your session expired" in html and 'value="Founder"' in html
    assert not_registered(app, "Founder")


# --- administration ------------------------------------------------------------------------

def user_page(users, name: str) -> str:
    return f"/admin/users/{users[name].id}"


def test_admins_see_every_account_with_role_status_and_creation_date(admin, users):
    html = admin.get("/admin/users").get_data(as_text=True)
    for name in ("Admin", "Editor", "Reader", "Gone"):
        assert f">{name}</a>" in html
    assert html.count("Deactivated") == 1 and html.count("<time datetime=") == 4
    for role in ("admin", "editor", "reader"):
        assert f"<td>{role}</td>" in html


def test_only_admins_see_the_users_link(app, client, users):
    assert 'href="/admin/users"' not in client.get("/pages").get_data(as_text=True)
    sign_in(client, "editor")
    assert 'href="/admin/users"' not in client.get("/pages").get_data(as_text=True)
    admin = app.test_client()
    sign_in(admin, "admin")
    assert 'href="/admin/users">Users</a>' in admin.get("/pages").get_data(as_text=True)


def test_an_admin_creates_an_account(app, admin, users):
    response = submit(admin, "/admin/users", {"username": "Grace", "role": "reader",
                                              "password": PASSWORD}, follow_redirects=True)
    assert "Account Grace created as reader." in response.get_data(as_text=True)
    assert stored_user(app, "grace").role == Role.READER
    assert sign_in(app.test_client(), "grace").status_code == 303


@pytest.mark.parametrize(("username", "password", "problem"), [
    ("EDITOR", PASSWORD, "That username is taken."),
    ("Grace", "password1", "This password is too common"),
    ("Grace", "short", "Use at least 8 characters."),
    ("", PASSWORD, "Choose a username of 1 to 40 characters."),
])
def test_an_admin_gets_the_reason_an_account_is_refused(app, admin, users, username, password,
                                                        problem):
    response = submit(admin, "/admin/users", {"username": username, "role": "editor",
                                              "password": password})
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    with app.app_context():
        assert accounts.count_users() == 4


def test_an_admin_changes_a_role(app, admin, users):
    page = user_page(users, "reader")
    response = submit(admin, page + "/role", {"role": "editor"}, form_url=page,
                      follow_redirects=True)
    assert "Reader is now editor." in response.get_data(as_text=True)
    assert stored_user(app, "reader").role == Role.EDITOR


def test_an_unknown_role_is_refused(app, admin, users):
    page = user_page(users, "reader")
    response = submit(admin, page + "/role", {"role": "owner"}, form_url=page)
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert stored_user(app, "reader").role == Role.READER


@pytest.mark.parametrize(("action", "data"), [("role", {"role": "editor"}), ("deactivate", {})])
def test_the_last_admin_cannot_be_demoted_or_deactivated(app, admin, users, action, data):
    page = user_page(users, "admin")
    response = submit(admin, f"{page}/{action}", data, form_url=page)
    assert response.status_code == 422
    assert "Admin is the last administrator; appoint another first." in response.get_data(
        as_text=True)
    user = stored_user(app, "admin")
    assert user.role == Role.ADMIN and user.active
    assert signed_in_as(admin) == "Admin"


def test_an_admin_deactivates_and_reactivates_an_account(app, admin, users):
    page = user_page(users, "editor")
    response = submit(admin, page + "/deactivate", form_url=page, follow_redirects=True)
    assert "Editor is deactivated and signed out everywhere." in response.get_data(as_text=True)
    assert sign_in(app.test_client(), "editor").status_code == 422
    response = submit(admin, page + "/reactivate", form_url=page, follow_redirects=True)
    assert "Editor can sign in again." in response.get_data(as_text=True)
    assert sign_in(app.test_client(), "editor").status_code == 303


def test_an_admin_sets_a_new_password(app, admin, users):
    victim = app.test_client()
    sign_in(victim, "editor")
    page = user_page(users, "editor")
    new_password = "handed over in person"
    response = submit(admin, page + "/password", {"password": new_password}, form_url=page,
                      follow_redirects=True)
    assert "New password set for Editor" in response.get_data(as_text=True)
    assert signed_in_as(victim) is None
    assert sign_in(app.test_client(), "editor").status_code == 422
    assert sign_in(app.test_client(), "editor", new_password).status_code == 303


def test_an_admin_cannot_set_a_common_password(app, admin, users):
    page = user_page(users, "editor")
    response = submit(admin, page + "/password", {"password": "password123"}, form_url=page)
    assert response.status_code == 422
    assert "This password is too common" in response.get_data(as_text=True)


def test_an_unknown_account_is_not_found(admin):
    assert admin.get("/admin/users/9999").status_code == 404
    assert submit(admin, "/admin/users/9999/deactivate", form_url="/admin/users"
                  ).status_code == 404


@pytest.mark.parametrize("user_id", ["2147483648", "99999999999999999999"])
def test_an_account_id_past_what_the_database_holds_is_not_found(admin, user_id):
    assert admin.get(f"/admin/users/{user_id}").status_code == 404
    assert submit(admin, f"/admin/users/{user_id}/deactivate",
                  form_url="/admin/users").status_code == 404

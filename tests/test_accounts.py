"""Accounts: signing in and out, where ``next`` may lead, sessions that end everywhere,
login throttling, password rules, registration, the first account and user administration."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.helpers import PASSWORD, submit
from wiki.extensions import db
from wiki.models import Role, User
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


def test_failed_logins_are_limited_per_username_from_any_address(app, client, users):
    app.config.update(LOGIN_FAILURES_PER_USERNAME="3 per 15 minutes",
                      LOGIN_FAILURES_PER_IP="100 per 15 minutes")
    for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        assert fail(client, ip=ip).status_code == 422
    blocked = succeed(client, ip="192.0.2.4")  # even the right password, from elsewhere
    assert blocked.status_code == 429
    html = blocked.get_data(as_text=True)
    assert "Too many attempts, try again in 15 minutes." in html
    assert 0 < int(blocked.headers["Retry-After"]) <= 900
    assert blocked.headers["Content-Security-Policy"]
    assert client.get("/login").status_code == 200  # the form itself stays reachable
    assert succeed(client, "reader").status_code == 303  # other accounts are unaffected


def test_failed_logins_are_limited_per_address(app, client, users):
    app.config.update(LOGIN_FAILURES_PER_USERNAME="100 per minute",
                      LOGIN_FAILURES_PER_IP="3 per minute")
    for username in ("editor", "reader", "nobody"):
        assert fail(client, username).status_code == 422
    blocked = fail(client, "admin")
    assert blocked.status_code == 429
    assert "Too many attempts, try again in 1 minute." in blocked.get_data(as_text=True)
    assert succeed(client, "admin", ip="198.51.100.7").status_code == 303


def test_successful_logins_do_not_count(app, client, users):
    app.config["LOGIN_FAILURES_PER_USERNAME"] = "3 per minute"
    fail(client)
    fail(client)
    for _ in range(5):
        assert succeed(client).status_code == 303
    assert fail(client).status_code == 422  # the third failure is still answered
    assert fail(client).status_code == 429


def test_the_limit_recovers_after_its_window(app, client, users):
    app.config["LOGIN_FAILURES_PER_USERNAME"] = "2 per 2 seconds"
    fail(client)
    fail(client)
    assert succeed(client).status_code == 429
    time.sleep(2.1)
    assert succeed(client).status_code == 303


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

def test_the_first_account_becomes_the_administrator(app, client):
    page = client.get("/login").get_data(as_text=True)
    assert "Create the first account" in page
    response = submit(client, "/login", {"username": "Founder", "password": PASSWORD,
                                         "confirm": PASSWORD})
    assert response.status_code == 303
    assert signed_in_as(client) == "Founder"
    assert stored_user(app, "founder").role == Role.ADMIN
    later = app.test_client().get("/login").get_data(as_text=True)
    assert "Create the first account" not in later and "Sign in" in later


def test_the_first_account_form_keeps_the_name_when_the_token_is_missing(app, client):
    response = client.post("/login", data={"username": "Founder", "password": PASSWORD,
                                           "confirm": PASSWORD})
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

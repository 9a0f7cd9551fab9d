"""A form sent back with errors answers 422 wherever it is, and each rule has one wording
wherever it is checked: in a form, in the service behind it, or on the command line."""

import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD, csrf_token
from wiki.extensions import db
from wiki.models import Card, User
from wiki.services import access, accounts, pages

# Per POST route: who sends it, where, the form's page (if not the same URL), and an
# invalid submission that a person could make (the CSRF token itself is valid).
INVALID: dict[str, tuple[str, str, str | None, dict[str, str]]] = {
    "pages.new": ("editor", "/new", None, {"title": "", "body": "typed text"}),
    "pages.edit": ("editor", "/edit/sample", None,
                   {"title": "", "body": "typed text", "base_revision": "2"}),
    "pages.delete": ("admin", "/delete/sample", None, {"csrf_token": "stale"}),
    "pages.rename": ("admin", "/rename/sample", None, {"title": "!!!"}),
    "history.revert": ("admin", "/revert/sample?rev=1", None, {"csrf_token": "stale"}),
    "attachments.listing": ("editor", "/attachments/sample", None, {}),  # no file chosen
    "attachments.delete": ("editor", "/attachments/sample/delete", "/attachments/sample",
                           {"name": ""}),
    "attachments.restore": ("admin", "/attachments/sample/restore", "/attachments/sample",
                            {"name": ""}),
    "account.login": ("anonymous", "/login", None, {"username": "editor", "password": "wrong"}),
    "account.logout": ("editor", "/logout", None, {"csrf_token": "stale"}),
    "account.register": ("anonymous", "/register", None,
                         {"username": "Newcomer", "password": PASSWORD, "confirm": "other"}),
    "account.account": ("editor", "/account", None,
                        {"current": "not it", "password": PASSWORD + "!",
                         "confirm": PASSWORD + "!"}),
    "tokens.tokens_page": ("editor", "/account/tokens", None,
                           {"name": "", "scope": "read", "expires": "30"}),
    "tokens.revoke": ("editor", "/account/tokens/1/revoke", "/account/tokens",
                      {"csrf_token": "stale"}),
    "admin.users": ("admin", "/admin/users", None,
                    {"username": "", "role": "reader", "password": PASSWORD}),
    "admin.change_role": ("admin", "/admin/users/{admin}/role", "/admin/users/{admin}",
                          {"role": "reader"}),  # the last administrator
    "admin.set_password": ("admin", "/admin/users/{reader}/password", "/admin/users/{reader}",
                           {"password": "short"}),
    "admin.deactivate": ("admin", "/admin/users/{reader}/deactivate", "/admin/users/{reader}",
                         {"csrf_token": "stale"}),
    "admin.reactivate": ("admin", "/admin/users/{reader}/reactivate", "/admin/users/{reader}",
                         {"csrf_token": "stale"}),
    "access.rules": ("admin", "/admin/access", None,
                     {"pattern": "notes**", "read_role": "reader", "edit_role": "editor"}),
    "access.change": ("admin", "/admin/access/{rule}", "/admin/access",
                      {"read_role": "editor", "edit_role": "reader"}),  # edits what it cannot read
    "access.delete": ("admin", "/admin/access/{rule}/delete", "/admin/access",
                      {"csrf_token": "stale"}),
    # A bad rating is no form error but a 400 (tests/test_cards.py): the buttons send 1-4.
    "review.grade": ("reader", "/review/{card}", "/review/{card}?show=1",
                     {"csrf_token": "stale", "rating": "3"}),
}


@pytest.fixture
def sample(app, users):
    with app.app_context():
        editor = db.session.get(User, users["editor"].id)
        pages.save(pages.PageEdit(None, "Sample", "First text."), editor)
        pages.save(pages.PageEdit("sample", "Sample", "Second text.\n\nQuestion :: answer"),
                   editor)
        access.add_rule("private/**", "editor", "admin", db.session.get(User, users["admin"].id))
        return db.session.scalar(select(Card.id))


def signed_in(app, who: str):
    client = app.test_client()
    if who != "anonymous":
        page = client.get("/login")
        response = client.post("/login", data={"csrf_token": csrf_token(page.text),
                                               "username": who, "password": PASSWORD})
        assert response.status_code == 303
    return client


def test_every_post_route_answers_an_invalid_form_with_422(app, users, sample):
    app.config["REGISTRATION"] = "open"
    posting = {rule.endpoint for rule in app.url_map.iter_rules()
               if "POST" in rule.methods and not rule.rule.startswith("/api/")}
    # The first account's form exists only while there is no account: checked on its own below.
    assert posting == {*INVALID, "account.first_account"}
    ids = {name: users[name].id for name in ("admin", "reader")} | {"card": sample}
    with app.app_context():
        ids["rule"] = access.load_rules(db.session).rules[0].id
    answers = {}
    for endpoint, (who, url, form_url, data) in INVALID.items():
        client = signed_in(app, who)
        url, form_url = url.format(**ids), (form_url or url).format(**ids)
        form = client.get(form_url)
        assert form.status_code == 200, endpoint
        response = client.post(url, data={"csrf_token": csrf_token(form.text), **data})
        answers[endpoint] = response.status_code
    assert answers == dict.fromkeys(INVALID, 422)


def setup_path(app) -> str:
    """The first-account link that ``flask init`` prints, as a path."""
    with app.test_request_context():
        return f"/setup/{accounts.first_account_token()}"


def test_the_first_account_form_answers_422(app, client):
    link = setup_path(app)
    page = client.get(link)
    response = client.post(link, data={"csrf_token": csrf_token(page.text),
                                       "username": "", "password": PASSWORD,
                                       "confirm": PASSWORD})
    assert response.status_code == 422
    assert "field__errors" in response.text


# --- one wording per rule -------------------------------------------------------------------

TITLE_MISSING = "Give the page a title."
TITLE_TOO_LONG = "Keep the title to 200 characters or fewer."
USERNAME_LENGTH = "Choose a username of 1 to 40 characters."


def sent(client, url: str, data: dict, form_url: str | None = None) -> str:
    page = client.get(form_url or url)
    response = client.post(url, data={"csrf_token": csrf_token(page.text), **data})
    assert response.status_code == 422, (url, data)
    return response.text


def test_a_title_rule_has_one_wording_in_every_form_and_on_the_command_line(
        app, runner, sample, tmp_path):
    admin = signed_in(app, "admin")
    for title in ("", "   "):
        for url in ("/new", "/rename/sample"):
            assert TITLE_MISSING in sent(admin, url, {"title": title, "body": "text"}), url
    for url in ("/new", "/rename/sample"):
        assert TITLE_TOO_LONG in sent(admin, url, {"title": "t" * 201, "body": "text"}), url
    (tmp_path / "long.md").write_text(f"# {'t' * 201}\n\ntext\n")
    assert TITLE_TOO_LONG in runner.invoke(args=["pages", "import", str(tmp_path)]).stderr


def test_a_username_rule_has_one_wording_in_every_form_and_on_the_command_line(
        app, runner, users):
    app.config["REGISTRATION"] = "open"
    admin = signed_in(app, "admin")
    for name in ("", "n" * 41):
        for client, url in ((app.test_client(), "/register"), (admin, "/admin/users")):
            html = sent(client, url, {"username": name, "role": "reader",
                                      "password": PASSWORD, "confirm": PASSWORD})
            assert USERNAME_LENGTH in html, (url, name)
    created = runner.invoke(args=["user", "create", "n" * 41, "--password-stdin"],
                            input=f"{PASSWORD}\n")
    assert USERNAME_LENGTH in created.output


def test_the_first_account_uses_the_same_username_wording(app, client):
    assert USERNAME_LENGTH in sent(client, setup_path(app), {"username": "n" * 41,
                                                      "password": PASSWORD,
                                                      "confirm": PASSWORD})


def test_passwords_that_differ_have_one_wording(app, users):
    app.config["REGISTRATION"] = "open"
    register = sent(app.test_client(), "/register",
                    {"username": "Newcomer", "password": PASSWORD, "confirm": PASSWORD + "!"})
    account = sent(signed_in(app, "editor"), "/account",
                   {"current": PASSWORD, "password": PASSWORD + "!", "confirm": PASSWORD + "?"})
    assert "The passwords differ." in register and "The passwords differ." in account

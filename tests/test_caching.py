"""Conditional page views: ETag and Last-Modified, answered with 304 while they still hold."""

import pytest

from tests.helpers import save_page


@pytest.fixture
def page(editor, auth):
    """A page written by the editor, then read anonymously."""
    save_page(editor, "routing", "Routing", "Routes map URLs to views. See [[Views]].")
    auth.logout()
    return "/wiki/routing"


def revalidate(client, url, response, **headers):
    return client.get(url, headers={"If-None-Match": response.headers["ETag"], **headers})


def test_page_views_carry_validators_and_private_revalidation(client, page):
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["ETag"].startswith('W/"')
    assert response.headers["Last-Modified"].endswith("GMT")
    assert set(response.headers["Cache-Control"].split(", ")) == {"private", "no-cache"}
    assert "Cookie" in response.headers["Vary"]


def test_a_matching_etag_gets_304_without_a_body(client, page):
    first = client.get(page)
    again = revalidate(client, page, first)
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_if_modified_since_alone_gets_304(client, page):
    first = client.get(page)
    again = client.get(page, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304
    older = client.get(page, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert older.status_code == 200


def test_a_stale_etag_gets_the_page(client, page):
    assert client.get(page, headers={"If-None-Match": 'W/"something-else"'}).status_code == 200


def test_an_edit_changes_the_etag(client, auth, page):
    first = client.get(page)
    auth.login("editor")
    save_page(client, "routing", "Routing", "Routes map URLs to view functions.")
    auth.logout()
    changed = revalidate(client, page, first)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert "view functions" in changed.get_data(as_text=True)


def test_a_red_link_turning_blue_changes_the_etag(client, auth, page):
    """Creating the linked page re-renders this one in place, with no new revision."""
    first = client.get(page)
    assert "wikilink-missing" in first.get_data(as_text=True)
    auth.login("editor")
    save_page(client, "views", "Views", "Functions that answer requests.")
    auth.logout()
    changed = revalidate(client, page, first)
    assert changed.status_code == 200
    assert "wikilink-missing" not in changed.get_data(as_text=True)


def test_a_new_backlink_changes_the_etag(client, auth, page):
    first = client.get(page)
    auth.login("editor")
    save_page(client, "urls", "URLs", "Handled by [[Routing]].")
    auth.logout()
    assert revalidate(client, page, first).status_code == 200


def test_an_old_revision_has_its_own_etag(client, auth, page):
    auth.login("editor")
    save_page(client, "routing", "Routing", "Second version.")
    auth.logout()
    current, old = client.get(page), client.get(page + "?rev=1")
    assert old.headers["ETag"] != current.headers["ETag"]
    assert revalidate(client, page + "?rev=1", old).status_code == 304


def test_signing_in_changes_the_etag(client, auth, page):
    """A signed-in reader sees other links and their name: the anonymous copy won't do."""
    anonymous = client.get(page)
    auth.login("reader")
    signed_in = revalidate(client, page, anonymous)
    assert signed_in.status_code == 200
    assert "Sign out" in signed_in.get_data(as_text=True)
    assert revalidate(client, page, signed_in).status_code == 304


def test_each_user_gets_their_own_etag(client, auth, page):
    auth.login("reader")
    reader = client.get(page)
    auth.logout()
    auth.login("editor")
    assert revalidate(client, page, reader).status_code == 200


def test_a_flash_after_saving_is_shown_even_with_a_matching_etag(client, auth, page):
    auth.login("editor")
    first = client.get(page)
    save_page(client, "routing", "Routing", "Routes map URLs to views. See [[Views]].")
    shown = revalidate(client, page, first)  # the redirect after "No changes to save."
    assert shown.status_code == 200
    assert "No changes to save." in shown.get_data(as_text=True)
    assert revalidate(client, page, first).status_code == 304  # the message is gone now


def test_missing_pages_are_not_conditional(client, page):
    response = client.get("/wiki/nowhere")
    assert response.status_code == 404
    assert "ETag" not in response.headers

"""The journeys people take through the wiki, in a real Chromium against a real server."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.steps import (
    Account,
    core_journey,
    create_page,
    editor_text,
    page_width,
    screenshot,
    sign_in,
    stored_draft,
    too_wide,
    url_path,
    wait_for_draft,
)
from wiki.services.slugs import slugify

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def test_write_link_preview_save_and_revert(admin_page: Page):
    def at(page: Page, screen: str) -> None:
        if screen in ("editor", "history", "diff"):
            screenshot(page, {"editor": "editor-with-preview"}.get(screen, screen))

    core_journey(admin_page, "Desk", at)


def test_search_finds_the_page_and_type_ahead_jumps_to_it(admin_page: Page):
    page = admin_page
    target = "Searchable Details"
    create_page(page, target, "The details behind the search box.")

    page.goto("/")
    page.keyboard.press("/")
    search_box = page.get_by_role("combobox", name="Search the wiki")
    expect(search_box).to_be_focused()
    page.keyboard.type("details behind")
    page.keyboard.press("Enter")
    expect(page).to_have_url(url_path(r"/search\?q=details\+behind"))
    result = page.locator(".search-results").get_by_role("link", name=target)
    expect(result).to_be_visible()
    screenshot(page, "search")

    search_box.click()
    search_box.fill("")
    page.keyboard.type("Searchable D")
    option = page.get_by_role("option", name=target)
    expect(option).to_be_visible()
    expect(search_box).to_have_attribute("aria-expanded", "true")
    screenshot(page, "search-typeahead")
    options = page.get_by_role("option")
    for _ in range(options.count()):
        page.keyboard.press("ArrowDown")
        if option.get_attribute("aria-selected") == "true":
            break
    expect(option).to_have_attribute("aria-selected", "true")
    expect(search_box).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(url_path(f"/wiki/{slugify(target)}"))

    page.keyboard.press("/")
    page.keyboard.type("Searchable D")
    expect(page.get_by_role("listbox")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(search_box).to_have_attribute("aria-expanded", "false")


def test_reader_sees_no_edit_actions_then_signs_out(new_context, reader, sample_page):
    page = new_context().new_page()
    sign_in(page, reader)
    page.goto(f"/wiki/{sample_page}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Code and Tables")
    actions = page.get_by_role("navigation", name="Page actions")
    expect(actions.get_by_role("link", name="History")).to_be_visible()
    for action in ("Edit", "Rename", "Delete"):
        expect(page.get_by_role("link", name=action, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="New page")).to_have_count(0)
    page.keyboard.press("e")
    page.wait_for_timeout(200)
    expect(page).to_have_url(url_path(f"/wiki/{sample_page}"))

    page.get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_role("link", name="revert")).to_have_count(0)
    assert page.goto(f"/edit/{sample_page}").status == 403

    page.goto("/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Account")).not_to_contain_text(reader.username)


def test_the_core_journey_fits_a_360_pixel_phone(new_context, admin):
    page = new_context(admin, **PHONE).new_page()
    screens = []

    def at(page: Page, screen: str) -> None:
        screens.append(screen)
        assert page_width(page) <= 360, f"{screen} scrolls sideways: {too_wide(page, 360)}"
        if screen == "page":
            screenshot(page, "phone")
        elif screen == "editor":
            screenshot(page, "phone-editor", full_page=True)

    core_journey(page, "Phone", at)
    assert screens == ["new page", "red link", "page", "editor", "history", "diff", "revert"]


def test_wide_tables_and_code_scroll_inside_their_box_on_a_phone(new_context, admin,
                                                                  sample_page):
    page = new_context(admin, **PHONE).new_page()
    page.goto(f"/wiki/{sample_page}")
    assert page_width(page) <= 360, too_wide(page, 360)
    wide_table = page.locator(".markdown table").last
    assert wide_table.evaluate("t => t.scrollWidth > t.clientWidth"), "the table should scroll"


def test_leaving_unsaved_changes_asks_first(admin_page: Page):
    page = admin_page
    dialogs: list[str] = []

    def stay(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    slug = slugify("Careful Edits")
    page.goto("/new")
    page.get_by_label("Title", exact=True).fill("Careful Edits")
    editor_text(page).fill("First words.")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(url_path(f"/wiki/{slug}"))
    assert dialogs == [], "saving must not ask"

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(url_path(f"/wiki/{slug}"))
    assert dialogs == [], "leaving an untouched editor must not ask"

    page.get_by_role("link", name="Edit", exact=True).click()
    editor_text(page).click()
    page.keyboard.type(" More words.")
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(url_path(f"/edit/{slug}"))
    expect(editor_text(page)).to_have_value(re.compile("More words"))

    page.keyboard.press("Control+s")
    expect(page).to_have_url(url_path(f"/wiki/{slug}"))
    expect(page.locator(".markdown")).to_contain_text("More words.")
    assert dialogs == ["beforeunload"], "saving must not ask"


def test_a_draft_survives_a_closed_tab_and_is_offered_back(new_context, admin):
    context = new_context(admin)
    page = context.new_page()
    page.goto("/new")
    page.get_by_label("Title", exact=True).fill("Drafty")
    editor_text(page).fill("Saved text.")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(url_path("/wiki/drafty"))

    page.goto("/edit/drafty")
    editor_text(page).click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Words I must not lose.")
    wait_for_draft(page, "drafty", containing="must not lose")
    page.close()  # no beforeunload: the tab is gone, as after a crash

    page = context.new_page()
    page.goto("/edit/drafty")
    offer = page.get_by_role("region", name="Unsaved draft")
    expect(offer).to_contain_text("Restore your unsaved draft from")
    expect(editor_text(page)).to_have_value("Saved text.")
    screenshot(page, "draft-offer")
    offer.get_by_role("button", name="Restore").click()
    expect(offer).to_be_hidden()
    expect(editor_text(page)).to_have_value("Saved text. Words I must not lose.")
    expect(editor_text(page)).to_be_focused()

    page.keyboard.press("Control+s")
    expect(page).to_have_url(url_path("/wiki/drafty"))
    expect(page.locator(".markdown")).to_contain_text("Words I must not lose.")
    assert stored_draft(page, "drafty") is None
    page.goto("/edit/drafty")
    expect(editor_text(page)).to_have_value("Saved text. Words I must not lose.")
    expect(page.get_by_role("region", name="Unsaved draft")).to_have_count(0)


def test_a_discarded_draft_is_gone(new_context, admin):
    context = new_context(admin)
    page = context.new_page()
    page.goto("/new")
    page.get_by_label("Title", exact=True).fill("Never Saved")
    editor_text(page).click()
    page.keyboard.type("A thought I did not keep.")
    wait_for_draft(page, "new")
    page.close()

    page = context.new_page()
    page.goto("/new")
    offer = page.get_by_role("region", name="Unsaved draft")
    offer.get_by_role("button", name="Discard").click()
    expect(offer).to_be_hidden()
    expect(page.get_by_label("Title", exact=True)).to_have_value("")
    assert stored_draft(page, "new") is None
    page.reload()
    expect(page.get_by_role("region", name="Unsaved draft")).to_have_count(0)


def test_drafts_are_each_users_own_and_signing_out_forgets_them(new_context, server, reader):
    # An account of this test's own: signing out ends every session of its user, and the
    # other tests' administrator must stay signed in.
    writer = Account("Wren", "a private and lengthy passphrase", None)
    server.flask("user", "create", writer.username, "--role", "editor", "--password-stdin",
                 input=writer.password + "\n")
    context = new_context()
    page = context.new_page()
    sign_in(page, writer)
    page.goto("/new")
    page.get_by_label("Title", exact=True).fill("Private Musings")
    editor_text(page).fill("Only Wren should ever see this.")
    wait_for_draft(page, "new", containing="Only Wren")

    context.clear_cookies()  # Wren's session ends without her signing out
    sign_in(page, reader)  # and the next person at this browser signs in
    assert stored_draft(page, "new") is None
    context.clear_cookies()
    sign_in(page, writer)  # Wren's own draft is still hers
    page.goto("/new")
    expect(page.get_by_role("region", name="Unsaved draft")).to_be_visible()

    account = page.get_by_role("navigation", name="Account")
    account.get_by_role("button", name="Sign out").click()
    expect(account).to_contain_text("Sign in")
    assert "Only Wren" not in page.evaluate("JSON.stringify(localStorage)")


def test_escape_closes_the_live_preview(admin_page: Page, sample_page):
    page = admin_page
    page.goto(f"/edit/{sample_page}")
    toggle = page.get_by_role("button", name="Live preview")
    if toggle.get_attribute("aria-pressed") != "true":
        toggle.click()
    preview = page.get_by_role("region", name="Live preview")
    expect(preview.locator(".highlight")).to_be_visible()
    expect(preview.locator("a.wikilink-missing")).to_have_text("Request Lifecycle")
    editor_text(page).click()
    page.keyboard.press("Escape")
    expect(preview).to_be_hidden()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(editor_text(page)).to_be_focused()
    expect(page.get_by_role("button", name="Preview", exact=True)).to_be_hidden()


def test_without_javascript_the_editor_previews_on_the_server(new_context, admin, sample_page):
    page = new_context(admin, java_script_enabled=False).new_page()
    page.goto(f"/edit/{sample_page}")
    expect(page.get_by_role("button", name="Live preview")).to_have_count(0)
    expect(page.get_by_role("combobox")).to_have_count(0)
    expect(page.get_by_role("searchbox", name="Search the wiki")).to_be_visible()
    editor_text(page).fill("Checked on the **server**.")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator(".preview strong")).to_have_text("server")
    expect(editor_text(page)).to_have_value("Checked on the **server**.")


def test_print_leaves_out_the_chrome(admin_page: Page, sample_page):
    page = admin_page
    page.goto(f"/wiki/{sample_page}")
    page.emulate_media(media="print")
    for chrome in (page.get_by_role("banner"), page.get_by_role("contentinfo"),
                   page.get_by_role("navigation", name="Page actions")):
        expect(chrome).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".markdown .highlight")).to_be_visible()

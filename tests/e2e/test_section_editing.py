"""Editing one section of a long page, in a real Chromium: with the live preview, and without
JavaScript; and a new page started from a template."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.steps import create_page, show_live_preview

pytestmark = pytest.mark.e2e

BODY = "Intro.\n\n## Alpha\nalpha text\n\n## Beta\nbeta text\n\n## Gamma\ngamma text\n"


def section_text(page: Page):
    return page.get_by_label("Text of this section (Markdown)")


def test_edit_one_section_with_its_live_preview_and_land_back_on_it(admin_page: Page):
    page = admin_page
    slug = create_page(page, "Section Journey", BODY)
    page.get_by_role("link", name="Edit section: Beta").click()
    expect(page).to_have_url(re.compile(rf"/edit/{slug}\?section=2$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("the section “Beta”")
    expect(section_text(page)).to_have_value("## Beta\nbeta text\n\n")
    expect(page.get_by_label("Title", exact=True)).to_have_count(0)

    preview = show_live_preview(page)
    section_text(page).fill("## Beta, revised\nThe **new** beta.\n\n")
    expect(preview.locator("strong")).to_have_text("new")
    expect(preview.get_by_role("heading", name="Beta, revised")).to_be_visible()
    expect(preview.get_by_text("alpha text")).to_have_count(0)  # only this section

    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/wiki/{slug}#h-beta-revised$"))
    expect(page.locator("#h-beta-revised")).to_be_in_viewport()
    article = page.locator(".markdown")
    for text in ("alpha text", "The new beta.", "gamma text"):
        expect(article).to_contain_text(text)

    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Edit section: Alpha")).to_be_hidden()


def test_a_section_is_edited_without_javascript(new_context, admin):
    page = new_context(admin, java_script_enabled=False).new_page()
    slug = create_page(page, "Sections Without Script", BODY)
    page.get_by_role("link", name="Edit section: Gamma").click()
    section_text(page).fill("## Gamma\nchanged without script\n")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator(".preview")).to_contain_text("changed without script")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/wiki/{slug}#h-gamma$"))
    expect(page.locator(".markdown")).to_contain_text("changed without script")
    expect(page.locator(".markdown")).to_contain_text("beta text")


def test_a_new_page_starts_from_a_template(admin_page: Page):
    page = admin_page
    page.goto("/new")
    page.get_by_label("Title", exact=True).fill("Retro template")
    page.get_by_label("Text (Markdown)").fill("## Went well\n\n## To change\n")
    page.get_by_label("Tags").fill("template, retros")
    page.get_by_role("button", name="Save").click()
    page.goto("/new")
    page.get_by_role("navigation", name="Page templates").get_by_role(
        "link", name="Retro template").click()
    expect(page.get_by_label("Text (Markdown)")).to_have_value("## Went well\n\n## To change\n")
    expect(page.get_by_label("Tags")).to_have_value("retros")
    expect(page.get_by_text("This page starts from the template")).to_be_visible()

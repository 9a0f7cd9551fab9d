"""Files on pages in the browser: the upload form without JavaScript, and pictures pasted or
files dropped into the editor, uploaded and written into the text at the cursor."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.steps import (
    LocalFile,
    create_page,
    drop_files,
    editor_text,
    paste_files,
    request_flow_png,
    screenshot,
    show_live_preview,
    shown_image_width,
    url_path,
)

pytestmark = pytest.mark.e2e

MB = 1024 * 1024
FLOW_WIDTH = Image.open(io.BytesIO(request_flow_png())).width
PASTED = r"pasted-\d{4}-\d\d-\d\d-\d{6}"


def put_cursor_after(page: Page, text: str) -> None:
    """Click into the page text and put the cursor just after *text*."""
    editor_text(page).click()
    editor_text(page).evaluate("""(textarea, text) => {
        const end = textarea.value.indexOf(text) + text.length;
        textarea.setSelectionRange(end, end);
    }""", text)


def test_without_javascript_files_upload_through_the_attachments_page(new_context, admin,
                                                                      admin_page):
    slug = create_page(admin_page, "Diagrams Without Scripts",
                       "The flow, as a picture:\n\n![Request flow](flow.png)")
    page = new_context(admin, java_script_enabled=False).new_page()
    page.goto(f"/wiki/{slug}")
    expect(page.locator(".markdown a.attachment-missing")).to_have_text("Request flow")
    page.get_by_role("link", name="Attach files").click()
    expect(page).to_have_url(url_path(f"/attachments/{slug}"))
    page.get_by_label("Files").set_input_files([
        {"name": "flow.png", "mimeType": "image/png", "buffer": request_flow_png()},
        {"name": "talk.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 slides"}])
    page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(url_path(f"/attachments/{slug}"))
    expect(page.locator(".flashes")).to_contain_text("Uploaded flow.png, talk.pdf.")
    assert shown_image_width(page.locator("img.attachment__thumbnail")) > 0

    page.goto(f"/wiki/{slug}")
    assert shown_image_width(page.get_by_role("img", name="Request flow")) == FLOW_WIDTH


def test_a_pasted_picture_is_uploaded_written_in_previewed_and_shown_on_the_saved_page(
        admin_page: Page):
    page = admin_page
    slug = create_page(page, "Request Flow in Pictures",
                       "How a request travels through the app:\n\n\n\n"
                       "Each box is one layer; the arrows are calls.")
    page.goto(f"/edit/{slug}")
    preview = show_live_preview(page)
    put_cursor_after(page, "app:\n\n")
    paste_files(page, LocalFile("image.png", "image/png", request_flow_png()))

    uploads = page.locator(".uploads")
    expect(uploads).to_have_attribute("aria-live", "polite")
    expect(uploads).to_have_text(re.compile(rf"Attached {PASTED}\.png\."))
    expect(editor_text(page)).to_have_value(re.compile(
        rf"^How a request travels through the app:\n\n!\[({PASTED})\]\(\1\.png\)\n\n"
        r"Each box is one layer; the arrows are calls\.$"))
    assert shown_image_width(preview.locator("img")) == FLOW_WIDTH
    screenshot(page, "editor-with-image")
    page.keyboard.type(" One request, left to right.")  # the cursor stayed after it
    expect(editor_text(page)).to_have_value(re.compile(r"\.png\) One request, left to right\.\n"))

    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(url_path(f"/wiki/{slug}"))
    picture = page.locator(".markdown img")
    expect(picture).to_have_attribute("src", re.compile(rf"^/files/{slug}/{PASTED}\.png$"))
    assert shown_image_width(picture) == FLOW_WIDTH
    screenshot(page, "page-with-image")


def test_dropped_files_become_an_image_and_a_link(admin_page: Page):
    page = admin_page
    slug = create_page(page, "Dropped Files", "Slides and the diagram: ")
    page.goto(f"/edit/{slug}")
    preview = show_live_preview(page)
    put_cursor_after(page, "diagram: ")
    drop_files(page, LocalFile("request flow.png", "image/png", request_flow_png()),
               LocalFile("talk.pdf", "application/pdf", b"%PDF-1.4 slides"))
    expect(page.locator(".uploads")).to_have_text(
        re.compile(r"Attached request-flow\.png\.\s*Attached talk\.pdf\."))
    expect(editor_text(page)).to_have_value(
        "Slides and the diagram: ![request-flow](request-flow.png)\n[talk](talk.pdf)")
    expect(preview.get_by_role("link", name="talk")).to_have_attribute(
        "href", f"/files/{slug}/talk.pdf")
    assert shown_image_width(preview.get_by_role("img", name="request-flow")) == FLOW_WIDTH


def test_while_a_file_uploads_the_text_marks_its_place_and_saving_waits(admin_page: Page):
    page = admin_page
    slug = create_page(page, "Slow Uploads", "Notes so far.")
    held = []  # the upload waits here until let go
    page.route(f"**/attachments/{slug}", lambda route: held.append(route))
    page.goto(f"/edit/{slug}")
    put_cursor_after(page, "so far.")
    paste_files(page, LocalFile("image.png", "image/png", request_flow_png()))

    uploads = page.locator(".uploads")
    expect(uploads).to_have_text(re.compile(rf"Uploading {PASTED}\.png…"))
    expect(uploads.locator("progress")).to_be_visible()
    expect(editor_text(page)).to_have_value(
        re.compile(rf"^Notes so far\.!\[Uploading {PASTED}\.png…\]\(\)$"))
    page.keyboard.press("Control+s")
    expect(uploads).to_contain_text("Files are still uploading: save once they are attached.")
    expect(page).to_have_url(url_path(f"/edit/{slug}"))

    held[0].continue_()
    page.unroute(f"**/attachments/{slug}")
    expect(editor_text(page)).to_have_value(
        re.compile(rf"^Notes so far\.!\[{PASTED}\]\({PASTED}\.png\)$"))
    page.keyboard.press("Control+s")
    expect(page).to_have_url(url_path(f"/wiki/{slug}"))
    assert shown_image_width(page.locator(".markdown img")) == FLOW_WIDTH


def test_a_refused_file_says_why_and_the_text_stays_as_typed(admin_page: Page):
    page = admin_page
    slug = create_page(page, "Careful Notes", "Saved text.")
    page.goto(f"/edit/{slug}")
    typed = "Saved text.\n\nTyped since, and not saved yet."
    editor_text(page).fill(typed)

    paste_files(page, LocalFile("fake.png", "image/png", b"<html>not a picture</html>"))
    uploads = page.locator(".uploads")
    expect(uploads).to_contain_text("Could not attach fake.png: “fake.png” looks like an "
                                    "image but is not a PNG, JPEG, GIF or WebP file")
    expect(editor_text(page)).to_have_value(typed)

    drop_files(page, LocalFile("big.pdf", "application/pdf", size=11 * MB))
    expect(uploads).to_have_text("Could not attach big.pdf: files may be up to 10 MB each.")
    expect(editor_text(page)).to_have_value(typed)
    page.goto(f"/attachments/{slug}")
    expect(page.get_by_text("has no files yet")).to_be_visible()


def test_a_page_not_saved_yet_asks_to_be_saved_first(admin_page: Page):
    page = admin_page
    page.goto("/new")
    page.get_by_label("Title", exact=True).fill("Pictures Before Saving")
    editor_text(page).fill("A first line.")
    expect(page.get_by_text("Files can be attached once the page is saved.")).to_be_visible()
    paste_files(page, LocalFile("image.png", "image/png", request_flow_png()))
    expect(page.locator(".uploads")).to_have_text(
        "Save the page first: files are attached to a saved page. Your text is unchanged.")
    expect(editor_text(page)).to_have_value("A first line.")

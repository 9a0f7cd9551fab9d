"""Steps of the journeys, written the way a person uses the wiki: labels, roles, keys."""

from __future__ import annotations

import base64
import io
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import Page, expect

from tests.servers import PROJECT_ROOT
from wiki.services.slugs import slugify

# The README's screenshots: `make screenshots` refreshes them; other runs save theirs outside
# the checkout, so running the tests leaves the working tree as it was.
README_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
SCREENSHOTS = (README_SCREENSHOTS if os.environ.get("WIKI_README_SCREENSHOTS")
               else Path(tempfile.gettempdir()) / "wiki-e2e-screenshots")
BASE_OPTIONS = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB",
                "timezone_id": "UTC"}


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    state: Path | None  # saved cookies, to skip the login form in later tests


def url_path(path: str) -> re.Pattern[str]:
    """Match a page URL ending in *path* (a regular expression), ignoring the host."""
    return re.compile(rf"^https?://[^/]+{path}$")


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Save the screen, from its top, as <name>.png in SCREENSHOTS."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page,
                    animations="disabled", caret="hide")


def page_width(page: Page) -> int:
    page.wait_for_load_state("load")  # measure the page, not a navigation in progress
    return page.evaluate("document.documentElement.scrollWidth")


def too_wide(page: Page, width: int) -> list[str]:
    """The elements that stick out past *width* pixels, outermost first, for error messages."""
    return page.evaluate("""width => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > width + 0.5)
        .slice(0, 8)
        .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} `
                  + `(right edge ${Math.round(e.getBoundingClientRect().right)} px)`)""", width)


# --- accounts ----------------------------------------------------------------------------------


def create_first_account(page: Page, account: Account, setup_path: str) -> None:
    """Open the link ``flask init`` printed and create the administrator's account."""
    page.goto(setup_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Create the first account")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_label("Repeat password").fill(account.password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(account.username)


def sign_in(page: Page, account: Account) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(account.username)


# --- drafts --------------------------------------------------------------------------------------

# The draft of the editor with data-draft-key *key*, kept for the user signed in on the page.
DRAFT = "key => localStorage.getItem(`notebook:draft:${document.body.dataset.user}:${key}`)"


def stored_draft(page: Page, key: str) -> str | None:
    return page.evaluate(DRAFT, key)


def wait_for_draft(page: Page, key: str, containing: str = "") -> None:
    page.wait_for_function(f"key => ({DRAFT})(key)?.includes({containing!r})", arg=key)


# --- the header --------------------------------------------------------------------------------


def site_link(page: Page, name: str):
    """The site's link *name*; on a phone it sits behind "Menu", which is opened first."""
    menu = page.locator("summary", has_text="Menu")
    if menu.is_visible() and not menu.evaluate("summary => summary.parentElement.open"):
        menu.click()
    return page.get_by_role("navigation", name="Site").get_by_role("link", name=name)


# --- pages ---------------------------------------------------------------------------------------


def editor_text(page: Page):
    return page.get_by_label("Text (Markdown)")


def create_page(page: Page, title: str, body: str, *, slug: str | None = None,
                summary: str = "") -> str:
    """Save *body* as the page *title* (new, or the existing page *slug*); its slug."""
    page.goto(f"/edit/{slug}" if slug else "/new")
    page.get_by_label("Title", exact=True).fill(title)
    editor_text(page).fill(body)
    if summary:
        page.get_by_label("Edit summary").fill(summary)
    page.get_by_role("button", name="Save").click()
    slug = slug or slugify(title)
    expect(page).to_have_url(url_path(f"/wiki/{re.escape(slug)}"))
    return slug


def show_live_preview(page: Page):
    """Turn the editor's live preview on (it remembers the choice); the preview pane."""
    toggle = page.get_by_role("button", name="Live preview")
    if toggle.get_attribute("aria-pressed") != "true":
        toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    return page.get_by_role("region", name="Live preview")


def type_at_end(page: Page, text: str) -> None:
    """Type *text* at the end of the page text, key by key, as a person does."""
    editor_text(page).click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


# --- the core journey ------------------------------------------------------------------------


def core_journey(page: Page, name: str, at: Callable[[Page, str], None]) -> tuple[str, str]:
    """Create a page linking to a missing one, create that from the red link, edit with live
    preview, save with Ctrl+S, then history, diff and revert.

    *at(page, screen)* runs on each screen reached ("page", "editor", "history", "diff"...).
    Returns the two pages' titles.
    """
    source, target = f"{name} Notes", f"{name} Details"
    source_slug, target_slug = slugify(source), slugify(target)

    page.goto("/")
    site_link(page, "New page").click()
    expect(page).to_have_url(url_path("/new"))
    at(page, "new page")
    page.get_by_label("Title", exact=True).fill(source)
    editor_text(page).fill(f"These notes link to [[{target}]], which is not written yet.")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(url_path(f"/wiki/{source_slug}"))
    red_link = page.locator("a.wikilink-missing", has_text=target)
    expect(red_link).to_be_visible()
    at(page, "red link")

    red_link.click()
    expect(page).to_have_url(url_path(rf"/edit/{target_slug}\?title=.*"))
    expect(page.get_by_label("Title", exact=True)).to_have_value(target)
    editor_text(page).fill(f"The details behind [[{source}]].")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(url_path(f"/wiki/{target_slug}"))
    expect(page.locator(".flashes")).to_contain_text("Page created.")

    page.goto(f"/wiki/{source_slug}")
    link = page.locator(".markdown a", has_text=target)
    expect(link).to_have_class("wikilink")
    expect(link).to_have_attribute("href", f"/wiki/{target_slug}")
    at(page, "page")

    page.keyboard.press("e")  # the shortcut for Edit
    expect(page).to_have_url(url_path(f"/edit/{source_slug}"))
    preview = show_live_preview(page)
    expect(preview).to_contain_text("These notes link to")
    type_at_end(page, "\n\n## A fresh heading\n\nWritten *while* watching")
    expect(preview.get_by_role("heading", name="A fresh heading")).to_be_visible()
    expect(preview.locator("em")).to_have_text("while")
    at(page, "editor")

    page.keyboard.press("Control+s")
    expect(page).to_have_url(url_path(f"/wiki/{source_slug}"))
    expect(page.locator(".flashes")).to_contain_text("Saved.")
    expect(page.locator(".markdown h2")).to_have_text("A fresh heading")

    page.get_by_role("link", name="History", exact=True).click()
    expect(page.locator("table.history tbody tr")).to_have_count(2)
    at(page, "history")
    page.get_by_role("button", name="Compare selected revisions").click()
    expect(page).to_have_url(url_path(rf"/diff/{source_slug}\?(?=.*\bfrom=1\b)(?=.*\bto=2\b).*"))
    expect(page.locator(".diff__line--insert").filter(has_text="A fresh heading")).to_be_visible()
    at(page, "diff")

    page.get_by_role("link", name="History", exact=True).click()
    page.locator(f'a[href="/revert/{source_slug}?rev=1"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("to revision 1?")
    at(page, "revert")
    page.get_by_role("button", name="Revert").click()
    expect(page).to_have_url(url_path(f"/wiki/{source_slug}"))
    expect(page.locator(".flashes")).to_contain_text("Reverted to revision 1.")
    expect(page.locator(".markdown h2")).to_have_count(0)
    return source, target


# --- files pasted or dropped into the editor -------------------------------------------------

# Build the files in the page and send them to the editor's text as a paste or a drop, as the
# browser does when a person pastes a screenshot or drops files from their desktop.
SEND_FILES = """(textarea, { kind, files }) => {
    const transfer = new DataTransfer();
    for (const file of files) {
        const bytes = file.base64 === null ? new Uint8Array(file.size)
            : Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0));
        transfer.items.add(new File([bytes], file.name, { type: file.type }));
    }
    const options = { bubbles: true, cancelable: true };
    textarea.dispatchEvent(kind === 'paste'
        ? new ClipboardEvent('paste', { ...options, clipboardData: transfer })
        : new DragEvent('drop', { ...options, dataTransfer: transfer }));
}"""


@dataclass(frozen=True)
class LocalFile:
    """A file on the user's machine: its name, type and bytes (or only a size, zeros)."""

    name: str
    type: str
    data: bytes | None = None
    size: int = 0

    def sent(self) -> dict[str, object]:
        encoded = base64.b64encode(self.data).decode() if self.data is not None else None
        return {"name": self.name, "type": self.type, "base64": encoded, "size": self.size}


def paste_files(page: Page, *files: LocalFile) -> None:
    editor_text(page).evaluate(SEND_FILES, {"kind": "paste", "files": [f.sent() for f in files]})


def drop_files(page: Page, *files: LocalFile) -> None:
    editor_text(page).evaluate(SEND_FILES, {"kind": "drop", "files": [f.sent() for f in files]})


def shown_image_width(image) -> int:
    """The width of the picture *image* (a locator) decoded to, once loaded: 0 if broken."""
    return image.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)")


def request_flow_png() -> bytes:
    """A small diagram, the kind of picture people paste into their notes."""
    steps = ["Browser", "Gunicorn", "Flask app", "view", "template"]
    box_width, gap, height = 150, 40, 150
    image = Image.new("RGB", (len(steps) * (box_width + gap) + gap, height), "#f4f7fb")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=20)
    for index, step in enumerate(steps):
        left = gap + index * (box_width + gap)
        draw.rounded_rectangle((left, 45, left + box_width, 105), radius=10, fill="#ffffff",
                               outline="#0b57c2", width=3)
        draw.text((left + box_width / 2, 75), step, fill="#1d1f21", font=font, anchor="mm")
        if index:
            draw.line((left - gap + 4, 75, left - 6, 75), fill="#56595e", width=3)
            draw.polygon([(left - 4, 75), (left - 14, 69), (left - 14, 81)], fill="#56595e")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()

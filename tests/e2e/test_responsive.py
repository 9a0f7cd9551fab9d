"""Every screen a person sees, at four widths, in light and dark: nothing scrolls sideways,
no form field, label or button lies over another, and the footer sits at the bottom.

One browser context per width and scheme serves all the screens (pytest groups the tests by
the module-scoped ``viewport`` fixture); the pages they show are written once, in ``stage``.
A failure names the screen, the width and the scheme, and says what was measured.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.steps import (
    BASE_OPTIONS,
    create_page,
    editor_text,
    request_flow_png,
    screenshot,
    show_live_preview,
    too_wide,
    url_path,
)
from wiki.services.slugs import slugify

pytestmark = pytest.mark.e2e

WIDTHS = {360: 740, 768: 1024, 1280: 800, 1920: 1080}  # width → a usual height for it
SCHEMES = ("light", "dark")
PHONE_WIDTH = 360

LONG_READ = "Layouts for Long Reading"
# One unbroken word of 200 letters (the longest title allowed), as when a URL is pasted in.
LONG_TITLE = ("Unbreakable" * 19)[:200]
LONG_URL = ("https://example.org/notes/a-rather/deeply/nested/path/"
            + "segment-" * 24 + "end?query=" + "x" * 60)
CONFLICTED = "Layouts Under Two Editors"


@dataclass(frozen=True)
class Stage:
    """The pages and accounts the screens show."""

    long_read: str  # slug: headings three levels deep (a contents list), cards, files, tags
    long_title: str  # slug of the page titled with one 200-letter word
    conflicted: str  # slug of the page the conflict screen saves over
    admin_id: int


def long_read_body(version: int) -> str:
    sections = []
    for number, topic in enumerate(["Measure", "Rhythm", "Hierarchy", "Density"], start=1):
        sections.append(f"""
## {number}. {topic}

{topic} is one of the things a reader feels before they notice it. This paragraph is long
enough to wrap a few times on a phone and to show the measure of a line on a wide screen, so
that the eye has somewhere to travel and somewhere to come back to.

### {topic} in prose

Paragraphs, lists and quotes follow one rhythm.

- a first point about {topic.lower()}
- a second point, with `inline_code_that_is_rather_long_for_a_phone_screen`

#### A detail of {topic.lower()}

> A quote about {topic.lower()}, set apart from the text around it.

### {topic} in tables

| Screen | Width | What changes |
| --- | ---: | --- |
| phone | 360 px | one column, contents folded |
| desktop | 1280 px | contents beside the text |
""")
    return f"""\
How the wiki lays out a long page: see [[{LONG_TITLE}]] and [[A Page Not Written Yet]].

Revision {version}.

- Measure :: the length of a line of prose, about 70 characters
- A ==table of contents== keeps its place beside the text #card

```python
def measure(characters: int = 70) -> str:
    return "a readable line of about {{}} characters".format(characters)
```
{"".join(sections)}
A closing remark with a footnote.[^1]

[^1]: Footnotes sit under a rule at the end.
"""


@pytest.fixture(scope="module")
def stage(browser, server, admin) -> Stage:
    """Write the pages the screens show: each twice, for a history and a diff."""
    context = browser.new_context(base_url=server.url, storage_state=str(admin.state),
                                  **BASE_OPTIONS)
    page = context.new_page()
    long_read = slugify(LONG_READ)
    for version in (1, 2):
        page.goto(f"/edit/{long_read}" if version == 2 else "/new")
        page.get_by_label("Title", exact=True).fill(LONG_READ)
        editor_text(page).fill(long_read_body(version))
        page.get_by_label("Tags").fill("design, layout, a-rather-long-tag-name-for-a-chip")
        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(url_path(f"/wiki/{long_read}"))
    long_title = create_page(page, LONG_TITLE, f"A title that never breaks, and a URL:\n\n"
                                               f"{LONG_URL}\n\nSee [[{LONG_READ}]].")
    create_page(page, LONG_TITLE, f"A title that never breaks, and a URL:\n\n{LONG_URL}\n\n"
                                  f"See [[{LONG_READ}]] again.", slug=long_title,
                summary="A summary that is also rather long, " * 4)
    conflicted = create_page(page, CONFLICTED, "The first line.\n\nThe second line.")

    page.goto(f"/attachments/{long_read}")
    page.get_by_label("Files").set_input_files([
        {"name": "flow.png", "mimeType": "image/png", "buffer": request_flow_png()},
        {"name": "a-handout-with-a-name-long-enough-to-wrap-on-a-phone.pdf",
         "mimeType": "application/pdf", "buffer": b"%PDF-1.4 handout"}])
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flashes")).to_contain_text("Uploaded flow.png")

    page.goto("/admin/access")
    page.get_by_label("Pages", exact=True).fill("layouts/drafts/**")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("table.listing")).to_contain_text("layouts/drafts/**")

    page.goto("/admin/users")
    href = page.get_by_role("main").get_by_role("link", name=admin.username, exact=True) \
        .get_attribute("href")
    context.close()
    return Stage(long_read, long_title, conflicted, int(href.rstrip("/").rsplit("/", 1)[1]))


# --- screens -------------------------------------------------------------------------------


def without_preview(page: Page, stage: Stage) -> None:
    toggle = page.get_by_role("button", name="Live preview")
    if toggle.get_attribute("aria-pressed") == "true":
        toggle.click()
    expect(page.get_by_role("region", name="Live preview")).to_be_hidden()


def with_preview(page: Page, stage: Stage) -> None:
    expect(show_live_preview(page).get_by_role("heading", name="1. Measure")).to_be_visible()


def server_preview(page: Page, stage: Stage) -> None:
    """The editor after "Preview": the preview the server renders. The live preview hides
    that button; the form is sent with it as it is without JavaScript."""
    without_preview(page, stage)
    page.locator("#editor").evaluate("form => form.requestSubmit(form.elements.preview)")
    expect(page.get_by_role("region", name="Preview", exact=True)).to_be_visible()


_conflicts = itertools.count(1)


def conflict(page: Page, stage: Stage) -> None:
    """Someone else saves the same line while this editor is open; then this one saves."""
    number = next(_conflicts)
    editor_text(page).fill(f"The first line, as I have it ({number}).\n\nThe second line.")
    other = page.context.new_page()
    create_page(other, CONFLICTED, f"The first line, as they have it ({number}).\n\n"
                                   "The second line.", slug=stage.conflicted)
    other.close()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Someone else changed this page")).to_be_visible()


def answer_shown(page: Page, stage: Stage) -> None:
    page.get_by_role("link", name="Show answer").click()
    expect(page.locator("#review-answer")).to_be_visible()


_tokens = itertools.count(1)


def new_token(page: Page, stage: Stage) -> None:
    page.get_by_label("Name").fill(f"A backup script on the laptop, number {next(_tokens)}")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name=re.compile("Your new token"))).to_be_visible()


@dataclass(frozen=True)
class Screen:
    path: str  # formatted with the Stage's fields
    signed_in: bool = True
    then: Callable[[Page, Stage], None] | None = None  # what the person does after opening it


SCREENS = {
    "home": Screen("/"),
    "page-with-contents": Screen("/wiki/{long_read}"),
    "page-with-long-title": Screen("/wiki/{long_title}"),
    "old-revision": Screen("/wiki/{long_title}?rev=1"),
    "editor": Screen("/edit/{long_read}", then=without_preview),
    "editor-with-preview": Screen("/edit/{long_read}", then=with_preview),
    "editor-with-server-preview": Screen("/edit/{long_read}", then=server_preview),
    "section-editor": Screen("/edit/{long_read}?section=2", then=without_preview),
    "editor-long-title": Screen("/edit/{long_title}", then=without_preview),
    "new-page": Screen("/new", then=without_preview),
    "conflict": Screen("/edit/{conflicted}", then=conflict),
    "history": Screen("/history/{long_title}"),
    "diff": Screen("/diff/{long_read}?from=1&to=2"),
    "diff-long-title": Screen("/diff/{long_title}?from=1&to=2"),
    "revert": Screen("/revert/{long_title}?rev=1"),
    "rename": Screen("/rename/{long_title}"),
    "delete": Screen("/delete/{long_title}"),
    "recent-changes": Screen("/recent"),
    "deleted-pages": Screen("/deleted"),
    "all-pages": Screen("/pages"),
    "search": Screen("/search?q=layout"),
    "search-nothing-found": Screen("/search?q=zzzqqqxxx"),
    "tags": Screen("/tags"),
    "tag": Screen("/tags/design"),
    "backlinks": Screen("/backlinks/{long_read}"),
    "attachments": Screen("/attachments/{long_read}"),
    "review-card": Screen("/review?under={long_read}"),
    "review-answer": Screen("/review?under={long_read}", then=answer_shown),
    "review-nothing-due": Screen("/review?tag=no-such-tag"),
    "review-stats": Screen("/review/stats"),
    "account": Screen("/account"),
    "tokens": Screen("/account/tokens"),
    "new-token": Screen("/account/tokens", then=new_token),
    "admin-users": Screen("/admin/users"),
    "admin-user": Screen("/admin/users/{admin_id}"),
    "admin-access": Screen("/admin/access"),
    "help-shortcuts": Screen("/help/shortcuts"),
    "help-writing": Screen("/help/writing"),
    "help-api": Screen("/help/api"),
    "not-found": Screen("/wiki/no-such-page-anywhere"),
    "login": Screen("/login", signed_in=False),
    "register": Screen("/register", signed_in=False),
    "home-signed-out": Screen("/", signed_in=False),
}

# The README's screenshots (`make screenshots`): these screens at 1280 px and on a phone,
# light and dark, saved as <screen>-<scheme>-<width>.png.
README_SCREENS = ("page-with-contents", "editor-with-preview", "history", "diff",
                  "recent-changes", "search", "all-pages")
README_WIDTHS = (PHONE_WIDTH, 1280)


# --- measures ------------------------------------------------------------------------------

# The boxes of form labels, fields and buttons that intersect, as readable lines. A label is
# measured by its own text (so a label wrapping its checkbox is no overlap); a box inside a
# 1-pixel clipped box (the visually hidden labels) is left out, as are hidden ones.
OVERLAPPING_CONTROLS = """() => {
    const CONTROLS = 'label, input, textarea, select, button, a.button';
    const shown = element => {
        for (let e = element; e && e !== document.body; e = e.parentElement) {
            const box = e.getBoundingClientRect();
            if (box.width <= 1 || box.height <= 1) return false;
        }
        const style = getComputedStyle(element);
        return style.visibility !== 'hidden' && style.display !== 'none';
    };
    const textBoxes = label => {
        const boxes = [];
        const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode;
            if (!node.textContent.trim()) continue;
            if (node.parentElement.closest('input, textarea, select, button') ) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            boxes.push(...[...range.getClientRects()].filter(r => r.width > 0 && r.height > 0));
        }
        return boxes;
    };
    const name = e => {
        const text = (e.innerText || e.value || e.name || '').trim().replace(/\\s+/g, ' ');
        return `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "${text.slice(0, 40)}"`;
    };
    const where = r => `${Math.round(r.left)},${Math.round(r.top)} `
                       + `${Math.round(r.width)}×${Math.round(r.height)}`;
    const controls = [...document.querySelectorAll(CONTROLS)]
        .filter(e => !(e.tagName === 'INPUT' && e.type === 'hidden') && shown(e))
        .map(e => ({ e, boxes: e.tagName === 'LABEL' ? textBoxes(e)
                                                     : [e.getBoundingClientRect()] }));
    const found = [];
    for (let i = 0; i < controls.length; i++) {
        for (let j = i + 1; j < controls.length; j++) {
            const [a, b] = [controls[i], controls[j]];
            if (a.e.contains(b.e) || b.e.contains(a.e)) continue;
            for (const p of a.boxes) for (const q of b.boxes) {
                const across = Math.min(p.right, q.right) - Math.max(p.left, q.left);
                const down = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
                if (across > 1 && down > 1) {
                    found.push(`${name(a.e)} at ${where(p)} overlaps ${name(b.e)} at `
                               + `${where(q)} by ${Math.round(across)}×${Math.round(down)} px`);
                }
            }
        }
    }
    return found.slice(0, 8);
}"""

# Where the site's footer ends, seen from the top of the page (the footers of articles and
# sections are not the site's).
FOOTER_BOTTOM = """() => {
    window.scrollTo(0, 0);
    const footers = [...document.querySelectorAll('footer')]
        .filter(f => !f.closest('main, article, section, aside'));
    const footer = footers[footers.length - 1];
    return footer ? footer.getBoundingClientRect().bottom : null;
}"""


# The tables of the wiki's own screens (lists of changes, pages, files, tokens: not a page's
# Markdown) that are wider than the box they scroll in, so columns are pushed out of sight.
TABLES_WIDER_THAN_THEIR_BOX = """() => [...document.querySelectorAll('main table')]
    .filter(table => !table.closest('.markdown'))
    .map(table => {
        let box = table.parentElement;
        while (box !== document.body && !/auto|scroll/.test(getComputedStyle(box).overflowX)) {
            box = box.parentElement;
        }
        return { table, box };
    })
    .filter(({ box }) => box.scrollWidth > box.clientWidth + 1)
    .map(({ table, box }) => `table.${[...table.classList].join('.')} is ${box.scrollWidth} px `
                             + `wide in a ${box.clientWidth} px box`)"""
# From this width up, the wiki's tables fit: long titles wrap rather than push columns away.
TABLES_FIT_FROM = 1280


@dataclass
class Viewport:
    width: int
    scheme: str
    signed_in: Page
    visitor: Page


@pytest.fixture(scope="module", params=list(itertools.product(WIDTHS, SCHEMES)),
                ids=lambda param: f"{param[0]}px-{param[1]}")
def viewport(request, browser, server, admin) -> Viewport:
    """A signed-in and a signed-out tab at one width, in one colour scheme, for every screen."""
    width, scheme = request.param
    options = {**BASE_OPTIONS, "viewport": {"width": width, "height": WIDTHS[width]}}
    if width == PHONE_WIDTH:
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    contexts: list[BrowserContext] = []
    tabs = []
    for account in (admin, None):
        context = browser.new_context(base_url=server.url,
                                      storage_state=str(account.state) if account else None,
                                      **options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        tab = context.new_page()
        tab.emulate_media(color_scheme=scheme)
        tab.on("dialog", lambda dialog: dialog.accept())  # "leave unsaved changes?": yes
        tabs.append(tab)
    yield Viewport(width, scheme, *tabs)
    for context in contexts:
        context.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_every_screen_fits_without_overlaps(screen, viewport: Viewport, stage: Stage):
    shown = SCREENS[screen]
    page = viewport.signed_in if shown.signed_in else viewport.visitor
    page.goto(shown.path.format(**vars(stage)))
    if shown.then:
        shown.then(page, stage)
    page.wait_for_load_state("load")
    where = f"{screen} at {viewport.width} px, {viewport.scheme}"
    width = viewport.width

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    # A phone widens its window (innerWidth) to fit what sticks out, so the screen's width is
    # the measure: the root's client width, the window without a classic scroll bar.
    inner_width = min(page.evaluate("window.innerWidth"),
                      page.evaluate("document.documentElement.clientWidth"))
    overlaps = page.evaluate(OVERLAPPING_CONTROLS)
    footer_bottom = page.evaluate(FOOTER_BOTTOM)
    inner_height = page.evaluate("window.innerHeight")
    wide_tables = page.evaluate(TABLES_WIDER_THAN_THEIR_BOX) if width >= TABLES_FIT_FROM else []
    if screen in README_SCREENS and width in README_WIDTHS:
        screenshot(page, f"{screen}-{viewport.scheme}-{width}")

    problems = []
    if scroll_width > inner_width:
        problems.append(f"scrolls sideways: {scroll_width} px wide in a {inner_width} px "
                        f"window; sticking out: {too_wide(page, inner_width)}")
    problems.extend(f"overlap: {overlap}" for overlap in overlaps)
    problems.extend(f"a table scrolls sideways: {table}" for table in wide_tables)
    if footer_bottom is None:
        problems.append("no site footer")
    elif footer_bottom < inner_height - 1:
        problems.append(f"the footer ends {round(footer_bottom)} px down a {inner_height} px "
                        "high window, above its bottom")
    assert not problems, f"{where}:\n  " + "\n  ".join(problems)

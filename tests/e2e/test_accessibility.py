"""axe-core finds no serious or critical problem on the main screens, in light and dark, on
a desktop and on a phone."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.steps import (
    LocalFile,
    paste_files,
    request_flow_png,
    screenshot,
    show_live_preview,
    wait_for_draft,
)

pytestmark = pytest.mark.e2e

BLOCKING = {"serious", "critical"}

# screen → (path, signed in?); {sample} is the page with code and tables.
SCREENS = {
    "home": ("/", True),
    "page": ("/wiki/{sample}", True),
    "editor": ("/edit/{sample}", True),
    "page-with-sections": ("/wiki/what-is-wsgi", True),
    "section-editor": ("/edit/what-is-wsgi?section=1", True),  # a shipped note's "###"
    "history": ("/history/{sample}", True),
    "diff": ("/diff/{sample}?from=1&to=2", True),
    "search": ("/search?q=flask", True),
    "recent-changes": ("/recent", True),
    "all-pages": ("/pages", True),
    "tags": ("/tags", True),
    "login": ("/login", False),
    "not-found": ("/wiki/no-such-page", True),
    "shortcuts": ("/help/shortcuts", False),
    "writing": ("/help/writing", False),
}
SCREENSHOTS = {("home", "light"): "home", ("page", "light"): "page",
               ("page", "dark"): "dark-mode", ("editor", "dark"): "dark-editor"}  # at 1280 px
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
WIDTHS = {1280: DESKTOP, 360: PHONE}


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def blocking_violations(axe: Axe, page: Page) -> str:
    results = axe.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    return AxeReport(blocking).text()


class AxeReport:
    def __init__(self, violations: list[dict]) -> None:
        self.violations = violations

    def text(self) -> str:
        lines = []
        for violation in self.violations:
            lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
            lines.extend(f"    {node['target']}: {node['failureSummary']}"
                         for node in violation["nodes"][:5])
        return "\n".join(lines)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("screen", SCREENS)
def test_no_serious_accessibility_problem(screen, scheme, width, new_context, admin, sample_page,
                                          axe):
    path, signed_in = SCREENS[screen]
    page = new_context(admin if signed_in else None, color_scheme=scheme,
                       **WIDTHS[width]).new_page()
    page.goto(path.format(sample=sample_page))
    if screen == "editor":
        expect(show_live_preview(page).locator(".highlight")).to_be_visible()
    if screen == "page-with-sections":
        expect(page.locator(".section-edit").first).to_be_visible()
    if screen == "section-editor":
        expect(show_live_preview(page).get_by_role("heading", level=3)).to_be_visible()
    problems = blocking_violations(axe, page)
    assert not problems, f"axe on {screen} ({scheme}, {width} px):\n{problems}"
    if width == 1280 and (screen, scheme) in SCREENSHOTS:
        screenshot(page, SCREENSHOTS[screen, scheme])


def test_open_type_ahead_and_draft_offer_have_no_serious_problem(new_context, admin, axe):
    page = new_context(admin).new_page()
    page.goto("/")
    page.keyboard.press("/")
    page.keyboard.type("flask")
    expect(page.get_by_role("listbox")).to_be_visible()
    page.keyboard.press("ArrowDown")
    problems = blocking_violations(axe, page)
    assert not problems, f"axe with the type-ahead open:\n{problems}"

    page.goto("/new")
    page.get_by_label("Title", exact=True).fill("Unsaved")
    wait_for_draft(page, "new")
    page.goto("/new")
    expect(page.get_by_role("region", name="Unsaved draft")).to_be_visible()
    problems = blocking_violations(axe, page)
    assert not problems, f"axe with the draft offer shown:\n{problems}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_page_s_files_and_the_editor_s_upload_messages_have_no_serious_problem(
        scheme, new_context, admin, sample_page, axe):
    page = new_context(admin, color_scheme=scheme).new_page()
    page.goto(f"/attachments/{sample_page}")
    page.get_by_label("Files").set_input_files([  # a second run makes second versions
        {"name": "flow.png", "mimeType": "image/png", "buffer": request_flow_png()},
        {"name": "talk.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 slides"}])
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flashes")).to_contain_text("Uploaded flow.png, talk.pdf.")
    problems = blocking_violations(axe, page)
    assert not problems, f"axe on the attachments page ({scheme}):\n{problems}"

    page.goto(f"/edit/{sample_page}")
    toggle = page.get_by_role("button", name="Live preview")
    if toggle.get_attribute("aria-pressed") == "true":  # its refresh would dim it for axe
        toggle.click()
    paste_files(page, LocalFile("fake.png", "image/png", b"not a picture"))
    expect(page.locator(".uploads")).to_contain_text("Could not attach fake.png")
    problems = blocking_violations(axe, page)
    assert not problems, f"axe on the editor with an upload message ({scheme}):\n{problems}"

"""Math typeset on the server and Mermaid diagrams drawn in the browser, under the strict CSP."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.steps import create_page, screenshot, show_live_preview, type_at_end
from tests.e2e.test_accessibility import blocking_violations

pytestmark = pytest.mark.e2e

BODY = """\
Einstein's best-known formula is $E = mc^2$; the sum of the first $n$ odd numbers is

$$
\\sum_{k=1}^{n} (2k - 1) = n^2
$$

How a request travels through this wiki:

```mermaid
flowchart LR
  Browser -->|GET /wiki/home| Flask
  Flask --> View[view function]
  View --> Service --> Database[(SQLite)]
  View -->|HTML| Browser
```
"""

BROKEN = "```mermaid\nflowchart LR\n  this is --> -->> not [a diagram\n```\n"

# Every CSP violation in the page, as the browser reports it to the page itself.
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation',
  event => window.cspViolations.push(`${event.violatedDirective}: ${event.blockedURI}`));
"""


@pytest.fixture(scope="module")
def math_page(browser, server, admin) -> str:
    context = browser.new_context(base_url=server.url, storage_state=str(admin.state))
    slug = create_page(context.new_page(), "Math and Diagrams", BODY)
    context.close()
    return slug


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def watched(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of *page* (CSP refusals are console errors)."""
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.add_init_script(WATCH_VIOLATIONS)
    return problems


def node_fill(page: Page) -> str:
    return page.locator(".diagram svg .node rect").first.evaluate(
        "node => getComputedStyle(node).fill")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_math_and_a_diagram_are_drawn_without_a_csp_violation(
        scheme, new_context, admin, math_page, axe):
    page = new_context(admin, color_scheme=scheme).new_page()
    problems = watched(page)
    page.goto(f"/wiki/{math_page}")

    diagram = page.locator(".diagram svg")
    expect(diagram).to_be_visible()
    expect(page.locator(".diagram__source")).to_be_hidden()
    expect(page.locator(".diagram")).to_have_attribute("data-theme",
                                                       "dark" if scheme == "dark" else "default")
    for formula in page.locator("math").all():
        box = formula.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0
    assert page.locator("math").count() == 3
    expect(page.locator("math[display=block]")).to_be_visible()

    assert page.evaluate("window.cspViolations") == []
    assert problems == []
    violations = blocking_violations(axe, page)
    assert not violations, f"axe on a page with math and a diagram ({scheme}):\n{violations}"
    if scheme == "light":
        screenshot(page, "math-and-diagrams")


def test_dark_mode_draws_a_dark_diagram(new_context, admin, math_page):
    fills = {}
    for scheme in ("light", "dark"):
        page = new_context(admin, color_scheme=scheme).new_page()
        page.goto(f"/wiki/{math_page}")
        expect(page.locator(".diagram svg")).to_be_visible()
        fills[scheme] = node_fill(page)
    assert fills["light"] != fills["dark"]

    def brightness(fill: str) -> float:
        red, green, blue = (float(part) for part in fill[fill.index("(") + 1:-1].split(",")[:3])
        return (red + green + blue) / 3

    assert brightness(fills["dark"]) < 100 < brightness(fills["light"])


def test_a_diagram_that_does_not_parse_shows_its_source_and_the_error(new_context, admin):
    page = new_context(admin).new_page()
    problems = watched(page)
    create_page(page, "Broken Diagram", BROKEN)
    error = page.locator(".diagram__error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("could not be drawn")
    expect(page.locator(".diagram__source")).to_be_visible()
    expect(page.locator(".diagram__source")).to_contain_text("not [a diagram")
    expect(page.locator(".diagram svg")).to_have_count(0)
    assert page.evaluate("window.cspViolations") == []
    assert problems == []


def test_without_javascript_math_shows_and_a_diagram_is_its_source(new_context, admin,
                                                                    math_page):
    page = new_context(admin, java_script_enabled=False).new_page()
    page.goto(f"/wiki/{math_page}")
    expect(page.locator("math").first).to_be_visible()
    expect(page.locator(".diagram__source")).to_be_visible()
    expect(page.locator(".diagram__source")).to_contain_text("flowchart LR")


def test_pages_without_diagrams_do_not_load_mermaid(new_context, admin, sample_page):
    page = new_context(admin).new_page()
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url)
            if request.resource_type == "script" else None)
    page.goto(f"/wiki/{sample_page}")
    page.wait_for_load_state("networkidle")
    assert scripts and not [url for url in scripts if "mermaid" in url or "diagrams" in url]


def test_the_live_preview_shows_math_at_once_and_diagrams_when_typing_pauses(new_context,
                                                                           admin):
    page = new_context(admin).new_page()
    problems = watched(page)
    page.goto("/new")
    page.get_by_label("Title", exact=True).fill("Preview of math")
    preview = show_live_preview(page)
    type_at_end(page, "Area: $\\pi r^2$\n\n```mermaid\nflowchart TD\n  A --> B\n```\n")
    expect(preview.locator("math")).to_be_visible()
    expect(preview.locator("msup")).to_have_count(1)
    # Drawn once typing pauses, by a Mermaid loaded only now: 5 MB to parse on a slow machine.
    expect(preview.locator(".diagram svg")).to_be_visible(timeout=20_000)
    type_at_end(page, "\nMore text.\n")
    expect(preview).to_contain_text("More text.")
    expect(preview.locator(".diagram svg")).to_be_visible()  # drawn again from the same source
    assert page.evaluate("window.cspViolations") == []
    assert problems == []

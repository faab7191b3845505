"""What the browser tests check on a page: axe-core's WCAG 2.0/2.1 A and AA rules, what went wrong
while it ran (Content-Security-Policy violations, script errors, missing static files), and getting
to things with the keyboard alone."""

from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import ConsoleMessage, Page, Response

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# axe-core leaves these for a person to review, but on server-rendered forms each is a plain fault:
# two elements with the id a label or aria-describedby points at, or a reference to no element.
REVIEW_MEANS_FAULT = {"duplicate-id-aria", "form-field-multiple-labels", "aria-valid-attr-value"}
# More presses than any page needs to reach what a test looks for: past this, it is unreachable.
TAB_LIMIT = 80

_axe = Axe()


@dataclass
class PageWatch:
    """What went wrong while a page ran, collected from the browser's events."""

    csp_violations: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    failed_static: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"{message.location.get('url', '')}: {message.text}")

    def on_page_error(self, error: Exception) -> None:
        self.script_errors.append(str(error))

    def on_response(self, response: Response) -> None:
        if f"/{settings.STATIC_URL.strip('/')}/" in response.url and response.status >= 400:
            self.failed_static.append(f"{response.status} {response.url}")

    def problems(self) -> list[str]:
        return (
            [f"CSP violation: {text}" for text in self.csp_violations]
            + [f"JavaScript error: {text}" for text in self.script_errors]
            + [f"static file failed: {text}" for text in self.failed_static]
        )


def page_watch(page: Page) -> PageWatch:
    watch = PageWatch()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    page.on("response", watch.on_response)
    return watch


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations of the WCAG 2.1 AA rules on the page as it is now, and the results it
    leaves for review where, on these pages, review would only confirm a fault."""
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations", "incomplete"]}
    results = _axe.run(page, options=options).response
    return results["violations"] + [
        result for result in results["incomplete"] if result["id"] in REVIEW_MEANS_FAULT
    ]


def violations_report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines.extend(f"        {line}" for line in node.get("failureSummary", "").splitlines())
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core found WCAG 2.1 AA problems on {page.url}:\n" + violations_report(
        violations
    )


def focused_matches(page: Page, selector: str) -> bool:
    return page.evaluate("selector => document.activeElement.matches(selector)", selector)


def focus_shown(page: Page) -> bool:
    """Whether the focused element draws a focus ring (an outline or a box shadow)."""
    return page.evaluate(
        """() => {
          const style = getComputedStyle(document.activeElement);
          return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
        }"""
    )


def focused_description(page: Page) -> str:
    return page.evaluate("() => document.activeElement.outerHTML.slice(0, 160)")


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the focus is on `selector`, as someone without a mouse would; every stop on
    the way must show where the focus is."""
    unseen = []
    for _press in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        if not focus_shown(page):
            unseen.append(focused_description(page))
        if focused_matches(page, selector):
            assert not unseen, "Focus not visible on:\n" + "\n".join(unseen)
            return
    raise AssertionError(f"{selector} not reached with {TAB_LIMIT} presses of Tab on {page.url}")

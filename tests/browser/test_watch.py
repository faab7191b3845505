"""The checks every browser test relies on can fail: the site's Content-Security-Policy blocks an
inline script and style and the watch reports both, and axe-core reports a control without a name.
No live server here: the browser is handed the documents directly."""

import pytest

from socialdesk.middleware import CONTENT_SECURITY_POLICY
from tests.browser.checks import axe_violations, page_watch

pytestmark = pytest.mark.browser

PROBE_URL = "http://desk.test/probe"
INLINE_CODE = (
    '<!doctype html><html lang="es"><title>Prueba</title><main><h1>Prueba</h1>'
    '<p style="color: red">Estilo en línea</p><script>document.title = "ran";</script></main></html>'
)


@pytest.fixture
def bare_page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_the_watch_reports_what_the_sites_csp_blocks(bare_page):
    watch = page_watch(bare_page)
    bare_page.route(
        PROBE_URL,
        lambda route: route.fulfill(
            content_type="text/html",
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
            body=INLINE_CODE,
        ),
    )

    bare_page.goto(PROBE_URL)

    assert bare_page.title() == "Prueba"
    assert any("script-src" in text for text in watch.csp_violations), watch.csp_violations
    assert any("style-src" in text for text in watch.csp_violations), watch.csp_violations


def test_axe_reports_a_control_without_a_name(bare_page):
    bare_page.set_content('<html lang="es"><title>Prueba</title><main><h1>Prueba</h1><input></main></html>')

    assert [violation["id"] for violation in axe_violations(bare_page)] == ["label"]

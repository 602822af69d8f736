import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from playwright.sync_api import BrowserContext, Page
from pytest_playwright.pytest_playwright import _truncate_file_name
from slugify import slugify

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from such a thread unless told they are safe, which they are here (one thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Without these Chromium keeps calling home, which a closed network refuses noisily.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Return CHROMIUM_PATH, else a system Chromium, else None for Playwright's own."""
    if path := os.environ.get("CHROMIUM_PATH"):
        return path
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if path := chromium_path():
        args["executable_path"] = path
    return args


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture(autouse=True)
def _site_settings(settings, live_server):
    cache.clear()  # rate-limit counters
    settings.SITE_URL = live_server.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No journey may depend on another service answering (the breach check's own tests
    # serve its API locally).
    settings.PWNED_PASSWORDS_CHECK = False
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {
        **django_settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def javascript(request) -> bool:
    """Run a journey once with JavaScript and once without."""
    return request.param


@pytest.fixture
def context(new_context, javascript: bool) -> BrowserContext:
    return new_context(java_script_enabled=javascript)


class ReloadWatch:
    """Prove that submits swap in place: a mark on `window` survives only without reloads."""

    def __init__(self, page: Page, *, javascript: bool):
        self.page = page
        self.javascript = javascript

    def arm(self) -> None:
        if self.javascript:
            self.page.evaluate("window.__noReload = true")

    def assert_no_reload(self) -> None:
        if self.javascript:
            assert self.page.evaluate("window.__noReload === true"), "the page reloaded"


@pytest.fixture
def reload_watch(page: Page, javascript: bool) -> ReloadWatch:
    return ReloadWatch(page, javascript=javascript)


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    # Every step here takes well under a second; fail fast instead of after 30 s.
    page.set_default_timeout(10_000)


WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# State checked -> (rules that applied, rules run), for the run's summary.
AXE_RULES: dict[str, tuple[int, int]] = {}


def axe_violations(page: Page, *, state: str = "", javascript: bool = True) -> list[str]:
    """Run axe's WCAG 2.1 A and AA rules on the page; name each violation and its element."""
    if not javascript:
        # axe is JavaScript: it never finishes in a page whose scripts are off.
        with page_scripts_off_twin(page) as twin:
            return axe_violations(twin, state=state)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}}).response
    applied = sum(len(results[kind]) for kind in ("passes", "violations", "incomplete"))
    AXE_RULES[state or urlsplit(page.url).path] = (
        applied,
        applied + len(results["inapplicable"]),
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        f"{node['target']}: {node['html'][:200]}"
        for violation in results["violations"]
        for node in violation["nodes"]
    ]


@contextlib.contextmanager
def page_scripts_off_twin(page: Page) -> Iterator[Page]:
    """Open this page's current HTML at its URL in a page that runs axe but not the site's
    scripts, with the same styles and viewport: what a person without JS sees."""
    html, url = page.content(), page.url
    context = page.context.browser.new_context(viewport=page.viewport_size)
    try:
        twin = context.new_page()
        # Only the document and the scripts are intercepted: styles load as they did.
        twin.route(
            url, lambda route: route.fulfill(content_type="text/html; charset=utf-8", body=html)
        )
        twin.route("**/*.js", lambda route: route.abort())
        twin.goto(url)
        yield twin
    finally:
        context.close()


def assert_accessible(page: Page, state: str, *, javascript: bool = True) -> None:
    """Fail with each WCAG 2.1 A/AA violation (rule id and element) axe finds on the page."""
    violations = axe_violations(page, state=state, javascript=javascript)
    assert not violations, f"axe on {state} ({page.url}):\n  " + "\n  ".join(violations)


def pytest_sessionfinish(session) -> None:
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: report home
        session.config.workeroutput["axe_rules"] = AXE_RULES


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    AXE_RULES.update(getattr(node, "workeroutput", {}).get("axe_rules", {}))


def pytest_terminal_summary(terminalreporter) -> None:
    if AXE_RULES:
        terminalreporter.section("axe: WCAG 2.1 A/AA rules per page state (applied of run)")
        for state, (applied, run) in sorted(AXE_RULES.items()):
            terminalreporter.write_line(f"{applied:4d} of {run:3d}  {state}")


@pytest.fixture
def axe(javascript: bool) -> Callable[[Page, str], None]:
    """Check a page state with axe, as it is with this test's JavaScript on or off."""
    return lambda page, state: assert_accessible(page, state, javascript=javascript)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each open page's HTML beside the trace and screenshot of a failed test."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    # The folder pytest-playwright keeps this test's trace and screenshot in.
    folder = Path(item.config.getoption("--output")).absolute() / _truncate_file_name(
        slugify(item.nodeid)
    )
    pages = [value for value in item.funcargs.values() if isinstance(value, Page)]
    for value in item.funcargs.values():
        if isinstance(value, BrowserContext):
            pages += [page for page in value.pages if page not in pages]
    for index, page in enumerate(pages, start=1):
        with contextlib.suppress(Exception):  # a crashed page has no HTML to keep
            html = page.content()
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"page-{index}.html").write_text(html)


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Collect what the page's Content-Security-Policy blocked (an init script is exempt)."""
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.__cspViolations.push(e.violatedDirective + ' blocked ' + e.blockedURI));"
    )
    return []

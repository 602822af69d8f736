import os
import shutil

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from playwright.sync_api import BrowserContext, Page

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


def axe_violations(page: Page) -> list[str]:
    """Run axe's WCAG 2.1 A and AA rules on the page; name each violation and its element."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]},
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        f"{node['target']}: {node['html'][:200]}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Collect what the page's Content-Security-Policy blocked (an init script is exempt)."""
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.__cspViolations.push(e.violatedDirective + ' blocked ' + e.blockedURI));"
    )
    return []

"""Light and dark mode, as the system prefers: every page state passes axe in both, on a
laptop and on a phone, and the dark one is really dark."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from auth_flow.models import User
from e2e.conftest import assert_accessible
from e2e.test_journeys import PASSWORD, label, log_in

VIEWPORTS = {"1366px": {"width": 1366, "height": 800}, "390px": {"width": 390, "height": 844}}


def body_luminance(page: Page) -> float:
    """The WCAG relative luminance of the body's background: 0 is black, 1 is white."""
    colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert colour.startswith("rgb("), f"the body has no opaque background: {colour}"
    channels = [int(value) / 255 for value in re.findall(r"\d+", colour)]
    red, green, blue = (
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    )
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


class ColourModes:
    """Check a page state in both modes, switching the system preference under the page."""

    def __init__(self, page: Page, viewport: str):
        self.page = page
        self.viewport = viewport
        self.order = ["dark", "light"]
        # Bootstrap's transitions (a button's colour takes 0.15 s) are off for reduced
        # motion, so axe never measures a colour halfway between the two modes.
        page.emulate_media(color_scheme=self.order[0], reduced_motion="reduce")

    def check(self, state: str) -> None:
        # First the mode the page was loaded in, then the other one, which the page follows
        # without a reload; the next page loads in that one: both ways are tested in turn.
        for scheme in self.order:
            self.page.emulate_media(color_scheme=scheme)
            expect(self.page.locator("html")).to_have_attribute("data-bs-theme", scheme)
            luminance = body_luminance(self.page)
            if scheme == "dark":
                assert luminance < 0.05, f"{state}: the dark body is {luminance:.2f} light"
            else:
                assert luminance > 0.9, f"{state}: the light body is only {luminance:.2f} light"
            assert_accessible(self.page, f"{scheme}, {self.viewport}: {state}")
        self.order.reverse()


@pytest.mark.parametrize("javascript", [True])  # the modes are JavaScript's (theme.js)
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=VIEWPORTS)
def test_every_page_state_is_accessible_in_light_and_dark_mode(page: Page, db, viewport):
    User.objects.create_user(username="mara", email="mara@example.com", password=PASSWORD)
    page.set_viewport_size(VIEWPORTS[viewport])
    modes = ColourModes(page, viewport)

    page.goto(reverse("home"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Passage")
    modes.check("home, logged out")

    page.goto(reverse("signup"))
    page.get_by_label(label("Username")).fill("mara")
    page.get_by_label(label("Password")).fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("main").locator(".invalid-feedback").first).to_be_visible()
    modes.check("sign-up form with errors")

    page.goto(reverse("password_reset"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    modes.check("reset form")
    page.get_by_label(label("Email")).fill("mara@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    modes.check("reset: check your email")

    page.goto(reverse("login"))
    page.get_by_label(label("Username or email")).fill("mara")
    page.get_by_label(label("Password")).fill("not my password")
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_role("main").get_by_text("That username or email address and password")
    ).to_be_visible()
    modes.check("log-in form with errors")

    log_in(page, username="mara", password=PASSWORD)
    modes.check("home, logged in")

    page.get_by_role("navigation").get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
    modes.check("change-password form")


@pytest.mark.parametrize("javascript", [False])
def test_without_javascript_the_page_stays_light(page: Page, db):
    page.emulate_media(color_scheme="dark")
    page.goto(reverse("home"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Passage")
    assert not page.evaluate("document.documentElement.hasAttribute('data-bs-theme')")
    assert body_luminance(page) > 0.9
    # The browser's own parts (scrollbars, autofill) are light too, not just Bootstrap's.
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "light"

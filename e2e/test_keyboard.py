"""The reset journey with the keyboard alone: Tab, Shift+Tab, typing and Enter."""

import re

from playwright.sync_api import Locator, Page, expect

from auth_flow.models import User
from e2e.test_journeys import NEW_PASSWORD, PASSWORD, label, reset_link

# More presses than any page here needs to reach its furthest control from the top.
MAX_TABS = 25


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page: Page, target: Locator, *, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until the target has focus, as a keyboard user would."""
    for _ in range(MAX_TABS):
        if is_focused(target):
            return
        page.keyboard.press(key)
    expect(target).to_be_focused()  # fails, naming the control that was never reached


def announced(page: Page) -> Locator:
    return page.locator("#announcer")


def test_forgot_password_to_logged_in_with_the_keyboard_only(
    page: Page, live_server, mailoutbox, javascript, axe
):
    User.objects.create_user(username="kim", email="kim@example.com", password=PASSWORD)
    page.goto("/accounts/login/")

    tab_to(page, page.get_by_role("link", name="Forgot your password?"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")

    tab_to(page, page.get_by_label(label("Email")))
    page.keyboard.type("kim@example.com")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    if javascript:
        # The swap puts focus on the new heading and reads out what happened.
        expect(page.get_by_role("heading", level=1)).to_be_focused()
        expect(announced(page)).to_have_text(re.compile(r"^Check your email\. If an account"))

    page.goto(reset_link(mailoutbox, live_server.url))  # the link, opened from the email
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    tab_to(page, page.get_by_label(label("New password")))
    page.keyboard.type(NEW_PASSWORD)
    if javascript:
        # The next stop is the password's own show button; Space shows what was typed.
        page.keyboard.press("Tab")
        show = page.get_by_role("button", name="Show password").first
        expect(show).to_be_focused()
        page.keyboard.press("Space")
        expect(page.get_by_label(label("New password"))).to_have_attribute("type", "text")
    tab_to(page, page.get_by_label(label("New password confirmation")))
    page.keyboard.type("not the same one 4321")
    page.keyboard.press("Enter")

    mismatch = "The two password fields didn\u2019t match."
    expect(page.get_by_role("main").get_by_text(mismatch)).to_be_visible()
    confirmation = page.get_by_label(label("New password confirmation"))
    if javascript:
        # Focus goes to the field to fix; the error is read out.
        expect(confirmation).to_be_focused()
        expect(announced(page)).to_have_text(f"The form has errors. {mismatch}")
    else:
        tab_to(page, confirmation)
    tab_to(page, page.get_by_label(label("New password")), key="Shift+Tab")
    page.keyboard.type(NEW_PASSWORD)
    tab_to(page, confirmation)
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Password set")
    if javascript:
        expect(page.get_by_role("heading", level=1)).to_be_focused()
        expect(announced(page)).to_have_text(re.compile(r"^Password set\. Your new password"))
    tab_to(page, page.get_by_role("main").get_by_role("link", name="Log in"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    tab_to(page, page.get_by_label(label("Username or email")))
    page.keyboard.type("kim")
    page.keyboard.press("Tab")
    expect(page.get_by_label(label("Password"))).to_be_focused()
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, kim")
    axe(page, "home, logged in")


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page: Page, db):
    page.goto("/accounts/password_reset/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # hidden until focused, then shown
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # Past the header's links: the next stop is inside the main content.
    expect(page.get_by_label(label("Email"))).to_be_focused()

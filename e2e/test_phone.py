"""The reset journey on a phone: a small touch screen, fingers instead of a mouse."""

import pytest
from playwright.sync_api import Page, Playwright, expect

from auth_flow.models import User
from e2e.test_journeys import NEW_PASSWORD, PASSWORD, label, reset_link

PHONE = "Pixel 7"  # a Chromium device descriptor: 412 x 915 CSS px, touch, mobile
MIN_TARGET_PX = 24  # WCAG 2.2 SC 2.5.8 Target Size (Minimum)

# Every control a finger may need, as laid out (hidden ones have no box).
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`the page is ${root.scrollWidth}px wide in a ${root.clientWidth}px screen`);
  }
  for (const el of document.querySelectorAll("a[href], button, input, select, textarea")) {
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1 || getComputedStyle(el).visibility === "hidden") {
      continue;  // not shown (a skip link until focused, a hidden field)
    }
    if (box.right > root.clientWidth + 0.5) {
      problems.push(`${el.outerHTML.slice(0, 80)} sticks out to ${Math.round(box.right)}px`);
    }
    // SC 2.5.8 exempts a link inside a sentence: its size is the text's.
    const inline = el.tagName === "A" && el.closest("p, .alert, .form-text, .invalid-feedback");
    if (!inline && (box.width < MIN || box.height < MIN)) {
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      problems.push(`${el.outerHTML.slice(0, 80)} is ${size} px`);
    }
  }
  return problems;
}""".replace("MIN", str(MIN_TARGET_PX))


@pytest.fixture
def phone(playwright: Playwright, new_context, javascript: bool) -> Page:
    context = new_context(**playwright.devices[PHONE], java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def assert_fits_a_phone(page: Page, state: str) -> None:
    problems = page.evaluate(LAYOUT_PROBLEMS)
    assert not problems, f"on a phone, {state} ({page.url}):\n  " + "\n  ".join(problems)


def test_forgot_password_to_logged_in_on_a_phone(phone: Page, live_server, mailoutbox, axe):
    page = phone
    User.objects.create_user(username="lee", email="lee@example.com", password=PASSWORD)
    assert page.viewport_size["width"] < 500
    assert page.evaluate("navigator.maxTouchPoints") > 0

    page.goto("/")
    assert_fits_a_phone(page, "home")
    page.get_by_role("link", name="Forgot your password?").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    assert_fits_a_phone(page, "reset form")

    page.get_by_label(label("Email")).tap()
    page.get_by_label(label("Email")).fill("not an address")
    page.get_by_role("button", name="Send reset link").tap()
    expect(page.get_by_role("main").get_by_text("Enter a valid email address.")).to_be_visible()
    assert_fits_a_phone(page, "reset form with errors")
    page.get_by_label(label("Email")).fill("lee@example.com")
    page.get_by_role("button", name="Send reset link").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_fits_a_phone(page, "reset: check your email")
    axe(page, "phone: reset: check your email")

    page.goto(reset_link(mailoutbox, live_server.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    assert_fits_a_phone(page, "set-password form")
    axe(page, "phone: set-password form")
    page.get_by_label(label("New password")).fill(NEW_PASSWORD)
    page.get_by_label(label("New password confirmation")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password set")
    assert_fits_a_phone(page, "password set")

    page.get_by_role("main").get_by_role("link", name="Log in").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert_fits_a_phone(page, "log-in form")
    page.get_by_label(label("Username or email")).fill("lee")
    page.get_by_label(label("Password")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, lee")
    assert_fits_a_phone(page, "home, logged in")

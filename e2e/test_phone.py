"""The reset journey on a phone: a small touch screen, fingers instead of a mouse."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page, Playwright, expect

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

# The language menu's summary: its name for screen readers, then the code it shows.
LANGUAGE_MENU = "Language: EnglishEN"


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


# The header's links and buttons, the brand and the username: each on one line, on the
# screen and clear of its edges (EDGE_PX), and the page no wider than the screen.
EDGE_PX = 4
HEADER_LAYOUT = """() => ({
  scrollWidth: document.scrollingElement.scrollWidth,
  innerWidth: window.innerWidth,
  items: [...document.querySelectorAll(
    "header .navbar-brand, header .navbar-text, header .nav-link, header .btn"
  )].map((el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const px = (property) => parseFloat(style[property]);
    const text = box.height - px("paddingTop") - px("paddingBottom")
      - px("borderTopWidth") - px("borderBottomWidth");
    return {
      item: el.textContent.trim(),
      left: box.left,
      right: box.right,
      lines: text / px("lineHeight"),
      cut: el.scrollWidth > el.clientWidth,
    };
  }),
})"""


def assert_header_fits(page: Page, width: int, state: str) -> list[dict]:
    layout = page.evaluate(HEADER_LAYOUT)
    where = f"at {width}px, {state}"
    assert layout["innerWidth"] == width, where  # a phone zooms out of a page too wide
    assert layout["scrollWidth"] <= width, f"{where}: the page scrolls sideways: {layout}"
    for item in layout["items"]:
        assert item["lines"] < 1.5, f"{where}: {item['item']!r} is on two lines: {item}"
        assert item["left"] >= EDGE_PX, f"{where}: {item['item']!r} touches the left: {item}"
        assert item["right"] <= width - EDGE_PX, f"{where}: {item['item']!r} touches the right"
    return layout["items"]


def log_in_as(context: BrowserContext, user: User, base_url: str) -> None:
    """Give the browser the session cookie of a Django test client logged in as user."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}]
    )


@pytest.mark.parametrize("width", [320, 390])
def test_the_header_fits_a_narrow_phone(new_context, javascript, live_server, width):
    context = new_context(
        viewport={"width": width, "height": 844},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)

    page.goto("/")
    expect(page.get_by_role("navigation").get_by_role("link", name="Sign up")).to_be_visible()
    items = assert_header_fits(page, width, "logged out")
    assert [item["item"] for item in items] == ["Passage", "Log in", "Sign up", LANGUAGE_MENU]

    log_in_as(context, User.objects.create_user("alexandra", "a@example.com"), live_server.url)
    page.goto("/")
    expect(page.get_by_test_id("whoami")).to_have_text("alexandra")
    items = assert_header_fits(page, width, "logged in as alexandra")
    assert [item["item"] for item in items] == [
        "Passage",
        "alexandra",
        "Change password",
        "Log out",
        LANGUAGE_MENU,
    ]
    assert not items[1]["cut"], "a name this short is shown whole"

    # A name longer than the screen ends in an ellipsis; the title and the accessibility
    # tree keep it whole.
    long_name = "alexandra-konstantina-papadimitriou-karamanlis"
    log_in_as(context, User.objects.create_user(long_name, "ak@example.com"), live_server.url)
    page.goto("/")
    whoami = page.get_by_test_id("whoami")
    expect(whoami).to_have_text(long_name)
    expect(whoami).to_have_attribute("title", long_name)
    items = assert_header_fits(page, width, "logged in with a long username")
    assert items[1]["cut"], "the long username is cut short with an ellipsis"
    expect(page.get_by_role("navigation").get_by_role("button", name="Log out")).to_be_visible()

"""With JavaScript, no step of the account's whole life reloads the page."""

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.test_journeys import NEW_PASSWORD, PASSWORD, label, link_from, reset_link

pytestmark = pytest.mark.parametrize("javascript", [True], ids=["js"])

NEWEST_PASSWORD = "third-passphrase-9012"


class Marker:
    """A mark on `window`: it survives swaps and history restores, and dies with a reload."""

    def __init__(self, page: Page):
        self.page = page

    def set(self) -> None:
        self.page.evaluate("window.__sameDocument = true")

    def survived(self, step: str) -> None:
        assert self.page.evaluate("window.__sameDocument === true"), f"{step} reloaded the page"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_the_whole_journey_swaps_in_place_back_and_forward_included(
    page: Page, live_server, mailoutbox
):
    marker = Marker(page)
    nav = page.get_by_role("navigation")
    page.goto("/")
    marker.set()

    nav.get_by_role("link", name="Sign up").click()
    expect(heading(page)).to_have_text("Create an account")
    page.get_by_label(label("Username")).fill("grace")
    page.get_by_label(label("Email address")).fill("grace@example.com")
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_label(label("Password confirmation")).fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(heading(page)).to_have_text("Check your email")
    marker.survived("sign up")

    # An emailed link opens a new document, as it does from a mail client.
    page.goto(link_from(mailoutbox.pop(), live_server.url, "/accounts/verify/"))
    marker.set()
    page.get_by_label(label("Username")).fill("grace")
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_role("button", name="Confirm my email address").click()
    expect(heading(page)).to_have_text("Hello, grace")
    # The header changed with the content: logged in, in place.
    expect(nav.get_by_test_id("whoami")).to_have_text("grace")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(heading(page)).to_be_focused()
    marker.survived("confirming the address")

    nav.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert")).to_have_text("You are logged out.")
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    expect(heading(page)).to_be_focused()
    expect(page.locator("#announcer")).to_contain_text("Welcome to Passage")
    marker.survived("log out")

    nav.get_by_role("link", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page).to_have_title("Log in · Passage")
    page.get_by_label(label("Username or email")).fill("grace")
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(heading(page)).to_have_text("Hello, grace")
    expect(nav.get_by_test_id("whoami")).to_have_text("grace")
    marker.survived("log in")

    nav.get_by_role("button", name="Log out").click()
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Forgot your password?").click()
    page.get_by_label(label("Email")).fill("grace@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(heading(page)).to_have_text("Check your email")
    marker.survived("forgot password")

    page.goto(reset_link(mailoutbox, live_server.url))
    marker.set()
    expect(heading(page)).to_have_text("Choose a new password")
    page.get_by_label(label("New password")).fill(NEW_PASSWORD)
    page.get_by_label(label("New password confirmation")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(heading(page)).to_have_text("Password set")
    marker.survived("set password")

    nav.get_by_role("link", name="Log in").click()
    page.get_by_label(label("Username or email")).fill("grace@example.com")
    page.get_by_label(label("Password")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(heading(page)).to_have_text("Hello, grace")
    marker.survived("log in with the new password")

    nav.get_by_role("link", name="Change password").click()
    expect(heading(page)).to_have_text("Change your password")
    page.get_by_label(label("Old password")).fill(NEW_PASSWORD)
    page.get_by_label(label("New password")).fill(NEWEST_PASSWORD)
    page.get_by_label(label("New password confirmation")).fill(NEWEST_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(heading(page)).to_have_text("Password changed")
    marker.survived("change password")

    nav.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert")).to_have_text("You are logged out.")
    marker.survived("log out again")

    # Back and Forward fetch what each URL serves now: after log-out, the pages that
    # need a log-in show the log-in page; nothing is kept from before.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/accounts/password_change/done/$"))
    expect(heading(page)).to_have_text("Log in")
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    marker.survived("Back to the password-changed page")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/accounts/password_change/$"))
    expect(heading(page)).to_have_text("Log in")
    marker.survived("Back to the change-password page")
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(heading(page)).to_have_text("Welcome to Passage")
    expect(heading(page)).to_be_focused()
    marker.survived("Back to home")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"/accounts/password_change/$"))
    expect(heading(page)).to_have_text("Log in")
    marker.survived("Forward")


def test_a_late_answer_to_an_earlier_back_never_replaces_the_page(page: Page, db):
    nav = page.get_by_role("navigation")
    page.goto("/")
    nav.get_by_role("link", name="Log in").click()
    expect(heading(page)).to_have_text("Log in")
    nav.get_by_role("link", name="Sign up").click()
    expect(heading(page)).to_have_text("Create an account")
    # The first Back's page is slow to come: its request is held, never answered.
    held = []

    def hold_restore(route):
        if route.request.headers.get("hx-history-restore-request"):
            held.append(route)
        else:
            route.continue_()

    page.route("**/accounts/login/", hold_restore)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    # Back again before it came: that earlier request is dropped, so whenever its answer
    # would come it cannot replace the home page.
    with page.expect_event("requestfailed", predicate=lambda r: "/accounts/login/" in r.url):
        page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(heading(page)).to_have_text("Welcome to Passage")
    assert len(held) == 1


def test_a_missing_page_and_the_home_link_swap_in_place(page: Page, db):
    marker = Marker(page)
    page.goto("/accounts/login/")
    marker.set()
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<a href=\"/no/such/page/\">a stale link</a>')"
    )
    htmx_process = "htmx.process(document.querySelector('main'))"
    page.evaluate(htmx_process)
    page.get_by_role("link", name="a stale link").click()
    expect(heading(page)).to_have_text("Page not found")
    expect(page).to_have_title("Page not found · Passage")
    page.get_by_role("link", name="Back to your account").click()
    expect(heading(page)).to_have_text("Welcome to Passage")
    page.get_by_role("navigation").get_by_role("link", name="Passage").click()
    expect(heading(page)).to_have_text("Welcome to Passage")
    marker.survived("a missing page")

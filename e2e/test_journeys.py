import re
from http import HTTPStatus

import pytest
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from auth_flow.models import User

PASSWORD = "first-passphrase-1234"
NEW_PASSWORD = "second-passphrase-5678"


def label(text: str) -> re.Pattern:
    """Match a form label exactly, with or without crispy's required-field asterisk."""
    return re.compile(rf"^\s*{re.escape(text)}\s*\*?\s*$")


def link_from(message, live_server_url: str, prefix: str) -> str:
    match = re.search(rf"{re.escape(live_server_url)}{prefix}\S+/", message.body)
    assert match, message.body
    return match.group(0)


def reset_link(mailoutbox, live_server_url: str) -> str:
    return link_from(mailoutbox[-1], live_server_url, "/accounts/reset/")


def log_in(page: Page, *, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(label("Username or email")).fill(username)
    page.get_by_label(label("Password")).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {username.split('@')[0]}")


def test_sign_up_forget_and_reset_password(axe, page: Page, live_server, mailoutbox, reload_watch):
    page.goto("/accounts/signup/")
    axe(page, "sign-up form")
    page.get_by_label(label("Username")).fill("carol")
    page.get_by_label(label("Email address")).fill("carol@example.com")
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_label(label("Password confirmation")).fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    axe(page, "sign-up: check your email")

    # The account works once its owner confirms the address from the emailed link.
    (confirmation,) = mailoutbox
    page.goto(link_from(confirmation, live_server.url, "/accounts/verify/"))
    expect(page).to_have_url(re.compile(r"/accounts/verify/[^/]+/confirm/$"))
    axe(page, "email confirmation")
    # Nothing the signer typed is shown here; the password proves the sign-up is ours.
    expect(page.get_by_label(label("Username"))).to_have_value("")
    page.get_by_label(label("Username")).fill("carol")
    page.get_by_label(label("Password")).fill("not-what-i-chose")
    page.get_by_role("button", name="Confirm my email address").click()
    expect(
        page.get_by_role("main").get_by_text("not the password chosen at sign-up")
    ).to_be_visible()
    axe(page, "email confirmation with errors")
    page.get_by_label(label("Password")).fill(PASSWORD)
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, carol")
    expect(page.get_by_role("main")).to_contain_text("Your email address is confirmed.")
    axe(page, "home, logged in")
    mailoutbox.clear()

    page.get_by_role("navigation").get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert")).to_have_text("You are logged out.")

    page.get_by_role("link", name="Log in").first.click()
    axe(page, "log-in form")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    axe(page, "reset form")

    reload_watch.arm()
    page.get_by_label(label("Email")).fill("not an address")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("main").get_by_text("Enter a valid email address.")).to_be_visible()
    axe(page, "reset form with errors")
    if reload_watch.javascript:
        expect(page.get_by_label(label("Email"))).to_be_focused()
    page.get_by_label(label("Email")).fill("Carol@Example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page).to_have_url(re.compile(r"/accounts/password_reset/done/$"))
    axe(page, "reset: check your email")
    reload_watch.assert_no_reload()

    assert len(mailoutbox) == 1
    page.goto(reset_link(mailoutbox, live_server.url))
    expect(page).to_have_url(re.compile(r"/accounts/reset/[^/]+/set-password/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    axe(page, "set-password form")

    reload_watch.arm()
    page.get_by_label(label("New password")).fill(NEW_PASSWORD)
    page.get_by_label(label("New password confirmation")).fill("a different one 999")
    page.get_by_role("button", name="Set new password").click()
    expect(
        page.get_by_role("main").get_by_text("The two password fields didn\u2019t match.")
    ).to_be_visible()
    axe(page, "set-password form with errors")
    page.get_by_label(label("New password")).fill(NEW_PASSWORD)
    page.get_by_label(label("New password confirmation")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password set")
    expect(page).to_have_url(re.compile(r"/accounts/reset/done/$"))
    axe(page, "password set")
    reload_watch.assert_no_reload()
    if reload_watch.javascript:
        expect(page.get_by_role("heading", level=1)).to_be_focused()
        expect(page.locator("#announcer")).to_contain_text("Password set")

    log_in(page, username="carol@example.com", password=NEW_PASSWORD)
    expect(page.get_by_role("main").get_by_text("You are logged in as carol")).to_be_visible()


def test_log_in_and_change_password(axe, page: Page, db, reload_watch):
    User.objects.create_user(username="dave", email="dave@example.com", password=PASSWORD)
    page.goto("/accounts/login/")
    reload_watch.arm()
    page.get_by_label(label("Username or email")).fill("dave")
    page.get_by_label(label("Password")).fill("not my password")
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_role("main").get_by_text("That username or email address and password")
    ).to_be_visible()
    axe(page, "log-in form with errors")
    reload_watch.assert_no_reload()
    if reload_watch.javascript:
        # The password was cleared: that is where the person types again.
        expect(page.get_by_label(label("Password"))).to_be_focused()
        expect(page.locator("#announcer")).to_contain_text("don't match")
    log_in(page, username="dave", password=PASSWORD)

    page.get_by_role("navigation").get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")

    axe(page, "change-password form")
    reload_watch.arm()
    page.get_by_label(label("Old password")).fill("not my password")
    page.get_by_label(label("New password")).fill(NEW_PASSWORD)
    page.get_by_label(label("New password confirmation")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(
        page.get_by_role("main").get_by_text("Your old password was entered incorrectly.")
    ).to_be_visible()
    axe(page, "change-password form with errors")
    if reload_watch.javascript:
        expect(page.get_by_label(label("Old password"))).to_be_focused()

    page.get_by_label(label("Old password")).fill(PASSWORD)
    page.get_by_label(label("New password")).fill(NEW_PASSWORD)
    page.get_by_label(label("New password confirmation")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password changed")
    expect(page).to_have_url(re.compile(r"/accounts/password_change/done/$"))
    expect(page).to_have_title("Password change successful · Passage")
    axe(page, "password changed")
    reload_watch.assert_no_reload()

    if reload_watch.javascript:
        # The swaps pushed real URLs: back and forward give whole, correct pages.
        # (Without JS the previous entry is a POST, which browsers won't replay.)
        page.go_back()
        expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
        expect(page.get_by_role("navigation")).to_be_visible()
        # htmx keeps no snapshot of account pages, so back reloads the page from the
        # server; let that load finish before the next history step.
        page.wait_for_load_state("load")
        page.go_forward()
        expect(page.get_by_role("heading", level=1)).to_have_text("Password changed")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password changed")
    expect(page.get_by_role("navigation")).to_be_visible()

    page.get_by_role("navigation").get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert")).to_have_text("You are logged out.")
    log_in(page, username="dave", password=NEW_PASSWORD)


@pytest.mark.parametrize("javascript", [True])
def test_submit_button_shows_progress_while_the_request_is_in_flight(page: Page, db):
    page.goto("/accounts/password_reset/")
    held = []
    page.route("**/accounts/password_reset/", lambda route: held.append(route))
    page.get_by_label(label("Email")).fill("someone@example.com")
    button = page.get_by_role("button", name="Send reset link")

    button.click()
    expect(button).to_be_disabled()
    expect(button.locator(".htmx-indicator")).to_be_visible()
    expect(page.get_by_role("main").locator("form")).to_have_attribute("aria-busy", "true")
    assert held[0].request.headers["hx-request"] == "true"
    held[0].continue_()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("heading", level=1)).to_be_focused()


def test_too_many_attempts_says_so_in_place(axe, page: Page, db, settings, reload_watch):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "1/900"}
    page.goto("/accounts/password_reset/")
    page.get_by_label(label("Email")).fill("someone@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    page.get_by_role("link", name="ask for another link").click()
    reload_watch.arm()
    page.get_by_label(label("Email")).fill("someone@example.com")
    page.get_by_role("button", name="Send reset link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Too many attempts")
    expect(page.get_by_role("alert")).to_contain_text("Please wait up to 15 minutes")
    axe(page, "too many attempts (429)")
    reload_watch.assert_no_reload()


def test_a_used_or_broken_reset_link_says_so_and_offers_a_new_one(axe, page: Page, db):
    user = User.objects.create_user(username="erin", email="erin@example.com", password=PASSWORD)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    page.goto(f"/accounts/reset/{uid}/not-a-real-token/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This reset link can't be used")
    expect(page.get_by_role("status").filter(has_text="Reset links work once")).to_be_visible()
    axe(page, "invalid reset link")
    page.get_by_role("link", name="Request a new link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")


def test_sign_up_errors_and_a_missing_page_are_accessible(axe, page: Page, db):
    User.objects.create_user(username="frank", email="frank@example.com", password=PASSWORD)
    page.goto("/accounts/signup/")
    page.get_by_label(label("Username")).fill("frank")
    page.get_by_label(label("Password")).fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("main").locator(".invalid-feedback").first).to_be_visible()
    axe(page, "sign-up form with errors")

    response = page.goto("/accounts/no-such-page/")
    assert response.status == HTTPStatus.NOT_FOUND
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe(page, "page not found (404)")

"""Typing a new password: rules while typing, a show button, and nothing lost on an error."""

import re

import pytest
from playwright.sync_api import Page, expect

from auth_flow.models import User
from e2e.test_journeys import label

STRONG = "a quiet lighthouse by the sea"


@pytest.mark.parametrize("javascript", [True], ids=["js"])
def test_the_rules_follow_the_typing_and_an_error_keeps_what_was_typed(axe, page: Page, db):
    page.goto("/accounts/signup/")
    password = page.get_by_label(label("Password"))
    rules = page.locator("#id_password1-rules")
    page.get_by_label(label("Username")).fill("harriet")
    page.get_by_label(label("Email address")).fill("harriet@example.com")

    password.press_sequentially("harriet", delay=20)
    expect(rules).to_contain_text("Not yet:")
    expect(rules).to_contain_text("This password is too short.")
    expect(rules).to_contain_text("can't contain the site's name, your username")
    expect(rules).to_have_attribute("aria-live", "polite")
    # The field's description includes the rules, so they are read on focus too.
    expect(password).to_have_attribute("aria-describedby", re.compile(r"id_password1-rules"))
    axe(page, "sign-up: rules while typing")

    password.fill(STRONG)
    expect(rules).to_contain_text("This password meets the rules.")
    expect(rules).not_to_contain_text("Not yet")

    # A mismatch comes back from the server: both passwords are still there.
    page.get_by_label(label("Password confirmation")).fill(STRONG + "!")
    page.get_by_role("button", name="Sign up").click()
    confirmation = page.get_by_label(label("Password confirmation"))
    expect(page.get_by_role("main").get_by_text("didn\u2019t match")).to_be_visible()
    expect(password).to_have_value(STRONG)
    expect(confirmation).to_have_value(STRONG + "!")
    expect(confirmation).to_be_focused()
    confirmation.fill(STRONG)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")


def test_a_too_common_password_is_marked_under_itself(page: Page, db, javascript):
    page.goto("/accounts/signup/")
    page.get_by_label(label("Username")).fill("ivan")
    page.get_by_label(label("Email address")).fill("ivan@example.com")
    page.get_by_label(label("Password")).fill("manchesterunited")
    page.get_by_label(label("Password confirmation")).fill("manchesterunited")
    page.get_by_role("button", name="Sign up").click()

    password = page.get_by_label(label("Password"))
    expect(page.locator("#div_id_password1")).to_contain_text("This password is too common.")
    expect(page.locator("#div_id_password2")).not_to_contain_text("too common")
    expect(password).to_have_attribute("aria-invalid", "true")
    if javascript:
        expect(password).to_be_focused()
        expect(password).to_have_value("manchesterunited")
    else:
        # Without JS the page is the server's, which never sends a password back.
        expect(password).to_have_value("")


@pytest.mark.parametrize("javascript", [True], ids=["js"])
def test_show_password_toggles_by_keyboard_and_hides_again_on_submit(page: Page, db):
    User.objects.create_user(username="judy", email="judy@example.com", password=STRONG)
    page.goto("/accounts/login/")
    password = page.get_by_label(label("Password"))
    show = page.get_by_role("button", name="Show password")
    expect(show).to_have_attribute("aria-pressed", "false")
    password.fill(STRONG)

    show.focus()
    page.keyboard.press("Enter")
    expect(show).to_have_attribute("aria-pressed", "true")
    expect(password).to_have_attribute("type", "text")
    page.keyboard.press("Space")
    expect(show).to_have_attribute("aria-pressed", "false")
    expect(password).to_have_attribute("type", "password")

    show.click()
    page.get_by_label(label("Username or email")).fill("judy")
    # What password managers read: the right autocomplete tokens, a password field.
    expect(page.get_by_label(label("Username or email"))).to_have_attribute(
        "autocomplete", "username"
    )
    expect(password).to_have_attribute("autocomplete", "current-password")
    held = []
    page.route("**/accounts/login/", lambda route: held.append(route))
    page.get_by_role("button", name="Log in").click()
    expect(show).to_have_attribute("aria-pressed", "false")
    expect(password).to_have_attribute("type", "password")
    held[0].continue_()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, judy")


def test_show_buttons_come_only_with_javascript(page: Page, db, javascript):
    page.goto("/accounts/signup/")

    expect(page.get_by_label(label("Password"))).to_have_attribute("autocomplete", "new-password")
    # Without JS a show button could do nothing, so there is none.
    expect(page.get_by_role("button", name="Show password")).to_have_count(2 if javascript else 0)

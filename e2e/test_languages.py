"""Journeys in German and Arabic, the language menu, and marketing's per-language copy.

The words expected are looked up in the shipped catalogues (not typed here), and each is
checked to differ from the English: a page that fell back to English fails.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from auth_flow.mail.catalog import EMAIL_KINDS
from auth_flow.mail.marketing import marketing_user_create
from auth_flow.models import User

PASSWORD = "erste-passphrase-1234"
NEW_PASSWORD = "zweite-passphrase-5678"


def words(text: str, *, language: str, context: str = "") -> str:
    """Return a string of ours as the language's catalogue has it, checking it is translated."""
    with translation.override(language):
        translated = translation.pgettext(context, text) if context else translation.gettext(text)
    assert translated != text, f"{text!r} is not translated into {language}"
    return translated


def field(text: str, *, language: str) -> re.Pattern:
    """Match a form label in a language, with or without crispy's required asterisk."""
    return re.compile(rf"^\s*{re.escape(words(text, language=language))}\s*\*?\s*$")


def subject(name: str, *, language: str) -> str:
    """Return an email's shipped subject as sent (marked right to left where it reads so)."""
    written = EMAIL_KINDS[name].shipped(language=language).subject
    mark = "\u200f" if translation.get_language_info(language)["bidi"] else ""
    return mark + written.replace("{{ site_name }}", "Passage")


def link_in(message, live_server_url: str, prefix: str) -> str:
    match = re.search(rf"{re.escape(live_server_url)}{prefix}\S+", message.body)
    assert match, message.body
    return match.group(0)


@pytest.fixture
def german(new_context, javascript: bool) -> Page:
    # Playwright's locale is the browser's Accept-Language.
    return new_context(java_script_enabled=javascript, locale="de-DE").new_page()


@pytest.fixture
def arabic(new_context, javascript: bool) -> Page:
    return new_context(java_script_enabled=javascript, locale="ar").new_page()


def test_a_german_journey_from_sign_up_to_a_new_password(
    german: Page, live_server, mailoutbox, javascript
):
    page, de = german, "de"
    page.set_default_timeout(10_000)
    page.goto("/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_label(field("Username", language=de)).fill("greta")
    page.get_by_label(field("Email address", language=de)).fill("greta@example.com")
    page.get_by_label(field("Password", language=de)).fill(PASSWORD)
    page.get_by_label(field("Password confirmation", language=de)).fill(PASSWORD)
    page.get_by_role("button", name=words("Sign up", language=de)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        words("Check your email", language=de)
    )

    (confirmation,) = mailoutbox
    assert confirmation.subject == subject("email_verification", language=de)
    link = link_in(confirmation, live_server.url, "/accounts/verify/")
    assert link.endswith("?lang=de")
    page.goto(link)
    page.get_by_label(field("Username", language=de)).fill("greta")
    page.get_by_label(field("Password", language=de)).fill(PASSWORD)
    page.get_by_role("button", name=words("Confirm my email address", language=de)).click()
    welcome = words("Your email address is confirmed. Welcome, %(username)s!", language=de)
    expect(page.get_by_role("main")).to_contain_text(welcome % {"username": "greta"})
    page.get_by_role("navigation").get_by_role(
        "button", name=words("Log out", language=de)
    ).click()
    mailoutbox.clear()

    page.goto("/accounts/password_reset/")
    page.get_by_label(field("Email", language=de)).fill("greta@example.com")
    page.get_by_role("button", name=words("Send reset link", language=de)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        words("Check your email", language=de)
    )

    (reset,) = mailoutbox
    assert reset.subject == subject("password_reset", language=de)
    html = reset.alternatives[0].content
    assert '<html lang="de" dir="ltr">' in html
    assert "1\xa0Stunde" in reset.body  # the expiry, written in German
    page.goto(link_in(reset, live_server.url, "/accounts/reset/"))
    expect(page).to_have_url(re.compile(r"/accounts/reset/[^/]+/set-password/$"))  # no token
    page.get_by_label(field("New password", language=de)).fill(NEW_PASSWORD)
    page.get_by_label(field("New password confirmation", language=de)).fill(NEW_PASSWORD)
    page.get_by_role("button", name=words("Set new password", language=de)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words("Password set", language=de))
    assert User.objects.get(username="greta").check_password(NEW_PASSWORD)


def test_an_arabic_journey_reads_right_to_left(
    arabic: Page, axe, db, live_server, mailoutbox, javascript
):
    page, ar = arabic, "ar"
    page.set_default_timeout(10_000)
    User.objects.create_user(username="amal", email="amal@example.com", password=PASSWORD)

    page.goto("/accounts/login/")
    root = page.locator("html")
    expect(root).to_have_attribute("lang", "ar")
    expect(root).to_have_attribute("dir", "rtl")
    expect(page.locator("#bootstrap-css")).to_have_attribute(
        "href", re.compile(r"\.rtl\.min\.css")
    )
    # Mirrored: the brand starts the header on the right, the menu ends it on the left.
    brand = page.get_by_role("link", name="Passage").bounding_box()
    menu = page.locator(".language-menu summary").bounding_box()
    assert brand["x"] > menu["x"]
    axe(page, "log-in form, Arabic")

    page.get_by_role("link", name=words("Forgot your password?", language=ar)).click()
    page.get_by_label(field("Email", language=ar)).fill("amal@example.com")
    page.get_by_role("button", name=words("Send reset link", language=ar)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        words("Check your email", language=ar)
    )
    axe(page, "reset: check your email, Arabic")

    (reset,) = mailoutbox
    assert reset.subject == subject("password_reset", language=ar)
    assert '<html lang="ar" dir="rtl">' in reset.alternatives[0].content
    page.goto(link_in(reset, live_server.url, "/accounts/reset/"))
    expect(root).to_have_attribute("dir", "rtl")
    page.get_by_label(field("New password", language=ar)).fill(NEW_PASSWORD)
    page.get_by_label(field("New password confirmation", language=ar)).fill("غير متطابقة 12345")
    page.get_by_role("button", name=words("Set new password", language=ar)).click()
    expect(page.get_by_role("main").locator(".invalid-feedback").first).to_be_visible()
    axe(page, "set-password form with errors, Arabic")
    # Without JavaScript the refused passwords are not sent back, so both are typed again.
    page.get_by_label(field("New password", language=ar)).fill(NEW_PASSWORD)
    page.get_by_label(field("New password confirmation", language=ar)).fill(NEW_PASSWORD)
    page.get_by_role("button", name=words("Set new password", language=ar)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words("Password set", language=ar))


def test_switching_language_from_the_header(page: Page, db, javascript, reload_watch):
    page.goto("/accounts/password_reset/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    reload_watch.arm()

    page.locator(".language-menu summary").click()
    page.get_by_role("button", name="Deutsch").click()

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page).to_have_url(re.compile(r"/accounts/password_reset/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        words("Reset your password", language="de")
    )
    expect(page).to_have_title(re.compile(re.escape(words("Reset your password", language="de"))))

    page.locator(".language-menu summary").click()
    page.get_by_role("button", name="العربيّة").click()

    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#bootstrap-css")).to_have_attribute(
        "href", re.compile(r"\.rtl\.min\.css")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(
        words("Reset your password", language="ar")
    )
    reload_watch.assert_no_reload()
    # The choice stays: the next page is Arabic too.
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "ar")


@pytest.mark.parametrize("javascript", [True], ids=["js"])
def test_marketing_edits_the_german_reset_email_for_german_users_only(
    page: Page, db, mailoutbox, javascript
):
    marketing_user_create(username="mia", email="mia@example.com", password="mia-marketing-1234")
    User.objects.create_user("greta", "greta@example.com", PASSWORD, language="de")
    User.objects.create_user("emma", "emma@example.com", PASSWORD)
    page.goto("/admin/")
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill("mia-marketing-1234")
    page.get_by_role("button", name="Log in").click()
    page.goto(reverse("admin:auth_flow_emailcopy_changelist") + "?language=de")
    page.get_by_role("link", name="Password reset", exact=True).click()

    languages = page.get_by_role("navigation", name=re.compile("Languages of this email"))
    expect(languages).to_contain_text("German: Uses the shipped German default")
    german_subject = subject("password_reset", language="de")
    expect(page.get_by_test_id("preview-subject")).to_have_text(german_subject)
    expect(page.get_by_label("Subject")).to_have_attribute("dir", "auto")
    page.get_by_label("Subject").fill("Ihr neuer Link für {{ site_name }}, {{ username }}")
    expect(page.get_by_test_id("preview-subject")).to_have_text(
        "Ihr neuer Link für Passage, alice"
    )
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Published.")

    for address in ("greta@example.com", "emma@example.com"):
        Client().post(reverse("password_reset"), {"email": address})
    german, english = mailoutbox[-2:]
    assert german.subject == "Ihr neuer Link für Passage, greta"
    assert english.subject == "Reset your Passage password"

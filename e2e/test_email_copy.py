"""Marketing edits an email in the admin, previews it live, tests it, and real emails change."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from auth_flow.mail.marketing import marketing_user_create
from auth_flow.models import EmailCopy, User

MARKETING_PASSWORD = "mia-marketing-1234"
NEW_SUBJECT = "Your {{ site_name }} reset link is here"
OLD_PARAGRAPH = "Someone asked to reset the password of your {{ site_name }} account."
NEW_PARAGRAPH = "Locked out, {{ username }}? It happens to everyone."
FRAME = "iframe[title='HTML part of the email']"


@pytest.fixture
def javascript() -> bool:
    # The admin editor is a JavaScript tool; without it the page says so (unit-tested).
    return True


@pytest.fixture
def marketing(db) -> User:
    return marketing_user_create(
        username="mia", email="mia@example.com", password=MARKETING_PASSWORD
    )


@pytest.fixture
def editor(axe, page: Page, marketing: User, csp_violations) -> Page:
    """Log in to the admin as marketing and open the reset email's copy."""
    page.goto("/admin/")
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(MARKETING_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Emails", exact=True).click()
    # One row per email and language; the English ones.
    page.locator("#changelist-filter").get_by_role("link", name="English").click()
    expect(page.get_by_role("columnheader", name="Goes out in")).to_be_visible()
    axe(page, "admin: email copy list")
    page.get_by_role("link", name="Password reset", exact=True).click()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Reset your Passage password")
    return page


def assert_no_csp_violations(page: Page) -> None:
    assert page.evaluate("window.__cspViolations") == []


def reset_email_for(user: User, mailoutbox):
    Client().post(reverse("password_reset"), {"email": user.email})
    return mailoutbox[-1]


@pytest.fixture
def colleague(db) -> User:
    return marketing_user_create(
        username="cole", email="cole@example.com", password=MARKETING_PASSWORD
    )


def test_marketing_drafts_previews_tests_and_publishes_the_reset_email(
    axe, colleague: User, editor: Page, mailoutbox, live_server
):
    page = editor
    page.evaluate("window.__noReload = true")
    someone = User.objects.create_user("alice", "alice@example.com", "x")
    body = page.get_by_label("Body")

    # Write a draft, and see it at phone width and in dark mode.
    page.get_by_label("Subject").fill(NEW_SUBJECT)
    body.fill(body.input_value().replace(OLD_PARAGRAPH, NEW_PARAGRAPH))
    expect(page.get_by_test_id("preview-subject")).to_have_text("Your Passage reset link is here")
    expect(page.get_by_test_id("preview-text")).to_contain_text(
        "Locked out, alice? It happens to everyone."
    )
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_text("Locked out, alice? It happens to everyone.")).to_be_visible()
    expect(frame.get_by_role("link", name="Choose a new password")).to_have_attribute(
        "href", f"{live_server.url}/emails/sample-link/"
    )
    axe(page, "admin: email copy editor with live preview")
    page.get_by_role("group", name="Preview width").get_by_role("radio", name="Phone").check()
    page.get_by_role("group", name="Preview colours").get_by_role("radio", name="Dark").check()
    expect(page.locator(FRAME)).to_have_js_property("clientWidth", 375)
    expect(frame.locator("body")).to_have_css("background-color", "rgb(17, 24, 39)")
    axe(page, "admin: email copy editor, phone and dark")

    # Send a test to a colleague: the unsaved text, never a real link.
    page.get_by_label("Send a test to").select_option(label="cole (cole@example.com)")
    page.get_by_role("button", name="Send the test").click()
    expect(page.locator("#test-send-result")).to_contain_text("Test queued to cole@example.com")
    (test,) = mailoutbox
    assert test.to == [colleague.email]
    assert test.subject == "[Test] Your Passage reset link is here"
    assert f"{live_server.url}/emails/sample-link/" in test.body
    assert "/accounts/reset/" not in test.body
    assert page.evaluate("window.__noReload === true"), "the page reloaded"

    # Save the draft: customers still get the published words.
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messagelist")).to_contain_text("Draft saved.")
    expect(page.locator(".copy-status")).to_contain_text("Draft by mia")
    email = reset_email_for(someone, mailoutbox)
    assert email.subject == "Reset your Passage password"
    assert "Locked out" not in email.body

    # Publish: the next reset email carries the new copy.
    page.get_by_label("Note for the history (optional)").fill("Friendlier opening")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Published.")
    assert_no_csp_violations(page)
    email = reset_email_for(someone, mailoutbox)
    html = email.alternatives[0].content
    assert email.subject == "Your Passage reset link is here"
    assert "Locked out, alice? It happens to everyone." in email.body
    assert "Locked out, <bdi>alice</bdi>? It happens to everyone." in html
    assert re.search(rf"{re.escape(live_server.url)}/accounts/reset/\S+/", email.body)

    # Revert to the shipped version, review the draft, publish it.
    page.get_by_role("link", name="History and earlier versions").click()
    versions = page.get_by_role("table", name="Published versions")
    expect(versions.get_by_role("row")).to_have_count(3)  # a header, versions 2 and 1
    expect(versions.get_by_role("row").nth(1)).to_contain_text("Friendlier opening")
    expect(versions.get_by_role("row").nth(2)).to_contain_text("Shipped default")
    axe(page, "admin: email copy history")
    page.get_by_role("link", name="Version 1", exact=True).click()
    expect(page.locator(".copy-diff .removed").first).to_contain_text(
        "Reset your {{ site_name }} password"
    )
    axe(page, "admin: an earlier version")
    page.get_by_role("button", name="Make a draft from this version").click()
    expect(page.locator(".messagelist")).to_contain_text("Made a draft from version 1.")
    expect(page.get_by_label("Subject")).to_have_value("Reset your {{ site_name }} password")
    # (A third reset email now would meet the per-address cap of three in 15 minutes.)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Published.")
    assert reset_email_for(someone, mailoutbox).subject == "Reset your Passage password"
    copy = EmailCopy.objects.get(name="password_reset", language="en")
    assert copy.history.latest().publish_kind == "revert"
    assert_no_csp_violations(page)


def test_the_overview_says_what_each_email_does(axe, editor: Page, settings):
    page = editor
    page.goto(reverse("admin:index"))
    page.get_by_role("link", name=re.compile("Emails at a glance")).click()

    unknown = page.get_by_role("row", name=re.compile("Reset asked for an unknown address"))
    expect(unknown).to_contain_text(
        "Not sent: switched off by your developers (the PASSWORD_RESET_NOTIFY_UNKNOWN setting)"
    )
    axe(page, "admin: emails at a glance")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda body: body + "\n\n{{ user.password }}",
            "“{{ user.password }}” is not one of this email's placeholders.",
        ),
        (
            lambda body: body.replace("[button]", ""),
            "Put [button] exactly once where the button goes (found 0).",
        ),
    ],
    ids=["user-password", "missing-button"],
)
def test_a_bad_edit_is_refused_and_the_live_email_stays(
    axe, editor: Page, mailoutbox, edit, message
):
    page = editor
    body = page.get_by_label("Body")
    body.fill(edit(body.input_value()))

    expect(page.locator("#copy-preview")).to_contain_text(message)
    expect(page.locator("#copy-preview-status")).to_contain_text(message)  # read out
    axe(page, "admin: editor refusing bad copy")

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Please correct the error below.")).to_be_visible()
    axe(page, "admin: editor with save errors")
    expect(page.locator(".errorlist").first).to_contain_text(message)
    assert_no_csp_violations(page)

    someone = User.objects.create_user("alice", "alice@example.com", "x")
    email = reset_email_for(someone, mailoutbox)
    assert email.subject == "Reset your Passage password"
    assert "Someone asked to reset the password of your Passage account." in email.body


def test_reset_to_default_asks_first_and_makes_a_draft(axe, editor: Page):
    page = editor
    page.get_by_label("Subject").fill("A subject nobody liked")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Published.")

    page.get_by_role("link", name="Start again from the shipped default…").click()
    expect(
        page.get_by_role("heading", name="Start again from the shipped default?")
    ).to_be_visible()
    axe(page, "admin: reset to default, asking first")
    page.get_by_role("button", name="Yes, start from the shipped default").click()

    expect(page.locator(".messagelist")).to_contain_text("Made a draft of the shipped default.")
    expect(page.get_by_label("Subject")).to_have_value("Reset your {{ site_name }} password")
    copy = EmailCopy.objects.get(name="password_reset", language="en")
    assert copy.subject == "A subject nobody liked"  # live until published
    assert_no_csp_violations(page)

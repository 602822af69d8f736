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
    page.get_by_role("link", name="Email copy").first.click()
    # One row per email and language; the English ones.
    page.locator("#changelist-filter").get_by_role("link", name="English").click()
    expect(page.get_by_role("cell", name="Sent when someone asks to reset")).to_be_visible()
    axe(page, "admin: email copy list")
    page.get_by_role("link", name="Password reset", exact=True).click()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Reset your Passage password")
    return page


def assert_no_csp_violations(page: Page) -> None:
    assert page.evaluate("window.__cspViolations") == []


def reset_email_for(user: User, mailoutbox):
    Client().post(reverse("password_reset"), {"email": user.email})
    return mailoutbox[-1]


def test_marketing_edits_previews_tests_and_saves_the_reset_email(
    axe, editor: Page, mailoutbox, live_server
):
    page = editor
    page.evaluate("window.__noReload = true")
    body = page.get_by_label("Body")

    page.get_by_label("Subject").fill(NEW_SUBJECT)
    body.fill(body.input_value().replace(OLD_PARAGRAPH, NEW_PARAGRAPH))

    expect(page.get_by_test_id("preview-subject")).to_have_text("Your Passage reset link is here")
    expect(page.get_by_test_id("preview-text")).to_contain_text(
        "Locked out, alice? It happens to everyone."
    )
    frame = page.frame_locator("iframe[title='HTML part of the email']")
    expect(frame.get_by_text("Locked out, alice? It happens to everyone.")).to_be_visible()
    expect(frame.get_by_role("link", name="Choose a new password")).to_have_attribute(
        "href", f"{live_server.url}/"
    )
    assert page.evaluate("window.__noReload === true"), "the page reloaded"
    axe(page, "admin: email copy editor with live preview")

    page.get_by_role("button", name="Send a test to mia@example.com").click()
    expect(page.locator("#test-send-result")).to_contain_text("Test queued to mia@example.com")
    (test,) = mailoutbox
    assert test.to == ["mia@example.com"]
    assert test.subject == "[Test] Your Passage reset link is here"
    assert "/accounts/reset/" not in test.body
    assert (
        EmailCopy.objects.get(name="password_reset", language="en").subject != NEW_SUBJECT
    )  # unsaved

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert_no_csp_violations(page)

    someone = User.objects.create_user("alice", "alice@example.com", "x")
    email = reset_email_for(someone, mailoutbox)
    html = email.alternatives[0].content
    assert email.subject == "Your Passage reset link is here"
    assert "Locked out, alice? It happens to everyone." in email.body
    assert "Locked out, <bdi>alice</bdi>? It happens to everyone." in html
    assert "Someone asked to reset the password" not in email.body
    assert re.search(rf"{re.escape(live_server.url)}/accounts/reset/\S+/", email.body)


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

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Please correct the error below.")).to_be_visible()
    axe(page, "admin: editor with save errors")
    expect(page.locator(".errorlist").first).to_contain_text(message)
    assert_no_csp_violations(page)

    someone = User.objects.create_user("alice", "alice@example.com", "x")
    email = reset_email_for(someone, mailoutbox)
    assert email.subject == "Reset your Passage password"
    assert "Someone asked to reset the password of your Passage account." in email.body


def test_history_shows_the_difference_and_reverts(axe, editor: Page):
    page = editor
    page.get_by_label("Subject").fill("A subject nobody liked")
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator("#result_list").get_by_role("link", name="Password reset").click()

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("cell", name="A subject nobody liked", exact=True)).to_be_visible()
    axe(page, "admin: email copy history")

    # Nothing older than the edit was saved through the admin, so restore the default.
    page.goto(reverse("admin:auth_flow_emailcopy_changelist"))
    page.get_by_role(
        "checkbox", name="Select this object for an action - Password reset (English)"
    ).check()
    page.get_by_label("Action:").select_option("reset_to_default")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text("Reset 1 email to its shipped default")

    copy = EmailCopy.objects.get(name="password_reset", language="en")
    edited = copy.history.get(subject="A subject nobody liked")
    page.goto(
        reverse("admin:auth_flow_emailcopy_simple_history", args=[copy.pk, edited.history_id])
    )
    expect(
        page.get_by_role("heading", name="From this version to the current copy")
    ).to_be_visible()
    expect(page.locator(".copy-diff .removed")).to_contain_text("A subject nobody liked")
    expect(page.locator(".copy-diff .added")).to_contain_text(
        "Reset your {{ site_name }} password"
    )
    axe(page, "admin: history diff")

    page.get_by_role("button", name="Revert").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    copy.refresh_from_db()
    assert copy.subject == "A subject nobody liked"
    assert list(copy.history.values_list("subject", flat=True)[:3]) == [
        "A subject nobody liked",  # the revert, a version of its own
        "Reset your {{ site_name }} password",
        "A subject nobody liked",
    ]
    assert_no_csp_violations(page)

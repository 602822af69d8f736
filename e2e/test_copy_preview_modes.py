"""Marketing previews an email at phone and desktop widths, light and dark, beside the
fields on a wide screen, with the field at fault marked and placeholders one press away."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from auth_flow.mail.marketing import marketing_user_create
from auth_flow.models import EmailCopy, User

MARKETING_PASSWORD = "mia-marketing-1234"
FRAME = "iframe[title='HTML part of the email']"
DARK_BACKGROUND = "rgb(17, 24, 39)"  # the layout's dark background, #111827


@pytest.fixture
def javascript() -> bool:
    return True  # the editor's preview is a JavaScript tool


@pytest.fixture
def marketing(db) -> User:
    return marketing_user_create(
        username="mia", email="mia@example.com", password=MARKETING_PASSWORD
    )


@pytest.fixture
def editor(page: Page, marketing: User, csp_violations) -> Page:
    """Log in to the admin as marketing and open the English reset email's copy."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/admin/")
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(MARKETING_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    copy = EmailCopy.objects.get(name="password_reset", language="en")
    page.goto(reverse("admin:auth_flow_emailcopy_change", args=[copy.pk]))
    expect(page.get_by_test_id("preview-subject")).to_have_text("Reset your Passage password")
    return page


def frame_width(page: Page) -> int:
    return page.locator(FRAME).evaluate("frame => frame.clientWidth")


def assert_no_csp_violations(page: Page) -> None:
    assert page.evaluate("window.__cspViolations") == []


def test_the_preview_shows_phone_and_desktop_widths_light_and_dark(axe, editor: Page):
    page = editor
    width = page.get_by_role("group", name="Preview width")
    colours = page.get_by_role("group", name="Preview colours")
    expect(width.get_by_role("radio", name="Desktop (600 px)")).to_be_checked()
    expect(colours.get_by_role("radio", name="Light")).to_be_checked()
    assert frame_width(page) == 600
    body = page.frame_locator(FRAME).locator("body")
    expect(body).to_have_css("background-color", "rgb(244, 245, 247)")
    axe(page, "admin: email copy preview, desktop and light")

    width.get_by_role("radio", name="Desktop (600 px)").focus()
    page.keyboard.press("ArrowDown")  # a radio group, by keyboard
    expect(width.get_by_role("radio", name="Phone (375 px)")).to_be_checked()
    expect(page.locator(FRAME)).to_have_js_property("clientWidth", 375)
    axe(page, "admin: email copy preview, phone and light")

    colours.get_by_role("radio", name="Dark").check()
    expect(body).to_have_css("background-color", DARK_BACKGROUND)
    expect(page.frame_locator(FRAME).get_by_text("Passage").first).to_have_css(
        "color", "rgb(249, 250, 251)"
    )
    axe(page, "admin: email copy preview, phone and dark")

    # Typing re-renders the preview, in the modes chosen.
    page.get_by_label("Subject").fill("Reset it, {{ username }}")
    expect(page.get_by_test_id("preview-subject")).to_have_text("Reset it, alice")
    expect(body).to_have_css("background-color", DARK_BACKGROUND)
    assert frame_width(page) == 375
    expect(page.locator(FRAME)).to_have_attribute("src", re.compile(r"&scheme=dark$"))

    width.get_by_role("radio", name="Desktop (600 px)").check()
    colours.get_by_role("radio", name="Light").check()
    expect(page.locator(FRAME)).to_have_js_property("clientWidth", 600)
    expect(body).to_have_css("background-color", "rgb(244, 245, 247)")
    assert_no_csp_violations(page)


def test_the_field_at_fault_is_marked_while_typing(axe, editor: Page):
    page = editor
    subject, body = page.get_by_label("Subject"), page.get_by_label("Body")
    expect(subject).not_to_have_attribute("aria-invalid", "true")

    subject.fill("Hello {{ password }}")

    expect(subject).to_have_attribute("aria-invalid", "true")
    expect(subject).to_have_accessible_description(re.compile("This copy cannot be saved"))
    expect(body).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".copy-preview-errors")).to_be_in_viewport()
    axe(page, "admin: email copy editor, a field marked")

    subject.fill("Hello {{ username }}")
    expect(page.get_by_test_id("preview-subject")).to_have_text("Hello alice")
    expect(subject).not_to_have_attribute("aria-invalid", "true")
    assert_no_csp_violations(page)


def test_a_placeholder_is_inserted_at_the_cursor(editor: Page):
    page = editor
    body = page.get_by_label("Body")
    insert = page.get_by_role("button", name="Insert {{ username }}")

    before = body.input_value()

    body.click()
    page.keyboard.press("Control+Home")
    page.keyboard.type("Hi ")
    insert.click()

    expect(body).to_be_focused()
    expect(body).to_have_value("Hi {{ username }}" + before)
    assert body.evaluate("field => field.selectionStart") == len("Hi {{ username }}")
    page.keyboard.type("! ")  # typing by hand goes on after it
    expect(body).to_have_value("Hi {{ username }}! " + before)
    expect(page.get_by_test_id("preview-text")).to_contain_text("Hi alice! ")

    subject = page.get_by_label("Subject")
    subject.click()
    page.keyboard.press("End")
    insert.click()
    expect(subject).to_have_value("Reset your {{ site_name }} password{{ username }}")
    expect(subject).to_be_focused()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Reset your Passage passwordalice")


def test_the_preview_keeps_its_scroll_position_while_typing(editor: Page):
    page = editor
    panel = page.locator(".copy-preview-panel")
    panel.evaluate("panel => { panel.scrollTop = 300; }")
    assert panel.evaluate("panel => panel.scrollTop") == 300

    page.get_by_label("Subject").fill("Reset your password now")
    expect(page.get_by_test_id("preview-subject")).to_have_text("Reset your password now")

    assert panel.evaluate("panel => panel.scrollTop") == 300
    # And through a mistake and its fix, the place is found again.
    page.get_by_label("Subject").fill("Reset {{ nope }}")
    expect(page.locator(".copy-preview-errors")).to_be_visible()
    page.get_by_label("Subject").fill("Reset it")
    expect(page.get_by_test_id("preview-subject")).to_have_text("Reset it")
    assert panel.evaluate("panel => panel.scrollTop") == 300


def test_on_a_wide_screen_the_preview_is_beside_the_fields(axe, editor: Page):
    page = editor
    body = page.get_by_label("Body").bounding_box()
    panel = page.locator(".copy-preview-panel")
    box = panel.bounding_box()
    assert box["x"] >= body["x"] + body["width"]  # beside, not below
    assert box["y"] < body["y"] + body["height"]
    assert panel.evaluate("panel => getComputedStyle(panel).position") == "sticky"

    page.mouse.wheel(0, 600)  # down the fields: the preview stays in view
    expect(page.locator(FRAME)).to_be_in_viewport()
    axe(page, "admin: email copy editor, wide")

    page.set_viewport_size({"width": 1024, "height": 768})
    body = page.get_by_label("Body").bounding_box()
    box = panel.bounding_box()
    assert box["y"] >= body["y"] + body["height"]  # below on a narrower screen


@pytest.fixture
def queue(settings):
    # Scheduling is offered only with a queue that can wait, as in production.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def browser_context_args(browser_context_args):
    # Somewhere the admin's UTC is not the local time.
    return {**browser_context_args, "timezone_id": "Asia/Tokyo"}


def test_the_publish_time_is_also_said_in_local_time(queue, editor: Page):
    page = editor
    when = page.get_by_label("Or publish at (UTC)")

    when.fill("2027-01-05T09:00")

    # 09:00 UTC is 18:00 in Tokyo, written as the page's language writes it.
    expect(page.locator("#publish-at-local")).to_have_text(
        re.compile(r"That is Jan 5, 2027, 6:00\sPM where you are\.")
    )
